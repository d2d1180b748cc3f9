//! "Apply to every match": retry, promote or remove every job of a queue's states that a search
//! query matches, as a task that reports its progress and can be cancelled.
//!
//! The states are walked as a search walks them ([`super::Walker`], newest first), one chunk of
//! `batch` ids at a time, so memory holds one chunk whatever the number of matches. Each chunk's
//! matches are checked to be still where the walk saw them (one round trip: `ZSCORE` in the
//! state's sorted set), then acted on, [`PARALLEL`] at a time, through [`Dispatcher`]'s one
//! dispatch to the queue's library, exactly as the ticked-job bulk actions are: the queue ends
//! as its own library would leave it. A job that left the state meanwhile, or that its library
//! refuses (locked by a worker, gone), is skipped and counted, never an error that stops the
//! task. Only an unreachable or too slow Redis stops it (failed). The task's [`Stop`] (the Cancel
//! button, or the server's shutdown) is checked before each job is started, so a stopped task
//! leaves every job acted on or untouched. The audit trail gets one entry when the task ends,
//! with the query, the counts and, when it was stopped, by what.
//!
//! Why newest first: a job acted on leaves the state (a retried job waits, a promoted one waits,
//! a removed one is gone); should it come back (a retried job failing again), it comes back at
//! the newest end, which the walk has passed, so no job is acted on twice. The position after a
//! chunk is moved back by the jobs that left the container, so none is skipped either.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use futures_util::stream::{self, StreamExt};
use serde::Serialize;

use super::cursor::Anchor;
use super::query::Query;
use super::walk::{Entry, Segment};
use super::{CHUNK, Position, Walker, segments};
use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::queue::audit::AuditEntry;
use crate::queue::batch::{Batch, cmd};
use crate::queue::command::{CommandError, Dispatcher};
use crate::queue::error::{QueueError, Result, chain};
use crate::queue::model::{JobState, Library, Order, QueueRef};
use crate::queue::op::Op;
use crate::text::Said;

/// How many jobs of a chunk are acted on at once (each is a few round trips; one after the other
/// the task would wait on the network most of the time).
pub const PARALLEL: usize = 16;

/// What a task does: `action` on every job of `states` of `queue` matching `query`.
#[derive(Debug, Clone)]
pub struct Apply {
    pub queue: QueueRef,
    pub action: Action,
    /// The query as typed (for the task page and the audit trail).
    pub text: String,
    pub query: Query,
    /// The states walked: the query's `state:` or the tab's, those the action fits.
    pub states: Vec<JobState>,
    /// Ids read per chunk (1 to [`CHUNK`]).
    pub batch: u64,
}

impl Apply {
    /// The task for `action` on the matches of `text` in `queue`, searching `tab` unless the
    /// query names its states. A bad term, an action other than retry, promote or remove, an
    /// action that fits none of the states, or a batch out of bounds is `InvalidInput`.
    pub fn new(
        queue: QueueRef,
        action: Action,
        text: &str,
        tab: JobState,
        batch: Option<u64>,
    ) -> Result<Apply> {
        if !Action::BULK.contains(&action) {
            return Err(QueueError::InvalidInput(
                Said::new("check.apply.action").with("action", action),
            ));
        }
        let query = Query::parse(text).map_err(|err| QueueError::InvalidInput(err.said()))?;
        let batch = batch.unwrap_or(CHUNK);
        if !(1..=CHUNK).contains(&batch) {
            return Err(QueueError::InvalidInput(
                Said::new("check.apply.batch").with("max", CHUNK),
            ));
        }
        let asked = if query.states.is_empty() {
            vec![tab]
        } else {
            query.states.clone()
        };
        let states = fitting(action, queue.library, &asked)?;
        Ok(Apply {
            queue,
            action,
            text: text.trim().to_string(),
            query,
            states,
            batch,
        })
    }
}

/// The states of `asked` that `action` may be taken in on a queue of `library` (retry: failed
/// and completed, only failed on Bull; promote: delayed; remove: any), or `InvalidInput`.
pub fn fitting(action: Action, library: Library, asked: &[JobState]) -> Result<Vec<JobState>> {
    let states: Vec<JobState> = asked
        .iter()
        .copied()
        .filter(|state| action.fits_in(library, Some(*state)))
        .collect();
    if states.is_empty() {
        let names: Vec<&str> = asked.iter().map(|s| s.as_str()).collect();
        return Err(QueueError::InvalidInput(
            Said::new("check.apply.states")
                .with("action", action)
                .with("states", names.join(", ")),
        ));
    }
    Ok(states)
}

