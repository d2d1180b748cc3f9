//! The vocabulary of actions: every change bullring can make, named once. Each [`Action`] knows
//! the name it is recorded and answered with, the path segment of its route, its button label,
//! the role it needs, whether it asks for confirmation, and the job states it applies to, so
//! routes, links, buttons, outcomes and the audit trail cannot disagree on a name.

use std::fmt;

use serde::Serialize;

use super::error::{QueueError, Result};
use super::model::{JobState, Library};
use super::role::Role;
use crate::text::Said;

/// Every action, by what it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// A failed or completed job back to waiting.
    Retry,
    /// A delayed job to waiting now.
    Promote,
    /// Remove a job (with its children unless told otherwise).
    Remove,
    /// Add a copy of a job under a new id.
    Duplicate,
    /// Replace a job's data.
    EditData,
    /// Add a job.
    AddJob,
    Pause,
    Resume,
    /// Every failed job of a queue back to waiting.
    RetryFailed,
    /// Every delayed job of a queue to waiting.
    PromoteDelayed,
    /// Remove a queue's old jobs of one state.
    Clean,
    /// Remove a queue's waiting (and delayed) jobs.
    Drain,
    /// Delete a queue and all its jobs.
    Obliterate,
    /// Retry, promote or remove the ticked jobs of a queue.
    Bulk,
    PauseAll,
    ResumeAll,
    /// Remove a job scheduler and its next job.
    RemoveScheduler,
    /// Change a job scheduler's pattern or interval, time zone, limit and end date.
    EditScheduler,
    /// Add one job from a job scheduler's template now, leaving its schedule as it is.
    RunScheduler,
    /// Set a queue's global concurrency (the most jobs active at once over every worker).
    SetConcurrency,
    /// Remove a queue's global concurrency.
    ClearConcurrency,
    /// Take the ids whose job hash is missing out of their lists and sets (the doctor's fix).
    RemoveOrphans,
    /// Add every job of an NDJSON text (as `bullring add --from`), all or none checked first.
    Import,
}

/// What an action acts on; it decides the route the action is posted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// `/queues/{queue}/jobs/{id}/{segment}`
    Job,
    /// `/queues/{queue}/{segment}`
    Queue,
    /// `/{segment}`
    AllQueues,
    /// `/queues/{queue}/schedulers/{id}/{segment}`
    Scheduler,
}

/// States `clean` accepts, named as the dashboard names them.
pub const CLEANABLE: [JobState; 5] = [
    JobState::Completed,
    JobState::Failed,
    JobState::Delayed,
    JobState::Waiting,
    JobState::Prioritized,
];

/// States `clean` accepts on a Bull 3/4 queue (Bull has no `prioritized`; its paused jobs are
/// in their own list).
pub const BULL_CLEANABLE: [JobState; 5] = [
    JobState::Completed,
    JobState::Failed,
    JobState::Delayed,
    JobState::Waiting,
    JobState::Paused,
];

/// The states `clean` accepts on a queue of `library`.
pub fn cleanable(library: Library) -> &'static [JobState] {
    match library {
        Library::BullMq => &CLEANABLE,
        Library::Bull => &BULL_CLEANABLE,
    }
}

impl Action {
    pub const ALL: [Action; 23] = [
        Action::Retry,
        Action::Promote,
        Action::Remove,
        Action::Duplicate,
        Action::EditData,
        Action::AddJob,
        Action::Pause,
        Action::Resume,
        Action::RetryFailed,
        Action::PromoteDelayed,
        Action::Clean,
        Action::Drain,
        Action::Obliterate,
        Action::Bulk,
        Action::PauseAll,
        Action::ResumeAll,
        Action::RemoveScheduler,
        Action::EditScheduler,
        Action::RunScheduler,
        Action::SetConcurrency,
        Action::ClearConcurrency,
        Action::RemoveOrphans,
        Action::Import,
    ];

    /// The job actions that [`Action::Bulk`] applies to ticked jobs.
    pub const BULK: [Action; 3] = [Action::Retry, Action::Promote, Action::Remove];

