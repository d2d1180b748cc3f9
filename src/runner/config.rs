//! The runner's part of the configuration file: `[[queues]]` job defaults, `[[workers]]`,
//! `[[schedulers]]` and the `[runner]` table, as written in TOML ([`RunnerFile`]) and as
//! validated ([`RunnerConfig`]).
//!
//! Validation happens once, at start: a bad entry (unknown handler type, invalid cron pattern,
//! unknown time zone, a worker or scheduler on an undeclared queue, concurrency 0 ...) fails with
//! a [`ConfigError`] naming the entry, e.g. `invalid [[workers]] #2 (queue "sync") handler: ...`.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::time::Duration;

use bullmq::JobOptions;
use bullmq::types::{BackoffStrategy, KeepJobs, RemoveOnFinish};
use serde::Deserialize;
use serde_json::Value;

use crate::config::ConfigError;

/// Default time `bullring run` waits for running jobs at shutdown.
pub const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
/// Default time a webhook or a command may take.
pub const DEFAULT_HANDLER_TIMEOUT: Duration = Duration::from_secs(30);
/// Delay before a worker fetches again after a Redis error (the engine's default is 15 s).
pub const RUN_RETRY_DELAY_MS: u64 = 2_000;

// ---------------------------------------------------------------------------------------------
// The file, as written
// ---------------------------------------------------------------------------------------------

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

/// The runner's keys of the file, gathered by `config.rs`.
#[derive(Debug, Clone, Default)]
pub struct RunnerFile {
    /// `(name, defaults)` of every `[[queues]]` entry.
    pub queues: Vec<(String, Option<QueueDefaultsFile>)>,
    pub workers: Vec<WorkerFile>,
    pub schedulers: Vec<SchedulerFile>,
    pub runner: RunnerTableFile,
}

// ---------------------------------------------------------------------------------------------
// Validated
// ---------------------------------------------------------------------------------------------

/// A declared queue and the options of jobs bullring adds to it.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub name: String,
    pub defaults: JobOptions,
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

#[derive(Debug, Clone, PartialEq)]
pub struct CommandSpec {
    pub program: String,
    pub args: Vec<String>,
    pub timeout: Duration,
    pub env: BTreeMap<String, String>,
    pub cwd: Option<PathBuf>,
}