/// How far a task is, updated as it goes and read by whoever shows it.
#[derive(Debug, Default)]
pub struct Progress {
    scanned: AtomicU64,
    total: AtomicU64,
    matched: AtomicU64,
    applied: AtomicU64,
    skipped: AtomicU64,
}

/// A reading of [`Progress`]: jobs scanned of the `total` the states held when the task started,
/// how many matched, were acted on, and were skipped (moved meanwhile, or refused).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub scanned: u64,
    pub total: u64,
    pub matched: u64,
    pub applied: u64,
    pub skipped: u64,
}

impl Progress {
    pub fn counts(&self) -> Counts {
        let get = |n: &AtomicU64| n.load(Ordering::Relaxed);
        Counts {
            scanned: get(&self.scanned),
            total: get(&self.total),
            matched: get(&self.matched),
            applied: get(&self.applied),
            skipped: get(&self.skipped),
        }
    }

    fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }
}

/// How a task that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    Done,
    /// Stopped by the Cancel button.
    Cancelled,
    /// Stopped by the server's shutdown.
    ShutDown,
}

/// What stops a task before its end: the Cancel button ([`Stop::cancel`]) or the server's
/// shutdown ([`Stop::shut_down`]). The first one to ask is the reason the task ends with; the task
/// sees it before its next job.
#[derive(Debug, Default)]
pub struct Stop(AtomicU8);

const GOING: u8 = 0;
const CANCELLED: u8 = 1;
const SHUT_DOWN: u8 = 2;

impl Stop {
    /// Stop the task, as its Cancel button does.
    pub fn cancel(&self) {
        self.ask(CANCELLED);
    }

    /// Stop the task because the server is shutting down.
    pub fn shut_down(&self) {
        self.ask(SHUT_DOWN);
    }

    /// How the task ends because it was asked to stop (`None`: it was not).
    pub fn asked(&self) -> Option<Ended> {
        match self.0.load(Ordering::Acquire) {
            GOING => None,
            CANCELLED => Some(Ended::Cancelled),
            _ => Some(Ended::ShutDown),
        }
    }

    fn ask(&self, why: u8) {
        // Only the first reason counts: a task cancelled by hand stays cancelled by hand.
        let _ = self
            .0
            .compare_exchange(GOING, why, Ordering::AcqRel, Ordering::Acquire);
    }
}

impl Dispatcher<'_> {
    /// The principal a task runs as (capped by the connection), or `Forbidden` when they may not
    /// take the task's action (a refusal is recorded in the audit trail, as for any action), or
    /// `QueueNotFound` when the queue does not exist (one round trip), before any task exists.
    pub async fn admit(
        &self,
        principal: &Principal,
        apply: &Apply,
    ) -> std::result::Result<Principal, CommandError> {
        let principal = self.connection.cap(principal);
        if let Some(why) = principal.refusal(apply.action) {
            let mut entry = entry(&principal, apply);
            entry.outcome = "refused".into();
            entry.detail = format!("{}: {why}", about(apply));
            self.audit.record(&entry).await;
            return Err(CommandError::Forbidden(why));
        }
        self.owned(apply.queue.clone(), false).await?;
        Ok(principal)
    }

    /// Run the task to its end (see the module's comment), updating `progress`, stopping before
    /// the next job once `stop` is asked, and recording one audit entry (named `task`) when it
    /// ends, however it ends. `principal` is what [`Dispatcher::admit`] gave.
    pub async fn apply(
        &self,
        principal: &Principal,
        apply: &Apply,
        task: &str,
        progress: &Progress,
        stop: &Stop,
    ) -> Result<Ended> {
        let result = self.walk(apply, progress, stop).await;
        let counts = progress.counts();
        let mut entry = entry(principal, apply);
        let summary = format!(
            "task {task}: {}: {} of {} match(es) {}, {} skipped ({} of {} job(s) scanned)",
            about(apply),
            counts.applied,
            counts.matched,
            done_word(apply.action),
            counts.skipped,
            counts.scanned,
            counts.total,
        );
        (entry.outcome, entry.detail) = match &result {
            Ok(Ended::Done) => ("ok".into(), summary),
            Ok(Ended::Cancelled) => ("cancelled".into(), format!("{summary}; cancelled")),
            Ok(Ended::ShutDown) => (
                "cancelled".into(),
                format!("{summary}; cancelled by the server's shutdown"),
            ),
            Err(err) => (
                "failed".into(),
                format!("{summary}; stopped: {}", chain(err)),
            ),
        };
        self.audit.record(&entry).await;
        result
    }

    async fn walk(&self, apply: &Apply, progress: &Progress, stop: &Stop) -> Result<Ended> {
        let queue = self.owned(apply.queue.clone(), false).await?;
        let states = fitting(apply.action, queue.library, &apply.states)?;
        let queues = std::slice::from_ref(&queue);
        let segments = segments(queues, &states, Order::NewestFirst);
        let redis = self.reader.redis();
        let mut position = Position {
            segment: 0,
            anchor: None,
        };
        let mut first = true;
        while position.segment < segments.len() {
            if let Some(ended) = stop.asked() {
                return Ok(ended);
            }
            // The walk starts again at each chunk: the jobs acted on have moved the container.
            let (mut walker, total) = Walker::start(
                redis,
                queues,
                segments.clone(),
                &apply.query,
                Order::NewestFirst,
                position.clone(),
                apply.batch,
            )
            .await?;
            if first {
                progress.total.store(total, Ordering::Relaxed);
                first = false;
            }
            let Some(chunk) = walker.step(0).await? else {
                break;
            };
            Progress::add(&progress.scanned, chunk.entries.len() as u64);
            let matches: Vec<Entry> = chunk
                .entries
                .into_iter()
                .filter_map(|(entry, matched)| matched.then_some(entry))
                .collect();
            Progress::add(&progress.matched, matches.len() as u64);
            let segment = &segments[chunk.segment];
            let present = still_in(redis, segment, &matches).await?;
            let mut left = Vec::new();
            let mut acting = stream::iter(matches.into_iter().zip(present))
                .map(|(entry, here)| self.act(apply, &queue, entry, here, stop))
                .buffer_unordered(PARALLEL);
            while let Some(acted) = acting.next().await {
                match acted? {
                    Acted::Applied(anchor) => {
                        Progress::add(&progress.applied, 1);
                        left.push(anchor);
                    }
                    Acted::Moved(anchor) => {
                        Progress::add(&progress.skipped, 1);
                        left.push(anchor);
                    }
                    Acted::Refused => Progress::add(&progress.skipped, 1),
                    Acted::NotTried => {}
                }
            }
            if let Some(ended) = stop.asked() {
                return Ok(ended);
            }
            position = moved_back(chunk.after, chunk.segment, segment, &left);
        }
        Ok(Ended::Done)
    }
}

