//! `bullring demo` seeding against a real redis-server: every state gets jobs, the scheduler, the
//! flow, the paused queue and the stack traces are where a dashboard will look for them, and a
//! second run changes nothing.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use bullring::demo::{self, ACTIVE_JOB_ID, ATTACHMENTS, EMAILS, QUEUES, REPORTS, SYNC};
use bullring::queue::embedded::EmbeddedRedis;
use redis::AsyncCommands;

fn scratch_dir() -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "bullring-demo-test-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

const LISTS: [&str; 3] = ["wait", "active", "paused"];
const ZSETS: [&str; 5] = [
    "delayed",
    "prioritized",
    "waiting-children",
    "completed",
    "failed",
];

async fn count(conn: &mut redis::aio::MultiplexedConnection, key: &str, list: bool) -> usize {
    let n: usize = if list {
        conn.llen(key).await.unwrap()
    } else {
        conn.zcard(key).await.unwrap()
    };
    n
}

#[tokio::test]
async fn demo_seed_fills_every_state_and_runs_once() {
    let dir = scratch_dir();
    let redis = EmbeddedRedis::start(&dir).await.unwrap();
    let prefix = format!("demo{}", std::process::id());

    let summary = demo::seed(redis.url(), &prefix).await.unwrap();
    assert_eq!(summary.queues, QUEUES.map(String::from).to_vec());
    assert!(summary.jobs >= 30, "{summary:?}");

    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();

    // Every state has at least one job in some demo queue.
    for (states, list) in [(&LISTS[..2], true), (&ZSETS[..], false)] {
        for state in states {
            let mut total = 0;
            for queue in QUEUES {
                total += count(&mut conn, &format!("{prefix}:{queue}:{state}"), list).await;
            }
            assert!(total >= 1, "no demo job is {state}");
        }
    }

    // The active job is still active, with its lock, logs and progress.
    let active: Vec<String> = conn
        .lrange(format!("{prefix}:{ATTACHMENTS}:active"), 0, -1)
        .await
        .unwrap();
    assert_eq!(active, vec![ACTIVE_JOB_ID.to_string()]);
    let lock_ttl: i64 = conn
        .pttl(format!("{prefix}:{ATTACHMENTS}:{ACTIVE_JOB_ID}:lock"))
        .await
        .unwrap();
    assert!(lock_ttl > 60_000, "lock ttl {lock_ttl}");
    let logs: usize = conn
        .llen(format!("{prefix}:{ATTACHMENTS}:{ACTIVE_JOB_ID}:logs"))
        .await
        .unwrap();
    assert!(logs >= 1);
    let progress: String = conn
        .hget(
            format!("{prefix}:{ATTACHMENTS}:{ACTIVE_JOB_ID}"),
            "progress",
        )
        .await
        .unwrap();
    let progress: serde_json::Value = serde_json::from_str(&progress).unwrap();
    assert_eq!(progress["stage"], "ocr");

    // Custom ids, and a retry waiting out its backoff.
    let delayed: Vec<String> = conn
        .zrange(format!("{prefix}:{ATTACHMENTS}:delayed"), 0, -1)
        .await
        .unwrap();
    assert!(
        delayed.contains(&"attachment-1007".to_string()),
        "{delayed:?}"
    );
    let atm: u32 = conn
        .hget(format!("{prefix}:{ATTACHMENTS}:attachment-1007"), "atm")
        .await
        .unwrap();
    assert_eq!(atm, 1);
    let reason: Option<String> = conn
        .hget(
            format!("{prefix}:{ATTACHMENTS}:attachment-1007"),
            "failedReason",
        )
        .await
        .unwrap();
    assert!(reason.is_some_and(|r| r.contains("tesseract")));

    // The schedulers.
    let schedulers: Vec<String> = conn
        .zrange(format!("{prefix}:{SYNC}:repeat"), 0, -1)
        .await
        .unwrap();
    assert!(schedulers.contains(&demo::SYNC_SCHEDULER.to_string()));
    assert!(schedulers.contains(&demo::MAINTENANCE_SCHEDULER.to_string()));
    let pattern: String = conn
        .hget(
            format!("{prefix}:{SYNC}:repeat:{}", demo::SYNC_SCHEDULER),
            "pattern",
        )
        .await
        .unwrap();
    assert_eq!(pattern, "0 * * * *");
    let tz: String = conn
        .hget(
            format!("{prefix}:{SYNC}:repeat:{}", demo::MAINTENANCE_SCHEDULER),
            "tz",
        )
        .await
        .unwrap();
    assert_eq!(tz, "Europe/Paris");
    let completed_runs: usize = conn
        .zcard(format!("{prefix}:{SYNC}:completed"))
        .await
        .unwrap();
    assert!(completed_runs >= 3);

    // The flow parent waits for its children; one child is done.
    let parents: Vec<String> = conn
        .zrange(format!("{prefix}:{EMAILS}:waiting-children"), 0, -1)
        .await
        .unwrap();
    assert_eq!(parents.len(), 1);
    let parent_key = format!("{prefix}:{EMAILS}:{}", parents[0]);
    let name: String = conn.hget(&parent_key, "name").await.unwrap();
    assert_eq!(name, "send-digest");
    let pending: usize = conn
        .scard(format!("{parent_key}:dependencies"))
        .await
        .unwrap();
    let processed: usize = conn.hlen(format!("{parent_key}:processed")).await.unwrap();
    assert_eq!((pending, processed), (2, 1));

    // The paused queue keeps its jobs (in `wait` for BullMQ 6, `paused` for 5).
    let paused: Option<String> = conn
        .hget(format!("{prefix}:{REPORTS}:meta"), "paused")
        .await
        .unwrap();
    assert!(paused.is_some());
    let mut held = 0;
    for list in ["wait", "paused"] {
        held += count(&mut conn, &format!("{prefix}:{REPORTS}:{list}"), true).await;
    }
    assert_eq!(held, 3);

    // Every failed job has a stack trace: a JSON array of strings.
    let mut failed_jobs = 0;
    for queue in QUEUES {
        let ids: Vec<String> = conn
            .zrange(format!("{prefix}:{queue}:failed"), 0, -1)
            .await
            .unwrap();
        for id in ids {
            failed_jobs += 1;
            let raw: String = conn
                .hget(format!("{prefix}:{queue}:{id}"), "stacktrace")
                .await
                .unwrap();
            let stacks: Vec<String> = serde_json::from_str(&raw)
                .unwrap_or_else(|e| panic!("{queue}/{id} stacktrace {raw:?}: {e}"));
            assert!(!stacks.is_empty(), "{queue}/{id}");
            assert!(
                stacks.iter().all(|s| s.lines().count() >= 2),
                "{queue}/{id}"
            );
            let reason: String = conn
                .hget(format!("{prefix}:{queue}:{id}"), "failedReason")
                .await
                .unwrap();
            assert!(stacks[0].contains(&reason), "{queue}/{id}: {reason}");
        }
    }
    assert!(failed_jobs >= 3);
    let attempts: u32 = conn
        .hget(format!("{prefix}:{ATTACHMENTS}:attachment-1006"), "atm")
        .await
        .unwrap();
    assert_eq!(attempts, 3);

    // A second run finds the marker and writes nothing.
    let ids_before: Vec<String> = conn.keys(format!("{prefix}:*:id")).await.unwrap();
    let mut counters = Vec::new();
    for key in &ids_before {
        let n: u64 = conn.get(key).await.unwrap();
        counters.push(n);
    }
    let again = demo::seed(redis.url(), &prefix).await.unwrap();
    assert_eq!(again.jobs, 0);
    for (key, before) in ids_before.iter().zip(counters) {
        let n: u64 = conn.get(key).await.unwrap();
        assert_eq!(n, before, "{key} changed on the second run");
    }

    redis.stop().await;
    std::fs::remove_dir_all(&dir).unwrap();
}
