//! Bull 3/4 queues everywhere bullring reads queues, against queues written by the real npm
//! `bull` (4.16.5, tests/node/bull.js): repeatable jobs on the schedulers page as Bull's
//! `getRepeatableJobs` reports them, next to BullMQ job schedulers; metrics as a Bull worker
//! with `metrics` records them (and a clear word when it records none); a stalled and a
//! retried job's fields as Bull's `getJob`; the waiting order a Bull worker follows; live
//! counts, Prometheus and `bullring jobs` / `stats`; and the same round trips for these pages as
//! for a BullMQ queue's. No read writes anything.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bullmq::job_scheduler::RepeatOptions;
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::bull::{BASE, bull, dashboard, jobs_as_bull_reports_them, seed, summary};
use crate::interop::node;
use crate::support::{Dashboard, conn, engine_queue, redis, stored, unique_prefix};

/// Every key under `prefix` with its value: what a read must leave as it was. A hash is taken
/// field by field (its `DUMP` follows the order of its table, which a read may rehash).
fn dump_all(prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let mut conn = conn();
    let keys: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut conn, format!("{prefix}:*"))
            .expect("SCAN")
            .collect::<Result<_, _>>()
            .expect("SCAN keys");
    keys.into_iter()
        .map(|key| {
            let value = stored(&mut conn, &key);
            (key, value)
        })
        .collect()
}

/// Fails naming the keys a read added, removed or changed since `before`.
fn unchanged(prefix: &str, before: &BTreeMap<String, Vec<u8>>) {
    let after = dump_all(prefix);
    let changed: Vec<&String> = before
        .keys()
        .chain(after.keys())
        .filter(|key| before.get(*key) != after.get(*key))
        .collect();
    assert!(changed.is_empty(), "reads wrote these keys: {changed:?}");
}

fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object.get(name).unwrap_or(&Value::Null)
}

/// A BullMQ queue `mq` with one job scheduler.
async fn bullmq_scheduler(prefix: &str) {
    let mq = engine_queue(prefix, "mq").await;
    let repeat = RepeatOptions {
        pattern: Some("0 4 * * *".into()),
        ..RepeatOptions::default()
    };
    mq.upsert_job_scheduler(
        "mq-nightly",
        repeat,
        Some("sweep"),
        Some(json!({"x": 1})),
        None,
    )
    .await
    .expect("upsert_job_scheduler");
}

