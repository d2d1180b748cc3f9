//! `bullring demo` on Redis Sentinel, all real: a redis-server master, its replica, a sentinel
//! (`redis-server --sentinel`), and the `bullring demo` binary given the sentinel only
//! (`sentinel = { master, nodes }` in its config file). The demo data lands on the master the
//! sentinel names, the demo workers complete `thumbnails` jobs there, and the dashboard lists
//! every demo queue and names that master. After the master is killed (`kill -9`), the same
//! process lists the replicated demo data from the promoted replica and its demo workers run
//! there. A Redis Cluster, which the demo does not seed, is refused with a clear line.

use std::collections::BTreeMap;

use bullring::demo::{self, ACTIVE_JOB_ID, ATTACHMENTS, BULL_QUEUES, LIVE, QUEUES, REPORTS};
use serde_json::Value;

use crate::binary::http_get;
use crate::runner::{RunProcess, bullring, scratch};
use crate::sentinel::{Server, Watched, until};
use crate::support::{free_port, unique_prefix};

const BASE: &str = "/admin/queues";

/// The JSON of a GET on the dashboard's API, when it answers 200.
fn api(port: u16, path: &str) -> Option<Value> {
    let (status, text) = http_get(port, &format!("{BASE}/api{path}"))?;
    if status != 200 {
        return None;
    }
    let (_, body) = text.split_once("\r\n\r\n")?;
    serde_json::from_str(body).ok()
}

/// The queues `/api/queues` lists, by name (none while it does not answer).
fn listed(port: u16) -> BTreeMap<String, Value> {
    let queues = api(port, "/queues").map(|v| v["queues"].clone());
    let Some(Value::Array(queues)) = queues else {
        return BTreeMap::new();
    };
    queues
        .into_iter()
        .filter_map(|q| Some((q["name"].as_str()?.to_string(), q)))
        .collect()
}

/// Every demo queue: the seeded BullMQ and Bull ones, and the live one.
fn demo_queues() -> Vec<&'static str> {
    QUEUES
        .iter()
        .chain(&BULL_QUEUES)
        .copied()
        .chain([LIVE])
        .collect()
}

/// The master address `/api/redis` names.
fn dashboard_master(port: u16) -> Option<String> {
    let info = api(port, "/redis")?;
    Some(info["info"]["master_address"].as_str()?.to_string())
}

fn completed(server: &Server, prefix: &str, queue: &str) -> usize {
    server.query(redis::cmd("ZCARD").arg(format!("{prefix}:{queue}:completed")))
}

/// What a server holds of the seeded demo: the marker, every seeded queue, the active job.
fn assert_seeded(server: &Server, prefix: &str) {
    let marker: bool = server.query(redis::cmd("EXISTS").arg(demo::marker_key(prefix)));
    assert!(marker, "no demo marker on 127.0.0.1:{}", server.port);
    for queue in QUEUES {
        let meta: bool = server.query(redis::cmd("EXISTS").arg(format!("{prefix}:{queue}:meta")));
        assert!(meta, "no {queue} on 127.0.0.1:{}", server.port);
    }
    for queue in BULL_QUEUES {
        let id: bool = server.query(redis::cmd("EXISTS").arg(format!("{prefix}:{queue}:id")));
        assert!(id, "no Bull queue {queue} on 127.0.0.1:{}", server.port);
    }
    let active: Vec<String> = server.query(
        redis::cmd("LRANGE")
            .arg(format!("{prefix}:{ATTACHMENTS}:active"))
            .arg(0)
            .arg(-1),
    );
    assert_eq!(active, [ACTIVE_JOB_ID], "127.0.0.1:{}", server.port);
}

/// The dashboard lists every demo queue, the active job and the paused queue included.
async fn assert_listed(port: u16) {
    until("the dashboard lists every demo queue", || async {
        let listed = listed(port);
        demo_queues().iter().all(|q| listed.contains_key(*q))
    })
    .await;
    let listed = listed(port);
    assert_eq!(listed[ATTACHMENTS]["counts"]["active"], 1, "{listed:?}");
    assert_eq!(listed[REPORTS]["paused"], true, "{listed:?}");
    assert_eq!(listed[BULL_QUEUES[0]]["library"], "bull", "{listed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bullring_demo_seeds_and_runs_on_the_master_the_sentinel_names() {
    let mut watched = Watched::start();
    let prefix = unique_prefix("sentinel-demo");
    let port = free_port();
    let file = scratch("sentinel-demo").join("bullring.toml");
    std::fs::write(
        &file,
        format!(
            "listen = \"127.0.0.1:{port}\"\nprefixes = [\"{prefix}\"]\n\
             sentinel = {{ master = \"mymaster\", nodes = [\"127.0.0.1:{}\"] }}\n",
            watched.sentinel.port
        ),
    )
    .expect("write the config");
    let process = RunProcess::start_command("demo", &file);
    // It seeds before it listens; a failed seed ends it, with the reason in the log.
    process.wait_for_log("dashboard at");
    let master = format!("127.0.0.1:{}", watched.master.port);
    let replica = format!("127.0.0.1:{}", watched.replica.port);

    assert_seeded(&watched.master, &prefix);
    assert_listed(port).await;
    assert_eq!(dashboard_master(port), Some(master));
    until(
        "a demo worker completes a thumbnails job on the master",
        || async { completed(&watched.master, &prefix, LIVE) > 0 },
    )
    .await;

    watched.fail_over().await;

    // The same process: the data was replicated, the pages and the demo workers moved.
    assert_seeded(&watched.replica, &prefix);
    let before = completed(&watched.replica, &prefix, LIVE);
    until("the dashboard names the promoted replica", || async {
        dashboard_master(port).as_deref() == Some(replica.as_str())
    })
    .await;
    assert_listed(port).await;
    until(
        "a demo worker completes a thumbnails job on the promoted replica",
        || async { completed(&watched.replica, &prefix, LIVE) > before },
    )
    .await;
    process.wait_for_log("workers restarted on the new master");
}

#[test]
fn bullring_demo_refuses_a_redis_cluster_with_a_clear_line() {
    // Nothing listens there: the refusal comes before any connection.
    let output = bullring()
        .args(["demo", "--listen", &format!("127.0.0.1:{}", free_port())])
        .args(["--redis-cluster-nodes", "redis://:secret@127.0.0.1:1"])
        .output()
        .expect("run bullring demo");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a Redis Cluster"), "{stderr}");
    assert!(
        stderr.contains("127.0.0.1:1") && !stderr.contains("secret"),
        "{stderr}"
    );
}
