//! Failure alerts: rules from the config's `[alerts]` section, checked by one engine per process
//! against every queue, with messages sent to webhooks (JSON or Slack / Mattermost format).
//!
//! - `final-failure`: a job failed for good, read from the queue's events stream (so jobs run by
//!   Node workers alert too), or from a Bull 3/4 queue's `failed` set by finish time (Bull has no
//!   events stream), from a position kept in Redis, so a restart neither misses nor repeats one;
//! - `failure-rate`: too many failures, or too large a share, over a window (the metrics BullMQ
//!   and Bull 4.7+ workers record);
//! - `backlog`: too many waiting jobs, or a waiting job too old;
//! - `no-worker`: waiting jobs and no worker connected, for longer than a while.
//!
//! Condition rules send a "resolved" message when the condition clears. Several processes may run
//! the engine: Redis decides which one sends (see `queue::alerts`). Redis access lives in
//! `queue::alerts`; this module decides.

pub mod engine;
pub mod notify;
pub mod rules;

pub use engine::Engine;
pub use rules::{AlertsConfig, AlertsFile};
