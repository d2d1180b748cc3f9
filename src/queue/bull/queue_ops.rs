//! Actions on a whole Bull queue: pause / resume (Bull's `Queue#pause` / `#resume`), retry every
//! failed job (`Queue#retryJobs`), promote every delayed job (`Job#promote` on each), clean a
//! state (`Queue#clean`), drain, obliterate (`Queue#obliterate`) and remove a repeatable job
//! (`Queue#removeRepeatableByKey`). The batched ones call their script once per [`BATCH`] jobs,
//! so memory stays bounded whatever the queue's size.

use super::{BATCH, BullActions, keys, now_ms, scripts};
use crate::queue::action::Action;
use crate::queue::actions::human_ms;
use crate::queue::error::{QueueError, Result};
use crate::queue::model::{JobState, QueueRef};
use crate::queue::op::Outcome;
use crate::queue::refusal::Refusal;

/// A timestamp later than any job's: a drain removes jobs whatever their age.
const ANY_AGE: u64 = 1 << 53;

/// The container a clean of `state` walks, for the states a Bull queue's jobs can be cleaned in.
fn cleanable(state: JobState) -> Result<&'static str> {
    match state {
        JobState::Completed | JobState::Failed | JobState::Delayed | JobState::Paused => {
            Ok(state.as_str())
        }
        JobState::Waiting => Ok("wait"),
        other => Err(QueueError::InvalidInput(
            crate::text::Said::new("check.bull.clean_state").with("state", other),
        )),
    }
}

impl BullActions {
    /// Pause (`pause`) or resume the queue, as Bull's global pause does.
    pub(super) async fn pause(&self, queue: &QueueRef, pause: bool) -> Result<Outcome> {
        let mut call = scripts::PAUSE.prepare_invoke();
        call.key(keys::base(queue))
            .arg(if pause { "paused" } else { "resumed" });
        let _: i64 = scripts::run(self.reader().redis(), &scripts::PAUSE, &call).await?;
        let (action, message) = if pause {
            (Action::Pause, format!("Queue {} is paused.", queue.name))
        } else {
            (
                Action::Resume,
                format!("Queue {} is running again.", queue.name),
            )
        };
        Ok(Outcome::new(action, queue, vec![], 0, message))
    }

    /// Every failed job back to waiting, [`BATCH`] at a time.
    pub(super) async fn retry_failed(&self, queue: &QueueRef) -> Result<Outcome> {
        let mut moved = 0;
        loop {
            let mut call = scripts::RETRY_FAILED.prepare_invoke();
            call.key(keys::base(queue)).arg(BATCH);
            let step: u64 =
                scripts::run(self.reader().redis(), &scripts::RETRY_FAILED, &call).await?;
            moved += step;
            if step < BATCH {
                break;
            }
        }
        Ok(Outcome::new(
            Action::RetryFailed,
            queue,
            vec![],
            moved,
            format!("Moved {moved} failed job(s) to waiting."),
        ))
    }

    /// Every delayed job to waiting now, earliest first, [`BATCH`] at a time.
    pub(super) async fn promote_delayed(&self, queue: &QueueRef) -> Result<Outcome> {
        let mut moved = 0;
        loop {
            let mut call = scripts::PROMOTE.prepare_invoke();
            call.key(keys::base(queue))
                .arg(self.token())
                .arg("batch")
                .arg(BATCH);
            let step: u64 = scripts::run(self.reader().redis(), &scripts::PROMOTE, &call).await?;
            moved += step;
            if step < BATCH {
                break;
            }
        }
        Ok(Outcome::new(
            Action::PromoteDelayed,
            queue,
            vec![],
            moved,
            format!("Promoted {moved} delayed job(s) to waiting."),
        ))
    }

    /// Remove jobs of `container` whose time is before `max_ts`, at most `limit` (0: no limit),
    /// walking it [`BATCH`] entries at a time. Returns how many were removed.
    async fn clean_container(
        &self,
        queue: &QueueRef,
        container: &str,
        max_ts: u64,
        limit: u64,
    ) -> Result<u64> {
        let (mut removed, mut kept) = (0u64, 0u64);
        loop {
            let window = match limit {
                0 => BATCH,
                n => (n - removed).min(BATCH),
            };
            if window == 0 {
                return Ok(removed);
            }
            let mut call = scripts::CLEAN.prepare_invoke();
            call.key(keys::base(queue))
                .arg(container)
                .arg(max_ts)
                .arg(window)
                .arg(kept);
            let (step, kept_so_far, over): (u64, u64, u64) =
                scripts::run(self.reader().redis(), &scripts::CLEAN, &call).await?;
            removed += step;
            kept = kept_so_far;
            if over == 1 {
                return Ok(removed);
            }
        }
    }

