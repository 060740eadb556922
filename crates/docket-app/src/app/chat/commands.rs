//! What people type to the bot, read the same way in every chat, and the answers as values a
//! chat lays out:
//!
//! | words | asks for |
//! |---|---|
//! | (nothing) | pick a workflow (a chat without a picker shows the help) |
//! | `help`, `?`, `hi`, `hello` | what Docket does and what you may ask for |
//! | `list`, `tickets`, `open` | open tickets, newest first |
//! | `mine`, `my tickets` | your tickets, newest first, whatever their state |
//! | `waiting`, `pending`, `approvals`, `to approve` | tickets waiting for your approval |
//! | `status DKT-42`, `show DKT-42`, `DKT-42` | where one ticket stands |
//! | anything else | a request in words, matched against the workflows |
//!
//! Lists show at most [`LIST_LIMIT`] tickets and say when there are more.

use std::sync::Arc;

use docket_core::{Actor, TicketId, TicketState, Workflow};

use super::super::App;
use super::super::summary::TicketSummary;
use crate::error::AppError;
use crate::ports::store::TicketFilter;

/// Tickets a list shows at most.
pub const LIST_LIMIT: usize = 20;

/// What some words ask for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChatCommand {
    /// Nothing was said: offer the workflows to pick from.
    Pick,
    /// What Docket does and what the person may ask for.
    Help,
    /// A list of tickets.
    List(TicketList),
    /// Where one ticket stands; `Err` holds what was written when it is not a ticket id (or
    /// nothing, when no id was given).
    Status(Result<TicketId, String>),
    /// A request in words, for the matcher.
    Request(String),
}

/// Which tickets a list shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketList {
    /// Open tickets (not in a final state), anyone's.
    Open,
    /// The person's own tickets, in any state.
    Mine,
    /// Tickets waiting for the person's approval now.
    Waiting,
}

impl ChatCommand {
    /// Reads `text` (an @mention already taken out).
    pub fn parse(text: &str) -> Self {
        let trimmed = text.trim();
        let lower = trimmed.to_lowercase();
        let words: Vec<&str> = lower.split_whitespace().collect();
        match words.as_slice() {
            [] => Self::Pick,
            ["help" | "?" | "hi" | "hello" | "hey"] => Self::Help,
            ["list" | "tickets" | "open"] | ["open", "tickets"] | ["list", "tickets"] => Self::List(TicketList::Open),
            ["mine"] | ["my", "tickets"] | ["list", "mine"] => Self::List(TicketList::Mine),
            ["waiting" | "pending" | "approvals"] | ["to", "approve"] | ["waiting", "for", "me"] => {
                Self::List(TicketList::Waiting)
            }
            ["status" | "show"] => Self::Status(Err(String::new())),
            ["status" | "show", _] => {
                let id = trimmed.split_whitespace().nth(1).unwrap_or_default();
                Self::Status(TicketId::parse(id).map_err(|_| id.to_owned()))
            }
            [only] if TicketId::parse(only).is_ok() => {
                Self::Status(TicketId::parse(trimmed).map_err(|_| String::new()))
            }
            _ => Self::Request(trimmed.to_owned()),
        }
    }
}

/// The help answer: the commands and, per workflow the person may request, how to ask for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChatHelp {
    /// (what to type after the bot's name or command, what it does).
    pub commands: Vec<(String, String)>,
    /// (workflow title, an example request), at most ten.
    pub examples: Vec<(String, String)>,
}

/// A list answer.
#[derive(Clone, Debug)]
pub struct ChatTickets {
    /// What the list is ("Open tickets").
    pub title: String,
    /// The tickets, newest first, at most [`LIST_LIMIT`].
    pub tickets: Vec<TicketSummary>,
    /// Whether there are more than shown.
    pub more: bool,
    /// What to say when there are none.
    pub empty: String,
}

impl App {
    /// What `help` answers for `actor`.
    pub fn chat_help(&self, actor: &Actor) -> ChatHelp {
        let commands = [
            ("", "pick a workflow and fill in its form"),
            ("deploy api 1.4.2 to prod", "say what you want; the form opens filled in"),
            ("list", "open tickets"),
            ("mine", "your tickets"),
            ("waiting", "tickets waiting for your approval"),
            ("status DKT-42", "where a ticket stands"),
        ];
        let workflows: Vec<Arc<Workflow>> = self.requestable(actor);
        let examples = workflows
            .iter()
            .filter_map(|w| w.examples.first().map(|e| (w.title.clone(), e.text().to_owned())))
            .take(10)
            .collect();
        ChatHelp { commands: commands.iter().map(|(a, b)| ((*a).to_owned(), (*b).to_owned())).collect(), examples }
    }

    /// The tickets list `which` shows `actor`.
    pub async fn chat_list(&self, actor: &Actor, which: TicketList) -> Result<ChatTickets, AppError> {
        let limit = LIST_LIMIT as u32 + 1;
        let person = actor.person_id().cloned();
        let (title, empty, tickets) = match which {
            TicketList::Open => {
                let states = TicketState::ALL.into_iter().filter(|s| !s.is_terminal()).collect();
                let filter = TicketFilter { states, limit, ..TicketFilter::default() };
                ("Open tickets", "There are no open tickets.", self.tickets(&filter).await?.tickets)
            }
            TicketList::Mine => {
                let filter = TicketFilter { requester: person, limit, ..TicketFilter::default() };
                ("Your tickets", "You have no tickets.", self.tickets(&filter).await?.tickets)
            }
            TicketList::Waiting => {
                let mine = self.waiting_for(actor, LIST_LIMIT + 1).await?;
                ("Waiting for your approval", "Nothing waits for your approval.", mine)
            }
        };
        let more = tickets.len() > LIST_LIMIT;
        let tickets = tickets.iter().take(LIST_LIMIT).map(|t| self.summarize(t)).collect();
        Ok(ChatTickets { title: title.to_owned(), tickets, more, empty: empty.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_set_of_words_for_every_chat() {
        assert_eq!(ChatCommand::parse("  "), ChatCommand::Pick);
        for help in ["help", "?", "Hi", "hello "] {
            assert_eq!(ChatCommand::parse(help), ChatCommand::Help, "{help:?}");
        }
        for open in ["list", "LIST", "tickets", "open tickets"] {
            assert_eq!(ChatCommand::parse(open), ChatCommand::List(TicketList::Open), "{open:?}");
        }
        for mine in ["mine", "my tickets", "My Tickets"] {
            assert_eq!(ChatCommand::parse(mine), ChatCommand::List(TicketList::Mine), "{mine:?}");
        }
        for waiting in ["waiting", "pending", "approvals", "to approve"] {
            assert_eq!(ChatCommand::parse(waiting), ChatCommand::List(TicketList::Waiting), "{waiting:?}");
        }
        let dkt42 = TicketId::parse("DKT-42").unwrap();
        assert_eq!(ChatCommand::parse("status DKT-42"), ChatCommand::Status(Ok(dkt42.clone())));
        assert_eq!(
            ChatCommand::parse("show dkt-42"),
            ChatCommand::Status(TicketId::parse("dkt-42").map_err(|_| String::new()))
        );
        assert_eq!(ChatCommand::parse("DKT-42"), ChatCommand::Status(Ok(dkt42)));
        assert_eq!(ChatCommand::parse("status"), ChatCommand::Status(Err(String::new())));
        assert_eq!(ChatCommand::parse("status what"), ChatCommand::Status(Err("what".into())));
        assert_eq!(
            ChatCommand::parse("deploy api 1.2.3 to prod"),
            ChatCommand::Request("deploy api 1.2.3 to prod".into())
        );
    }
}
