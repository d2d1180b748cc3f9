//! The doctor of a queue: each finding produced by a fixture written with the real npm BullMQ
//! (tests/node/doctor.js), its page and JSON, and the orphan fix checked with BullMQ's own
//! `getJobCounts` / `getJobs`; a viewer may read the report but not fix. (The expired lock's
//! fixture, a worker killed with its lock left to expire, is in `doctor_locks.rs`.)

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::web::security::{Role, Security};
use serde_json::Value;

use crate::interop::node;
use crate::support::{Dashboard, redis, unique_prefix};

const BASE: &str = "/admin/queues";

fn seed(prefix: &str, step: &str) -> Value {
    let out = node(
        "doctor.js",
        &[
            "--redis",
            &redis().url,
            "--prefix",
            prefix,
            "--bullmq",
            "5",
            "--step",
            step,
        ],
    );
    assert_eq!(out["ok"], true, "{out}");
    out
}

async fn post(dash: &Dashboard, uri: &str) -> crate::support::Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .expect("request");
    dash.send(request).await
}

/// The finding of `kind` in a doctor's JSON report, if any.
fn finding<'a>(report: &'a Value, kind: &str) -> Option<&'a Value> {
    report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["kind"] == kind)
}

fn jobs(finding: &Value) -> Vec<&str> {
    finding["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j.as_str().expect("id"))
        .collect()
}

#[tokio::test]
async fn each_finding_comes_from_its_fixture_and_orphans_are_fixed() {
    let prefix = unique_prefix("doctor");
    seed(&prefix, "seed");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let doctor = |queue: &str| format!("{BASE}/api/queues/{queue}/doctor");

    let orphans = dash.json(&doctor("orphans")).await;
    let found = finding(&orphans, "orphans").expect("orphans found");
    assert_eq!(jobs(found), ["waiting:o-2"], "{orphans}");
    assert_eq!(found["fix"], "remove-orphans");
    assert_eq!(orphans["findings"].as_array().unwrap().len(), 1);

    let flow = dash.json(&doctor("flow")).await;
    let found = finding(&flow, "stuck-parents").expect("stuck parent found");
    assert_eq!(jobs(found), ["p-1"], "{flow}");

    let late = dash.json(&doctor("late")).await;
    let found = finding(&late, "overdue-delayed").expect("overdue job found");
    assert_eq!(jobs(found), ["d-1"], "{late}");
    assert_eq!(late["workers"], 0);

    // Paused with no worker: nothing to say; with a real Worker attached, the finding.
    let paused = dash.json(&doctor("paused")).await;
    assert_eq!(paused["paused"], true);
    assert!(
        finding(&paused, "paused-with-workers").is_none(),
        "{paused}"
    );
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
    let mut worker = Command::new("node")
        .arg("doctor.js")
        .args(["--redis", &redis().url, "--prefix", &prefix])
        .args(["--bullmq", "5", "--step", "attach"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("node must be installed");
    let mut line = String::new();
    BufReader::new(worker.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("attach output");
    assert!(line.contains("\"ok\":true"), "{line}");
    let paused = dash.json(&doctor("paused")).await;
    drop(worker.stdin.take());
    let status = worker.wait().expect("worker exits");
    assert!(status.success());
    let found = finding(&paused, "paused-with-workers").expect("paused with workers");
    assert!(found["count"].as_u64().unwrap() >= 1, "{paused}");

    // The page says it too, with the fix for an admin, and the queue page links to it.
    let page = dash.get(&format!("{BASE}/queues/orphans/doctor")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Job ids without a job"), "{}", page.body);
    assert!(page.body.contains("/queues/orphans/remove-orphans"));
    let queue_page = dash.get(&format!("{BASE}/queues/orphans")).await;
    assert!(queue_page.body.contains("/queues/orphans/doctor"));
    let clean = dash.get(&format!("{BASE}/queues/late/doctor")).await;
    assert!(clean.body.contains("Delayed jobs overdue with no worker"));

    // Before the fix, BullMQ counts the orphan; after, it does not, and the jobs are intact.
    let before = seed(&prefix, "report");
    assert_eq!(before["counts"]["waiting"], 3, "{before}");
    let reply = post(&dash, &format!("{BASE}/api/queues/orphans/remove-orphans")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome: Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(outcome["count"], 1, "{outcome}");
    let after = seed(&prefix, "report");
    assert_eq!(after["counts"]["waiting"], 2, "{after}");
    let mut left: Vec<&str> = after["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j.as_str().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["o-1", "o-3"]);
    let orphans = dash.json(&doctor("orphans")).await;
    assert!(
        orphans["findings"].as_array().unwrap().is_empty(),
        "{orphans}"
    );
    let audit = dash.json(&format!("{BASE}/api/audit")).await;
    assert!(audit.to_string().contains("remove-orphans"), "{audit}");
}

#[tokio::test]
async fn a_viewer_reads_the_report_but_cannot_fix() {
    let prefix = unique_prefix("doctor-viewer");
    seed(&prefix, "seed");
    let (dash, _) = Dashboard::with_state(&redis().url, &[&prefix], BASE, |state| {
        state.with_security(Security {
            anonymous_role: Role::Viewer,
            ..Security::default()
        })
    })
    .await;
    let page = dash.get(&format!("{BASE}/queues/orphans/doctor")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Job ids without a job"));
    assert!(!page.body.contains("/queues/orphans/remove-orphans"));
    let reply = post(&dash, &format!("{BASE}/api/queues/orphans/remove-orphans")).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    let report = seed(&prefix, "report");
    assert_eq!(report["counts"]["waiting"], 3, "nothing removed: {report}");
}

#[tokio::test]
async fn an_unknown_queue_is_a_404() {
    let prefix = unique_prefix("doctor-none");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let reply = dash.get(&format!("{BASE}/api/queues/nothing/doctor")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_doctor_reads_in_a_constant_number_of_round_trips() {
    let prefix = unique_prefix("doctor-cost");
    seed(&prefix, "seed");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let mut costs = Vec::new();
    // Queues of different shapes and sizes (a flow parent, one job, three jobs, none at all).
    for queue in ["flow", "late", "orphans", "kids"] {
        let uri = format!("{BASE}/api/queues/{queue}/doctor");
        let (trips, reply) = dash.round_trips(dash.get(&uri)).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        costs.push(trips);
    }
    // One to find the queue, three at most for the doctor (the third only when a parent has
    // children to look at: the flow queue).
    assert_eq!(costs[0], 4, "{costs:?}");
    assert!(costs.iter().all(|&c| (3..=4).contains(&c)), "{costs:?}");
}

#[tokio::test]
async fn a_bull_queue_is_not_checked_and_not_fixed() {
    let prefix = unique_prefix("doctor-bull");
    let out = node(
        "bull.js",
        &[
            "--redis",
            &redis().url,
            "--prefix",
            &prefix,
            "--step",
            "seed",
        ],
    );
    assert_eq!(out["ok"], true, "{out}");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let report = dash
        .json(&format!("{BASE}/api/queues/pre-diagnosis/doctor"))
        .await;
    assert_eq!(report["library"], "bull", "{report}");
    assert_eq!(report["checked"], false);
    let page = dash
        .get(&format!("{BASE}/queues/pre-diagnosis/doctor"))
        .await;
    assert!(
        page.body.contains("checks BullMQ queues only"),
        "{}",
        page.body
    );
    let reply = post(
        &dash,
        &format!("{BASE}/api/queues/pre-diagnosis/remove-orphans"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}
