//! The runner's keys of the configuration file as written in TOML: `[queues.defaults]`,
//! `[[workers]]`, `[[schedulers]]` and `[runner]`, gathered in a [`RunnerFile`].

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::Value;

/// `[queues.defaults]`: default options of jobs bullring adds to the queue (`bullring add`, the
/// jobs of its schedulers).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueDefaultsFile {
    pub attempts: Option<u32>,
    pub backoff: Option<BackoffFile>,
    pub remove_on_complete: Option<KeepFile>,
    pub remove_on_fail: Option<KeepFile>,
    pub priority: Option<u32>,
    pub delay_ms: Option<u64>,
    pub keep_logs: Option<u32>,
    pub stack_trace_limit: Option<u32>,
}

/// `backoff = { type = "exponential", delay_ms = 5000 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum BackoffFile {
    Fixed { delay_ms: u64 },
    Exponential { delay_ms: u64 },
}

/// `remove_on_complete = true`, `= 1000` or `= { count = 1000, age_secs = 86400 }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum KeepFile {
    Flag(bool),
    Count(usize),
    Policy(KeepPolicyFile),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeepPolicyFile {
    pub count: Option<usize>,
    pub age_secs: Option<u64>,
}

/// `[[workers]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerFile {
    pub queue: String,
    /// Worker name, shown by `getWorkers` and stored on processed jobs (`processedBy`).
    pub name: Option<String>,
    pub concurrency: Option<i64>,
    /// Parsed during validation so that an error can name the entry.
    pub handler: Option<toml::Table>,
    pub limiter: Option<LimiterFile>,
    pub lock_duration_ms: Option<u64>,
    pub stalled_interval_ms: Option<u64>,
    pub max_stalled_count: Option<u32>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimiterFile {
    pub max: u64,
    pub duration_ms: u64,
}

/// `[[schedulers]]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerFile {
    pub id: String,
    pub queue: String,
    pub job_name: Option<String>,
    pub cron: Option<String>,
    pub tz: Option<String>,
    pub every_ms: Option<u64>,
    pub data: Option<Value>,
    pub limit: Option<u64>,
    /// RFC 3339 date (`2026-12-01T00:00:00Z`) or Unix milliseconds.
    pub start_date: Option<toml::Value>,
    pub end_date: Option<toml::Value>,
    /// Run the first iteration at once instead of at the first cron time.
    pub immediately: Option<bool>,
}

/// `[runner]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunnerTableFile {
    /// How long shutdown waits for running jobs.
    pub shutdown_timeout_secs: Option<u64>,
    /// Remove from Redis the schedulers of declared queues that the file no longer lists.
    pub managed_schedulers: Option<bool>,
}

/// The runner's keys of the file, gathered by [`crate::config::Config::merge`].
#[derive(Debug, Clone, Default)]
pub struct RunnerFile {
    /// `(name, defaults)` of every `[[queues]]` entry.
    pub queues: Vec<(String, Option<QueueDefaultsFile>)>,
    pub workers: Vec<WorkerFile>,
    pub schedulers: Vec<SchedulerFile>,
    pub runner: RunnerTableFile,
    /// The `[[queues]]` entries declared `library = "bull"`: no worker nor scheduler on them.
    pub bull: Vec<String>,
}

/// The handler table as written (`handler = { type = "...", ... }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
pub enum HandlerTable {
    Webhook(WebhookTable),
    Command(CommandTable),
    Noop {},
    Closures {},
}

/// `handler = { type = "webhook", url = "...", ... }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookTable {
    pub url: String,
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    pub secret: Option<String>,
    /// Name of an environment variable holding the secret (keeps it out of the file).
    pub secret_env: Option<String>,
    pub signature_header: Option<String>,
    pub retry_4xx: Option<bool>,
}

/// `handler = { type = "command", program = "...", ... }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommandTable {
    pub program: String,
    #[serde(default)]
    pub args: Vec<String>,
    pub timeout_secs: Option<u64>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Variables of bullring's own environment the program gets (the rest is cleared).
    pub inherit_env: Option<Vec<String>>,
    pub cwd: Option<PathBuf>,
}
