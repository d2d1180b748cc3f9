//! The BullMQ actions on job schedulers and queue settings: edit a scheduler's schedule, run a
//! scheduler now, set or clear the global concurrency. All through the engine
//! (`upsertJobScheduler`, `getJobScheduler`, the `concurrency` field of `meta`), so Node's
//! `getJobSchedulers` and `getGlobalConcurrency` see the change.

use bullmq::job_scheduler::{JobSchedulerJson, RepeatOptions};
use serde_json::Value;

use super::action::Action;
use super::actions::Actions;
use super::error::{QueueError, Result};
use super::model::QueueRef;
use super::op::{NewJob, Outcome, SchedulerEdit, parse_options};

/// Template options that tie a job to its scheduler; a job run now is not one of its iterations.
const SCHEDULE_OPTIONS: [&str; 6] = [
    "jobId",
    "repeat",
    "repeatJobKey",
    "prevMillis",
    "timestamp",
    "telemetry",
];

fn template_opts(found: &JobSchedulerJson) -> Value {
    let mut opts = found
        .opts
        .clone()
        .unwrap_or(Value::Object(Default::default()));
    if let Value::Object(map) = &mut opts {
        for key in SCHEDULE_OPTIONS {
            map.remove(key);
        }
    }
    opts
}

impl Actions {
    async fn scheduler(&self, queue: &QueueRef, id: &str) -> Result<JobSchedulerJson> {
        self.require_scheduler(queue, id).await?;
        self.queue(queue)
            .await?
            .get_job_scheduler(id)
            .await?
            .ok_or_else(|| QueueError::SchedulerNotFound {
                queue: queue.clone(),
                id: id.to_string(),
            })
    }

    /// Give a job scheduler a new schedule; its template and start date stay as they were.
    pub async fn edit_scheduler(
        &self,
        queue: &QueueRef,
        id: &str,
        edit: SchedulerEdit,
    ) -> Result<Outcome> {
        let found = self.scheduler(queue, id).await?;
        let opts = parse_options(template_opts(&found))?;
        let repeat = RepeatOptions {
            pattern: edit.pattern,
            every: edit.every,
            limit: edit.limit,
            end_date: edit.end_date,
            tz: edit.tz,
            start_date: found.start_date,
            ..Default::default()
        };
        self.queue(queue)
            .await?
            .upsert_job_scheduler(
                id,
                repeat,
                Some(&found.name),
                found.data.clone(),
                Some(opts),
            )
            .await?;
        Ok(Outcome::new(
            Action::EditScheduler,
            queue,
            vec![],
            0,
            format!("Job scheduler {id} was saved."),
        ))
    }

    /// Add one job from a job scheduler's template now; its next run stays where it was.
    pub async fn run_scheduler(&self, queue: &QueueRef, id: &str) -> Result<Outcome> {
        let found = self.scheduler(queue, id).await?;
        let job = NewJob {
            name: found.name.clone(),
            data: found
                .data
                .clone()
                .unwrap_or(Value::Object(Default::default())),
            opts: template_opts(&found),
        };
        let mut outcome = self.add(queue, job).await?;
        outcome.action = Action::RunScheduler;
        outcome.message = format!(
            "Job {} was added from job scheduler {id}.",
            outcome.jobs.join("")
        );
        Ok(outcome)
    }

    /// Set (`Some`) or clear (`None`) the most jobs of the queue active at once.
    pub async fn global_concurrency(
        &self,
        queue: &QueueRef,
        limit: Option<u64>,
    ) -> Result<Outcome> {
        let handle = self.queue(queue).await?;
        let (action, message) = match limit {
            Some(n) => {
                handle.set_global_concurrency(n).await?;
                (
                    Action::SetConcurrency,
                    format!("Queue {} runs at most {n} job(s) at once.", queue.name),
                )
            }
            None => {
                handle.remove_global_concurrency().await?;
                (
                    Action::ClearConcurrency,
                    format!("Queue {} has no global concurrency.", queue.name),
                )
            }
        };
        Ok(Outcome::new(action, queue, vec![], 0, message))
    }
}
