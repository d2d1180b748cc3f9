//! Commands: an action with its parsed input, and the one entry point that performs them.
//!
//! [`Dispatcher::perform`] checks the principal's role, runs the command, and records the
//! attempt in the audit trail (who, what, how it ended). Everything that changes a queue
//! reaches the queue's library in one place, `Dispatcher::on_queue`. The library is settled
//! before anything is written: declared in the configuration, else read from the queue's keys
//! with the existence check every command makes: BullMQ queues are acted on through the engine
//! (`queue::actions`), Bull 3/4 queues with Bull's own semantics (`queue::bull`). Bulk actions
//! and pause-all / resume-all are built from single-queue operations, so they follow.

use super::access::Principal;
use super::action::Action;
use super::actions::Actions;
use super::audit::{AuditEntry, AuditLog};
use super::bull::BullActions;
use super::connections::Connection;
use super::discovery::Discovery;
use super::error::QueueError;
use super::model::{Library, QueueRef};
pub use super::op::{Op, Outcome};
use super::read::Reader;
use crate::text::Said;

/// Most jobs one bulk action takes.
pub const MAX_BULK: usize = 1000;

/// An action with everything it needs to run.
#[derive(Debug, Clone)]
pub enum Command {
    /// One operation on one queue.
    One(QueueRef, Op),
    /// One of [`Action::BULK`] on each of the ticked jobs of a queue.
    Bulk {
        queue: QueueRef,
        action: Action,
        ids: Vec<String>,
    },
    /// Pause every known queue.
    PauseAll,
    /// Resume every known queue.
    ResumeAll,
    /// Pause, resume or retry the failed jobs of every known queue of a group (see
    /// [`super::groups`]): `op` is [`Op::Pause`], [`Op::Resume`] or [`Op::RetryFailed`].
    Group {
        group: String,
        delimiter: String,
        op: Op,
    },
}

impl Command {
    /// The action the role is checked against and the audit trail records (for a bulk action,
    /// what it does to each job).
    pub fn action(&self) -> Action {
        match self {
            Command::One(_, op) => op.action(),
            Command::Bulk { action, .. } => *action,
            Command::PauseAll => Action::PauseAll,
            Command::ResumeAll => Action::ResumeAll,
            Command::Group { op, .. } => op.action(),
        }
    }

    pub fn queue(&self) -> Option<&QueueRef> {
        match self {
            Command::One(queue, _) | Command::Bulk { queue, .. } => Some(queue),
            Command::PauseAll | Command::ResumeAll | Command::Group { .. } => None,
        }
    }

    /// The queue group it acts on, if any.
    pub fn group(&self) -> Option<&str> {
        match self {
            Command::Group { group, .. } => Some(group),
            _ => None,
        }
    }

    fn job_ids(&self) -> Vec<String> {
        match self {
            Command::One(_, op) => op.job_id().map(String::from).into_iter().collect(),
            Command::Bulk { ids, .. } => ids.clone(),
            Command::PauseAll | Command::ResumeAll | Command::Group { .. } => Vec::new(),
        }
    }
}

/// Why a command was not performed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The principal may not take the action (role, read-only mode); nothing was tried.
    #[error("Not allowed: {0}.")]
    Forbidden(crate::queue::access::Denial),
    /// The queue refused or failed.
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// Performs commands. Borrows what it needs; cheap to make for each request.
pub struct Dispatcher<'a> {
    /// The BullMQ library's actions.
    pub bullmq: &'a Actions,
    /// The Bull 3/4 library's actions.
    pub bull: &'a BullActions,
    pub reader: &'a Reader,
    pub discovery: &'a Discovery,
    pub audit: &'a AuditLog,
    /// The connection the queues are on: its `read_only` and `max_role` cap every principal.
    pub connection: &'a Connection,
}

