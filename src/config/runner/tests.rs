//! Tests of the runner's configuration: a full file read back, bad entries named, cron
//! patterns and default merging.

use bullmq::JobOptions;
use bullmq::types::{BackoffStrategy, KeepJobs, RemoveOnFinish};
use serde::Deserialize;

use super::file::{QueueDefaultsFile, RunnerFile, RunnerTableFile, SchedulerFile, WorkerFile};
use super::schedule::check_cron;
use super::spec::HandlerSpec;
use super::{DEFAULT_HANDLER_TIMEOUT, RunnerConfig, merge_defaults};
use std::time::Duration;

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
        library: Option<String>,
        defaults: Option<QueueDefaultsFile>,
    }
    let whole: Whole = toml::from_str(text).unwrap();
    let bull = whole
        .queues
        .iter()
        .filter(|q| q.library.as_deref() == Some("bull"))
        .map(|q| q.name.clone())
        .collect();
    RunnerFile {
        bull,
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
    #[derive(Deserialize)]
    struct Case {
        replace: String,
        with: String,
        setting: String,
        problem: String,
    }
    #[derive(Deserialize)]
    struct Cases {
        case: Vec<Case>,
    }
    let table: Cases = toml::from_str(include_str!("bad_entries.toml")).unwrap();
    assert_eq!(table.case.len(), 9);
    let cases: Vec<(String, &str, &str)> = table
        .case
        .iter()
        .map(|c| {
            assert!(GOOD.contains(&c.replace), "{}", c.replace);
            (
                GOOD.replace(&c.replace, &c.with),
                c.setting.as_str(),
                c.problem.as_str(),
            )
        })
        .collect();
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
