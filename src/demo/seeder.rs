//! Plays the demo fixture ([`super::fixture`]) against the queues, queue by queue: the worked
//! jobs (then the past runs moved back to their hours), the active job, the jobs left as they
//! are, the flows, the job schedulers, the pause. It counts the jobs it creates.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bullmq::{FlowJob, FlowProducer, JobState, Queue};

use super::engine::{DemoEngine, Planned, write_logs_and_progress};
use super::error::DemoError;
use super::fixture::{ActiveJob, Fixture, FlowFixture, QueueFixture};
use crate::queue::seed::{PastRun, backdate_runs};

const HOUR_MS: u64 = 3_600_000;
/// The lock of the flow child taken to be completed.
const CHILD_LOCK: Duration = Duration::from_secs(30);
/// Past runs start this long after the top of their hour.
const RUN_START_MS: u64 = 180;

/// Now, in Unix milliseconds.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// Plays one fixture; [`Seeder::jobs`] counts what it created.
pub struct Seeder {
    engine: DemoEngine,
    fixture: Fixture,
    /// Start of the current hour, Unix ms: past runs are placed before it.
    hour: u64,
    jobs: usize,
}

impl Seeder {
    pub fn new(engine: DemoEngine, fixture: Fixture) -> Seeder {
        Seeder {
            engine,
            fixture,
            hour: now_ms() / HOUR_MS * HOUR_MS,
            jobs: 0,
        }
    }

    /// Jobs created so far (scheduler iterations and flow nodes included).
    pub fn jobs(&self) -> usize {
        self.jobs
    }

    /// Seed every queue of the fixture, in order.
    pub async fn run(&mut self) -> Result<(), DemoError> {
        let queues = self.fixture.queues.clone();
        for queue in &queues {
            self.seed_queue(queue).await?;
        }
        Ok(())
    }

    async fn seed_queue(&mut self, fixture: &QueueFixture) -> Result<(), DemoError> {
        let queue = self.engine.queue(&fixture.name).await?;
        if !fixture.worked.is_empty() {
            self.work(&queue, fixture).await?;
        }
        if let Some(active) = &fixture.active {
            self.leave_active(&queue, active).await?;
        }
        for job in &fixture.jobs {
            self.engine
                .add(&queue, &job.name, job.data.clone(), job.opts.clone())
                .await?;
            self.jobs += 1;
        }
        for flow in &fixture.flows {
            self.add_flow(&queue, flow).await?;
        }
        for scheduler in &fixture.schedulers {
            let next = queue
                .upsert_job_scheduler(
                    &scheduler.id,
                    scheduler.repeat.clone(),
                    Some(&scheduler.id),
                    Some(scheduler.data.clone()),
                    None,
                )
                .await?;
            if next.is_some() {
                self.jobs += 1;
            }
        }
        if fixture.paused {
            queue.pause().await?;
        }
        Ok(())
    }

    /// Add the worked jobs, let a demo worker take each to its state, then move the past runs
    /// back to their hours.
    async fn work(&mut self, queue: &Queue, fixture: &QueueFixture) -> Result<(), DemoError> {
        let mut planned = Vec::new();
        let mut past: BTreeMap<String, Vec<PastRun>> = BTreeMap::new();
        for job in &fixture.worked {
            let mut opts = job.opts.clone();
            let run = job.past_run.as_ref().map(|run| {
                let created = self.hour - run.hours_ago * HOUR_MS;
                let started = created + RUN_START_MS;
                opts.job_id = Some(format!("repeat:{}:{created}", run.scheduler));
                (
                    run.scheduler.clone(),
                    created,
                    started,
                    started + run.duration_ms,
                )
            });
            let id = self
                .engine
                .add(queue, &job.name, job.data.clone(), opts)
                .await?;
            self.jobs += 1;
            if let Some((scheduler, created, started, finished)) = run {
                past.entry(scheduler).or_default().push(PastRun {
                    id: id.clone(),
                    created,
                    started,
                    finished,
                    failed: job.expect == JobState::Failed,
                });
            }
            planned.push(Planned {
                id,
                logs: job.logs.clone(),
                progress: job.progress.clone(),
                outcome: self.fixture.outcome(&fixture.name, job)?,
                expect: job.expect,
            });
        }
        self.engine.work(queue, &planned).await?;
        let queue_ref = self.engine.queue_ref(queue);
        for (scheduler, runs) in &past {
            backdate_runs(&self.engine.redis, &queue_ref, scheduler, runs).await?;
        }
        Ok(())
    }

    /// Add the active job, the only one waiting when it is taken: a worker started without its
    /// run loop takes it, logs to it, sets its progress and closes without finishing it.
    async fn leave_active(&mut self, queue: &Queue, active: &ActiveJob) -> Result<(), DemoError> {
        let id = self
            .engine
            .add(
                queue,
                &active.name,
                active.data.clone(),
                active.opts.clone(),
            )
            .await?;
        self.jobs += 1;
        let lock = Duration::from_secs(active.lock_secs);
        let mut job = self.engine.take_job(queue, lock).await?;
        if job.id() != id {
            return Err(DemoError::Unexpected(format!(
                "took job {} instead of {id}",
                job.id()
            )));
        }
        write_logs_and_progress(&mut job, &active.logs, active.progress.as_ref()).await?;
        let state = queue.get_job_state(&id).await?;
        if state != JobState::Active {
            return Err(DemoError::Unexpected(format!(
                "{}/{id} is {state} after its worker closed, not active",
                queue.name()
            )));
        }
        Ok(())
    }

    /// Add a flow; complete its first child if the fixture says so; check that the parent
    /// waits for the rest.
    async fn add_flow(&mut self, queue: &Queue, flow: &FlowFixture) -> Result<(), DemoError> {
        let mut children = Vec::new();
        let mut child_queues = Vec::new();
        for child in &flow.children {
            children.push(FlowJob::new(&child.name, &child.queue, child.data.clone())?);
            child_queues.push(self.engine.queue(&child.queue).await?);
        }
        let parent = FlowJob::new(&flow.name, queue.name(), flow.data.clone())?.children(children);
        let producer = FlowProducer::with_connection(
            self.engine.conn.clone(),
            Some(self.engine.prefix.clone()),
        )?;
        let node = producer.add(parent).await?;
        self.jobs += 1 + flow.children.len();
        let parent_id = node.job.id().to_string();

        if let (Some(completion), Some(child_queue)) =
            (&flow.complete_first_child, child_queues.first())
        {
            let mut child = self.engine.take_job(child_queue, CHILD_LOCK).await?;
            child.log(&completion.log).await?;
            let value = completion.returns_for(child.data());
            child.move_to_completed(&value).await?;
        }
        let state = queue.get_job_state(&parent_id).await?;
        if !flow.children.is_empty() && state != JobState::WaitingChildren {
            return Err(DemoError::Unexpected(format!(
                "flow parent {}/{parent_id} is {state}, not waiting-children",
                queue.name()
            )));
        }
        Ok(())
    }
}