impl Dispatcher<'_> {
    /// Check the role (capped by the connection's `max_role` and `read_only`), run the command
    /// and record the attempt in the audit trail.
    pub async fn perform(
        &self,
        principal: &Principal,
        command: Command,
    ) -> Result<Outcome, CommandError> {
        let principal = &self.connection.cap(principal);
        let action = command.action();
        let queue = command.queue();
        // An action on a group names the group in the audit trail, whatever its outcome.
        let about = command
            .group()
            .map(|group| format!("Group {group}: "))
            .unwrap_or_default();
        let mut entry = AuditEntry {
            id: String::new(),
            time_ms: chrono::Utc::now().timestamp_millis(),
            user: principal.user.clone(),
            role: principal.role.to_string(),
            action: action.name().to_string(),
            connection: self.connection.name.clone(),
            prefix: queue.map(|q| q.prefix.clone()).unwrap_or_default(),
            queue: queue.map(|q| q.name.clone()).unwrap_or_default(),
            jobs: command.job_ids(),
            outcome: String::new(),
            detail: String::new(),
        };
        if let Some(why) = principal.refusal(action) {
            entry.outcome = "refused".into();
            entry.detail = format!("{about}{why}");
            self.audit.record(&entry).await;
            return Err(CommandError::Forbidden(why));
        }
        // The dispatcher's connection is the one acted on, whatever a queue handle says.
        let result = self.run(command).await.map(|outcome| Outcome {
            connection: self.connection.name.clone(),
            ..outcome
        });
        match &result {
            Ok(outcome) => {
                entry.outcome = "ok".into();
                entry.detail = outcome.message.clone();
                if !outcome.jobs.is_empty() {
                    entry.jobs = outcome.jobs.clone();
                }
            }
            Err(err) => {
                entry.outcome = "failed".into();
                entry.detail = format!("{about}{}", audit_detail(err));
            }
        }
        self.audit.record(&entry).await;
        Ok(result?)
    }

    async fn run(&self, command: Command) -> Result<Outcome, QueueError> {
        match command {
            Command::One(queue, op) => {
                let may_be_new = matches!(op, Op::AddJob(_) | Op::Import(_));
                let queue = self.owned(queue, may_be_new).await?;
                self.on_queue(&queue, op).await
            }
            Command::Bulk { queue, action, ids } => {
                let queue = self.owned(queue, false).await?;
                self.bulk(&queue, action, ids).await
            }
            Command::PauseAll => self.all_queues(true).await,
            Command::ResumeAll => self.all_queues(false).await,
            Command::Group {
                group,
                delimiter,
                op,
            } => self.group(&group, &delimiter, op).await,
        }
    }

    /// The queue with the library that owns it, read before anything is written (one read
    /// round trip): the library declared in the configuration, else the one its keys say, else
    /// the one discovery took it for. An unknown queue is a 404 for every action; a queue named
    /// in the configuration may take its first job (`may_be_new`) before it has a key.
    pub(crate) async fn owned(
        &self,
        queue: QueueRef,
        may_be_new: bool,
    ) -> Result<QueueRef, QueueError> {
        let summary = self.reader.summaries(std::slice::from_ref(&queue)).await?;
        let detected = match summary.first() {
            Some(summary) => summary.detected,
            None if may_be_new && self.discovery.snapshot().queues.contains(&queue) => None,
            None => return Err(QueueError::QueueNotFound(queue.name.clone())),
        };
        let library = self
            .discovery
            .declared(&queue.name)
            .or(detected)
            .unwrap_or(queue.library);
        Ok(queue.with_library(library))
    }

    /// The one place an operation reaches the library that owns the queue.
    pub(crate) async fn on_queue(&self, queue: &QueueRef, op: Op) -> Result<Outcome, QueueError> {
        match queue.library {
            Library::BullMq => self.bullmq.perform(queue, op).await,
            Library::Bull => self.bull.perform(queue, op).await,
        }
    }

    /// One action on many jobs: each is tried, and the message says what could not be done.
    async fn bulk(
        &self,
        queue: &QueueRef,
        action: Action,
        ids: Vec<String>,
    ) -> Result<Outcome, QueueError> {
        let mut done = Vec::new();
        let mut not_done = Vec::new();
        for id in &ids {
            let op = Op::on_ticked_job(action, id).ok_or_else(|| {
                QueueError::InvalidInput(Said::new("check.not_bulk").with("action", action))
            })?;
            match self.on_queue(queue, op).await {
                Ok(_) => done.push(id.clone()),
                Err(err) if err.is_unavailable() => return Err(err),
                Err(err) => not_done.push(err.said()),
            }
        }
        let verb = match action {
            Action::Retry => "Retried",
            Action::Promote => "Promoted",
            _ => "Removed",
        };
        let mut message = format!("{verb} {} of {} job(s).", done.len(), ids.len());
        if !not_done.is_empty() {
            let reasons: Vec<String> = not_done.iter().map(ToString::to_string).collect();
            message.push_str(&format!(" Not done: {}.", reasons.join("; ")));
        }
        let count = done.len() as u64;
        Ok(Outcome {
            not_done,
            ..Outcome::new(action, queue, done, count, message)
        })
    }

    /// Pause or resume every known queue that is not so already, each with its own library's
    /// semantics (a Bull queue as Bull's `Queue#pause` does).
    async fn all_queues(&self, pause: bool) -> Result<Outcome, QueueError> {
        let queues = self
            .reader
            .summaries(&self.discovery.snapshot().queues)
            .await?;
        let mut changed = 0;
        for summary in queues.iter().filter(|s| s.paused != pause) {
            let library = self
                .discovery
                .declared(&summary.name)
                .or(summary.detected)
                .unwrap_or(summary.library);
            let op = if pause { Op::Pause } else { Op::Resume };
            self.on_queue(&summary.queue().with_library(library), op)
                .await?;
            changed += 1;
        }
        let (action, verb) = if pause {
            (Action::PauseAll, "Paused")
        } else {
            (Action::ResumeAll, "Resumed")
        };
        let message = format!("{verb} {changed} queue(s).");
        Ok(Outcome::everywhere(action, changed, message))
    }
}

