//! The background tasks of one connection's dashboard ("apply to every match"): each with its
//! id, what it does, who started it, its progress and how it ended, and a cancel token.
//!
//! Bounded both ways: at most [`MAX_RUNNING`] run at once (one more is refused: a 503 with
//! `Retry-After`), and finished ones are kept for the task page for [`KEEP_FOR`], at most
//! [`KEEP_FINISHED`] of them. Tasks live in this process only: a restart forgets them (the audit
//! trail keeps what each did). A shutdown stops every running task as its Cancel button would
//! ([`Tasks::shut_down`]) and waits a little for each to write its audit entry
//! ([`Tasks::ended_by`]); a task started after that is stopped at once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::queue::search::apply::{Apply, Counts, Ended, Progress, Stop};
use crate::text::Said;

/// Most tasks running at once, per connection.
pub const MAX_RUNNING: usize = 4;
/// Most finished tasks kept.
pub const KEEP_FINISHED: usize = 50;
/// How long a finished task is kept.
pub const KEEP_FOR: Duration = Duration::from_secs(3600);

/// Seconds to wait before trying again when [`MAX_RUNNING`] tasks run (`Retry-After`).
pub const RETRY_AFTER: u64 = 10;

/// A task was refused: [`MAX_RUNNING`] run already (a 503 with `Retry-After`).
#[derive(Debug, thiserror::Error)]
#[error(
    "{MAX_RUNNING} tasks are running on this connection already; try again when one has finished"
)]
pub struct Full;

/// Where a task is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    Running,
    Done,
    Cancelled,
    /// Stopped by an error, with what the user is told about it.
    Failed(Said),
}

impl Status {
    pub fn name(&self) -> &'static str {
        match self {
            Status::Running => "running",
            Status::Done => "done",
            Status::Cancelled => "cancelled",
            Status::Failed(_) => "failed",
        }
    }
}

/// One task.
#[derive(Debug)]
pub struct Task {
    pub id: String,
    pub apply: Apply,
    /// The connection's name.
    pub connection: String,
    pub user: String,
    pub started_ms: i64,
    pub progress: Progress,
    /// Asked by the Cancel button or the shutdown.
    pub stop: Stop,
    end: Mutex<Option<(Status, i64)>>,
    /// Fires once [`Task::finish`] has recorded the end (after the task's audit entry).
    ended: CancellationToken,
}

impl Task {
    /// Where it is, and when it finished (`None` while it runs).
    pub fn status(&self) -> (Status, Option<i64>) {
        match &*self.end.lock().unwrap_or_else(|e| e.into_inner()) {
            Some((status, at)) => (status.clone(), Some(*at)),
            None => (Status::Running, None),
        }
    }

    pub fn counts(&self) -> Counts {
        self.progress.counts()
    }

    /// Record how it ended.
    pub fn finish(&self, ended: Result<Ended, Said>) {
        let status = match ended {
            Ok(Ended::Done) => Status::Done,
            Ok(Ended::Cancelled | Ended::ShutDown) => Status::Cancelled,
            Err(message) => Status::Failed(message),
        };
        *self.end.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((status, chrono::Utc::now().timestamp_millis()));
        self.ended.cancel();
    }

    fn running(&self) -> bool {
        self.status().1.is_none()
    }
}

/// The tasks of one connection. Cheap to clone.
#[derive(Clone, Default)]
pub struct Tasks {
    inner: Arc<Mutex<VecDeque<Arc<Task>>>>,
    /// Set by [`Tasks::shut_down`]: a task started after it is stopped at once.
    shut: Arc<AtomicBool>,
}

/// Tells tasks apart: the process start time and a count.
static NEXT: AtomicU64 = AtomicU64::new(1);

impl Tasks {
    /// Register a new running task, or [`Full`] when [`MAX_RUNNING`] run already.
    pub fn start(&self, apply: Apply, connection: &str, user: &str) -> Result<Arc<Task>, Full> {
        let mut tasks = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let now = chrono::Utc::now().timestamp_millis();
        forget_old(&mut tasks, now);
        if tasks.iter().filter(|t| t.running()).count() >= MAX_RUNNING {
            return Err(Full);
        }
        let id = format!(
            "{:x}{:04x}",
            now,
            NEXT.fetch_add(1, Ordering::Relaxed) & 0xffff
        );
        let task = Arc::new(Task {
            id,
            apply,
            connection: connection.to_string(),
            user: user.to_string(),
            started_ms: now,
            progress: Progress::default(),
            stop: Stop::default(),
            end: Mutex::new(None),
            ended: CancellationToken::new(),
        });
        if self.shut.load(Ordering::Acquire) {
            task.stop.shut_down();
        }
        tasks.push_back(task.clone());
        Ok(task)
    }

