//! The runner's settings once validated: declared queues, workers with their handlers, and job
//! schedulers, ready to start.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use bullmq::JobOptions;
use serde_json::Value;

/// Default time `bullring run` waits for running jobs at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a webhook or a command may take.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(30);
/// Delay before a worker fetches again after a Redis error (the engine's default is 15 s).
pub const RUN_RETRY_DELAY_MS: u64 = 2_000;

/// A declared queue and the options of jobs bullring adds to it.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub name: String,
    pub defaults: JobOptions,
    /// Declared `library = "bull"`: the runner never writes into it.
    pub bull: bool,
}

/// What processes a worker's jobs.
#[derive(Debug, Clone, PartialEq)]
pub enum HandlerSpec {
    Webhook(WebhookSpec),
    Command(CommandSpec),
    /// Completes every job at once with a `null` return value (benchmarks, smoke tests).
    Noop,
    /// Closures registered by job name through the Rust API ([`crate::runner::RunnerBuilder`]).
    Closures,
}

impl HandlerSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            HandlerSpec::Webhook(_) => "webhook",
            HandlerSpec::Command(_) => "command",
            HandlerSpec::Noop => "noop",
            HandlerSpec::Closures => "closures",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSpec {
    pub url: String,
    pub timeout: Duration,
    pub headers: BTreeMap<String, String>,
    /// Key of the HMAC-SHA256 signature; no signature header without one.
    pub secret: Option<String>,
    pub signature_header: String,
    /// Retry (instead of failing for good) when the target answers 4xx.
    pub retry_4xx: bool,
}

/// What a command inherits from bullring's environment when its `inherit_env` is not given.
pub const DEFAULT_INHERIT_ENV: [&str; 4] = ["PATH", "HOME", "LANG", "TZ"];

/// A program to run per job. It starts with a cleared environment: the variables named in
/// `inherit_env` (those that are set) taken from bullring's, then `env`, then `BULLRING_*`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
    pub inherit_env: Vec<String>,
    pub cwd: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct WorkerSpec {
    pub queue: String,
    pub name: Option<String>,
    pub concurrency: usize,
    pub handler: HandlerSpec,
    pub limiter: Option<(u64, u64)>,
    pub lock_duration_ms: Option<u64>,
    pub stalled_interval_ms: Option<u64>,
    pub max_stalled_count: Option<u32>,
    /// How the entry is named in messages: `[[workers]] #1 (queue "sync")`.
    pub label: String,
}

#[derive(Debug, Clone)]
pub struct SchedulerSpec {
    pub id: String,
    pub queue: String,
    pub job_name: String,
    pub repeat: bullmq::job_scheduler::RepeatOptions,
    pub data: Value,
}
