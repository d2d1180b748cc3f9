//! `bullring demo`: fills a Redis with queues that look like real use, so the dashboard has
//! something to show in every state.
//!
//! The data set is data: [`fixture`] reads `src/demo/fixture.toml` (compiled in), and
//! [`seeder`] plays it with the hands of [`engine`]. Everything goes through the BullMQ engine
//! (queues, real workers, a flow producer, job schedulers), except a few writes the queue core
//! makes for the demo (`crate::queue::seed`, `crate::queue::job_fields`): the `stacktrace` of
//! failed jobs (Rust workers record none, ENGINE.md gap 5) and the `failedReason` of the job
//! waiting out a retry (the engine drops it, Node keeps it), the times of the past `sync` runs
//! (moved back to the top of the previous hours), a wake-up marker so a demo worker closes at
//! once, and the marker key below. The live runner of `bullring demo` is in [`live`].
//!
//! Queues and what they hold after [`seed`]:
//! - `sync`: job schedulers `sync-updated-dossiers` (`0 * * * *`) and `nightly-maintenance`
//!   (`0 3 * * *`, Europe/Paris), whose next iterations are delayed jobs; four completed hourly
//!   runs and one failed run.
//! - `process-attachment`: jobs `attachment-<n>` (3 attempts, exponential backoff), completed with
//!   page counts, failed for good (with logs and stack traces), one waiting out a retry backoff in
//!   `delayed`, one delayed on purpose, two waiting, and one **active**.
//! - `consolidate-dossier`: completed, prioritized (priorities 1, 5 and 10) and waiting jobs.
//! - `emails`: completed and failed `send-email` jobs, a delayed reminder, and a flow parent
//!   `send-digest` in `waiting-children`.
//! - `email-render`: the flow's three `render-email` children: one completed, two waiting.
//! - `reports`: a paused queue with three waiting jobs.
//! - `pre-diagnosis` (a Bull 4 queue, written by bullring's own Bull code, [`bull`]): 3 attempts,
//!   exponential backoff from 2 s, completed jobs kept 24 h / 1,000, failed ones 7 days; two
//!   completed jobs, one failed on its 3 attempts (with their stack traces), one waiting out its
//!   backoff in `delayed`, one **active** (locked 10 minutes), a waiting and a priority job, and
//!   one delayed on purpose. `pre-diagnosis-backfill`: the same app's paused Bull queue, two jobs.
//! - `thumbnails` (live, while `bullring demo` runs): the demo runner ([`live::live_runner`]) upserts
//!   two schedulers (every 2 s, and a cron with seconds) and processes their jobs with closures,
//!   so counts, metrics and the completed/failed lists keep moving.
//!
//! The active job: a worker started without its run loop takes it with the engine's manual fetch
//! (`Worker::get_next_job_nonblocking`), logs to it and sets its progress, and is then closed
//! without finishing it. No lock renewal runs, so the job stays in `active` until its lock
//! (10 minutes, [`ACTIVE_LOCK`]) expires; after that the stalled check of any worker on the queue
//! moves it back to `wait`, as it would for a crashed worker.
//!
//! Running it twice: the first run sets `<prefix>:bullring:demo-seeded` (`SET NX`, so two runs at
//! once cannot both seed); later runs find it, log that, and return without writing. Delete that
//! key (or the queues) to seed again. If seeding fails the key is removed again.
//!
//! On Redis Sentinel, [`seed_on`] asks the sentinels for the master once and seeds there; the
//! live runner follows the master after a failover, as `bullring run` does (`runner::follow`).

pub mod bull;
pub mod engine;
pub mod error;
pub mod fixture;
pub mod live;
pub mod seeder;

use std::time::Duration;

use bullmq::redis_connection::RedisConnection;
use tracing::{info, warn};

use self::engine::DemoEngine;
pub use self::error::DemoError;
use self::fixture::Fixture;
pub use self::live::{LIVE, LIVE_CRON_SCHEDULER, LIVE_SCHEDULER, live_config, live_runner};
use self::seeder::{Seeder, now_ms};
use crate::queue::connection::{Redis, RedisSettings};
use crate::queue::error::QueueError;
pub use crate::queue::seed::demo_marker_key as marker_key;
use crate::queue::seed::{claim_demo_marker, release_demo_marker};