/// The handler table as written (`handler = { type = "...", ... }`).
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum HandlerTable {
    Webhook {
        url: String,
        timeout_secs: Option<u64>,
        #[serde(default)]
        headers: BTreeMap<String, String>,
        secret: Option<String>,
        /// Name of an environment variable holding the secret (keeps it out of the file).
        secret_env: Option<String>,
        signature_header: Option<String>,
        retry_4xx: Option<bool>,
    },
    Command {
        program: String,
        #[serde(default)]
        args: Vec<String>,
        timeout_secs: Option<u64>,
        #[serde(default)]
        env: BTreeMap<String, String>,
        cwd: Option<PathBuf>,
    },
    Noop {},
    Closures {},
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

/// The validated runner settings.
#[derive(Debug, Clone)]
pub struct RunnerConfig {
    pub queues: Vec<QueueSpec>,
    pub workers: Vec<WorkerSpec>,
    pub schedulers: Vec<SchedulerSpec>,
    pub shutdown_timeout: Duration,
    pub managed_schedulers: bool,
}

impl Default for RunnerConfig {
    fn default() -> Self {
        RunnerConfig {
            queues: Vec::new(),
            workers: Vec::new(),
            schedulers: Vec::new(),
            shutdown_timeout: DEFAULT_SHUTDOWN_TIMEOUT,
            managed_schedulers: false,
        }
    }
}

impl RunnerConfig {
    /// The declared queue named `name`.
    pub fn queue(&self, name: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.name == name)
    }

    /// The default job options of a queue (none when it is not declared).
    pub fn defaults(&self, queue: &str) -> JobOptions {
        self.queue(queue)
            .map(|q| q.defaults.clone())
            .unwrap_or_default()
    }

    /// Check every entry and build the runner's settings.
    pub fn from_file(file: &RunnerFile) -> Result<RunnerConfig, ConfigError> {
        let mut queues = Vec::new();
        for (name, defaults) in &file.queues {
            let defaults = match defaults {
                Some(d) => job_defaults(&format!("[[queues]] {name:?} defaults"), d)?,
                None => JobOptions::default(),
            };
            queues.push(QueueSpec {
                name: name.clone(),
                defaults,
            });
        }
        let declared: HashSet<&str> = file.queues.iter().map(|(n, _)| n.as_str()).collect();

        let mut workers = Vec::new();
        for (index, worker) in file.workers.iter().enumerate() {
            workers.push(worker_spec(index + 1, worker, &declared)?);
        }

        let mut schedulers = Vec::new();
        let mut ids = HashSet::new();
        for (index, scheduler) in file.schedulers.iter().enumerate() {
            let spec = scheduler_spec(index + 1, scheduler, &declared)?;
            if !ids.insert((spec.queue.clone(), spec.id.clone())) {
                return Err(bad(
                    &format!("[[schedulers]] #{} (id {:?})", index + 1, spec.id),
                    format!(
                        "a scheduler with this id already exists on queue {:?}",
                        spec.queue
                    ),
                ));
            }
            schedulers.push(spec);
        }

        let shutdown_timeout = match file.runner.shutdown_timeout_secs {
            Some(secs) => Duration::from_secs(secs),
            None => DEFAULT_SHUTDOWN_TIMEOUT,
        };
        Ok(RunnerConfig {
            queues,
            workers,
            schedulers,
            shutdown_timeout,
            managed_schedulers: file.runner.managed_schedulers.unwrap_or(false),
        })
    }
}

fn bad(setting: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError {
        setting: setting.into(),
        problem: problem.into(),
    }
}

fn keep(policy: &KeepFile) -> RemoveOnFinish {
    match policy {
        KeepFile::Flag(flag) => RemoveOnFinish::Bool(*flag),
        KeepFile::Count(count) => RemoveOnFinish::Count(*count),
        KeepFile::Policy(p) => RemoveOnFinish::Options(KeepJobs {
            // BullMQ's scripts read `age` in seconds.
            age: p.age_secs,
            count: p.count,
            limit: None,
        }),
    }
}

fn job_defaults(setting: &str, file: &QueueDefaultsFile) -> Result<JobOptions, ConfigError> {
    if file.attempts == Some(0) {
        return Err(bad(&format!("{setting} attempts"), "must be at least 1"));
    }
    if file.priority.is_some_and(|p| p > 2_097_152) {
        return Err(bad(&format!("{setting} priority"), "at most 2097152"));
    }
    if let Some(KeepFile::Policy(p)) = &file.remove_on_complete
        && p.count.is_none()
        && p.age_secs.is_none()
    {
        return Err(bad(
            &format!("{setting} remove_on_complete"),
            "give count, age_secs or both",
        ));
    }
    Ok(JobOptions {
        attempts: file.attempts,
        backoff: file.backoff.as_ref().map(|b| match b {
            BackoffFile::Fixed { delay_ms } => BackoffStrategy::Fixed(*delay_ms),
            BackoffFile::Exponential { delay_ms } => BackoffStrategy::Exponential(*delay_ms),
        }),
        remove_on_complete: file.remove_on_complete.as_ref().map(keep),
        remove_on_fail: file.remove_on_fail.as_ref().map(keep),
        priority: file.priority,
        delay: file.delay_ms,
        keep_logs: file.keep_logs,
        stack_trace_limit: file.stack_trace_limit,
        ..JobOptions::default()
    })
}

