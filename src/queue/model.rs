//! The read model: what the dashboard and the JSON API show.
//!
//! These types are bullring's own views of BullMQ data (ENGINE.md gap 4: the engine's shapes differ
//! from Node's). They serialize with the field names Node's BullMQ uses (`attemptsMade`,
//! `returnvalue`, `waiting-children` ...), so scripts written against Node keep working.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The prefix BullMQ and Bull use when none is given.
pub const DEFAULT_PREFIX: &str = "bull";

/// The prefix bullring's own keys (audit trail, alerts, demo marker) and new queues of the
/// runner and the command line live under: the first configured one, else BullMQ's default.
pub fn default_prefix(prefixes: &[String]) -> &str {
    prefixes.first().map_or(DEFAULT_PREFIX, String::as_str)
}

/// The name of the one Redis connection there is for now (several are a later step).
pub const DEFAULT_CONNECTION: &str = "default";

/// Which queue library a queue belongs to: whose key layout and write semantics bullring must
/// follow for it. Reads dispatch on it in `queue::layout::of`, actions in the core's one
/// action dispatch point. Written `"bullmq"` / `"bull"` in the configuration and the JSON API.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Library {
    /// npm `bullmq` (4, 5 and 6), through the `bullmq-official` engine.
    #[default]
    BullMq,
    /// npm `bull` (3.x and 4.x, OptimalBits): read in its own layout, acted on with Bull's own
    /// semantics (`queue::bull`); never run by bullring's runner.
    Bull,
}

impl Library {
    /// The name used in the configuration and the JSON API.
    pub fn as_str(self) -> &'static str {
        match self {
            Library::BullMq => "bullmq",
            Library::Bull => "bull",
        }
    }

    /// The states this library's queues have, in the order the dashboard shows their tabs.
    /// Bull has no `prioritized` set and no flows, so no such tab (as in Bull Board).
    pub fn states(self) -> &'static [JobState] {
        match self {
            Library::BullMq => &JobState::ALL,
            Library::Bull => &BULL_STATES,
        }
    }

    /// The badge shown for a queue: the library, with its major version when the queue records
    /// it (`bullmq:6.7.0` is "BullMQ 6"; Bull records none, so "Bull").
    pub fn badge(self, version: Option<&str>) -> String {
        let major = version
            .and_then(|v| v.strip_prefix("bullmq:"))
            .and_then(|v| v.split('.').next())
            .filter(|major| !major.is_empty() && major.bytes().all(|b| b.is_ascii_digit()));
        match (self, major) {
            (Library::BullMq, Some(major)) => format!("BullMQ {major}"),
            (Library::BullMq, None) => "BullMQ".into(),
            (Library::Bull, _) => "Bull".into(),
        }
    }
}

impl fmt::Display for Library {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The states of a Bull 3/4 queue, as Bull Board shows them.
const BULL_STATES: [JobState; 6] = [
    JobState::Waiting,
    JobState::Active,
    JobState::Delayed,
    JobState::Completed,
    JobState::Failed,
    JobState::Paused,
];

/// A queue, named completely: the Redis connection it is on, the prefix it lives under, its name
/// (keys are `prefix:name:suffix`), and the library it belongs to. A queue is the same queue
/// whatever library it is taken for: equality, order and hash use the connection, prefix and
/// name only.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRef {
    #[serde(skip)]
    pub connection: String,
    pub prefix: String,
    pub name: String,
    #[serde(skip)]
    pub library: Library,
}

impl QueueRef {
    /// A BullMQ queue on the default connection.
    pub fn new(prefix: impl Into<String>, name: impl Into<String>) -> Self {
        QueueRef {
            connection: DEFAULT_CONNECTION.to_string(),
            prefix: prefix.into(),
            name: name.into(),
            library: Library::BullMq,
        }
    }

    /// The same queue, taken for a queue of `library`.
    pub fn with_library(self, library: Library) -> Self {
        QueueRef { library, ..self }
    }