/// Queue with the job schedulers.
pub const SYNC: &str = "sync";
/// Queue with custom job ids, retries, logs and the active job.
pub const ATTACHMENTS: &str = "process-attachment";
/// Queue with prioritized jobs.
pub const CONSOLIDATE: &str = "consolidate-dossier";
/// Queue with the flow parent and failed mails.
pub const EMAILS: &str = "emails";
/// Queue with the flow children.
pub const EMAIL_RENDER: &str = "email-render";
/// The paused queue.
pub const REPORTS: &str = "reports";
/// Every demo queue, in the order they are seeded (the fixture's order; a test checks).
pub const QUEUES: [&str; 6] = [
    SYNC,
    ATTACHMENTS,
    CONSOLIDATE,
    EMAILS,
    EMAIL_RENDER,
    REPORTS,
];

/// The Bull 4 queue with jobs in every Bull state but paused.
pub const BULL_QUEUE: &str = "pre-diagnosis";
/// The paused Bull 4 queue.
pub const BULL_PAUSED: &str = "pre-diagnosis-backfill";
/// The demo's Bull queues, in the order they are seeded (after [`QUEUES`]).
pub const BULL_QUEUES: [&str; 2] = [BULL_QUEUE, BULL_PAUSED];

/// Scheduler that runs the hourly sync.
pub const SYNC_SCHEDULER: &str = "sync-updated-dossiers";
/// Scheduler that runs the nightly maintenance.
pub const MAINTENANCE_SCHEDULER: &str = "nightly-maintenance";
/// Id of the job left in `active`.
pub const ACTIVE_JOB_ID: &str = "attachment-1008";
/// Lock duration of the job left in `active`.
pub const ACTIVE_LOCK: Duration = Duration::from_secs(600);

/// How long Redis may take to answer the first PING.
const REACH_TIMEOUT: Duration = Duration::from_secs(3);

/// What [`seed`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    /// The demo's BullMQ queues.
    pub queues: Vec<String>,
    /// The demo's Bull 3/4 queues.
    pub bull_queues: Vec<String>,
    /// Jobs created by this call (0 when the data was already there).
    pub jobs: usize,
}

/// Seed the demo queues under `prefix` in the Redis at `url`, unless that was done before.
pub async fn seed(url: &str, prefix: &str) -> Result<DemoSummary, DemoError> {
    seed_on(&RedisSettings::url(url), prefix).await
}

/// Seed the demo queues under `prefix` on the Redis `settings` name, unless that was done
/// before. Under Sentinel the sentinels are asked once for the master, and every write goes
/// there: the engine's connection cannot follow a failover, and seeding takes seconds.
pub async fn seed_on(settings: &RedisSettings, prefix: &str) -> Result<DemoSummary, DemoError> {
    if let Some(refused) = refusal(settings) {
        return Err(refused);
    }
    let settings = settings
        .resolve()
        .await
        .map_err(|source| DemoError::Unreachable {
            url: settings.redacted(),
            source,
        })?;
    let redis = Redis::new(settings.clone());
    check_reachable(&redis, &settings).await?;
    let fixture = Fixture::load()?;
    let queues: Vec<String> = fixture.queues.iter().map(|q| q.name.clone()).collect();
    let bull_queues: Vec<String> = fixture.bull_queues.iter().map(|q| q.name.clone()).collect();
    let options = settings.engine_options();
    let conn = RedisConnection::new_managed_only(&options).await?;

    if !claim_demo_marker(&redis, prefix, now_ms()).await? {
        info!(
            "demo data already seeded under prefix {prefix:?} (key {} exists); \
             skipping. Delete that key to seed again",
            marker_key(prefix)
        );
        return Ok(DemoSummary {
            queues,
            bull_queues,
            jobs: 0,
        });
    }

    let engine = DemoEngine {
        conn,
        options,
        prefix: prefix.to_string(),
        redis: redis.clone(),
    };
    let mut seeder = Seeder::new(engine, fixture.clone());
    let seeded = match seeder.run().await {
        Ok(()) => bull::seed_bull(&redis, prefix, &fixture).await,
        Err(err) => Err(err),
    };
    match seeded {
        Ok(bull_jobs) => {
            let summary = DemoSummary {
                queues,
                bull_queues,
                jobs: seeder.jobs() + bull_jobs,
            };
            info!(
                "demo data seeded: {} jobs in {} BullMQ queues ({}) and {} Bull queues ({}) \
                 under prefix {prefix:?}",
                summary.jobs,
                summary.queues.len(),
                summary.queues.join(", "),
                summary.bull_queues.len(),
                summary.bull_queues.join(", ")
            );
            Ok(summary)
        }
        Err(err) => {
            if let Err(del_err) = release_demo_marker(&redis, prefix).await {
                warn!(
                    "cannot remove {} after the failed seed: {}",
                    marker_key(prefix),
                    crate::queue::error::chain(&del_err)
                );
            }
            Err(err)
        }
    }
}

