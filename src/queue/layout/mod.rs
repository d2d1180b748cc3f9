//! The read seam per queue library: what a read must know about a library's key layout (which
//! keys a summary counts and how, where a job's state is found, how a page of a state is read,
//! where a job's hash, logs and children are) sits behind [`Layout`], and [`of`] is the one place
//! that picks the implementation from `queue.library`.
//!
//! Each method pushes its commands into a [`Batch`] and hands back a [`Slot`] of the value they
//! stand for, so the callers (`read`, `flows`, `metrics`, `schedulers`) compose any number of
//! queues and jobs into one round trip without knowing a key name. Two libraries have one:
//! BullMQ (`bullmq_reads`) and Bull 3/4 (`bull_reads`: no `prioritized` set, priority jobs in
//! `wait`, a paused queue's jobs in `paused`; its repeatable jobs in `bull_repeat`); [`detect`]
//! tells them apart from a queue's keys.

mod bull_reads;
pub(crate) mod bull_repeat;
mod bullmq_reads;
pub(crate) mod detect;
mod md5;

use super::batch::{Batch, Slot, Step, cmd};
use super::decode::job_from_preview;
use super::error::{QueueError, Result};
use super::model::{
    Children, Job, JobState, Library, Order, QueueRef, QueueSummary, RawJob, TruncatedField,
};
use crate::text::Said;

/// The reads of `queue`, in its library's layout: the one dispatch on [`Library`] of the read
/// path.
pub(crate) fn of(queue: &QueueRef) -> Box<dyn Layout + '_> {
    match queue.library {
        Library::BullMq => Box::new(bullmq_reads::BullMqReads::new(queue)),
        Library::Bull => Box::new(bull_reads::BullReads::new(queue)),
    }
}

/// How a job hash of a `library` queue reads, as that library's own `Job` reads it; the fields
/// named in the last argument were left out of the read for their size (see `queue::preview`).
pub(crate) fn decoder(library: Library) -> fn(&str, &RawJob, Vec<TruncatedField>) -> Job {
    match library {
        Library::BullMq => job_from_preview,
        Library::Bull => bull_reads::job_from_bull_preview,
    }
}

/// An inclusive range of positions in a list or a sorted set, within what Redis takes (i64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: i64,
    pub end: i64,
}

impl Span {
    /// Page `page` (1-based) of `per_page` entries (both at least 1). A page whose positions do
    /// not fit an i64 is `InvalidInput` naming `page_name`: Redis would refuse it, and a wrapped
    /// offset would show another page.
    pub(crate) fn page(page: u64, per_page: u64, page_name: &str) -> Result<Span> {
        let start = page.saturating_sub(1).checked_mul(per_page);
        let end = start.and_then(|start| start.checked_add(per_page.saturating_sub(1)));
        match (start.map(i64::try_from), end.map(i64::try_from)) {
            (Some(Ok(start)), Some(Ok(end))) => Ok(Span { start, end }),
            _ => Err(QueueError::InvalidInput(
                Said::new("check.page_too_large")
                    .with("name", page_name)
                    .with("page", page)
                    .with("per_page", per_page)
                    .with("max", i64::MAX),
            )),
        }
    }

    /// The same span moved `by` positions towards the start (not below 0).
    pub(crate) fn back(self, by: i64) -> Span {
        Span {
            start: (self.start - by).max(0),
            end: self.end - by,
        }
    }
}

/// Which jobs a page lists: the jobs in `state`, in `order`, at the positions of `span`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Listing {
    pub state: JobState,
    pub order: Order,
    pub span: Span,
}

/// How much of a job's children to read: at most `per_group` of each group (the totals are
/// exact), with the configured `prefixes` that split their full keys.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Shown<'a> {
    pub per_group: usize,
    pub prefixes: &'a [String],
}

/// What the read path asks of one queue, in its library's key layout. Every method only pushes
/// read commands into `batch`; the slot decodes their replies.
pub(crate) trait Layout: Send + Sync {
    /// Counts, paused flag, meta and scheduler count; `None` when the queue has no key at all.
    fn summary(&self, batch: &mut Batch) -> Slot<Option<QueueSummary>>;