/// What became of one match.
enum Acted {
    /// Acted on: it left the container (the anchor says where it was).
    Applied(Anchor),
    /// It had left the state before its turn.
    Moved(Anchor),
    /// Its library refused (locked by a worker, gone meanwhile ...).
    Refused,
    /// The task was stopped before its turn.
    NotTried,
}

impl Dispatcher<'_> {
    /// Act on one match (`here`: it is still in the state), through the one dispatch to the
    /// queue's library, as the ticked-job bulk actions do. Only an unreachable or too slow
    /// Redis is an error.
    async fn act(
        &self,
        apply: &Apply,
        queue: &QueueRef,
        entry: Entry,
        here: bool,
        stop: &Stop,
    ) -> Result<Acted> {
        if stop.asked().is_some() {
            return Ok(Acted::NotTried);
        }
        if !here {
            return Ok(Acted::Moved(entry.anchor));
        }
        let op = Op::on_ticked_job(apply.action, &entry.id)
            .ok_or_else(|| QueueError::InvalidInput(Said::new("check.apply.not_bulk")))?;
        match self.on_queue(queue, op).await {
            Ok(_) => Ok(Acted::Applied(entry.anchor)),
            Err(err @ (QueueError::Unavailable { .. } | QueueError::Slow { .. })) => Err(err),
            Err(err) => {
                tracing::debug!(id = %entry.id, error = %chain(&err), "skipped");
                Ok(Acted::Refused)
            }
        }
    }
}

/// Whether each entry is still in `segment`'s sorted set (one round trip). A list is not
/// checked (`LPOS` would read the whole list for each job): there, the library's own checks
/// decide (only remove applies to lists).
async fn still_in(
    redis: &crate::queue::connection::Redis,
    segment: &Segment,
    entries: &[Entry],
) -> Result<Vec<bool>> {
    if !segment.sorted || entries.is_empty() {
        return Ok(vec![true; entries.len()]);
    }
    let mut batch = Batch::new();
    let slots: Vec<_> = entries
        .iter()
        .map(|entry| batch.found(cmd("ZSCORE", (&segment.key, &entry.id))))
        .collect();
    let all = batch.all(slots);
    batch.send(redis).await?.take(all)
}