impl Dispatcher<'_> {
    /// Pause, resume or retry the failed jobs of the known queues of `group` (one read round
    /// trip for their state and library, then each queue with its own library's semantics):
    /// only the queues that are not paused (resumed, without failed jobs) already.
    async fn group(&self, group: &str, delimiter: &str, op: Op) -> Result<Outcome, QueueError> {
        let members: Vec<QueueRef> = self
            .discovery
            .snapshot()
            .queues
            .into_iter()
            .filter(|q| super::groups::group_of(&q.name, delimiter) == Some(group))
            .collect();
        if members.is_empty() {
            return Err(QueueError::GroupNotFound(group.to_string()));
        }
        let action = op.action();
        let mut acted = Vec::new();
        let mut count = 0;
        for summary in self.reader.summaries(&members).await? {
            let needed = match op {
                Op::Pause => !summary.paused,
                Op::Resume => summary.paused,
                _ => summary.counts.get(super::model::JobState::Failed) > 0,
            };
            if !needed {
                continue;
            }
            let library = self
                .discovery
                .declared(&summary.name)
                .or(summary.detected)
                .unwrap_or(summary.library);
            let outcome = self
                .on_queue(&summary.queue().with_library(library), op.clone())
                .await?;
            count += if action == Action::RetryFailed {
                outcome.count
            } else {
                1
            };
            acted.push(summary.name.clone());
        }
        let done = match action {
            Action::Pause => format!("Paused {} queue(s)", acted.len()),
            Action::Resume => format!("Resumed {} queue(s)", acted.len()),
            _ => format!("Retried {count} failed job(s) of {} queue(s)", acted.len()),
        };
        let names = if acted.is_empty() {
            String::new()
        } else {
            format!(": {}", acted.join(", "))
        };
        let message = format!("Group {group}: {done}{names}.");
        Ok(Outcome::of_group(action, group, acted, count, message))
    }
}

/// What the audit trail says about a failure: what the user was told, never the internals of
/// a Redis or engine error (those are in the server log).
fn audit_detail(err: &QueueError) -> String {
    match err {
        QueueError::Redis(_) | QueueError::Engine(_) => {
            "Something went wrong; the details are in the server log.".into()
        }
        QueueError::Unavailable { .. } | QueueError::Gone(_) | QueueError::WrongState(_) => {
            super::error::chain(err)
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[test]
    fn commands_name_their_action_and_jobs() {
        let queue = QueueRef::new("bull", "mail");
        let bulk = Command::Bulk {
            queue: queue.clone(),
            action: Action::Promote,
            ids: vec!["a".into(), "b".into()],
        };
        assert_eq!(bulk.action(), Action::Promote);
        assert_eq!(bulk.job_ids(), ["a", "b"]);
        let one = Command::One(
            queue,
            Op::EditData {
                id: "7".into(),
                data: Value::Null,
            },
        );
        assert_eq!(one.action(), Action::EditData);
        assert_eq!(one.job_ids(), ["7"]);
        assert_eq!(Command::PauseAll.queue(), None);
        for action in Action::BULK {
            assert_eq!(
                Op::on_ticked_job(action, "x").map(|op| op.action()),
                Some(action)
            );
        }
        assert!(Op::on_ticked_job(Action::Clean, "x").is_none());
    }
}