    /// The server is shutting down: stop every running task before its next job, as its Cancel
    /// button would (each then records that the shutdown stopped it), and every task started
    /// from now on at once.
    pub fn shut_down(&self) {
        let tasks = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        // Set under the lock: a task is either in the list below or sees the flag in `start`.
        self.shut.store(true, Ordering::Release);
        for task in tasks.iter().filter(|t| t.running()) {
            task.stop.shut_down();
        }
    }

    /// Wait until no task runs (each has written its audit entry), or until `deadline`; whether
    /// they all ended.
    pub async fn ended_by(&self, deadline: tokio::time::Instant) -> bool {
        loop {
            let running = self
                .inner
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .find(|t| t.running())
                .cloned();
            let Some(task) = running else {
                return true;
            };
            let ended = task.ended.cancelled();
            if tokio::time::timeout_at(deadline, ended).await.is_err() {
                return false;
            }
        }
    }

    /// Every kept task, the newest first.
    pub fn list(&self) -> Vec<Arc<Task>> {
        let mut tasks = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        forget_old(&mut tasks, chrono::Utc::now().timestamp_millis());
        tasks.iter().rev().cloned().collect()
    }

    /// The task with this id, while it is kept.
    pub fn get(&self, id: &str) -> Option<Arc<Task>> {
        let mut tasks = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        forget_old(&mut tasks, chrono::Utc::now().timestamp_millis());
        tasks.iter().find(|t| t.id == id).cloned()
    }
}

/// Drop finished tasks older than [`KEEP_FOR`], then the oldest finished beyond
/// [`KEEP_FINISHED`]. Running tasks are always kept.
fn forget_old(tasks: &mut VecDeque<Arc<Task>>, now: i64) {
    let keep_ms = KEEP_FOR.as_millis() as i64;
    tasks.retain(|t| t.status().1.is_none_or(|at| now - at < keep_ms));
    let mut finished = tasks.iter().filter(|t| !t.running()).count();
    tasks.retain(|t| {
        if finished > KEEP_FINISHED && !t.running() {
            finished -= 1;
            false
        } else {
            true
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::action::Action;
    use crate::queue::model::{JobState, QueueRef};

    fn apply() -> Apply {
        Apply::new(
            QueueRef::new("bull", "mail"),
            Action::Retry,
            "name:x",
            JobState::Failed,
            None,
        )
        .unwrap()
    }

    #[test]
    fn running_tasks_are_bounded_and_finished_ones_forgotten() {
        let tasks = Tasks::default();
        let started: Vec<_> = (0..MAX_RUNNING)
            .map(|_| tasks.start(apply(), "default", "ann").unwrap())
            .collect();
        let full = tasks.start(apply(), "default", "ann").unwrap_err();
        assert!(full.to_string().contains("try again"), "{full}");
        started[0].finish(Ok(Ended::Cancelled));
        assert_eq!(started[0].status().0, Status::Cancelled);
        let next = tasks.start(apply(), "default", "ann").unwrap();
        assert!(tasks.get(&next.id).is_some());
        assert_ne!(next.id, started[1].id);
        for task in &started[1..] {
            task.finish(Ok(Ended::Done));
        }
        next.finish(Err(Said::plain("Redis is unreachable")));
        for _ in 0..KEEP_FINISHED + 5 {
            tasks
                .start(apply(), "default", "ann")
                .unwrap()
                .finish(Ok(Ended::Done));
        }
        assert!(
            tasks.get(&started[0].id).is_none(),
            "the oldest finished go first"
        );
        let kept = tasks.inner.lock().unwrap().len();
        assert_eq!(kept, KEEP_FINISHED);
    }

    #[tokio::test]
    async fn a_shutdown_stops_every_running_task_and_waits_for_its_end() {
        let tasks = Tasks::default();
        let done = tasks.start(apply(), "default", "ann").unwrap();
        done.finish(Ok(Ended::Done));
        let running = tasks.start(apply(), "default", "ann").unwrap();
        tasks.shut_down();
        assert_eq!(running.stop.asked(), Some(Ended::ShutDown));
        assert_eq!(done.stop.asked(), None, "an ended task is left as it ended");
        let late = tasks.start(apply(), "default", "ann").unwrap();
        assert_eq!(late.stop.asked(), Some(Ended::ShutDown), "stopped at once");
        let soon = tokio::time::Instant::now() + Duration::from_millis(50);
        assert!(!tasks.ended_by(soon).await, "two still run");
        let (ender, first, second) = (tasks.clone(), running.clone(), late.clone());
        let ending = tokio::spawn(async move {
            let far = tokio::time::Instant::now() + Duration::from_secs(60);
            ender.ended_by(far).await
        });
        first.finish(Ok(Ended::ShutDown));
        second.finish(Ok(Ended::ShutDown));
        assert!(ending.await.unwrap(), "both ended");
        assert_eq!(running.status().0, Status::Cancelled);
    }
}