/// Fill the options a job was not given from the queue's defaults.
pub fn merge_defaults(mut opts: JobOptions, defaults: &JobOptions) -> JobOptions {
    macro_rules! fill {
        ($($field:ident),*) => {$(
            if opts.$field.is_none() {
                opts.$field = defaults.$field.clone();
            }
        )*};
    }
    fill!(
        attempts,
        backoff,
        remove_on_complete,
        remove_on_fail,
        priority,
        delay,
        keep_logs,
        stack_trace_limit
    );
    opts
}

fn worker_spec(
    number: usize,
    file: &WorkerFile,
    declared: &HashSet<&str>,
) -> Result<WorkerSpec, ConfigError> {
    let label = format!("[[workers]] #{number} (queue {:?})", file.queue);
    if !declared.contains(file.queue.as_str()) {
        return Err(bad(
            &label,
            format!(
                "queue {:?} is not declared; add a [[queues]] entry with name = {:?}",
                file.queue, file.queue
            ),
        ));
    }
    let concurrency = match file.concurrency {
        None => 1,
        Some(n) if n >= 1 => n as usize,
        Some(n) => {
            return Err(bad(
                &format!("{label} concurrency"),
                format!("{n}: must be at least 1"),
            ));
        }
    };
    let handler = match &file.handler {
        None => HandlerSpec::Closures,
        Some(table) => handler_spec(&format!("{label} handler"), table)?,
    };
    if let Some(limiter) = &file.limiter
        && (limiter.max == 0 || limiter.duration_ms == 0)
    {
        return Err(bad(
            &format!("{label} limiter"),
            "max and duration_ms must be at least 1",
        ));
    }
    if file.lock_duration_ms == Some(0) {
        return Err(bad(
            &format!("{label} lock_duration_ms"),
            "must be at least 1",
        ));
    }
    if file.stalled_interval_ms == Some(0) {
        return Err(bad(
            &format!("{label} stalled_interval_ms"),
            "must be at least 1",
        ));
    }
    Ok(WorkerSpec {
        queue: file.queue.clone(),
        name: file.name.clone(),
        concurrency,
        handler,
        limiter: file.limiter.as_ref().map(|l| (l.max, l.duration_ms)),
        lock_duration_ms: file.lock_duration_ms,
        stalled_interval_ms: file.stalled_interval_ms,
        max_stalled_count: file.max_stalled_count,
        label,
    })
}

fn timeout(setting: &str, secs: Option<u64>) -> Result<Duration, ConfigError> {
    match secs {
        Some(0) => Err(bad(
            &format!("{setting} timeout_secs"),
            "must be at least 1",
        )),
        Some(secs) => Ok(Duration::from_secs(secs)),
        None => Ok(DEFAULT_HANDLER_TIMEOUT),
    }
}

