//! Ports: the traits the app needs from the outside world, each with the contract an
//! implementation must keep.

pub mod clock;
pub mod notifier;
pub mod processes;
pub mod reloader;
pub mod results;
pub mod runner;
pub mod store;
pub mod wakeup;
