//! The doctor's "active job whose lock expired", from a real fixture: a Node BullMQ Worker with a
//! 1 s `lockDuration` takes job l-1 and is killed with `kill -9` while the job is active; its lock
//! key is left to expire by its own TTL (polled with a deadline, never deleted by hand). Then the
//! doctor reports l-1, and the fix it advises (start a worker: its stalled-job check recovers the
//! job) is checked with Node's BullMQ: a new Worker completes l-1, counted as stalled once, and the
//! finding is gone.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::interop::node;
use crate::support::{Dashboard, conn, redis, unique_prefix};

const BASE: &str = "/admin/queues";

fn node_args<'a>(prefix: &'a str, step: &'a str) -> [&'a str; 8] {
    [
        "--redis",
        &redis().url,
        "--prefix",
        prefix,
        "--bullmq",
        "6",
        "--step",
        step,
    ]
}

/// The expired-locks finding of the doctor's report, if any.
fn expired(report: &Value) -> Option<&Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == "expired-locks")
}

fn lock_exists(key: &str) -> bool {
    let exists: i64 = redis::cmd("EXISTS")
        .arg(key)
        .query(&mut conn())
        .expect("EXISTS");
    exists == 1
}

#[tokio::test]
async fn a_killed_workers_job_is_found_once_its_lock_expires_and_a_worker_recovers_it() {
    let prefix = unique_prefix("doctor-locks");
    let lock = format!("{prefix}:locks:l-1:lock");
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let mut holder = Command::new("node")
        .arg("doctor.js")
        .args(node_args(&prefix, "hold"))
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed");
    let mut line = String::new();
    BufReader::new(holder.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("hold output");
    assert!(line.contains("\"active\":\"l-1\""), "{line}");
    // The worker holds the job's lock, which expires by itself.
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&lock)
        .query(&mut conn())
        .expect("PTTL");
    assert!(
        ttl > 0 && ttl <= 1000,
        "the lock has a TTL of at most lockDuration: {ttl}"
    );
    holder.kill().expect("kill -9 the worker"); // SIGKILL: nothing is cleaned up
    holder.wait().expect("reap the worker");

    let dash = Dashboard::new(&[&prefix], BASE).await;
    let doctor = format!("{BASE}/api/queues/locks/doctor");
    // While the lock lives, the job is not reported (checked only when the lock outlived the read).
    let early = dash.json(&doctor).await;
    if lock_exists(&lock) {
        assert!(expired(&early).is_none(), "{early}");
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while lock_exists(&lock) {
        assert!(Instant::now() < deadline, "the lock never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let report = dash.json(&doctor).await;
    let found = expired(&report).unwrap_or_else(|| panic!("no expired lock found: {report}"));
    assert_eq!(found["jobs"], serde_json::json!(["l-1"]), "{report}");
    assert!(found["fix"].is_null(), "{report}");
    assert!(
        found["advice"]
            .as_str()
            .is_some_and(|a| a.contains("stalled-job check")),
        "{report}"
    );
    let page = dash.get(&format!("{BASE}/queues/locks/doctor")).await;
    assert!(
        page.body.contains("Active jobs whose lock expired"),
        "{}",
        page.body
    );

    // The advice, followed: a worker's stalled-job check hands the job on, and it completes.
    let recovered = tokio::task::spawn_blocking(move || {
        let args = node_args(&prefix, "recover");
        node("doctor.js", &args)
    })
    .await
    .expect("node task");
    assert_eq!(recovered["state"], "completed", "{recovered}");
    assert_eq!(recovered["returnvalue"]["recovered"], true, "{recovered}");
    assert_eq!(recovered["stalledCounter"], 1, "{recovered}");
    let after = dash.json(&doctor).await;
    assert!(expired(&after).is_none(), "{after}");
}
