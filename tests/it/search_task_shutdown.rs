//! A shutdown while "apply to every match" runs: the real `bullring serve` binary, on the test
//! Redis, is sent SIGTERM while a task retries failed jobs written by the npm `bullmq` 5. The task
//! stops before its next job as its Cancel button would, writes its one audit entry saying the
//! shutdown stopped it, and every job is either retried or untouched.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::binary::http_get;
use crate::search_task::{audited, ids, in_node, seed};
use crate::support::{Dashboard, free_port, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// `POST path` with a JSON body to the server on `port`: the status and the body.
fn http_post_json(port: u16, path: &str, body: &Value) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.to_string();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    let mut text = String::new();
    stream.read_to_string(&mut text).expect("read");
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("an HTTP answer: {text}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, body.to_string())
}

/// `GET path` as JSON, asserting the 200.
fn get_json(port: u16, path: &str) -> Value {
    let (status, text) = http_get(port, path).unwrap_or_else(|| panic!("no answer to {path}"));
    assert_eq!(status, 200, "{text}");
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or_else(|e| panic!("JSON from {path}: {e}: {body}"))
}

/// Poll until `ready` holds, within two minutes.
async fn until(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while !ready() {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SIGTERM, then wait for the process to exit (within two minutes).
async fn terminate(child: &mut Child) -> std::process::ExitStatus {
    let sent = Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(sent.success());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "bullring did not exit after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_shutdown_stops_a_running_task_which_records_it_once() {
    let prefix = unique_prefix("apply-shutdown");
    seed(&prefix, "bullmq5", "big", "failed", 3000);
    let before = in_node(&prefix, "bullmq5", "big");
    let matching = ids(&before, "failed", Some("send-email"));
    assert_eq!(matching.len(), 2000);

    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bullring"))
        .args(["serve", "--redis-url", &redis().url, "--prefix", &prefix])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bullring serve");
    let queue = format!("{BASE}/api/queues/big");
    let jobs = format!("{queue}/jobs?state=failed");
    until("the queue is served", || {
        http_get(port, &jobs).is_some_and(|(status, _)| status == 200)
    })
    .await;

    // One job a chunk: the task is still running when the server is told to stop.
    let body = json!({"state": "failed", "q": "name:send-email", "action": "retry", "batch": 1});
    let (status, text) = http_post_json(port, &format!("{queue}/search/apply"), &body);
    assert_eq!(status, 202, "{text}");
    let task: Value = serde_json::from_str(&text).expect("task JSON");
    let id = task["id"].as_str().expect("task id").to_string();
    let path = format!("{BASE}/api/tasks/{id}");
    let mut seen = Value::Null;
    until("the task acts on its first jobs", || {
        seen = get_json(port, &path);
        seen["applied"].as_u64() > Some(0)
    })
    .await;
    assert_eq!(seen["status"], "running", "{seen}");

    let exited = terminate(&mut child).await;
    assert!(exited.success(), "exit after SIGTERM: {exited}");

    // Exactly one audit entry: cancelled, by the shutdown, with the counts.
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let entries = audited(&dash, &id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["action"], "retry");
    assert_eq!(entries[0]["outcome"], "cancelled");
    let detail = entries[0]["detail"].as_str().expect("detail");
    assert!(
        detail.ends_with("; cancelled by the server's shutdown"),
        "{detail}"
    );
    let applied: usize = detail
        .split_once(": ")
        .and_then(|(_, rest)| rest.split_once(": "))
        .and_then(|(_, counts)| counts.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the count of jobs retried: {detail}"));
    assert!(
        applied > 0 && applied < matching.len(),
        "stopped part way: {detail}"
    );

    // Every job is retried or untouched: none lost, none twice, only matches retried.
    let after = in_node(&prefix, "bullmq5", "big");
    let waiting = ids(&after, "waiting", None);
    let failed = ids(&after, "failed", None);
    assert_eq!(waiting.len(), applied, "{detail}");
    assert!(waiting.is_subset(&matching), "only matches were retried");
    assert!(waiting.is_disjoint(&failed));
    assert_eq!(waiting.len() + failed.len(), 3000, "nothing lost");
}