/// Why the demo cannot be seeded where `settings` say, if it cannot: it seeds one server or a
/// Sentinel master, not a Redis Cluster ([`DemoError::Cluster`]). `bullring demo` asks before
/// its live runner starts, so nothing is written on a cluster.
pub fn refusal(settings: &RedisSettings) -> Option<DemoError> {
    let cluster = settings.sentinel.is_none() && !settings.cluster_nodes.is_empty();
    cluster.then(|| DemoError::Cluster {
        nodes: settings.redacted(),
    })
}

/// Fail in seconds when Redis is not there: the engine's connection keeps retrying for about
/// 40 s before it reports a refused connection.
async fn check_reachable(redis: &Redis, settings: &RedisSettings) -> Result<(), DemoError> {
    let unreachable = |source| DemoError::Unreachable {
        url: settings.redacted(),
        source,
    };
    match tokio::time::timeout(REACH_TIMEOUT, redis.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(err)) => Err(unreachable(err)),
        Err(_) => Err(unreachable(QueueError::unavailable(
            crate::text::Said::plain(format!("no answer within {}s", REACH_TIMEOUT.as_secs())),
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::{Fixture, Outcome};
    use super::*;

    #[test]
    fn the_fixture_loads_and_its_stacks_start_with_class_and_message() {
        let fixture = Fixture::load().unwrap();
        assert!(fixture.failures.len() >= 6);
        for f in fixture.failures.values() {
            let stack = f.stack();
            let first = stack.lines().next().unwrap_or_default();
            assert_eq!(first, format!("{}: {}", f.class, f.message));
            assert!(
                stack.lines().skip(1).all(|l| l.starts_with("    at ")),
                "{stack}"
            );
        }
    }

    #[test]
    fn the_fixture_matches_the_public_names() {
        let fixture = Fixture::load().unwrap();
        let names: Vec<&str> = fixture.queues.iter().map(|q| q.name.as_str()).collect();
        assert_eq!(names, QUEUES);
        let bull: Vec<&str> = fixture
            .bull_queues
            .iter()
            .map(|q| q.name.as_str())
            .collect();
        assert_eq!(bull, BULL_QUEUES);
        let attachments = &fixture.queues[1];
        let active = attachments.active.as_ref().unwrap();
        assert_eq!(active.opts.job_id.as_deref(), Some(ACTIVE_JOB_ID));
        assert_eq!(active.lock_secs, ACTIVE_LOCK.as_secs());
        let schedulers: Vec<&str> = fixture.queues[0]
            .schedulers
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(schedulers, [SYNC_SCHEDULER, MAINTENANCE_SCHEDULER]);
        let failing = &attachments.worked[4];
        assert!(matches!(
            fixture.outcome(ATTACHMENTS, failing).unwrap(),
            Outcome::FailForGood(_)
        ));
    }

    #[test]
    fn a_flow_child_return_value_names_its_data() {
        let fixture = Fixture::load().unwrap();
        let flow = &fixture.queues[3].flows[0];
        let completion = flow.complete_first_child.as_ref().unwrap();
        assert_eq!(
            completion.returns_for(&flow.children[0].data),
            "rendered weekly-digest for user 1042 (18.4 KB)"
        );
    }

    #[tokio::test]
    async fn no_sentinel_answering_is_an_unreachable_redis_named_by_its_sentinels() {
        let sentinel =
            crate::queue::connection::SentinelSettings::new("mymaster", vec!["127.0.0.1:1".into()]);
        let err = seed_on(&RedisSettings::sentinel(sentinel), "bull")
            .await
            .unwrap_err();
        let DemoError::Unreachable { url, source } = &err else {
            panic!("{err:?}");
        };
        assert_eq!(url, "sentinel master mymaster via 127.0.0.1:1");
        assert!(source.is_unavailable(), "{source:?}");
    }

    #[tokio::test]
    async fn a_cluster_is_refused_before_anything_is_written() {
        let settings = RedisSettings {
            cluster_nodes: vec!["redis://:secret@127.0.0.1:1".into()],
            ..RedisSettings::url("")
        };
        let err = seed_on(&settings, "{bull}").await.unwrap_err();
        assert!(matches!(err, DemoError::Cluster { .. }), "{err:?}");
        let text = err.to_string();
        assert!(
            text.contains("127.0.0.1:1") && !text.contains("secret"),
            "{text}"
        );
        assert!(refusal(&RedisSettings::url("redis://127.0.0.1:1")).is_none());
        let sentinel = crate::queue::connection::SentinelSettings::new("m", vec!["s:1".into()]);
        assert!(refusal(&RedisSettings::sentinel(sentinel)).is_none());
    }

    #[test]
    fn marker_key_is_under_the_prefix() {
        assert_eq!(marker_key("bull"), "bull:bullring:demo-seeded");
    }
}
