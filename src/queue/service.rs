//! The queue core as the dashboard uses it: reads, actions, the audit trail, the alert store and
//! the readiness probe, all over the one read connection of a [`Reader`]. The web layer holds a
//! [`Queues`] and never a Redis connection; every key name (the audit stream, the alerts' keys)
//! is built here or below.

use std::time::{Duration, Instant};

use super::actions::Actions;
use super::alerts::AlertStore;
use super::audit::AuditLog;
use super::bull::BullActions;
use super::error::Result;
use super::read::Reader;

/// Reads and actions of every queue. Cheap to clone.
#[derive(Clone)]
pub struct Queues {
    reader: Reader,
    actions: Actions,
    bull: BullActions,
}

impl Queues {
    /// The core over `reader`'s connection; the action side opens its engine connection (with
    /// the same settings) on the first action only.
    pub fn new(reader: Reader) -> Self {
        let actions = Actions::new(reader.redis().settings().clone(), reader.clone());
        let bull = BullActions::new(reader.clone());
        Queues {
            reader,
            actions,
            bull,
        }
    }

    pub fn reader(&self) -> &Reader {
        &self.reader
    }

    pub fn actions(&self) -> &Actions {
        &self.actions
    }

    /// The same core, adding jobs to Bull queues over each declared queue's `[queues.defaults]`
    /// (queue name -> the defaults).
    pub fn with_bull_defaults(self, defaults: &[(String, bullmq::JobOptions)]) -> Self {
        let defaults = defaults
            .iter()
            .map(|(name, opts)| (name.clone(), super::bull::add::bull_defaults(opts)))
            .collect();
        Queues {
            bull: self.bull.with_defaults(defaults),
            ..self
        }
    }

    /// The Bull 3/4 queues' actions (over the read connection: Bull's scripts are bullring's).
    pub fn bull_actions(&self) -> &BullActions {
        &self.bull
    }

    /// The audit trail of this dashboard, kept under `prefix` (see [`AuditLog`]).
    pub fn audit_log(&self, prefix: &str, max_len: usize, read_only: bool) -> AuditLog {
        AuditLog::new(self.reader.redis().clone(), prefix, max_len, read_only)
    }

    /// The alerts kept under `prefix` by the alerts engine (see [`AlertStore`]).
    pub fn alert_store(&self, prefix: &str) -> AlertStore {
        AlertStore::new(self.reader.redis().clone(), prefix)
    }

    /// How long Redis took to answer a `PING` (the readiness probe).
    pub async fn ping(&self) -> Result<Duration> {
        let started = Instant::now();
        self.reader.redis().ping().await?;
        Ok(started.elapsed())
    }
}
