//! The writes only `bullring demo` makes outside the engine: the marker that says a prefix was
//! seeded, waking a worker's blocking wait so it closes at once, and moving finished jobs back
//! in time (past runs of a scheduler at the top of their hours). Key names come from
//! [`QueueRef::keys`] and [`demo_marker_key`].

use super::connection::Redis;
use super::error::Result;
use super::model::QueueRef;

/// The key that records that the demo data was seeded under `prefix`.
pub fn demo_marker_key(prefix: &str) -> String {
    format!("{prefix}:bullring:demo-seeded")
}

/// Set the demo marker of `prefix` to `now_ms` unless it exists (`SET NX`, so two runs at once
/// cannot both seed). `true` when this call set it.
pub async fn claim_demo_marker(redis: &Redis, prefix: &str, now_ms: u64) -> Result<bool> {
    let mut pipe = redis::pipe();
    pipe.cmd("SET")
        .arg(demo_marker_key(prefix))
        .arg(now_ms)
        .arg("NX");
    let (claimed,): (Option<String>,) = redis.write(&pipe).await?;
    Ok(claimed.is_some())
}

/// Remove the demo marker of `prefix` (after a seed that failed, so the next run tries again).
pub async fn release_demo_marker(redis: &Redis, prefix: &str) -> Result<()> {
    let mut pipe = redis::pipe();
    pipe.cmd("DEL").arg(demo_marker_key(prefix)).ignore();
    redis.write(&pipe).await
}

/// Wake the workers of `queue` blocked on its marker (`ZADD <queue>:marker 0 "0"`), so a paused
/// worker sees the pause now rather than after its blocking wait.
pub async fn wake_workers(redis: &Redis, queue: &QueueRef) -> Result<()> {
    let mut pipe = redis::pipe();
    pipe.cmd("ZADD")
        .arg(queue.keys().marker())
        .arg(0)
        .arg("0")
        .ignore();
    redis.write(&pipe).await
}

/// A finished job of a scheduler, with the times it should have run at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PastRun {
    pub id: String,
    /// Created (`timestamp`), in Unix ms.
    pub created: u64,
    /// Started (`processedOn`), in Unix ms.
    pub started: u64,
    /// Finished (`finishedOn`), in Unix ms: also its score in the completed or failed set.
    pub finished: u64,
    /// In the failed set (otherwise the completed set).
    pub failed: bool,
}

/// Move finished jobs of `queue` to the times of `runs` and tie them to the job scheduler
/// `scheduler` (`rjk`), in one round trip.
pub async fn backdate_runs(
    redis: &Redis,
    queue: &QueueRef,
    scheduler: &str,
    runs: &[PastRun],
) -> Result<()> {
    let keys = queue.keys();
    let mut pipe = redis::pipe();
    for run in runs {
        let set = if run.failed {
            keys.failed()
        } else {
            keys.completed()
        };
        pipe.cmd("HSET")
            .arg(keys.job_key(&run.id))
            .arg("timestamp")
            .arg(run.created)
            .arg("processedOn")
            .arg(run.started)
            .arg("finishedOn")
            .arg(run.finished)
            .arg("rjk")
            .arg(scheduler)
            .ignore();
        pipe.cmd("ZADD")
            .arg(set)
            .arg(run.finished)
            .arg(&run.id)
            .ignore();
    }
    redis.write(&pipe).await
}
