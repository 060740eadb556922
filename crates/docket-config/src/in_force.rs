//! What a reloader keeps between reloads: the configuration in force, which the next reload is
//! compared with, and the one it read last, until the app takes it on.

use std::sync::{Mutex, PoisonError};

use crate::model::Config;
use crate::plugin::Plugins;

/// The configuration in force and one read since, each with its digest ([`crate::loaded_digest`]).
#[derive(Debug)]
pub struct InForce {
    running: Mutex<(String, Config)>,
    read: Mutex<Option<(String, Config)>>,
}

impl InForce {
    /// `config`, with `digest`, in force.
    #[must_use]
    pub fn new(digest: String, config: Config) -> Self {
        Self { running: Mutex::new((digest, config)), read: Mutex::new(None) }
    }

    /// The top-level keys of `new` that changed from the configuration in force in a way only a
    /// restart takes on ([`crate::needs_restart`]).
    #[must_use]
    pub fn needs_restart(&self, new: &Config, plugins: &Plugins) -> Vec<String> {
        crate::needs_restart(&self.running.lock().unwrap_or_else(PoisonError::into_inner).1, new, plugins)
    }

    /// `config`, with `digest`, was read and found good: it waits to be taken on.
    pub fn read(&self, digest: String, config: Config) {
        *self.read.lock().unwrap_or_else(PoisonError::into_inner) = Some((digest, config));
    }

    /// The configuration read with `digest` is now the one in force.
    pub fn taken(&self, digest: &str) {
        let mut read = self.read.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(taken) = read.take_if(|(d, _)| d == digest) {
            *self.running.lock().unwrap_or_else(PoisonError::into_inner) = taken;
        }
    }

    /// The digest of the configuration in force.
    #[must_use]
    pub fn digest(&self) -> String {
        self.running.lock().unwrap_or_else(PoisonError::into_inner).0.clone()
    }
}