/// The position after a chunk of segment `scanned`, moved back by the jobs of that chunk that
/// left its container (`left`, by their anchors): a list's index by their number, a sorted
/// set's count of jobs with the last score by those with that score.
fn moved_back(after: Position, scanned: usize, segment: &Segment, left: &[Anchor]) -> Position {
    if after.segment != scanned || left.is_empty() {
        return after;
    }
    let anchor = match after.anchor {
        Some(Anchor::List { next, last }) if !segment.sorted => Some(Anchor::List {
            next: next.saturating_sub(left.len() as u64),
            last,
        }),
        Some(Anchor::Set { score, ties, last }) => {
            let same = left
                .iter()
                .filter(|a| matches!(a, Anchor::Set { score: s, .. } if *s == score))
                .count() as u64;
            Some(Anchor::Set {
                score,
                ties: ties.saturating_sub(same),
                last,
            })
        }
        other => other,
    };
    Position {
        segment: after.segment,
        anchor,
    }
}

/// "retry every match of `name:x` in failed"
fn about(apply: &Apply) -> String {
    let states: Vec<&str> = apply.states.iter().map(|s| s.as_str()).collect();
    format!(
        "{} every match of `{}` in {}",
        apply.action,
        apply.text,
        states.join(",")
    )
}

fn done_word(action: Action) -> &'static str {
    match action {
        Action::Retry => "retried",
        Action::Promote => "promoted",
        _ => "removed",
    }
}

fn entry(principal: &Principal, apply: &Apply) -> AuditEntry {
    AuditEntry {
        id: String::new(),
        time_ms: chrono::Utc::now().timestamp_millis(),
        user: principal.user.clone(),
        role: principal.role.to_string(),
        action: apply.action.name().to_string(),
        connection: apply.queue.connection.to_string(),
        prefix: apply.queue.prefix.clone(),
        queue: apply.queue.name.clone(),
        jobs: Vec::new(),
        outcome: String::new(),
        detail: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(score: &str, ties: u64, last: &str) -> Anchor {
        Anchor::Set {
            score: score.into(),
            ties,
            last: last.into(),
        }
    }

    #[test]
    fn the_position_moves_back_by_the_jobs_that_left() {
        let sorted = Segment {
            queue: 0,
            key: "q:failed".into(),
            sorted: true,
        };
        let after = Position {
            segment: 0,
            anchor: Some(set("5", 4, "d")),
        };
        let left = [set("6", 1, "a"), set("5", 1, "b"), set("5", 3, "c")];
        let moved = moved_back(after.clone(), 0, &sorted, &left);
        assert_eq!(moved.anchor, Some(set("5", 2, "d")));
        // Another segment's position is not touched.
        assert_eq!(
            moved_back(after, 1, &sorted, &left).anchor,
            Some(set("5", 4, "d"))
        );
        let list = Segment {
            queue: 0,
            key: "q:wait".into(),
            sorted: false,
        };
        let after = Position {
            segment: 0,
            anchor: Some(Anchor::List {
                next: 10,
                last: "j".into(),
            }),
        };
        let left = [set("x", 0, "a"), set("x", 0, "b")];
        assert_eq!(
            moved_back(after, 0, &list, &left).anchor,
            Some(Anchor::List {
                next: 8,
                last: "j".into()
            })
        );
    }

    #[test]
    fn the_first_reason_to_stop_is_the_one_a_task_ends_with() {
        let stop = Stop::default();
        assert_eq!(stop.asked(), None);
        stop.cancel();
        stop.shut_down();
        assert_eq!(stop.asked(), Some(Ended::Cancelled));
        let stop = Stop::default();
        stop.shut_down();
        stop.cancel();
        assert_eq!(stop.asked(), Some(Ended::ShutDown));
    }

    #[test]
    fn a_task_is_checked_before_it_starts() {
        let queue = QueueRef::new("bull", "mail");
        let ok = Apply::new(
            queue.clone(),
            Action::Retry,
            "name:x state:failed,delayed",
            JobState::Waiting,
            None,
        )
        .unwrap();
        assert_eq!(ok.states, vec![JobState::Failed]);
        assert_eq!(ok.batch, CHUNK);
        let bad = Apply::new(
            queue.clone(),
            Action::Retry,
            "colour:red",
            JobState::Failed,
            None,
        );
        assert!(bad.unwrap_err().to_string().contains("colour:red"));
        let wrong = Apply::new(queue.clone(), Action::Promote, "", JobState::Failed, None);
        assert!(wrong.unwrap_err().to_string().contains("does not apply"));
        assert!(Apply::new(queue.clone(), Action::Clean, "", JobState::Failed, None).is_err());
        assert!(Apply::new(queue, Action::Remove, "", JobState::Waiting, Some(0)).is_err());
    }
}
