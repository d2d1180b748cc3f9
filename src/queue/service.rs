//! The queue core as the dashboard uses it, for one Redis connection: reads, actions, the audit
//! trail, the alert store, the readiness probe and the health probe, all over the read
//! connection of a [`Reader`], with what the configuration says about the connection
//! ([`Connection`]: its name, label, read-only and highest role). The web layer holds a
//! [`Queues`] and never a Redis connection; every key name (the audit stream, the alerts' keys)
//! is built here or below.

use std::time::{Duration, Instant};

use super::actions::Actions;
use super::alerts::AlertStore;
use super::audit::AuditLog;
use super::bull::BullActions;
use super::connections::{Connection, Health, PolicyWatch, probe};
use super::error::Result;
use super::read::Reader;
use super::redis_info::RedisInfo;

/// Reads and actions of every queue of one connection. Cheap to clone.
#[derive(Clone)]
pub struct Queues {
    reader: Reader,
    actions: Actions,
    bull: BullActions,
    connection: std::sync::Arc<Connection>,
    policy: PolicyWatch,
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
            connection: std::sync::Arc::new(Connection::default()),
            policy: PolicyWatch::default(),
        }
    }

    /// The same services, for the connection `connection` describes (default: `default`,
    /// unlabelled, nothing capped).
    pub fn on(self, connection: Connection) -> Self {
        Queues {
            connection: std::sync::Arc::new(connection),
            ..self
        }
    }

    /// The connection these queues are on.
    pub fn connection(&self) -> &Connection {
        &self.connection
    }

    /// The connection's eviction policy as last read in the background (see [`Queues::watch`]).
    pub fn policy(&self) -> &PolicyWatch {
        &self.policy
    }

    /// Read the eviction policy now and every `every` until `cancel` fires, for the warning on
    /// every page of a connection whose Redis may evict jobs.
    pub fn watch(&self, every: Duration, cancel: tokio_util::sync::CancellationToken) {
        self.policy
            .spawn(self.reader.redis().clone(), every, cancel);
    }

    /// Where this connection's Redis is, the password hidden (a cluster's seed nodes).
    pub fn place(&self) -> String {
        self.reader.redis().settings().redacted()
    }

    /// The server's description for the Redis page (one round trip; see [`RedisInfo`]).
    pub async fn redis_info(&self) -> Result<RedisInfo> {
        super::redis_info::read(self.reader.redis()).await
    }

    /// Whether this connection's Redis answers within `timeout`, how fast, and (when `INFO` is
    /// allowed) its version and eviction policy. Never an error: a failure is a `Down` health.
    pub async fn health(&self, timeout: Duration) -> Health {
        probe(self.reader.redis(), timeout).await
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
