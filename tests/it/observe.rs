//! Flows, job schedulers, metrics, workers and Prometheus, against what the real npm `bullmq`
//! (5.x and 6.x) wrote and reports with its own `getFlow`, `getState`, `getJobSchedulers`,
//! `getMetrics` and `getWorkers` (see tests/node/observe.js).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};

use serde_json::Value;

use crate::support::{Dashboard, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// observe.js, running: its report, and its stdin (closing it lets the script end).
struct Observer {
    report: Value,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Observer {
    fn start(prefix: &str, major: &str) -> Observer {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/node");
        assert!(
            dir.join("node_modules").is_dir(),
            "tests/node/node_modules is missing: run the tests with `bash tests/run`"
        );
        let mut child = Command::new("node")
            .arg("observe.js")
            .args([
                "--redis",
                &redis().url,
                "--prefix",
                prefix,
                "--bullmq",
                major,
            ])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node must be installed");
        let stdin = child.stdin.take();
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read observe.js output");
        let report: Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("observe.js printed no JSON ({e}): {line:?}"));
        assert_eq!(report["ok"], true, "{report}");
        Observer {
            report,
            child,
            stdin,
        }
    }

    /// Let the script close its worker and exit; it must succeed.
    fn finish(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().expect("wait for observe.js");
        assert!(status.success(), "observe.js exited with {status}");
    }
}

/// (queue, id, [children]) of a flow tree, children sorted by id, as both sides print them.
fn shape(node: &Value) -> String {
    let mut children: Vec<String> = node["children"]
        .as_array()
        .map(|c| c.iter().map(shape).collect())
        .unwrap_or_default();
    children.sort();
    format!(
        "{}/{}[{}]",
        node["queue"].as_str().unwrap_or("?"),
        node["id"].as_str().unwrap_or("?"),
        children.join(",")
    )
}

fn flow_states(node: &Value, out: &mut Vec<(String, String)>) {
    out.push((
        node["id"].as_str().unwrap().to_string(),
        node["state"].as_str().unwrap_or("none").to_string(),
    ));
    for child in node["children"].as_array().into_iter().flatten() {
        flow_states(child, out);
    }
}

async fn same_as_node(major: &str) {
    let prefix = unique_prefix(&format!("obs{major}"));
    let observer = Observer::start(&prefix, major);
    let node = observer.report.clone();
    let dash = Dashboard::new(&[&prefix], BASE).await;

    // --- flows: the same tree as getFlow, from any node of it, with getState's states ---
    for (queue, id) in [
        ("obs-root", "root-1"),
        ("obs-leaf", "leaf-ok"),
        ("obs-root", "grand-1"),
    ] {
        let ours = dash
            .json(&format!("{BASE}/api/queues/{queue}/jobs/{id}/flow"))
            .await;
        assert_eq!(shape(&ours), shape(&node["flow"]), "flow from {queue}/{id}");
        let mut states = Vec::new();
        flow_states(&ours, &mut states);
        for (id, state) in states {
            assert_eq!(state, node["states"][&id], "state of {id}");
        }
    }
    let below = dash
        .json(&format!(
            "{BASE}/api/queues/obs-leaf/jobs/leaf-parent/flow?from=self"
        ))
        .await;
    assert_eq!(shape(&below), "obs-leaf/leaf-parent[obs-root/grand-1[]]");
    assert_eq!(below["pendingCount"], 1);

    let page = dash
        .get(&format!("{BASE}/queues/obs-leaf/jobs/leaf-ok/flow"))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    for id in ["root-1", "leaf-ok", "leaf-bad", "leaf-parent", "grand-1"] {
        assert!(
            page.body.contains(&format!("<code>{id}</code>")),
            "{id} on the flow page"
        );
    }
    // The parent waits on 2 children (leaf-parent and the ignored failure do not count alike).
    let root = dash
        .json(&format!("{BASE}/api/queues/obs-root/jobs/root-1"))
        .await;
    let pending = root["children"]["pendingCount"].as_u64().unwrap();
    let tab = dash
        .json(&format!(
            "{BASE}/api/queues/obs-root/jobs?state=waiting-children"
        ))
        .await;
    assert_eq!(tab["jobs"][0]["id"], "root-1");
    assert_eq!(tab["jobs"][0]["pendingChildren"].as_u64(), Some(pending));
    let tab_page = dash
        .get(&format!("{BASE}/queues/obs-root?state=waiting-children"))
        .await;
    assert!(tab_page.body.contains(&format!("{pending} pending")));
    // A child's page: its parent with the parent's state, and a link to the flow.
    let child = dash
        .get(&format!("{BASE}/queues/obs-leaf/jobs/leaf-bad"))
        .await;
    assert!(child.body.contains("obs-root / root-1"), "{}", child.body);
    assert!(child.body.contains("badge state-waiting-children"));
    assert!(child.body.contains("/queues/obs-leaf/jobs/leaf-bad/flow"));
    // The parent's page: processed (with its value), failed (with its reason), pending.
    let parent = dash
        .get(&format!("{BASE}/queues/obs-root/jobs/root-1"))
        .await;
    assert!(parent.body.contains("obs-leaf / leaf-ok"));
    assert!(
        parent.body.contains("{&#34;rows&#34;:7}"),
        "processed value shown"
    );
    assert!(parent.body.contains("leaf exploded"), "failed reason shown");
    assert!(parent.body.contains("obs-leaf / leaf-parent"));

    // --- schedulers: what getJobSchedulers lists, with legacy ones marked ---
    let ours = dash
        .json(&format!("{BASE}/api/queues/obs-sched/schedulers"))
        .await;
    let ours = ours["schedulers"].as_array().unwrap().clone();
    let theirs = node["schedulers"].as_array().unwrap();
    let keys = |list: &[Value]| -> BTreeSet<String> {
        list.iter()
            .map(|s| s["key"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(keys(&ours), keys(theirs));
    for t in theirs {
        let o = ours.iter().find(|o| o["key"] == t["key"]).unwrap();
        for field in ["name", "next", "pattern", "every", "tz", "iterationCount"] {
            assert_eq!(o[field], t[field], "{field} of scheduler {}", t["key"]);
        }
        assert_eq!(o["legacy"], t["iterationCount"].is_null(), "{}", t["key"]);
    }
    let all = dash.json(&format!("{BASE}/api/schedulers")).await;
    assert_eq!(all["schedulers"].as_array().unwrap().len(), theirs.len());
    let page = dash.get(&format!("{BASE}/schedulers")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("*/10 * * * * *") && page.body.contains("Europe/Paris"));
    assert!(page.body.contains("every 5 s"));
    // One handler serves the all-queues and the one-queue routes: the queue's own page lists its
    // schedulers; a queue that does not exist is a 404 and an unknown prefix a 400, on pages and
    // API alike (for workers too).
    let scoped = dash
        .get(&format!("{BASE}/queues/obs-sched/schedulers"))
        .await;
    assert_eq!(scoped.status, 200);
    assert!(scoped.body.contains("Europe/Paris"));
    for path in [
        "queues/no-such-queue/schedulers",
        "api/queues/no-such-queue/schedulers",
        "queues/no-such-queue/workers",
        "api/queues/no-such-queue/workers",
    ] {
        let missing = dash.get(&format!("{BASE}/{path}")).await;
        assert_eq!(missing.status, 404, "{path}: {}", missing.body);
    }
    for path in ["queues/obs-sched/schedulers", "api/queues/obs-leaf/workers"] {
        let bad = dash.get(&format!("{BASE}/{path}?prefix=nope")).await;
        assert_eq!(bad.status, 400, "{path}: {}", bad.body);
    }
    // The next run links to the delayed job the scheduler made.
    let tick = ours.iter().find(|s| s["key"] == "tick").unwrap();
    let next_job = tick["nextJobId"].as_str().unwrap();
    let job = dash
        .json(&format!("{BASE}/api/queues/obs-sched/jobs/{next_job}"))
        .await;
    assert_eq!(job["state"], "delayed");
    assert_eq!(job["name"], "tick-job");

    // --- metrics: BullMQ's counts, per minute and in total ---
    let metrics = dash
        .json(&format!("{BASE}/api/queues/obs-metrics/metrics?minutes=60"))
        .await;
    assert_eq!(metrics["recorded"], true);
    for outcome in ["completed", "failed"] {
        let count = node["metrics"][outcome]["meta"]["count"].as_u64().unwrap();
        assert_eq!(metrics[outcome]["total"].as_u64(), Some(count), "{outcome}");
        let per_minute: u64 = metrics[outcome]["perMinute"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(per_minute, count, "{outcome} in the last hour");
    }
    assert_eq!(metrics["timings"]["samples"], 6);
    assert!(metrics["timings"]["processingP95"].is_number());
    let page = dash
        .get(&format!("{BASE}/queues/obs-metrics/metrics"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<svg class=\"chart\""));
    assert!(page.body.contains("4 completed, 2 failed"));
    let none = dash.get(&format!("{BASE}/queues/obs-idle/metrics")).await;
    assert!(none.body.contains("No metrics recorded"));
    assert!(none.body.contains("metrics: { maxDataPoints"));
    let bad = dash
        .get(&format!("{BASE}/api/queues/obs-metrics/metrics?minutes=0"))
        .await;
    assert_eq!(bad.status, 400);

    // --- workers: getWorkers' connections, and the overview's "no worker" flag ---
    let ours = dash
        .json(&format!("{BASE}/api/queues/obs-leaf/workers"))
        .await;
    let addrs = |list: &Value| -> BTreeSet<String> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|w| w["addr"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(addrs(&ours["workers"]), addrs(&node["workers"]["obs-leaf"]));
    assert!(
        ours["workers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["name"] == "observer-1")
    );
    assert_eq!(node["workers"]["obs-idle"], 0);
    let overview = dash.get(&format!("{BASE}/")).await;
    let idle_row = overview
        .body
        .split("<tr ")
        .find(|row| row.contains("data-name=\"obs-idle\""))
        .expect("obs-idle row");
    assert!(idle_row.contains("no worker"), "{idle_row}");
    let leaf_row = overview
        .body
        .split("<tr ")
        .find(|row| row.contains("data-name=\"obs-leaf\""))
        .expect("obs-leaf row");
    assert!(!leaf_row.contains("no worker"));
    let workers_page = dash.get(&format!("{BASE}/workers")).await;
    assert!(workers_page.body.contains("observer-1"));

    // --- Prometheus: parses, and says what the API says ---
    let scrape = dash.get(&format!("{BASE}/metrics")).await;
    assert_eq!(scrape.status, 200);
    assert!(
        scrape.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain; version=0.0.4")
    );
    let lines = scrape.body.lines().map(|l| Ok(l.to_string()));
    let parsed = prometheus_parse::Scrape::parse(lines).expect("valid Prometheus text");
    let value = |name: &str, queue: &str, state: Option<&str>| -> f64 {
        let sample = parsed
            .samples
            .iter()
            .find(|s| {
                s.metric == name
                    && s.labels.get("queue") == Some(queue)
                    && s.labels.get("prefix") == Some(prefix.as_str())
                    && state.is_none_or(|st| s.labels.get("state") == Some(st))
            })
            .unwrap_or_else(|| panic!("no {name} for {queue} {state:?}"));
        match sample.value {
            prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Untyped(v) => v,
            _ => panic!("unexpected value type"),
        }
    };
    let counts = dash.json(&format!("{BASE}/api/queues")).await;
    for q in counts["queues"].as_array().unwrap() {
        let name = q["name"].as_str().unwrap();
        for (state, n) in q["counts"].as_object().unwrap() {
            assert_eq!(
                value("bullring_queue_jobs", name, Some(state)),
                n.as_f64().unwrap(),
                "{name} {state}"
            );
        }
    }
    assert_eq!(
        value("bullring_queue_completed_total", "obs-metrics", None),
        4.0
    );
    assert_eq!(
        value("bullring_queue_failed_total", "obs-metrics", None),
        2.0
    );
    assert_eq!(value("bullring_queue_workers", "obs-idle", None), 0.0);
    assert!(value("bullring_queue_workers", "obs-leaf", None) >= 1.0);
    assert_eq!(value("bullring_queue_paused", "obs-leaf", None), 0.0);
    let (trips, _) = dash.round_trips(dash.get(&format!("{BASE}/metrics"))).await;
    assert_eq!(trips, 1, "one scrape, one round trip");

    // --- removing a scheduler goes through the engine; Node no longer lists it ---
    let remove = |id: &str| {
        let uri = format!("{BASE}/api/queues/obs-sched/schedulers/{id}/remove");
        axum::http::Request::post(uri)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    let reply = tower::ServiceExt::oneshot(dash.router.clone(), remove("beat"))
        .await
        .unwrap();
    assert_eq!(reply.status(), 200);
    let reply = tower::ServiceExt::oneshot(dash.router.clone(), remove("no-such"))
        .await
        .unwrap();
    assert_eq!(reply.status(), 404);
    let after = node_report(&prefix, major, "obs-sched");
    let listed: BTreeSet<String> = after["queues"][0]["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap().to_string())
        .collect();
    assert!(
        !listed.contains("beat") && listed.contains("tick"),
        "{listed:?}"
    );

    observer.finish();
}

/// report.js about one queue: what Node's own getters say now.
fn node_report(prefix: &str, major: &str, queue: &str) -> Value {
    let queues = format!("{prefix}/{queue}");
    crate::interop::node(
        "report.js",
        &[
            "--redis",
            &redis().url,
            "--prefix",
            prefix,
            "--bullmq",
            major,
            "--queues",
            &queues,
        ],
    )
}

/// A parent `parent-1` in queue `queue` with `children` pending children (job keys only).
fn fan_out(prefix: &str, queue: &str, children: usize) {
    let mut conn = crate::support::conn();
    let parent = format!("{prefix}:{queue}:parent-1");
    let mut pipe = redis::pipe();
    pipe.cmd("HSET")
        .arg(&parent)
        .arg("name")
        .arg("fan-out")
        .arg("timestamp")
        .arg(1)
        .arg("data")
        .arg("{}");
    pipe.cmd("ZADD")
        .arg(format!("{prefix}:{queue}:waiting-children"))
        .arg(1)
        .arg("parent-1");
    pipe.cmd("SET").arg(format!("{prefix}:{queue}:id")).arg(1);
    for chunk in (0..children).collect::<Vec<_>>().chunks(1000) {
        let keys: Vec<String> = chunk
            .iter()
            .map(|n| format!("{prefix}:part:c{n}"))
            .collect();
        pipe.cmd("SADD")
            .arg(format!("{parent}:dependencies"))
            .arg(keys);
    }
    let _: () = pipe.query(&mut conn).unwrap();
}

/// A parent with 10,000 children: the flow page shows the first 50 with a "more" link, and
/// costs the same round trips as a flow of three.
#[tokio::test]
async fn a_flow_with_ten_thousand_children_is_bounded() {
    let prefix = unique_prefix("bigflow");
    fan_out(&prefix, "big", 10_000);
    fan_out(&prefix, "small", 3);
    let dash = Dashboard::new(&[&prefix], BASE).await;

    let uri = format!("{BASE}/queues/big/jobs/parent-1/flow");
    let (big_trips, page) = dash.round_trips(dash.get(&uri)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("more: 50 of 10000 children shown"),
        "{}",
        page.body
    );
    assert_eq!(page.body.matches("<li>").count(), 51);
    let tree = dash
        .json(&format!("{BASE}/api/queues/big/jobs/parent-1/flow"))
        .await;
    assert_eq!(tree["pendingCount"], 10_000);
    assert_eq!(tree["children"].as_array().unwrap().len(), 50);
    assert_eq!(tree["more"], true);

    let uri = format!("{BASE}/queues/small/jobs/parent-1/flow");
    let (small_trips, page) = dash.round_trips(dash.get(&uri)).await;
    assert_eq!(page.body.matches("<li>").count(), 4);
    assert_eq!(
        big_trips, small_trips,
        "round trips do not grow with the children"
    );
}

#[tokio::test]
async fn flows_schedulers_metrics_and_workers_match_bullmq_5() {
    same_as_node("5").await;
}

#[tokio::test]
async fn flows_schedulers_metrics_and_workers_match_bullmq_6() {
    same_as_node("6").await;
}