    /// Remove jobs of `state` older than `grace_ms`, at most `limit` (0: no limit). Jobs a worker
    /// holds and the armed next run of a repeatable job stay.
    pub(super) async fn clean(
        &self,
        queue: &QueueRef,
        state: JobState,
        grace_ms: u64,
        limit: u64,
    ) -> Result<Outcome> {
        let container = cleanable(state)?;
        let max_ts = now_ms().saturating_sub(grace_ms);
        let removed = self
            .clean_container(queue, container, max_ts, limit)
            .await?;
        Ok(Outcome::new(
            Action::Clean,
            queue,
            vec![],
            removed,
            format!(
                "Removed {removed} {state} job(s) older than {}.",
                human_ms(grace_ms)
            ),
        ))
    }

    /// Remove the waiting jobs (those of `wait` and of `paused`), and the delayed ones if asked,
    /// with their hashes. The queue stays paused or running as it was, and the armed next runs
    /// of repeatable jobs stay.
    pub(super) async fn drain(&self, queue: &QueueRef, delayed: bool) -> Result<Outcome> {
        let mut removed = 0;
        let containers: &[&str] = if delayed {
            &["wait", "paused", "delayed"]
        } else {
            &["wait", "paused"]
        };
        for container in containers {
            removed += self.clean_container(queue, container, ANY_AGE, 0).await?;
        }
        let what = if delayed {
            "waiting and delayed"
        } else {
            "waiting"
        };
        Ok(Outcome::new(
            Action::Drain,
            queue,
            vec![],
            removed,
            format!("Removed {removed} {what} job(s)."),
        ))
    }

    /// Delete the queue and every job in it, as Bull's `Queue#obliterate`: refused while jobs
    /// are active unless forced (checked before anything is written), else the queue is paused
    /// (workers stop taking jobs) and emptied [`BATCH`] jobs at a time.
    pub(super) async fn obliterate(&self, queue: &QueueRef, force: bool) -> Result<Outcome> {
        let summary = self.reader().summary(queue).await?;
        if summary.counts.active > 0 && !force {
            return Err(QueueError::Conflict(Refusal::ActiveJobs {
                queue: queue.name.clone(),
                active: summary.counts.active,
            }));
        }
        self.pause(queue, true).await?;
        loop {
            let mut call = scripts::OBLITERATE.prepare_invoke();
            call.key(keys::base(queue)).arg(BATCH);
            let more: i64 =
                scripts::run(self.reader().redis(), &scripts::OBLITERATE, &call).await?;
            if more == 0 {
                break;
            }
        }
        Ok(Outcome::new(
            Action::Obliterate,
            queue,
            vec![],
            summary.counts.total(),
            format!("Queue {} was obliterated.", queue.name),
        ))
    }

    /// Remove a repeatable job (named by its key in `repeat`) and its armed next run.
    pub(super) async fn remove_repeatable(&self, queue: &QueueRef, key: &str) -> Result<Outcome> {
        let mut call = scripts::REMOVE_REPEATABLE.prepare_invoke();
        call.key(keys::base(queue)).arg(key);
        let removed: i64 =
            scripts::run(self.reader().redis(), &scripts::REMOVE_REPEATABLE, &call).await?;
        if removed != 1 {
            return Err(QueueError::SchedulerNotFound {
                queue: queue.clone(),
                id: key.to_string(),
            });
        }
        Ok(Outcome::new(
            Action::RemoveScheduler,
            queue,
            vec![],
            1,
            format!("Repeatable job {key} was removed."),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_states_a_bull_clean_takes() {
        assert_eq!(cleanable(JobState::Waiting).unwrap(), "wait");
        assert_eq!(cleanable(JobState::Paused).unwrap(), "paused");
        assert!(cleanable(JobState::Prioritized).is_err());
        assert!(cleanable(JobState::Active).is_err());
    }
}