    /// Which state job `id` is in (`None`: in none). Cheap checks go in this batch; a check that
    /// scans a long list is left to a second step, taken only when the cheap ones found nothing.
    fn state(&self, batch: &mut Batch, id: &str) -> Slot<Step<Option<JobState>>>;

    /// The ids of the jobs `list` names; a step when the page needs a second read.
    fn page(&self, batch: &mut Batch, list: Listing) -> Slot<Step<Vec<String>>>;

    /// The job's whole hash (empty when there is none). Only the exact-id search reads one
    /// this way, to answer in one round trip; pages read sizes first (see `Reader::job`).
    fn job(&self, batch: &mut Batch, id: &str) -> Slot<RawJob> {
        batch.hash(cmd("HGETALL", self.key(id)))
    }

    /// The stored length of some fields of the job's hash (`HSTRLEN`; 0 for a missing field),
    /// in the order asked.
    fn sizes(&self, batch: &mut Batch, id: &str, names: &[&str]) -> Slot<Vec<u64>> {
        let key = self.key(id);
        let sizes: Vec<Slot<u64>> = names
            .iter()
            .map(|name| batch.count(cmd("HSTRLEN", (&key, *name))))
            .collect();
        batch.all(sizes)
    }

    /// Some fields of the job's hash, in the order asked.
    fn fields(&self, batch: &mut Batch, id: &str, names: &[&str]) -> Slot<Vec<Option<String>>> {
        batch
            .value::<Vec<Option<String>>>(cmd("HMGET", (self.key(id), names)))
            .map(Option::unwrap_or_default)
    }

    /// Whether the job's hash exists.
    fn exists(&self, batch: &mut Batch, id: &str) -> Slot<bool> {
        batch.count(cmd("EXISTS", self.key(id))).map(|n| n > 0)
    }

    /// The job's log: how many lines, and the lines of `span` (oldest first).
    fn logs(&self, batch: &mut Batch, id: &str, span: Span) -> Slot<(u64, Vec<String>)>;

    /// A bounded look at the job's children.
    fn children(&self, batch: &mut Batch, id: &str, shown: Shown) -> Slot<Children>;

    /// How many children the job still waits for.
    fn pending_children(&self, batch: &mut Batch, id: &str) -> Slot<u64>;

    /// How many jobs of `state` a clean whose grace ends at `before_ms` could remove, and
    /// whether that count is exact (else it is the state's size, an upper bound). Finished jobs
    /// are scored by their finish time in both libraries, so their count is exact.
    fn cleanable(&self, batch: &mut Batch, state: JobState, before_ms: u64) -> Slot<(u64, bool)> {
        let key = self.key(state.key_suffix());
        let exact = matches!(state, JobState::Completed | JobState::Failed);
        let command = match (exact, state.is_sorted_set()) {
            (true, _) => cmd("ZCOUNT", (key, "-inf", before_ms)),
            (false, true) => cmd("ZCARD", key),
            (false, false) => cmd("LLEN", key),
        };
        batch.count(command).map(move |n| (n, exact))
    }

    /// The lists or sorted sets (key, whether sorted) that hold `state`'s jobs, in the order a
    /// page in `order` walks them (what a search walks).
    fn containers(&self, state: JobState, _order: Order) -> Vec<(String, bool)> {
        vec![(self.key(state.key_suffix()), state.is_sorted_set())]
    }

    /// The full name of one of the queue's own keys (`metrics:completed`, `repeat` ...).
    fn key(&self, suffix: &str) -> String;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_within_what_redis_takes() {
        assert_eq!(
            Span::page(3, 20, "page").unwrap(),
            Span { start: 40, end: 59 }
        );
        assert_eq!(Span::page(1, 1, "page").unwrap(), Span { start: 0, end: 0 });
        let err = Span::page(18_014_398_509_481_985, 512, "page").unwrap_err();
        assert!(matches!(err, QueueError::InvalidInput(_)));
        assert!(err.to_string().starts_with("page "), "{err}");
        let err = Span::page(u64::MAX, 1000, "logs_page").unwrap_err();
        assert!(err.to_string().starts_with("logs_page "), "{err}");
        // The last page that still fits.
        let last = (i64::MAX as u64) / 1000;
        assert!(Span::page(last, 1000, "page").is_ok());
        assert!(Span::page(last + 2, 1000, "page").is_err());
    }
}