    /// The name in outcomes, JSON answers and the audit trail (`edit-data`, `retry-failed`).
    pub fn name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Promote => "promote",
            Action::Remove => "remove",
            Action::Duplicate => "duplicate",
            Action::EditData => "edit-data",
            Action::AddJob => "add-job",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::RetryFailed => "retry-failed",
            Action::PromoteDelayed => "promote-delayed",
            Action::Clean => "clean",
            Action::Drain => "drain",
            Action::Obliterate => "obliterate",
            Action::Bulk => "bulk",
            Action::PauseAll => "pause-all",
            Action::ResumeAll => "resume-all",
            Action::RemoveScheduler => "remove-scheduler",
            Action::EditScheduler => "edit-scheduler",
            Action::RunScheduler => "run-scheduler",
            Action::SetConcurrency => "set-concurrency",
            Action::ClearConcurrency => "clear-concurrency",
            Action::RemoveOrphans => "remove-orphans",
            Action::Import => "import",
        }
    }

    /// What it acts on.
    pub fn target(self) -> Target {
        match self {
            Action::Retry
            | Action::Promote
            | Action::Remove
            | Action::Duplicate
            | Action::EditData => Target::Job,
            Action::PauseAll | Action::ResumeAll => Target::AllQueues,
            Action::RemoveScheduler | Action::EditScheduler | Action::RunScheduler => {
                Target::Scheduler
            }
            _ => Target::Queue,
        }
    }

    /// The last path segment of the route it is posted to (see [`Target`]).
    pub fn segment(self) -> &'static str {
        match self {
            Action::EditData => "data",
            // Adding posts to the job list, as `POST /api/queues/{queue}/jobs` does.
            Action::AddJob => "jobs",
            Action::RemoveScheduler => "remove",
            Action::EditScheduler => "edit",
            Action::RunScheduler => "run",
            Action::SetConcurrency => "concurrency",
            other => other.name(),
        }
    }

    /// The action posted to `segment` on a route of `target`; `None` (a 404) for any other word.
    pub fn parse(target: Target, segment: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.target() == target && a.segment() == segment)
    }

    /// The action named `name` (as [`Action::name`] gives it).
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// The segment of the page that asks for the action's details before it runs
    /// (`/queues/{queue}/actions/{page}`; editing data has the job's `/edit` page).
    pub fn form_page(self) -> Option<&'static str> {
        match self {
            Action::Clean | Action::Drain | Action::Obliterate => Some(self.name()),
            Action::AddJob => Some("add"),
            Action::EditData => Some("edit"),
            _ => None,
        }
    }

    /// The queue action whose details page is `/queues/{queue}/actions/{segment}`.
    pub fn from_form_page(segment: &str) -> Option<Action> {
        Action::ALL
            .into_iter()
            .find(|a| a.target() == Target::Queue && a.form_page() == Some(segment))
    }

    /// The text of its button.
    pub fn label(self) -> &'static str {
        match self {
            Action::Retry => "Retry",
            Action::Promote => "Promote",
            Action::Remove | Action::RemoveScheduler => "Remove",
            Action::Duplicate => "Duplicate",
            Action::EditData => "Edit data",
            Action::AddJob => "Add job",
            Action::Pause => "Pause",
            Action::Resume => "Resume",
            Action::RetryFailed => "Retry all failed",
            Action::PromoteDelayed => "Promote all delayed",
            Action::Clean => "Clean",
            Action::Drain => "Drain",
            Action::Obliterate => "Obliterate",
            Action::Bulk => "Apply",
            Action::PauseAll => "Pause all",
            Action::ResumeAll => "Resume all",
            Action::EditScheduler => "Save",
            Action::RunScheduler => "Run now",
            Action::SetConcurrency => "Set",
            Action::ClearConcurrency => "Clear",
            Action::RemoveOrphans => "Remove dangling ids",
            Action::Import => "Import",
        }
    }

    /// The least role allowed to take it.
    pub fn required_role(self) -> Role {
        match self {
            Action::Clean
            | Action::Drain
            | Action::Obliterate
            | Action::EditData
            | Action::RemoveOrphans
            | Action::Import => Role::Admin,
            _ => Role::Operator,
        }
    }

    /// It deletes jobs, queues or schedulers: its button is marked as dangerous.
    pub fn destructive(self) -> bool {
        matches!(
            self,
            Action::Remove
                | Action::Clean
                | Action::Drain
                | Action::Obliterate
                | Action::RemoveScheduler
                | Action::RemoveOrphans
        )
    }

    /// The browser asks before it runs: it is destructive or acts on many jobs or queues.
    pub fn asks_confirmation(self) -> bool {
        self.destructive()
            || matches!(
                self,
                Action::RetryFailed | Action::PromoteDelayed | Action::Bulk | Action::PauseAll
            )
    }

    /// The job states it applies to: a job in another state is refused (409); for clean, the
    /// states it may remove. Empty for actions that do not depend on a job's state.
    pub fn applies_to(self) -> &'static [JobState] {
        match self {
            Action::Retry => &[JobState::Failed, JobState::Completed],
            Action::Promote | Action::PromoteDelayed => &[JobState::Delayed],
            Action::RetryFailed => &[JobState::Failed],
            Action::Clean => &CLEANABLE,
            _ => &[],
        }
    }

    /// Whether it may be taken on a job in `state` of a queue of `library`: as [`Action::fits`],
    /// except on Bull queues, whose `Job#retry` retries failed jobs only (a completed job is not
    /// retried, as Bull Board does not offer it) and whose paused jobs may be cleaned.
    pub fn fits_in(self, library: Library, state: Option<JobState>) -> bool {
        match (library, self) {
            (Library::Bull, Action::Retry) => state == Some(JobState::Failed),
            (Library::Bull, Action::Clean) => state.is_some_and(|s| BULL_CLEANABLE.contains(&s)),
            _ => self.fits(state),
        }
    }

    /// Whether it may be taken on a job in `state` (always, for actions that do not care).
    pub fn fits(self, state: Option<JobState>) -> bool {
        let states = self.applies_to();
        states.is_empty() || state.is_some_and(|s| states.contains(&s))
    }
}