fn handler_spec(setting: &str, table: &toml::Table) -> Result<HandlerSpec, ConfigError> {
    let parsed = HandlerTable::deserialize(toml::Value::Table(table.clone())).map_err(|e| {
        let message = e.message().to_string();
        if message.contains("unknown variant") {
            bad(
                setting,
                format!("{message} (type is one of webhook, command, noop)"),
            )
        } else {
            bad(setting, message)
        }
    })?;
    match parsed {
        HandlerTable::Webhook {
            url,
            timeout_secs,
            headers,
            secret,
            secret_env,
            signature_header,
            retry_4xx,
        } => {
            let uri: hyper::Uri = url
                .parse()
                .map_err(|e| bad(&format!("{setting} url"), format!("{url:?}: {e}")))?;
            if !matches!(uri.scheme_str(), Some("http" | "https")) || uri.host().is_none() {
                return Err(bad(
                    &format!("{setting} url"),
                    format!("{url:?} is not an http:// or https:// URL"),
                ));
            }
            for (name, value) in &headers {
                if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err()
                    || hyper::header::HeaderValue::from_str(value).is_err()
                {
                    return Err(bad(
                        &format!("{setting} headers"),
                        format!("{name:?} is not a valid header"),
                    ));
                }
            }
            let secret = match (secret, secret_env) {
                (Some(_), Some(_)) => {
                    return Err(bad(setting, "give secret or secret_env, not both"));
                }
                (Some(secret), None) => Some(secret),
                (None, Some(var)) => Some(std::env::var(&var).map_err(|_| {
                    bad(
                        &format!("{setting} secret_env"),
                        format!("environment variable {var} is not set"),
                    )
                })?),
                (None, None) => None,
            };
            if secret.as_deref() == Some("") {
                return Err(bad(&format!("{setting} secret"), "is empty"));
            }
            let signature_header =
                signature_header.unwrap_or_else(|| "x-bullring-signature".into());
            if hyper::header::HeaderName::from_bytes(signature_header.as_bytes()).is_err() {
                return Err(bad(
                    &format!("{setting} signature_header"),
                    format!("{signature_header:?} is not a header name"),
                ));
            }
            Ok(HandlerSpec::Webhook(WebhookSpec {
                url,
                timeout: timeout(setting, timeout_secs)?,
                headers,
                secret,
                signature_header,
                retry_4xx: retry_4xx.unwrap_or(false),
            }))
        }
        HandlerTable::Command {
            program,
            args,
            timeout_secs,
            env,
            cwd,
        } => {
            if program.trim().is_empty() {
                return Err(bad(&format!("{setting} program"), "is empty"));
            }
            Ok(HandlerSpec::Command(CommandSpec {
                program,
                args,
                timeout: timeout(setting, timeout_secs)?,
                env,
                cwd,
            }))
        }
        HandlerTable::Noop {} => Ok(HandlerSpec::Noop),
        HandlerTable::Closures {} => Ok(HandlerSpec::Closures),
    }
}

/// Cron patterns as the engine parses them: 5 or 6 fields (seconds optional).
pub fn check_cron(pattern: &str, tz: Option<&str>) -> Result<(), String> {
    use croner::parser::{CronParser, Seconds, Year};
    let cron = CronParser::builder()
        .seconds(Seconds::Optional)
        .year(Year::Disallowed)
        .build()
        .parse(pattern)
        .map_err(|e| format!("{pattern:?} is not a cron pattern: {e}"))?;
    let now = chrono::Utc::now();
    let next = match tz {
        Some(tz) => {
            let zone: chrono_tz::Tz = tz.parse().map_err(|_| {
                format!("unknown time zone {tz:?} (an IANA name such as Europe/Paris)")
            })?;
            cron.find_next_occurrence(&now.with_timezone(&zone), false)
                .map(|_| ())
        }
        None => cron.find_next_occurrence(&now, false).map(|_| ()),
    };
    next.map_err(|e| format!("{pattern:?} never fires: {e}"))
}

fn date_ms(setting: &str, value: &toml::Value) -> Result<u64, ConfigError> {
    match value {
        toml::Value::Integer(ms) if *ms >= 0 => Ok(*ms as u64),
        toml::Value::String(text) => parse_date(text).ok_or_else(|| {
            bad(
                setting,
                format!("{text:?} is not an RFC 3339 date such as 2026-12-01T00:00:00Z"),
            )
        }),
        toml::Value::Datetime(date) => parse_date(&date.to_string()).ok_or_else(|| {
            bad(
                setting,
                format!("{date} needs a time and an offset, such as 2026-12-01T00:00:00Z"),
            )
        }),
        other => Err(bad(
            setting,
            format!("{other} is neither a date nor Unix milliseconds"),
        )),
    }
}

fn parse_date(text: &str) -> Option<u64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .and_then(|d| u64::try_from(d.timestamp_millis()).ok())
}

