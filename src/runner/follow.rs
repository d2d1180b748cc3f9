//! Following a Redis Sentinel failover. The engine's workers connect to one address and, when it
//! goes away, keep reconnecting to it; so under Sentinel the runner asks the sentinels where the
//! master is, at once after any worker error (the master unreachable, `READONLY` from a demoted
//! one) and every [`CHECK_EVERY`] besides. When they name another master, the workers on the old
//! one are closed (their running jobs are not waited for: their results could not be written
//! there), the job schedulers are upserted again on the new master (a write the old one had not
//! yet replicated is not lost), and the same workers start there, in the same process.
//!
//! Jobs that were running on the old master are handed on by BullMQ's stalled-job check once
//! their locks expire (a job may then run twice: at-least-once, as BullMQ workers on Sentinel).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Notify};
use tokio_util::sync::CancellationToken;

use super::crew::{Crew, Plan};
use super::health::RunnerHealth;
use super::schedulers;
use crate::config::runner::RunnerConfig;
use crate::queue::connection::RedisSettings;
use crate::queue::error::chain;

/// How often the sentinels are asked when no worker reported an error.
const CHECK_EVERY: Duration = Duration::from_secs(5);
/// The shortest pause between two questions, so a burst of worker errors asks once.
const AT_MOST_EVERY: Duration = Duration::from_millis(250);
/// How long running jobs may take before the workers on an old master are closed anyway.
const CLOSE_OLD: Duration = Duration::from_secs(1);

/// Everything the follower needs; it owns the workers' slot with the runner.
pub(super) struct Follower {
    pub(super) settings: RedisSettings,
    pub(super) config: RunnerConfig,
    pub(super) plan: Arc<Plan>,
    pub(super) crew: Arc<Mutex<Option<Crew>>>,
    pub(super) errors: Arc<Notify>,
    pub(super) health: RunnerHealth,
    /// The master the current workers run on.
    pub(super) master: String,
}

impl Follower {
    /// Watch for a new master until `cancel` fires.
    pub(super) async fn run(mut self, cancel: CancellationToken) {
        let Some(sentinel) = self.settings.sentinel.clone() else {
            return;
        };
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = ticks.tick() => {}
                _ = self.errors.notified() => {}
            }
            let address = match sentinel.master_address().await {
                Ok(address) => address,
                Err(err) => {
                    tracing::warn!(error = %chain(&err), "cannot ask the sentinels where the master is");
                    self.health.failed(chain(&err));
                    continue;
                }
            };
            // Holding the slot while moving: a shutdown waits for the move to finish.
            let crew = self.crew.clone();
            let mut slot = crew.lock().await;
            if cancel.is_cancelled() {
                return;
            }
            if address != self.master || slot.is_none() {
                self.move_to(&mut slot, address).await;
            } else {
                self.health.recovered();
            }
            drop(slot);
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(AT_MOST_EVERY) => {}
            }
        }
    }

    /// Close the workers on the old master and start them on `address`. On failure the slot
    /// stays empty and the next question tries again.
    async fn move_to(&mut self, slot: &mut Option<Crew>, address: String) {
        let from = self.master.clone();
        if from == address {
            tracing::warn!(master = %address, "starting the workers again on the master");
        } else {
            tracing::warn!(from = %from, to = %address, "the sentinels name a new master: moving the workers there");
        }
        if let Some(old) = slot.take() {
            self.health.stopped_workers();
            let abandoned = old.close(CLOSE_OLD).await;
            if abandoned > 0 {
                tracing::warn!(
                    abandoned,
                    "jobs running on the old master are handed on by the stalled-job check once their locks expire"
                );
            }
        }
        let at = self.settings.at_master(&address);
        match schedulers::sync(&at, &self.plan.prefix, &self.config).await {
            Ok(report) => {
                if !report.upserted.is_empty() {
                    tracing::info!(
                        schedulers = report.upserted.len(),
                        "job schedulers upserted on the new master"
                    );
                }
            }
            Err(err) => {
                tracing::warn!(error = %chain(&err), "cannot upsert the job schedulers on the new master");
                self.health
                    .failed(format!("upserting the job schedulers: {}", chain(&err)));
                return;
            }
        }
        match Crew::start(&self.plan, &at).await {
            Ok(crew) => {
                tracing::warn!(from = %from, to = %address, workers = crew.len(), "workers restarted on the new master");
                self.health.moved(&from, &address, crew.len());
                *slot = Some(crew);
                self.master = address;
            }
            Err(err) => {
                tracing::warn!(error = %chain(&err), "cannot start the workers on the new master");
                self.health
                    .failed(format!("starting the workers: {}", chain(&err)));
            }
        }
    }
}