#[tokio::test]
async fn bull_repeatables_are_listed_as_bull_reports_them_next_to_bullmq_schedulers() {
    let prefix = unique_prefix("bull-repeat");
    let theirs = bull(&prefix, "repeat", Some("reports"));
    bullmq_scheduler(&prefix).await;
    let before = dump_all(&prefix);
    let dash = dashboard(&prefix, &[]).await;

    let listed = dash.json(&format!("{BASE}/api/schedulers")).await;
    let all = listed["schedulers"].as_array().expect("schedulers");
    let ours: Vec<&Value> = all.iter().filter(|s| s["queue"] == "reports").collect();
    let repeatable = theirs["repeatable"].as_array().expect("repeatable");
    assert_eq!(repeatable.len(), 4, "{theirs}");
    assert_eq!(ours.len(), repeatable.len(), "{listed}");
    let delayed = theirs["delayed"].as_array().expect("delayed");
    // Both in next-run order (getRepeatableJobs ascending).
    for (ours, theirs) in ours.iter().zip(repeatable) {
        let key = theirs["key"].as_str().expect("key");
        assert_eq!(ours["library"], "bull", "{ours}");
        assert_eq!(ours["key"], theirs["key"]);
        assert_eq!(ours["name"], theirs["name"], "{key}");
        assert_eq!(field(ours, "jobId"), &theirs["id"], "{key}");
        assert_eq!(field(ours, "endDate"), &theirs["endDate"], "{key}");
        assert_eq!(field(ours, "tz"), &theirs["tz"], "{key}");
        assert_eq!(field(ours, "pattern"), &theirs["cron"], "{key}");
        assert_eq!(field(ours, "every"), &theirs["every"], "{key}");
        assert_eq!(ours["next"], theirs["next"], "{key}");
        // The job Bull armed for the next run, found by Bull's own repeat key.
        let armed = delayed
            .iter()
            .find(|job| job["repeatKey"] == theirs["key"])
            .unwrap_or_else(|| panic!("no armed job for {key}: {delayed:?}"));
        assert_eq!(ours["nextJobId"], armed["id"], "{key}");
        assert_eq!(ours["template"]["data"], armed["data"], "{key}");
        assert_eq!(ours["iterationCount"], 1, "{key}");
    }
    let mq = all
        .iter()
        .find(|s| s["queue"] == "mq")
        .expect("the BullMQ scheduler");
    assert_eq!(mq["library"], "bullmq");
    assert_eq!(mq["key"], "mq-nightly");
    let one = dash
        .json(&format!("{BASE}/api/queues/reports/schedulers"))
        .await;
    assert_eq!(one["schedulers"].as_array().map(Vec::len), Some(4));

    let page = dash.get(&format!("{BASE}/schedulers")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Bull</span>"), "{}", page.body);
    assert!(page.body.contains(">BullMQ"), "{}", page.body);
    for shown in [
        "Europe/Paris",
        "0 3 * * *",
        "every 90 s",
        "every 1 h",
        "job id sweep",
    ] {
        assert!(page.body.contains(shown), "{shown}: {}", page.body);
    }
    // Every scheduler has a remove button: the BullMQ one by its id, each Bull repeatable by
    // its `repeat` key (as Bull's removeRepeatableByKey takes it), URL-encoded.
    assert_eq!(page.body.matches("/remove\"").count(), 5, "{}", page.body);
    assert!(
        page.body.contains(
            "/queues/reports/schedulers/nightly%3A%3A%3AEurope%2FParis%3A0%203%20%2A%20%2A%20%2A/remove"
        ),
        "{}",
        page.body
    );
    // Only the BullMQ scheduler may be edited or run now (Bull has no job schedulers).
    for segment in ["/edit\"", "/run\""] {
        assert_eq!(
            page.body.matches(segment).count(),
            1,
            "{segment}: {}",
            page.body
        );
    }
    let armed = ours[0]["nextJobId"].as_str().expect("armed id");
    let digest = armed.split(':').nth(1).expect("digest");
    assert!(page.body.contains(digest), "a link to the armed job");
    let job = dash
        .json(&format!(
            "{BASE}/api/queues/reports/jobs/{}",
            armed.replace(':', "%3A")
        ))
        .await;
    assert_eq!(job["state"], "delayed", "{job}");
    unchanged(&prefix, &before);
}

#[tokio::test]
async fn bull_metrics_are_read_as_a_bull_worker_records_them() {
    let prefix = seed().await;
    let theirs = bull(&prefix, "metrics", Some("bull-metrics"));
    let before = dump_all(&prefix);
    let dash = dashboard(&prefix, &[]).await;
    let ours = dash
        .json(&format!(
            "{BASE}/api/queues/bull-metrics/metrics?minutes=60"
        ))
        .await;
    assert_eq!(ours["library"], "bull", "{ours}");
    assert_eq!(ours["recorded"], true, "{ours}");
    for outcome in ["completed", "failed"] {
        let meta = &theirs[outcome]["meta"];
        assert_eq!(ours[outcome]["total"], meta["count"], "{outcome}: {ours}");
        let recorded: u64 = theirs[outcome]["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|v| v.as_str().and_then(|s| s.parse::<u64>().ok()).unwrap_or(0))
            .sum::<u64>()
            + meta["count"].as_u64().unwrap()
            - meta["prevCount"].as_u64().unwrap();
        let per_minute: u64 = ours[outcome]["perMinute"]
            .as_array()
            .expect("perMinute")
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(per_minute, recorded, "{outcome}: {ours} against {theirs}");
    }
    assert_eq!(ours["completed"]["total"], 3);
    assert_eq!(ours["failed"]["total"], 2);
    let page = dash
        .get(&format!("{BASE}/queues/bull-metrics/metrics"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("as Bull workers record them"),
        "{}",
        page.body
    );

    // A Bull queue whose workers record no metrics says so, and how to turn them on.
    let none = dash
        .json(&format!("{BASE}/api/queues/pre-diagnosis/metrics"))
        .await;
    assert_eq!(
        (&none["library"], &none["recorded"]),
        (&json!("bull"), &json!(false))
    );
    let page = dash
        .get(&format!("{BASE}/queues/pre-diagnosis/metrics"))
        .await;
    assert!(
        page.body.contains("This Bull queue records no metrics"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("metrics: { maxDataPoints"),
        "{}",
        page.body
    );
    assert!(!page.body.contains("new Worker("), "{}", page.body);

    // Prometheus: the library, the Bull states only, and Bull's metrics totals.
    let scrape = dash.get(&format!("{BASE}/metrics")).await;
    assert_eq!(scrape.status, StatusCode::OK);
    let labels =
        |queue: &str| format!("connection=\"default\",prefix=\"{prefix}\",queue=\"{queue}\"");
    for line in [
        format!(
            "bullring_queue_info{{{},library=\"bull\"}} 1",
            labels("pre-diagnosis")
        ),
        format!(
            "bullring_queue_info{{{},library=\"bullmq\"}} 1",
            labels("mq")
        ),
        format!(
            "bullring_queue_completed_total{{{}}} 3",
            labels("bull-metrics")
        ),
        format!(
            "bullring_queue_failed_total{{{}}} 2",
            labels("bull-metrics")
        ),
        format!("bullring_queue_paused{{{}}} 1", labels("bull-paused")),
    ] {
        assert!(scrape.body.contains(&line), "{line} in {}", scrape.body);
    }
    for queue in ["pre-diagnosis", "bull-paused"] {
        let report = bull(&prefix, "report", Some(queue));
        for (state, count) in report["counts"].as_object().expect("counts") {
            let line = format!(
                "bullring_queue_jobs{{{},state=\"{state}\"}} {count}",
                labels(queue)
            );
            assert!(scrape.body.contains(&line), "{line} in {}", scrape.body);
        }
        let prioritized = format!("{},state=\"prioritized\"", labels(queue));
        assert!(
            !scrape.body.contains(&prioritized),
            "Bull has no prioritized state"
        );
    }
    assert!(!scrape.body.contains(&format!(
        "bullring_queue_completed_total{{{}}}",
        labels("pre-diagnosis")
    )));
    unchanged(&prefix, &before);
}

#[tokio::test]
async fn stalled_and_retried_jobs_and_the_waiting_order_are_as_bulls_own() {
    let prefix = seed().await;
    let stalled = bull(&prefix, "stall", Some("bull-stall"));
    let dash = dashboard(&prefix, &[]).await;
    for queue in ["bull-stall", "bull-stall-retried"] {
        let report = bull(&prefix, "report", Some(queue));
        assert_eq!(report["counts"]["waiting"], 1, "{report}");
        jobs_as_bull_reports_them(&dash, queue, &report).await;
    }
    // Bull's `getJob` does not report `stalledCounter`; its hash does.
    let id = stalled["id"].as_str().expect("id");
    let ours = dash
        .json(&format!("{BASE}/api/queues/bull-stall/jobs/{id}"))
        .await;
    let stored: String = redis::cmd("HGET")
        .arg(format!("{prefix}:bull-stall:{id}"))
        .arg("stalledCounter")
        .query(&mut conn())
        .expect("HGET");
    assert_eq!(stored, "1");
    assert_eq!(ours["stalledCounter"], 1, "{ours}");
    assert_eq!(ours["state"], "waiting", "{ours}");
    let retried = dash
        .json(&format!(
            "{BASE}/api/queues/bull-stall-retried/jobs/retried-1"
        ))
        .await;
    assert!(retried["retriedOn"].as_i64().is_some(), "{retried}");
    assert_eq!(retried["attemptsMade"], 1, "{retried}");

    // The waiting tab, oldest first, is the order a Bull worker takes the jobs in (priority
    // jobs and a LIFO job among them).
    let page = dash
        .json(&format!(
            "{BASE}/api/queues/pre-diagnosis/jobs?state=waiting&order=oldest&per_page=100"
        ))
        .await;
    let listed: Vec<Value> = page["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|job| job["id"].clone())
        .collect();
    let worked = bull(&prefix, "work", Some("pre-diagnosis"));
    assert_eq!(listed.len(), 8, "{page}");
    assert_eq!(&Value::Array(listed), &worked["processed"], "{worked}");
}

/// The first `counts` event of the live stream.
async fn first_counts(dash: &Dashboard) -> Value {
    let request = Request::get(format!("{BASE}/events"))
        .body(Body::empty())
        .expect("request");
    let response = dash.router.clone().oneshot(request).await.expect("events");
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.into_body();
    let mut buffer = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(start) = buffer.find("event: counts") {
            let block = &buffer[start..];
            if let Some(end) = block.find("\n\n") {
                let data: String = block[..end]
                    .lines()
                    .filter_map(|line| line.strip_prefix("data:"))
                    .map(str::trim_start)
                    .collect();
                return serde_json::from_str(&data).expect("JSON data");
            }
        }
        let left = deadline.saturating_duration_since(Instant::now());
        let frame = tokio::time::timeout(left, body.frame())
            .await
            .expect("a counts event before the deadline")
            .expect("the stream ended")
            .expect("a frame");
        if let Ok(bytes) = frame.into_data() {
            buffer.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

/// `bullring` with `args` and a config file for `prefix`: (success, stdout, stderr).
fn cli(prefix: &str, toml: &str, args: &[&str]) -> (bool, String, String) {
    let dir = std::env::temp_dir().join(format!("bullring-{prefix}"));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let file = dir.join("bullring.toml");
    let text = format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n{toml}",
        redis().url
    );
    std::fs::write(&file, text).expect("config");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_bullring"))
        .args(args)
        .arg("--config")
        .arg(&file)
        .env_remove("REDIS_URL")
        .output()
        .expect("bullring");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_counts_and_the_terminal_commands_read_bull_queues_as_bull() {
    let prefix = seed().await;
    let before = dump_all(&prefix);
    let cancel = CancellationToken::new();
    let (dash, _state) = Dashboard::with_state(&redis().url, &[&prefix], BASE, |state| {
        state.with_live_updates(Some(Duration::from_millis(100)), &cancel)
    })
    .await;
    let live = first_counts(&dash).await;
    for queue in ["pre-diagnosis", "bull-paused"] {
        let report = bull(&prefix, "report", Some(queue));
        let ours = summary(&live, queue);
        assert_eq!(ours["library"], "bull", "{ours}");
        assert_eq!(ours["paused"], report["isPaused"], "{ours}");
        for (state, count) in report["counts"].as_object().expect("counts") {
            assert_eq!(&ours["counts"][state], count, "{queue} {state}: {ours}");
        }

        // `bullring stats QUEUE` and `bullring jobs QUEUE STATE`, declared or not.
        for toml in [
            "",
            &format!("[[queues]]\nname = \"{queue}\"\nlibrary = \"bull\"\n"),
        ] {
            let (ok, out, err) = cli(&prefix, toml, &["stats", queue, "--json"]);
            assert!(ok, "{err}");
            let stats: Value = serde_json::from_str(&out).expect("stats JSON");
            assert_eq!(stats[0]["library"], "bull", "{out}");
            for (state, count) in report["counts"].as_object().expect("counts") {
                assert_eq!(&stats[0]["counts"][state], count, "{queue} {state}: {out}");
            }
            for state in ["waiting", "paused", "delayed", "failed", "completed"] {
                let (ok, out, err) = cli(&prefix, toml, &["jobs", queue, state, "--json"]);
                assert!(ok, "{err}");
                let listed: Value = serde_json::from_str(&out).expect("jobs JSON");
                assert_eq!(listed["library"], "bull");
                let ids: Vec<&Value> = listed["jobs"]
                    .as_array()
                    .expect("jobs")
                    .iter()
                    .map(|job| &job["id"])
                    .collect();
                let expected: Vec<&Value> = report["ids"][state]["desc"]
                    .as_array()
                    .expect("ids")
                    .iter()
                    .collect();
                assert_eq!(ids, expected, "{queue} {state}");
                assert_eq!(listed["total"], report["counts"][state], "{queue} {state}");
            }
        }
    }
    let (ok, _, err) = cli(&prefix, "", &["jobs", "pre-diagnosis", "prioritized"]);
    assert!(!ok);
    assert!(
        err.contains("Bull queue, which has no prioritized jobs"),
        "{err}"
    );
    let (ok, out, err) = cli(&prefix, "", &["stats"]);
    assert!(ok, "{err}");
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{prefix}:bull-paused ")))
        .unwrap_or_else(|| panic!("{out}"));
    assert!(line.contains(" Bull ") && line.ends_with("paused"), "{out}");
    assert!(out.contains("LIBRARY"), "{out}");
    cancel.cancel();
    unchanged(&prefix, &before);
}

#[tokio::test]
async fn bull_schedulers_and_metrics_pages_cost_what_bullmq_pages_cost() {
    let prefix = seed().await;
    bull(&prefix, "repeat", Some("reports"));
    bull(&prefix, "metrics", Some("bull-metrics"));
    bullmq_scheduler(&prefix).await;
    // A BullMQ queue with finished jobs and metrics, run by Node's BullMQ worker.
    node(
        "outcomes.js",
        &[
            "--redis",
            &redis().url,
            "--prefix",
            &prefix,
            "--bullmq",
            "6",
            "--queue",
            "mq-done",
            "--fail",
            "2",
            "--complete",
            "3",
        ],
    );
    let dash = dashboard(&prefix, &[]).await;
    let mut costs = BTreeMap::new();
    for queue in ["reports", "mq", "bull-metrics", "mq-done", "pre-diagnosis"] {
        let mut trips = Vec::new();
        for page in ["schedulers", "metrics"] {
            for uri in [
                format!("{BASE}/queues/{queue}/{page}"),
                format!("{BASE}/api/queues/{queue}/{page}"),
            ] {
                let (n, reply) = dash.round_trips(dash.get(&uri)).await;
                assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
                trips.push(n);
            }
        }
        costs.insert(queue, trips);
    }
    // Repeatables (4 against 1) and finished jobs (Bull's against BullMQ's) cost the same.
    assert_eq!(costs["reports"][..2], costs["mq"][..2], "{costs:?}");
    assert_eq!(costs["bull-metrics"], costs["mq-done"], "{costs:?}");
    assert_eq!(costs["bull-metrics"], costs["pre-diagnosis"], "{costs:?}");
    // The queue's summary, its repeat set, then the armed jobs.
    assert_eq!(costs["reports"][..2], [3, 3], "{costs:?}");
    let (all, reply) = dash
        .round_trips(dash.get(&format!("{BASE}/schedulers")))
        .await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        all, 2,
        "every queue's schedulers, Bull's included: {costs:?}"
    );
}