    /// The same queue name and prefix on the connection `connection`.
    pub fn on(self, connection: impl Into<String>) -> Self {
        QueueRef {
            connection: connection.into(),
            ..self
        }
    }

    /// The engine's key builder for this queue (every key name comes from it).
    pub fn keys(&self) -> bullmq::QueueKeys {
        bullmq::QueueKeys::new(&self.name, Some(&self.prefix))
    }

    fn identity(&self) -> (&str, &str, &str) {
        (&self.connection, &self.prefix, &self.name)
    }
}

impl PartialEq for QueueRef {
    fn eq(&self, other: &Self) -> bool {
        self.identity() == other.identity()
    }
}

impl Eq for QueueRef {}

impl std::hash::Hash for QueueRef {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.identity().hash(state);
    }
}

impl PartialOrd for QueueRef {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for QueueRef {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.identity().cmp(&other.identity())
    }
}

impl fmt::Display for QueueRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.prefix, self.name)
    }
}

/// The eight states BullMQ reports counts for, named as Node names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum JobState {
    Waiting,
    Active,
    Delayed,
    Prioritized,
    WaitingChildren,
    Completed,
    Failed,
    Paused,
}

impl JobState {
    /// Every state, in the order the dashboard shows its tabs.
    pub const ALL: [JobState; 8] = [
        JobState::Waiting,
        JobState::Active,
        JobState::Delayed,
        JobState::Prioritized,
        JobState::WaitingChildren,
        JobState::Completed,
        JobState::Failed,
        JobState::Paused,
    ];

    /// The name used in URLs, JSON and by Node's `getJobCounts`.
    pub fn as_str(self) -> &'static str {
        match self {
            JobState::Waiting => "waiting",
            JobState::Active => "active",
            JobState::Delayed => "delayed",
            JobState::Prioritized => "prioritized",
            JobState::WaitingChildren => "waiting-children",
            JobState::Completed => "completed",
            JobState::Failed => "failed",
            JobState::Paused => "paused",
        }
    }

    /// Whether the state is kept in a sorted set (otherwise a list).
    pub fn is_sorted_set(self) -> bool {
        !matches!(
            self,
            JobState::Waiting | JobState::Active | JobState::Paused
        )
    }

    /// Which key suffix holds the state (`waiting` lives in `wait`).
    pub fn key_suffix(self) -> &'static str {
        match self {
            JobState::Waiting => "wait",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for JobState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A state name that is not one of [`JobState::ALL`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown state {given:?}; expected one of: {}", JobState::ALL.map(JobState::as_str).join(", "))]
pub struct UnknownState {
    pub given: String,
}

impl UnknownState {
    /// The same words as a catalog text, for pages in the reader's language.
    pub fn said(&self) -> crate::text::Said {
        crate::text::Said::new("check.unknown_state")
            .with("given", format!("{:?}", self.given))
            .with("states", JobState::ALL.map(JobState::as_str).join(", "))
    }
}

impl FromStr for JobState {
    type Err = UnknownState;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        JobState::ALL
            .into_iter()
            .find(|state| state.as_str() == s || (s == "wait" && *state == JobState::Waiting))
            .ok_or_else(|| UnknownState {
                given: s.to_string(),
            })
    }
}

/// Job counts per state, serialized as Node's `getJobCounts` reports them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub waiting: u64,
    pub active: u64,
    pub delayed: u64,
    pub prioritized: u64,
    #[serde(rename = "waiting-children")]
    pub waiting_children: u64,
    pub completed: u64,
    pub failed: u64,
    pub paused: u64,
}

impl Counts {
    pub fn get(&self, state: JobState) -> u64 {
        match state {
            JobState::Waiting => self.waiting,
            JobState::Active => self.active,
            JobState::Delayed => self.delayed,
            JobState::Prioritized => self.prioritized,
            JobState::WaitingChildren => self.waiting_children,
            JobState::Completed => self.completed,
            JobState::Failed => self.failed,
            JobState::Paused => self.paused,
        }
    }

