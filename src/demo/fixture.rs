//! The demo data set as data: `fixture.toml` (compiled in) read into these types, and checked
//! (every failure named exists, every worked job has one outcome). [`super::seeder`] plays it.

use std::collections::BTreeMap;

use bullmq::job_scheduler::RepeatOptions;
use bullmq::{JobOptions, JobState};
use serde::Deserialize;
use serde_json::Value;

/// The fixture file, as compiled into the binary.
pub const FIXTURE: &str = include_str!("fixture.toml");

/// Why the fixture cannot be played.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    #[error("the demo fixture does not parse")]
    Toml(#[source] toml::de::Error),
    #[error("demo job {job:?} of queue {queue:?}: {problem}")]
    Job {
        queue: String,
        job: String,
        problem: String,
    },
}

/// The whole data set: failures by name, and the queues in the order they are seeded.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    pub failures: BTreeMap<String, Failure>,
    pub queues: Vec<QueueFixture>,
    /// Bull 3/4 queues, seeded after the BullMQ ones with bullring's own Bull code.
    #[serde(default)]
    pub bull_queues: Vec<BullQueueFixture>,
}

/// A Bull 3/4 queue and what it holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BullQueueFixture {
    pub name: String,
    /// Bull job options every job of the queue gets (its `[queues.defaults]`, in Bull's names).
    #[serde(default = "empty_object")]
    pub opts: Value,
    #[serde(default)]
    pub jobs: Vec<BullJobFixture>,
    /// The queue is paused last (its waiting jobs are then `paused`).
    #[serde(default)]
    pub paused: bool,
}

/// Where a Bull demo job ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BullEnd {
    /// Added and left (waiting, or delayed with a `delay`).
    Added,
    /// Taken by the demo worker and left running, locked.
    Active,
    /// Taken and completed with `returns`.
    Completed,
    /// Taken and failed with `fails` once, waiting out its backoff in `delayed`.
    Retrying,
    /// Taken and failed with `fails` on each of its attempts.
    Failed,
}

/// A job of a Bull demo queue.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BullJobFixture {
    pub name: String,
    #[serde(default = "empty_object")]
    pub data: Value,
    /// Bull job options, over the queue's.
    #[serde(default = "empty_object")]
    pub opts: Value,
    pub end: BullEnd,
    pub returns: Option<Value>,
    /// A `[failures]` entry.
    pub fails: Option<String>,
}

/// A failure as a Node worker would record it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Failure {
    /// Error class, the first word of the stack.
    pub class: String,
    pub message: String,
    /// Stack frames, one `    at ...` line each.
    pub frames: String,
}

impl Failure {
    /// The stack as Node prints it: `Class: message`, then the frames.
    pub fn stack(&self) -> String {
        format!("{}: {}\n{}", self.class, self.message, self.frames)
    }
}

/// One queue and what it holds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueFixture {
    pub name: String,
    #[serde(default)]
    pub worked: Vec<WorkedJob>,
    pub active: Option<ActiveJob>,
    #[serde(default)]
    pub jobs: Vec<JobFixture>,
    #[serde(default)]
    pub flows: Vec<FlowFixture>,
    #[serde(default)]
    pub schedulers: Vec<SchedulerFixture>,
    #[serde(default)]
    pub paused: bool,
}

fn empty_object() -> Value {
    Value::Object(Default::default())
}

/// A job added and left as it is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobFixture {
    pub name: String,
    #[serde(default = "empty_object")]
    pub data: Value,
    #[serde(default)]
    pub opts: JobOptions,
}

/// A job handed to a demo worker, and what the worker does with it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkedJob {
    pub name: String,
    #[serde(default = "empty_object")]
    pub data: Value,
    #[serde(default)]
    pub opts: JobOptions,
    /// The job is a past run of a scheduler: its id and times follow from this.
    pub past_run: Option<PastRunFixture>,
    #[serde(default)]
    pub logs: Vec<String>,
    pub progress: Option<Value>,
    /// Complete with this return value ...
    pub returns: Option<Value>,
    /// ... or fail with the failure of this name,
    pub fails: Option<String>,
    /// unrecoverably (otherwise the job's attempts and backoff decide what follows).
    #[serde(default)]
    pub for_good: bool,
    /// The state the job must end in.
    pub expect: JobState,
}

/// When a past run of a scheduler ran.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PastRunFixture {
    pub scheduler: String,
    /// It was created at the top of the hour this many hours back.
    pub hours_ago: u64,
    pub duration_ms: u64,
}

/// The job left active.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActiveJob {
    pub name: String,
    #[serde(default = "empty_object")]
    pub data: Value,
    #[serde(default)]
    pub opts: JobOptions,
    pub lock_secs: u64,
    #[serde(default)]
    pub logs: Vec<String>,
    pub progress: Option<Value>,
}

/// A flow: a parent in this queue and its children.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFixture {
    pub name: String,
    #[serde(default = "empty_object")]
    pub data: Value,
    pub children: Vec<FlowChild>,
    pub complete_first_child: Option<ChildCompletion>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowChild {
    pub queue: String,
    pub name: String,
    #[serde(default = "empty_object")]
    pub data: Value,
}

/// How the first child of a flow is completed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChildCompletion {
    pub log: String,
    /// The return value; `{field}` is replaced by that field of the child's data.
    pub returns: String,
}

impl ChildCompletion {
    /// The return value for a child with `data`.
    pub fn returns_for(&self, data: &Value) -> String {
        let mut text = self.returns.clone();
        if let Value::Object(fields) = data {
            for (field, value) in fields {
                let shown = match value {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                text = text.replace(&format!("{{{field}}}"), &shown);
            }
        }
        text
    }
}

/// A job scheduler; the jobs it adds are named after its id.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerFixture {
    pub id: String,
    pub repeat: RepeatOptions,
    #[serde(default = "empty_object")]
    pub data: Value,
}

/// What a worked job ends with.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// Return this value.
    Complete(Value),
    /// Fail with a retryable error: the job's attempts and backoff decide what follows.
    Fail(Failure),
    /// Fail with an unrecoverable error, whatever attempts are left.
    FailForGood(Failure),
}

impl Fixture {
    /// The compiled-in fixture, parsed and checked.
    pub fn load() -> Result<Fixture, FixtureError> {
        let fixture: Fixture = toml::from_str(FIXTURE).map_err(FixtureError::Toml)?;
        for queue in &fixture.queues {
            for job in &queue.worked {
                fixture.outcome(&queue.name, job)?;
            }
        }
        Ok(fixture)
    }

    /// What the worker does with `job` of `queue`.
    pub fn outcome(&self, queue: &str, job: &WorkedJob) -> Result<Outcome, FixtureError> {
        let problem = |problem: &str| FixtureError::Job {
            queue: queue.into(),
            job: job.opts.job_id.clone().unwrap_or_else(|| job.name.clone()),
            problem: problem.into(),
        };
        match (&job.returns, &job.fails) {
            (Some(value), None) => Ok(Outcome::Complete(value.clone())),
            (None, Some(name)) => {
                let failure = self
                    .failures
                    .get(name)
                    .cloned()
                    .ok_or_else(|| problem("fails names no [failures] entry"))?;
                Ok(if job.for_good {
                    Outcome::FailForGood(failure)
                } else {
                    Outcome::Fail(failure)
                })
            }
            _ => Err(problem("give returns or fails, not both")),
        }
    }
}
