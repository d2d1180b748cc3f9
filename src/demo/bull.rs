//! The Bull 3/4 part of the demo: the fixture's `[[bull_queues]]`, written with bullring's own
//! Bull code (`queue::bull`): each job is added with Bull's add (the queue's options under the
//! job's), then, by its `end`, taken and finished by [`DemoWorker`], a stand-in for a Bull
//! worker. Failed jobs are retried through Bull's promote until their attempts are spent.

use serde_json::Value;

use super::error::DemoError;
use super::fixture::{BullEnd, BullJobFixture, BullQueueFixture, Fixture};
use crate::queue::bull::BullActions;
use crate::queue::bull::demo::{DemoWorker, Finish};
use crate::queue::connection::Redis;
use crate::queue::model::{JobState, Library, QueueRef};
use crate::queue::op::{NewJob, Op};
use crate::queue::read::Reader;

/// How long the demo's active Bull job stays locked.
pub const BULL_ACTIVE_LOCK_MS: u64 = 600_000;

/// The job's options: the queue's, with the job's own over them.
fn options(queue: &BullQueueFixture, job: &BullJobFixture) -> Value {
    let mut opts = queue.opts.as_object().cloned().unwrap_or_default();
    if let Some(own) = job.opts.as_object() {
        opts.extend(own.clone());
    }
    Value::Object(opts)
}

/// Seed every Bull queue of the fixture under `prefix`; returns how many jobs were added.
pub async fn seed_bull(redis: &Redis, prefix: &str, fixture: &Fixture) -> Result<usize, DemoError> {
    let actions = BullActions::new(Reader::new(redis.clone(), vec![prefix.to_string()]));
    let mut added = 0;
    for queue in &fixture.bull_queues {
        let at = QueueRef::new(prefix, &queue.name).with_library(Library::Bull);
        let worker = actions.demo_worker(&at);
        for job in &queue.jobs {
            let new = NewJob {
                name: job.name.clone(),
                data: job.data.clone(),
                opts: options(queue, job),
            };
            let outcome = actions.perform(&at, Op::AddJob(new)).await?;
            let id = outcome.jobs.concat();
            added += 1;
            if job.end != BullEnd::Added {
                play(&actions, &worker, &at, fixture, job, &id).await?;
            }
        }
        if queue.paused {
            actions.perform(&at, Op::Pause).await?;
        }
    }
    Ok(added)
}

/// Take job `id` and finish it as its `end` says.
async fn play(
    actions: &BullActions,
    worker: &DemoWorker<'_>,
    queue: &QueueRef,
    fixture: &Fixture,
    job: &BullJobFixture,
    id: &str,
) -> Result<(), DemoError> {
    let failure = match &job.fails {
        Some(name) => Some(fixture.failures.get(name).ok_or_else(|| {
            DemoError::Unexpected(format!("Bull demo job {id}: no failure named {name:?}"))
        })?),
        None => None,
    };
    loop {
        let taken = worker.take(BULL_ACTIVE_LOCK_MS).await?;
        if taken.as_deref() != Some(id) {
            return Err(DemoError::Unexpected(format!(
                "the Bull demo worker took {taken:?}, not job {id}"
            )));
        }
        let finish = match (job.end, failure) {
            (BullEnd::Active, _) => return Ok(()),
            (BullEnd::Completed, _) => Finish::Complete(job.returns.clone().unwrap_or(Value::Null)),
            (_, Some(failure)) => Finish::Fail {
                reason: failure.message.clone(),
                stack: failure.stack(),
            },
            (_, None) => {
                return Err(DemoError::Unexpected(format!(
                    "Bull demo job {id} fails without a failure named"
                )));
            }
        };
        worker.finish(id, finish).await?;
        match (job.end, actions.state(queue, id).await?) {
            (BullEnd::Failed, Some(JobState::Delayed)) => {
                actions.perform(queue, Op::Promote(id.to_string())).await?;
            }
            _ => return Ok(()),
        }
    }
}