    pub fn set(&mut self, state: JobState, value: u64) {
        let slot = match state {
            JobState::Waiting => &mut self.waiting,
            JobState::Active => &mut self.active,
            JobState::Delayed => &mut self.delayed,
            JobState::Prioritized => &mut self.prioritized,
            JobState::WaitingChildren => &mut self.waiting_children,
            JobState::Completed => &mut self.completed,
            JobState::Failed => &mut self.failed,
            JobState::Paused => &mut self.paused,
        };
        *slot = value;
    }

    /// How many jobs a page of `state` ranges over in a queue of `library`. Like Node's
    /// `getJobs(['waiting'])`, BullMQ's waiting tab includes BullMQ 5's `paused` list; Bull
    /// lists its `paused` list in a tab of its own.
    pub fn listed(&self, library: Library, state: JobState) -> u64 {
        match (library, state) {
            (Library::BullMq, JobState::Waiting) => self.waiting + self.paused,
            (_, other) => self.get(other),
        }
    }

    pub fn total(&self) -> u64 {
        JobState::ALL.iter().map(|s| self.get(*s)).sum()
    }
}

/// One queue on the overview.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QueueSummary {
    pub name: String,
    pub prefix: String,
    pub paused: bool,
    pub counts: Counts,
    /// `meta.concurrency`, when a global concurrency is set.
    pub global_concurrency: Option<u64>,
    /// Entries of the `repeat` sorted set (job schedulers and legacy repeatables).
    pub scheduler_count: u64,
    /// BullMQ version that last wrote the queue's meta (`bullmq:6.7.0`), when known.
    pub version: Option<String>,
    /// The library the queue was read as (its layout): `"bullmq"` or `"bull"`.
    pub library: Library,
    /// The library the queue's keys say it belongs to, read with the summary (`None`: its keys
    /// say neither, e.g. a declared queue with no key yet).
    #[serde(skip)]
    pub detected: Option<Library>,
    /// The connection the queue is on (as its [`QueueRef`] named it).
    #[serde(skip)]
    pub connection: String,
}

impl QueueSummary {
    pub fn queue(&self) -> QueueRef {
        QueueRef::new(&self.prefix, &self.name)
            .with_library(self.library)
            .on(self.connection.as_str())
    }

    /// The badge naming the queue's library ("BullMQ 6", "Bull").
    pub fn badge(&self) -> String {
        self.library.badge(self.version.as_deref())
    }
}

/// A value read from a JSON field of a job hash: parsed when it parses, kept verbatim otherwise.
pub type JsonField = Value;

/// A job as BullMQ stores it, with Node's field names. Fields missing from the hash stay `None`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Job {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub data: JsonField,
    pub opts: JsonField,
    pub progress: JsonField,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<i64>,
    pub delay: i64,
    pub priority: i64,
    pub attempts_made: i64,
    pub attempts_started: i64,
    pub stalled_counter: i64,
    /// Bull only: when the job was last retried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retried_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finished_on: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
    pub stacktrace: Vec<String>,
    /// `null` until the job completes, as Node's `Job` has it.
    pub returnvalue: JsonField,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub processed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent: Option<ParentRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repeat_job_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deduplication_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_repeatable_job_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_failure: Option<String>,
    /// Children still pending, for jobs listed in the waiting-children tab.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending_children: Option<u64>,
    /// Problems found while reading the hash (missing fields, non-JSON data ...), for display.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<super::note::Note>,
    /// In a list: fields left out because of their size (shown as `null` / empty).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub truncated: Vec<TruncatedField>,
    /// Byte length of the stored `data` and `returnvalue` strings (to decide on truncation).
    #[serde(skip)]
    pub data_len: usize,
    #[serde(skip)]
    pub returnvalue_len: usize,
}

