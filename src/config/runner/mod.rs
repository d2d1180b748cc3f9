//! The runner's part of the configuration file: `[[queues]]` job defaults, `[[workers]]`,
//! `[[schedulers]]` and the `[runner]` table, as written in TOML ([`file`]) and as validated
//! ([`RunnerConfig`], made of the [`spec`] types).
//!
//! Validation happens once, at start: a bad entry (unknown handler type, invalid cron pattern,
//! unknown time zone, a worker or scheduler on an undeclared queue, concurrency 0 ...) fails with
//! a [`ConfigError`] naming the entry, e.g. `invalid [[workers]] #2 (queue "sync") handler: ...`.
//! Each kind of entry is checked in its own module: [`defaults`], [`worker`], [`schedule`].
//!
//! Nothing here uses the rest of the configuration ([`crate::config`] uses this module), nor the
//! runner that runs it.

pub mod declared;
pub mod defaults;
pub mod file;
pub mod handler;
pub mod schedule;
pub mod spec;
pub mod worker;

use std::collections::HashSet;
use std::time::Duration;

use bullmq::JobOptions;

use self::declared::DeclaredQueues;
use self::defaults::job_defaults;
pub use self::defaults::merge_defaults;
use self::file::RunnerFile;
use self::schedule::scheduler_spec;
pub use self::schedule::{CronError, check_cron};
pub use self::spec::{
    CommandSpec, DEFAULT_HANDLER_TIMEOUT, DEFAULT_SHUTDOWN_TIMEOUT, HandlerSpec, QueueSpec,
    RUN_RETRY_DELAY_MS, SchedulerSpec, WebhookSpec, WorkerSpec,
};
use self::worker::worker_spec;
use crate::config::error::{ConfigError, bad};

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
                bull: file.bull.contains(name),
            });
        }
        let declared = DeclaredQueues::new(file.queues.iter().map(|(n, _)| n.as_str()))
            .with_bull(file.bull.iter().map(String::as_str));
        let workers = file
            .workers
            .iter()
            .enumerate()
            .map(|(index, worker)| worker_spec(index + 1, worker, &declared))
            .collect::<Result<Vec<_>, _>>()?;

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

#[cfg(test)]
mod tests;