/// `state` may be cleaned on a BullMQ queue, or a 400 naming the states that may.
pub fn check_cleanable(state: JobState) -> Result<()> {
    check_cleanable_in(Library::BullMq, state)
}

/// `state` may be cleaned on a queue of `library`, or a 400 naming the states that may.
pub fn check_cleanable_in(library: Library, state: JobState) -> Result<()> {
    let states = cleanable(library);
    if states.contains(&state) {
        Ok(())
    } else {
        let names: Vec<&str> = states.iter().map(|s| s.as_str()).collect();
        Err(QueueError::InvalidInput(
            Said::new("check.clean_state")
                .with("state", state)
                .with("states", names.join(", ")),
        ))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_segment_parses_back_to_its_action() {
        for action in Action::ALL {
            assert_eq!(
                Action::parse(action.target(), action.segment()),
                Some(action),
                "{action}"
            );
            assert_eq!(Action::from_name(action.name()), Some(action));
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json, action.name(), "serialized as its name");
            if let Some(page) = action.form_page()
                && action.target() == Target::Queue
            {
                assert_eq!(Action::from_form_page(page), Some(action));
            }
        }
        assert_eq!(Action::parse(Target::Job, "explode"), None);
        assert_eq!(Action::parse(Target::Queue, "retry"), None);
        assert_eq!(
            Action::parse(Target::Scheduler, "remove"),
            Some(Action::RemoveScheduler)
        );
        assert_eq!(
            Action::parse(Target::Scheduler, "edit"),
            Some(Action::EditScheduler)
        );
        assert_eq!(
            Action::parse(Target::Queue, "concurrency"),
            Some(Action::SetConcurrency)
        );
        assert_eq!(Action::EditScheduler.required_role(), Role::Operator);
    }

    #[test]
    fn the_states_an_action_applies_to() {
        assert!(Action::Retry.fits(Some(JobState::Failed)));
        assert!(!Action::Retry.fits(Some(JobState::Waiting)));
        assert!(!Action::Promote.fits(None));
        assert!(Action::Remove.fits(None));
        assert!(Action::Clean.fits(Some(JobState::Prioritized)));
        assert!(!Action::Clean.fits(Some(JobState::Active)));
        assert!(Action::Remove.asks_confirmation() && Action::Remove.destructive());
        assert!(Action::Bulk.asks_confirmation() && !Action::Bulk.destructive());
        assert!(!Action::Retry.asks_confirmation());
    }
}