/// A field of a listed job left out because of its size.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TruncatedField {
    pub field: String,
    /// Its stored length in bytes.
    pub bytes: u64,
    /// Where the whole field can be read (the JSON API's raw view), when it offers it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw: Option<String>,
}

/// A job's parent, from its `parent` / `parentKey` fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentRef {
    pub id: String,
    /// `prefix:queue` of the parent's queue, as BullMQ stores it.
    pub queue_key: String,
    pub prefix: String,
    pub queue: String,
}

/// A child of a parent job, named by its full key `prefix:queue:id`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildRef {
    pub key: String,
    pub prefix: String,
    pub queue: String,
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returnvalue: Option<JsonField>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_reason: Option<String>,
}

/// A bounded look at a parent's children: the first entries of each group and the totals.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Children {
    pub pending: Vec<ChildRef>,
    pub processed: Vec<ChildRef>,
    pub failed: Vec<ChildRef>,
    pub pending_count: u64,
    pub processed_count: u64,
    pub failed_count: u64,
}

impl Children {
    pub fn is_empty(&self) -> bool {
        self.pending_count + self.processed_count + self.failed_count == 0
    }
}

/// One page of a job's log lines (oldest first, as BullMQ appends them).
#[derive(Debug, Clone, Default, Serialize)]
pub struct LogPage {
    pub lines: Vec<String>,
    pub total: u64,
    pub page: u64,
    pub per_page: u64,
}

/// Everything about one job.
#[derive(Debug, Clone, Serialize)]
pub struct JobDetail {
    #[serde(flatten)]
    pub job: Job,
    /// The library of the job's queue (`"bullmq"`, `"bull"`), whose `Job` the fields follow.
    pub library: Library,
    /// `None` when the job is in no state container (an orphan hash).
    pub state: Option<JobState>,
    pub logs: LogPage,
    pub children: Children,
    /// The parent's state, when the job has a parent (`None` also when the parent is gone).
    #[serde(rename = "parentState", skip_serializing_if = "Option::is_none")]
    pub parent_state: Option<JobState>,
}

/// A page of jobs of one state.
#[derive(Debug, Clone, Serialize)]
pub struct JobPage {
    /// The library of the queue (`"bullmq"`, `"bull"`).
    pub library: Library,
    pub state: JobState,
    pub page: u64,
    pub per_page: u64,
    pub total: u64,
    pub jobs: Vec<Job>,
}

/// Order of a job page: BullMQ's default is newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    #[default]
    NewestFirst,
    OldestFirst,
}

/// Raw job hash fields, as read from Redis.
pub type RawJob = HashMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn badges_name_the_library_and_its_major_version() {
        assert_eq!(Library::BullMq.badge(Some("bullmq:6.7.0")), "BullMQ 6");
        assert_eq!(Library::BullMq.badge(Some("bullmq-rust:1.4.4")), "BullMQ");
        assert_eq!(Library::BullMq.badge(None), "BullMQ");
        assert_eq!(Library::Bull.badge(None), "Bull");
        assert_eq!(Library::Bull.states().len(), 6);
        assert!(!Library::Bull.states().contains(&JobState::Prioritized));
    }

    #[test]
    fn a_queue_is_the_same_queue_whatever_library_it_is_taken_for() {
        let mq = QueueRef::new("bull", "q");
        let bull = mq.clone().with_library(Library::Bull);
        assert_eq!(mq, bull);
        assert_eq!(mq.cmp(&bull), std::cmp::Ordering::Equal);
        let counts = Counts {
            waiting: 2,
            paused: 3,
            ..Counts::default()
        };
        assert_eq!(counts.listed(Library::BullMq, JobState::Waiting), 5);
        assert_eq!(counts.listed(Library::Bull, JobState::Waiting), 2);
        assert_eq!(counts.listed(Library::Bull, JobState::Paused), 3);
    }
}
