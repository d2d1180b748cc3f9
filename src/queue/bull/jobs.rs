//! Actions on one job of a Bull queue: retry (Bull's `Job#retry`), promote (`Job#promote`),
//! remove (`Job#remove`), edit its data (`Job#update`) and duplicate (a new job with the same
//! name, data and options, through Bull's add).

use serde_json::Value;

use super::add::IDENTITY_OPTIONS;
use super::{BullActions, keys, not_in_state, now_ms, scripts};
use crate::queue::action::Action;
use crate::queue::error::{QueueError, Result};
use crate::queue::model::{JobState, QueueRef};
use crate::queue::op::{NewJob, Outcome};
use crate::queue::refusal::Why;

impl BullActions {
    /// A failed job back to waiting. Bull retries failed jobs only (`Job#retry` moves a job out
    /// of `failed`), so a completed job is refused, as is one a worker holds.
    pub(super) async fn retry(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let state = self.state_of(queue, id).await?;
        if state != Some(JobState::Failed) {
            return Err(not_in_state(id, state, Why::BullRetryFailedOnly));
        }
        let mut call = scripts::RETRY_JOB.prepare_invoke();
        call.key(keys::base(queue))
            .arg(id)
            .arg(now_ms())
            .arg(self.token());
        let code: i64 = scripts::run(self.reader().redis(), &scripts::RETRY_JOB, &call).await?;
        match code {
            1 => Ok(Outcome::new(
                Action::Retry,
                queue,
                vec![id.into()],
                1,
                format!("Job {id} is waiting again."),
            )),
            -1 => Err(not_in_state(id, state, Why::BullLocked)),
            0 => Err(gone(queue, id)),
            _ => Err(not_in_state(id, None, Why::LeftFailed)),
        }
    }

    /// A delayed job to waiting now, at its priority position.
    pub(super) async fn promote(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let state = self.state_of(queue, id).await?;
        if state != Some(JobState::Delayed) {
            return Err(not_in_state(id, state, Why::PromoteDelayedOnly));
        }
        let mut call = scripts::PROMOTE.prepare_invoke();
        call.key(keys::base(queue))
            .arg(self.token())
            .arg("one")
            .arg(id);
        let promoted: u64 = scripts::run(self.reader().redis(), &scripts::PROMOTE, &call).await?;
        if promoted == 0 {
            return Err(not_in_state(id, None, Why::LeftDelayed));
        }
        Ok(Outcome::new(
            Action::Promote,
            queue,
            vec![id.into()],
            1,
            format!("Job {id} was promoted to waiting."),
        ))
    }

    /// Remove a job, refused while a worker holds its lock (as Bull's `Job#remove`).
    pub(super) async fn remove(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let state = self.state_of(queue, id).await?;
        let mut call = scripts::REMOVE_JOB.prepare_invoke();
        call.key(keys::base(queue)).arg(id);
        let removed: i64 = scripts::run(self.reader().redis(), &scripts::REMOVE_JOB, &call).await?;
        if removed != 1 {
            return Err(not_in_state(id, state, Why::BullLocked));
        }
        Ok(Outcome::new(
            Action::Remove,
            queue,
            vec![id.into()],
            1,
            format!("Job {id} was removed."),
        ))
    }

    /// Replace a job's data (any state, as Bull's `Job#update`).
    pub(super) async fn update_data(
        &self,
        queue: &QueueRef,
        id: &str,
        data: Value,
    ) -> Result<Outcome> {
        self.state_of(queue, id).await?;
        let mut call = scripts::UPDATE_DATA.prepare_invoke();
        call.key(keys::base(queue)).arg(id).arg(data.to_string());
        let saved: i64 = scripts::run(self.reader().redis(), &scripts::UPDATE_DATA, &call).await?;
        if saved != 1 {
            return Err(gone(queue, id));
        }
        Ok(Outcome::new(
            Action::EditData,
            queue,
            vec![id.into()],
            1,
            format!("The data of job {id} was saved."),
        ))
    }

    /// Add a copy of a job: same name, data and options, a new id. What ties the job to its
    /// own identity or schedule (`jobId`, `repeat`, `timestamp` ...) is not copied.
    pub(super) async fn duplicate(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let (_, detail) = self.reader().job(queue, id, 1, 1).await?;
        let mut opts = detail.job.opts.clone();
        if let Value::Object(map) = &mut opts {
            for key in IDENTITY_OPTIONS {
                map.remove(key);
            }
        }
        let job = NewJob {
            name: detail.job.name.clone().unwrap_or_default(),
            data: detail.job.data.clone(),
            opts,
        };
        let mut outcome = self.add_as_stored(queue, job).await?;
        outcome.action = Action::Duplicate;
        outcome.message = format!("Job {id} was duplicated as job {}.", outcome.jobs.join(""));
        Ok(outcome)
    }
}

/// The job went away between the check and the change.
fn gone(queue: &QueueRef, id: &str) -> QueueError {
    QueueError::JobNotFound {
        queue: queue.clone(),
        id: id.to_string(),
    }
}
