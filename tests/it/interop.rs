//! Interop with the real npm `bullmq` (5.x and 6.x, pinned in tests/node/package-lock.json):
//! Node writes queues with jobs in every state, then bullring's API must report exactly the counts,
//! the ids per state and the field values that BullMQ's own `getJobCounts`, `getJobs` and `Job`
//! report.

use bullring::queue::model::JobState;
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::support::{Dashboard, redis, unique_prefix};

fn node_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node")
}

/// Run one of the Node scripts and parse the JSON line it prints last.
pub fn node(script: &str, args: &[&str]) -> Value {
    let dir = node_dir();
    assert!(
        dir.join("node_modules").is_dir(),
        "tests/node/node_modules is missing: run the tests with `bash tests/run` (it runs npm ci)"
    );
    let output = Command::new("node")
        .arg(script)
        .args(args)
        .current_dir(&dir)
        .output()
        .expect("node must be installed");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "node {script} failed: {}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with('{'))
        .unwrap_or("");
    serde_json::from_str(line)
        .unwrap_or_else(|e| panic!("node {script} printed no JSON ({e}): {stdout}"))
}

/// Fields compared between Node's `Job` and bullring's job JSON.
const FIELDS: [&str; 18] = [
    "name",
    "data",
    "opts",
    "progress",
    "returnvalue",
    "stacktrace",
    "attemptsMade",
    "attemptsStarted",
    "failedReason",
    "timestamp",
    "processedOn",
    "finishedOn",
    "delay",
    "priority",
    "parentKey",
    "repeatJobKey",
    "deduplicationId",
    "state",
];

async fn same_as_node(major: &str) {
    let prefix = unique_prefix(&format!("node{major}"));
    let url = redis().url.clone();
    let seeded = node(
        "seed.js",
        &["--redis", &url, "--prefix", &prefix, "--bullmq", major],
    );
    let queues: Vec<(String, String)> = seeded["queues"]
        .as_array()
        .expect("seed.js lists its queues")
        .iter()
        .map(|q| {
            (
                q["prefix"].as_str().unwrap().to_string(),
                q["name"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(queues.len() >= 5, "seed.js made {queues:?}");
    let list: Vec<String> = queues.iter().map(|(p, n)| format!("{p}/{n}")).collect();
    let report = node(
        "report.js",
        &[
            "--redis",
            &url,
            "--prefix",
            &prefix,
            "--bullmq",
            major,
            "--queues",
            &list.join(","),
        ],
    );

    let mut prefixes: Vec<&str> = queues.iter().map(|(p, _)| p.as_str()).collect();
    prefixes.sort();
    prefixes.dedup();
    let dash = Dashboard::new(&prefixes, "/admin/queues").await;
    let ours = dash.json("/admin/queues/api/queues").await;

    let mut jobs_compared = 0;
    for theirs in report["queues"].as_array().unwrap() {
        let (qprefix, name) = (
            theirs["prefix"].as_str().unwrap(),
            theirs["name"].as_str().unwrap(),
        );
        let label = format!("bullmq {major} {qprefix}/{name}");
        let summary = ours["queues"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["name"] == name && q["prefix"] == qprefix)
            .unwrap_or_else(|| panic!("{label}: not in bullring's queue list"));
        assert_eq!(summary["counts"], theirs["counts"], "{label}: counts");
        assert_eq!(summary["paused"], theirs["paused"], "{label}: paused flag");

        let enc = |s: &str| bullring::web::views::encode(s);
        for state in JobState::ALL.map(JobState::as_str) {
            let page = dash
                .json(&format!(
                    "/admin/queues/api/queues/{}/jobs?state={state}&per_page=1000&prefix={}",
                    enc(name),
                    enc(qprefix)
                ))
                .await;
            let got: Vec<&Value> = page["jobs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|j| &j["id"])
                .collect();
            let want: Vec<&Value> = theirs["ids"][state].as_array().unwrap().iter().collect();
            assert_eq!(got, want, "{label}: ids of {state}");
        }

        for (id, node_job) in theirs["jobs"].as_object().unwrap() {
            let job = dash
                .json(&format!(
                    "/admin/queues/api/queues/{}/jobs/{}?prefix={}",
                    enc(name),
                    enc(id),
                    enc(qprefix)
                ))
                .await;
            for field in FIELDS {
                assert_eq!(
                    job.get(field),
                    node_job.get(field),
                    "{label} job {id}: {field}"
                );
            }
            assert_eq!(
                job["logs"]["lines"], node_job["logs"],
                "{label} job {id}: logs"
            );
            jobs_compared += 1;
        }
    }
    assert!(jobs_compared >= 20, "compared only {jobs_compared} jobs");
}

#[tokio::test]
async fn reads_what_bullmq_5_wrote_exactly_as_bullmq_5_does() {
    same_as_node("5").await;
}

#[tokio::test]
async fn reads_what_bullmq_6_wrote_exactly_as_bullmq_6_does() {
    same_as_node("6").await;
}
