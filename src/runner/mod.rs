//! The runner: configured BullMQ workers and job schedulers in this process.
//!
//! [`Runner::builder`] takes the validated [`crate::config::Config`];
//! [`RunnerBuilder::start`] upserts the schedulers ([`schedulers`]), then starts one engine
//! worker per `[[workers]]` entry ([`worker`]) with its handler ([`handler`]: webhook, command,
//! no-op, or closures registered by job name). [`Runner::shutdown`] stops taking jobs and waits
//! for running ones up to the configured timeout ([`lifecycle`]).
//!
//! The terminal commands (`add`, `jobs`, `stats`) are in [`cli`], the Rust producer API in
//! [`producer`]. The settings come from [`crate::config::runner`]; all Redis access goes through
//! the engine and `crate::queue`. This module only gathers its parts.

pub mod add;
pub mod cli;
pub mod command;
mod crew;
pub mod error;
mod follow;
pub mod handler;
pub mod health;
pub mod import;
pub mod job;
pub mod lifecycle;
pub mod producer;
pub mod schedulers;
pub mod webhook;
pub mod worker;

/// The runner's settings (re-exported from [`crate::config::runner`], where they are read).
pub use crate::config::runner as config;
pub use crate::config::runner::{HandlerSpec, RunnerConfig, WorkerSpec};

pub use self::error::RunnerError;
pub use self::handler::Closure;
pub use self::health::{HealthReport, RunnerHealth};
pub use self::job::{JobDocument, JobError, JobResult, RunnerJob};
pub use self::lifecycle::{Runner, RunnerBuilder, ShutdownReport};
pub use self::producer::{AddOptions, Added, ProduceError, Producer, ProducerBuilder};
