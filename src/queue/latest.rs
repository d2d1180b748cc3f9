//! The `latest` list of a queue, as Bull Board's "latest" tab: the newest jobs of every state,
//! merged by the time they were added.
//!
//! Bounded and in a constant number of round trips whatever the queue holds: the first `per_state`
//! ids of each state in its own newest-first order, with the summary, in one batch (plus one for
//! BullMQ 5's waiting list when it straddles `wait` and `paused`); then the listed jobs' fields as
//! any page reads them (two batches, within the bounds of `preview`). Of those, the `per_state`
//! most recently added are kept.

use std::collections::HashSet;

use super::batch::{Batch, finish};
use super::error::{QueueError, Result};
use super::layout::{self, Listing, Span};
use super::model::{Job, JobState, Library, Order, QueueRef, QueueSummary};
use super::read::{MAX_PER_PAGE, Reader, found, summary};
use crate::text::Said;

/// The newest jobs of a queue across its states, each with the state it was listed in.
#[derive(Debug, Clone)]
pub struct LatestJobs {
    pub per_state: u64,
    pub jobs: Vec<(JobState, Job)>,
}

/// The states merged: every state of the library, but BullMQ's `paused` (its waiting list
/// already holds the jobs of a paused queue).
fn merged_states(library: Library) -> impl Iterator<Item = JobState> {
    library
        .states()
        .iter()
        .copied()
        .filter(move |state| !(library == Library::BullMq && *state == JobState::Paused))
}

impl Reader {
    /// The `per_state` most recently added jobs of `queue` among the newest `per_state` of each
    /// of its states, newest first, with the queue's summary.
    pub async fn latest(
        &self,
        queue: &QueueRef,
        per_state: u64,
    ) -> Result<(QueueSummary, LatestJobs)> {
        if per_state == 0 || per_state > MAX_PER_PAGE {
            return Err(QueueError::InvalidInput(
                Said::new("check.per_page").with("max", MAX_PER_PAGE),
            ));
        }
        let span = Span::page(1, per_state, "page")?;
        let layout = layout::of(queue);
        let mut batch = Batch::new();
        let one = summary(&mut batch, queue);
        let states: Vec<JobState> = merged_states(queue.library).collect();
        let pages: Vec<_> = states
            .iter()
            .map(|state| {
                let list = Listing {
                    state: *state,
                    order: Order::NewestFirst,
                    span,
                };
                layout.page(&mut batch, list)
            })
            .collect();
        let replies = batch.send(self.redis()).await?;
        let summary = found(queue, replies.take(one)?)?;
        let steps = pages
            .into_iter()
            .map(|page| replies.take(page))
            .collect::<Result<Vec<_>>>()?;
        let listed = finish(self.redis(), steps).await?;
        let mut seen = HashSet::new();
        let mut ids = Vec::new();
        let mut of_state = Vec::new();
        for (state, page) in states.iter().zip(listed) {
            for id in page {
                if seen.insert(id.clone()) {
                    of_state.push(*state);
                    ids.push(id);
                }
            }
        }
        let jobs = self.jobs(queue, &ids, false).await?;
        Ok((
            summary,
            LatestJobs {
                per_state,
                jobs: newest(of_state.into_iter().zip(jobs).collect(), per_state),
            },
        ))
    }
}

/// The `keep` most recently added of `jobs`, newest first (a job without a time last; ties by
/// id, so the order is stable).
fn newest(mut jobs: Vec<(JobState, Job)>, keep: u64) -> Vec<(JobState, Job)> {
    jobs.sort_by(|(_, a), (_, b)| {
        b.timestamp
            .unwrap_or(i64::MIN)
            .cmp(&a.timestamp.unwrap_or(i64::MIN))
            .then_with(|| b.id.cmp(&a.id))
    });
    jobs.truncate(usize::try_from(keep).unwrap_or(usize::MAX));
    jobs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: &str, timestamp: Option<i64>) -> Job {
        Job {
            id: id.into(),
            timestamp,
            ..Job::default()
        }
    }

    #[test]
    fn the_newest_are_kept_whatever_their_state() {
        let jobs = vec![
            (JobState::Completed, job("1", Some(10))),
            (JobState::Waiting, job("4", Some(40))),
            (JobState::Failed, job("2", None)),
            (JobState::Delayed, job("3", Some(30))),
        ];
        let kept: Vec<_> = newest(jobs, 3)
            .into_iter()
            .map(|(state, job)| (state, job.id))
            .collect();
        assert_eq!(
            kept,
            vec![
                (JobState::Waiting, "4".to_string()),
                (JobState::Delayed, "3".into()),
                (JobState::Completed, "1".into()),
            ]
        );
    }

    #[test]
    fn bullmq_s_paused_list_is_read_with_waiting() {
        assert!(!merged_states(Library::BullMq).any(|s| s == JobState::Paused));
        assert_eq!(merged_states(Library::BullMq).count(), 7);
    }
}
