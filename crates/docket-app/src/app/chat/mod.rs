//! The rules every chat keeps, decided once here so Slack, Teams and any later chat say the same
//! things at the same moments; a chat surface keeps only its layout and transport.
//!
//! - `messages`: which messages a change causes ([`chat_messages`]): the ticket message where
//!   it was asked, a reply with the key events that earn one ([`earns_reply`]), and the approval
//!   requests of each round ([`ApprovalNotice`]), each named by an outbox key;
//! - `notices`: the approval messages of one round: opened, and closed; `outcome`: how a
//!   closed round ended, in words;
//! - `commands`: what people type to the bot ([`ChatCommand`]: `help`, `list`, `mine`,
//!   `waiting`, `status ID`, or a request in words), with one set of synonyms and limits, and
//!   the answers as neutral values ([`ChatHelp`], [`ChatTickets`]);
//! - `changes`: a plan's structured changes as chat shows them ([`ChangesBrief`]): the summary
//!   first, destroys and replaces first and marked, cut to each chat's limits;
//! - `results`: the results a change that ends a run brings to chat ([`CHAT_ROWS`] rows shown).

mod changes;
mod commands;
mod messages;
mod notices;
mod outcome;
mod results;

pub use changes::{ChangeLine, ChangesBrief};
pub use commands::{ChatCommand, ChatHelp, ChatTickets, LIST_LIMIT, TicketList};
pub use messages::{ChatMessage, chat_messages, earns_reply};
pub use notices::ApprovalNotice;
pub use results::CHAT_ROWS;