fn scheduler_spec(
    number: usize,
    file: &SchedulerFile,
    declared: &HashSet<&str>,
) -> Result<SchedulerSpec, ConfigError> {
    let label = format!("[[schedulers]] #{number} (id {:?})", file.id);
    if file.id.trim().is_empty() {
        return Err(bad(&format!("[[schedulers]] #{number} id"), "is empty"));
    }
    if !declared.contains(file.queue.as_str()) {
        return Err(bad(
            &label,
            format!(
                "queue {:?} is not declared; add a [[queues]] entry with name = {:?}",
                file.queue, file.queue
            ),
        ));
    }
    match (&file.cron, file.every_ms) {
        (Some(_), Some(_)) => return Err(bad(&label, "give cron or every_ms, not both")),
        (None, None) => return Err(bad(&label, "needs cron or every_ms")),
        (None, Some(0)) => return Err(bad(&format!("{label} every_ms"), "must be at least 1")),
        (None, Some(_)) if file.tz.is_some() => {
            return Err(bad(&format!("{label} tz"), "applies to cron only"));
        }
        (Some(cron), None) => {
            check_cron(cron, file.tz.as_deref()).map_err(|e| bad(&format!("{label} cron"), e))?;
        }
        (None, Some(_)) => {}
    }
    let start_date = file
        .start_date
        .as_ref()
        .map(|v| date_ms(&format!("{label} start_date"), v))
        .transpose()?;
    let end_date = file
        .end_date
        .as_ref()
        .map(|v| date_ms(&format!("{label} end_date"), v))
        .transpose()?;
    if let (Some(start), Some(end)) = (start_date, end_date)
        && end <= start
    {
        return Err(bad(&format!("{label} end_date"), "is not after start_date"));
    }
    if file.immediately == Some(true) && start_date.is_some() {
        return Err(bad(&label, "give immediately or start_date, not both"));
    }
    if file.limit == Some(0) {
        return Err(bad(&format!("{label} limit"), "must be at least 1"));
    }
    let data = file
        .data
        .clone()
        .unwrap_or(Value::Object(Default::default()));
    Ok(SchedulerSpec {
        id: file.id.clone(),
        queue: file.queue.clone(),
        job_name: file.job_name.clone().unwrap_or_else(|| file.id.clone()),
        repeat: bullmq::job_scheduler::RepeatOptions {
            pattern: file.cron.clone(),
            every: file.every_ms,
            limit: file.limit,
            immediately: file.immediately,
            start_date,
            end_date,
            tz: file.tz.clone(),
            ..Default::default()
        },
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> RunnerFile {
        #[derive(Deserialize)]
        struct Whole {
            #[serde(default)]
            queues: Vec<Q>,
            #[serde(default)]
            workers: Vec<WorkerFile>,
            #[serde(default)]
            schedulers: Vec<SchedulerFile>,
            #[serde(default)]
            runner: RunnerTableFile,
        }
        #[derive(Deserialize)]
        struct Q {
            name: String,
            defaults: Option<QueueDefaultsFile>,
        }
        let whole: Whole = toml::from_str(text).unwrap();
        RunnerFile {
            queues: whole
                .queues
                .into_iter()
                .map(|q| (q.name, q.defaults))
                .collect(),
            workers: whole.workers,
            schedulers: whole.schedulers,
            runner: whole.runner,
        }
    }

    const GOOD: &str = r#"
[[queues]]
name = "process-attachment"
[queues.defaults]
attempts = 3
backoff = { type = "exponential", delay_ms = 5000 }
remove_on_complete = { count = 1000, age_secs = 86400 }
remove_on_fail = false

[[queues]]
name = "sync"

[[workers]]
queue = "process-attachment"
concurrency = 2
handler = { type = "webhook", url = "http://127.0.0.1:8080/jobs", timeout_secs = 30, secret = "s" }
limiter = { max = 10, duration_ms = 1000 }

[[workers]]
queue = "sync"
handler = { type = "command", program = "./bin/consolidate", args = ["--json"] }

[[schedulers]]
id = "sync-updated-dossiers"
queue = "sync"
cron = "0 * * * *"
tz = "Europe/Paris"
data = { full = false }

[[schedulers]]
id = "tick"
queue = "sync"
every_ms = 60000
start_date = "2030-01-01T00:00:00Z"

[runner]
shutdown_timeout_secs = 5
managed_schedulers = true
"#;

    #[test]
    fn reads_a_full_file() {
        let config = RunnerConfig::from_file(&file(GOOD)).unwrap();
        assert_eq!(config.queues.len(), 2);
        let defaults = &config.queues[0].defaults;
        assert_eq!(defaults.attempts, Some(3));
        assert!(matches!(
            defaults.backoff,
            Some(BackoffStrategy::Exponential(5000))
        ));
        assert!(matches!(
            &defaults.remove_on_complete,
            Some(RemoveOnFinish::Options(KeepJobs {
                count: Some(1000),
                age: Some(86400),
                ..
            }))
        ));
        assert_eq!(config.workers[0].concurrency, 2);
        assert_eq!(config.workers[0].limiter, Some((10, 1000)));
        assert!(matches!(
            &config.workers[0].handler,
            HandlerSpec::Webhook(w) if w.secret.as_deref() == Some("s") && !w.retry_4xx
        ));
        assert!(matches!(
            &config.workers[1].handler,
            HandlerSpec::Command(c) if c.args == ["--json"] && c.timeout == DEFAULT_HANDLER_TIMEOUT
        ));
        assert_eq!(config.schedulers[0].job_name, "sync-updated-dossiers");
        assert_eq!(config.schedulers[0].data["full"], false);
        assert_eq!(
            config.schedulers[1].repeat.start_date,
            Some(1_893_456_000_000)
        );
        assert_eq!(config.shutdown_timeout, Duration::from_secs(5));
        assert!(config.managed_schedulers);
    }

    #[test]
    fn bad_entries_are_named() {
        let cases = [
            (
                GOOD.replace("type = \"command\"", "type = \"smtp\""),
                "[[workers]] #2 (queue \"sync\") handler",
                "unknown variant",
            ),
            (
                GOOD.replace("0 * * * *", "0 * * *"),
                "[[schedulers]] #1 (id \"sync-updated-dossiers\") cron",
                "not a cron pattern",
            ),
            (
                GOOD.replace("Europe/Paris", "Europe/Pariss"),
                "[[schedulers]] #1 (id \"sync-updated-dossiers\") cron",
                "unknown time zone",
            ),
            (
                GOOD.replace("queue = \"sync\"\nhandler", "queue = \"synk\"\nhandler"),
                "[[workers]] #2 (queue \"synk\")",
                "not declared",
            ),
            (
                GOOD.replace("concurrency = 2", "concurrency = 0"),
                "[[workers]] #1 (queue \"process-attachment\") concurrency",
                "at least 1",
            ),
            (
                GOOD.replace("every_ms = 60000", "every_ms = 60000\ncron = \"* * * * *\""),
                "[[schedulers]] #2 (id \"tick\")",
                "not both",
            ),
            (
                GOOD.replace("http://127.0.0.1:8080/jobs", "ftp://x/jobs"),
                "[[workers]] #1 (queue \"process-attachment\") handler url",
                "http",
            ),
            (
                GOOD.replace("timeout_secs = 30,", "timeout_secs = 30, retry = true,"),
                "[[workers]] #1 (queue \"process-attachment\") handler",
                "retry",
            ),
        ];
        for (text, setting, problem) in cases {
            let err = RunnerConfig::from_file(&file(&text)).unwrap_err();
            assert_eq!(err.setting, setting, "{err}");
            assert!(err.problem.contains(problem), "{err}");
        }
    }

    #[test]
    fn six_field_cron_and_defaults_merge() {
        assert!(check_cron("*/5 * * * * *", None).is_ok());
        assert!(check_cron("0 3 * * *", Some("Europe/Paris")).is_ok());
        assert!(check_cron("61 * * * *", None).is_err());
        let defaults = JobOptions {
            attempts: Some(3),
            priority: Some(2),
            ..Default::default()
        };
        let merged = merge_defaults(
            JobOptions {
                attempts: Some(1),
                ..Default::default()
            },
            &defaults,
        );
        assert_eq!(merged.attempts, Some(1));
        assert_eq!(merged.priority, Some(2));
    }
}
