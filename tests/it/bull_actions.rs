//! Actions on Bull 3/4 queues (npm `bull` 4.16.5, tests/node/bull_twin.js). Twin queues are
//! seeded the same way by the real Bull; bullring acts on one through its API, Bull's own method
//! acts on the other, and after every step the two hold the same keys, of the same types, with
//! the same members in the same order and the same job hashes (timestamps aside), no key only
//! BullMQ writes, every job in exactly one state, and the same pub/sub messages were published.
//! Real Bull workers then process what bullring retried, promoted and resumed, in Bull's order;
//! a paused queue's worker takes nothing; bad input leaves every key byte for byte as it was.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::mpsc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::interop::node;
use crate::support::{Dashboard, Reply, conn, redis, unique_prefix};

const BASE: &str = "/admin/queues";
/// Keys only BullMQ writes: none may appear in a Bull queue.
const BULLMQ_ONLY: [&str; 6] = [
    "events",
    "marker",
    "prioritized",
    "pc",
    "waiting-children",
    "de",
];
/// Where a job of a Bull queue can be.
const CONTAINERS: [&str; 6] = ["wait", "paused", "active", "delayed", "completed", "failed"];

/// Run a step of bull_twin.js.
fn twin(prefix: &str, step: &str, queue: &str, extra: &[&str]) -> Value {
    let url = redis().url.clone();
    let mut args = vec![
        "--redis",
        url.as_str(),
        "--prefix",
        prefix,
        "--step",
        step,
        "--queue",
        queue,
    ];
    args.extend(extra);
    let out = node("bull_twin.js", &args);
    assert_eq!(out["ok"], true, "bull_twin.js {step}: {out}");
    assert_eq!(out["bull"], "4.16.5", "{out}");
    out
}

/// Run a step of bull.js (report, work).
fn bull(prefix: &str, step: &str, queue: &str) -> Value {
    let url = redis().url.clone();
    let args = [
        "--redis",
        url.as_str(),
        "--prefix",
        prefix,
        "--step",
        step,
        "--queue",
        queue,
    ];
    let out = node("bull.js", &args);
    assert_eq!(out["ok"], true, "bull.js {step}: {out}");
    out
}

async fn post(dash: &Dashboard, path: &str, body: Value) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{BASE}/api/{path}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    dash.send(request).await
}

async fn act(dash: &Dashboard, path: &str, body: Value) -> Value {
    let reply = post(dash, path, body).await;
    assert_eq!(reply.status, StatusCode::OK, "POST {path}: {}", reply.body);
    serde_json::from_str(&reply.body).expect("JSON")
}

/// A repeatable's armed job id, `repeat:<md5>:<run-at>`, without its run-at (which depends on
/// when each twin was seeded).
fn normal_id(id: &str) -> String {
    match id.strip_prefix("repeat:") {
        Some(rest) => match rest.split_once(':') {
            Some((hash, _)) => format!("repeat:{hash}:*"),
            None => id.to_string(),
        },
        None => id.to_string(),
    }
}

/// Whether `suffix` (a key without `prefix:queue:`) is a job's hash.
fn is_job(suffix: &str) -> bool {
    let own = [
        "id",
        "meta",
        "meta-paused",
        "wait",
        "paused",
        "active",
        "priority",
        "delayed",
        "completed",
        "failed",
        "stalled",
        "stalled-check",
        "limiter",
        "repeat",
    ];
    !own.contains(&suffix)
        && !suffix.ends_with(":logs")
        && !suffix.ends_with(":lock")
        && !suffix.starts_with("metrics")
        && (suffix.starts_with("repeat:") || !suffix.contains(':'))
}

/// A job hash without what depends on the time it was written.
fn normal_job(id: &str, hash: BTreeMap<String, String>) -> Value {
    let repeat = id.starts_with("repeat:");
    let mut out = serde_json::Map::new();
    for (field, value) in hash {
        if ["timestamp", "processedOn", "finishedOn", "retriedOn"].contains(&field.as_str())
            || (repeat && field == "delay")
        {
            continue;
        }
        let mut value = match field.as_str() {
            "data" | "opts" | "returnvalue" | "stacktrace" => {
                serde_json::from_str(&value).unwrap_or(Value::String(value))
            }
            _ => Value::String(value),
        };
        if field == "opts"
            && let Value::Object(opts) = &mut value
        {
            opts.remove("timestamp");
            if repeat {
                opts.remove("delay");
                opts.remove("prevMillis");
            }
        }
        out.insert(field, value);
    }
    Value::Object(out)
}

/// Every key of `queue`, by its name without `prefix:queue:`: its type and contents, with
/// what depends on the time left out.
fn dump(prefix: &str, queue: &str) -> BTreeMap<String, Value> {
    let mut conn = conn();
    let start = format!("{prefix}:{queue}:");
    let keys: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut conn, format!("{start}*"))
            .expect("SCAN")
            .collect::<Result<_, _>>()
            .expect("SCAN keys");
    let mut out = BTreeMap::new();
    for key in keys {
        let suffix = key[start.len()..].to_string();
        // A Bull worker's stalled-job timer (set with a 30 s expiry when a worker starts): the
        // seeding workers of the two queues start at different times, so it can have expired
        // on one and not yet on the other; no action reads or writes it.
        if suffix == "stalled-check" {
            continue;
        }
        let kind: String = redis::cmd("TYPE").arg(&key).query(&mut conn).expect("TYPE");
        let ids =
            |items: Vec<String>| -> Vec<String> { items.iter().map(|i| normal_id(i)).collect() };
        let value = match kind.as_str() {
            "string" if suffix.ends_with(":lock") => json!("*"),
            "string" => json!(
                redis::cmd("GET")
                    .arg(&key)
                    .query::<String>(&mut conn)
                    .expect("GET")
            ),
            "list" => json!(ids(redis::cmd("LRANGE")
                .arg(&key)
                .arg(0)
                .arg(-1)
                .query(&mut conn)
                .expect("LRANGE"))),
            "set" => json!(
                redis::cmd("SMEMBERS")
                    .arg(&key)
                    .query::<BTreeSet<String>>(&mut conn)
                    .expect("SMEMBERS")
            ),
            "zset" if suffix == "priority" => json!(
                redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .arg("WITHSCORES")
                    .query::<Vec<(String, String)>>(&mut conn)
                    .expect("ZRANGE")
            ),
            "zset" => {
                let mut members = ids(redis::cmd("ZRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .query(&mut conn)
                    .expect("ZRANGE"));
                // Finished jobs are scored by their finish time: jobs that finished in the same
                // millisecond are ordered by id, so only the members count there.
                if suffix == "completed" || suffix == "failed" {
                    members.sort();
                }
                json!(members)
            }
            "hash" => {
                let hash: BTreeMap<String, String> = redis::cmd("HGETALL")
                    .arg(&key)
                    .query(&mut conn)
                    .expect("HGETALL");
                if is_job(&suffix) {
                    normal_job(&suffix, hash)
                } else {
                    json!(hash)
                }
            }
            other => json!(other),
        };
        out.insert(format!("{} {kind}", normal_id(&suffix)), value);
    }
    out
}

/// The ids in each container, and every job hash: each job is in exactly one container, and
/// each id in a container has its hash (nothing lost, nothing duplicated). Returns every id.
fn check_jobs(prefix: &str, queue: &str) -> BTreeSet<String> {
    let dumped = dump(prefix, queue);
    let mut placed: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for container in CONTAINERS {
        for kind in ["list", "zset"] {
            if let Some(Value::Array(ids)) = dumped.get(&format!("{container} {kind}")) {
                for id in ids {
                    placed
                        .entry(id.as_str().unwrap_or_default().to_string())
                        .or_default()
                        .push(container);
                }
            }
        }
    }
    let hashes: BTreeSet<String> = dumped
        .keys()
        .filter_map(|k| k.strip_suffix(" hash"))
        .filter(|k| is_job(k))
        .map(String::from)
        .collect();
    for (id, containers) in &placed {
        assert_eq!(
            containers.len(),
            1,
            "{queue}: job {id} is in {containers:?}"
        );
        assert!(hashes.contains(id), "{queue}: job {id} has no hash");
    }
    let placed: BTreeSet<String> = placed.into_keys().collect();
    assert_eq!(placed, hashes, "{queue}: every job hash is in a state");
    for key in dumped.keys() {
        let name = key.split(' ').next().unwrap_or_default();
        assert!(
            !BULLMQ_ONLY.contains(&name),
            "{queue}: a BullMQ-only key {key}"
        );
    }
    if let Some(meta) = dumped.get("meta hash") {
        assert!(
            meta.get("version").is_none() && meta.get("library").is_none(),
            "{meta}"
        );
    }
    placed
}

/// What was published under `prefix`, read until a marker published after the step.
struct Messages {
    rx: mpsc::Receiver<(String, String)>,
    prefix: String,
    marks: u32,
}

impl Messages {
    fn listen(prefix: &str) -> Messages {
        let (tx, rx) = mpsc::channel();
        let (ready_tx, ready_rx) = mpsc::channel();
        let client = redis::Client::open(redis().url.as_str()).expect("client");
        let pattern = format!("{prefix}:*");
        std::thread::spawn(move || {
            let mut conn = client.get_connection().expect("connection");
            let mut pubsub = conn.as_pubsub();
            pubsub.psubscribe(&pattern).expect("PSUBSCRIBE");
            ready_tx.send(()).ok();
            while let Ok(message) = pubsub.get_message() {
                let channel = message.get_channel_name().to_string();
                let payload: String = message.get_payload().unwrap_or_default();
                if tx.send((channel, payload)).is_err() {
                    break;
                }
            }
        });
        ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("subscribed");
        Messages {
            rx,
            prefix: prefix.to_string(),
            marks: 0,
        }
    }

    /// The messages of each queue since the last call, tokens and times left out.
    fn take(&mut self) -> BTreeMap<String, Vec<String>> {
        self.marks += 1;
        let mark = format!("{}:~mark", self.prefix);
        let _: i64 = redis::cmd("PUBLISH")
            .arg(&mark)
            .arg(self.marks)
            .query(&mut conn())
            .expect("PUBLISH");
        let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
        loop {
            let (channel, payload) = self
                .rx
                .recv_timeout(Duration::from_secs(20))
                .expect("the mark");
            if channel == mark {
                if payload == self.marks.to_string() {
                    return out;
                }
                continue;
            }
            let rest = &channel[self.prefix.len() + 1..];
            let (queue, name) = rest.split_once(':').unwrap_or((rest, ""));
            let name = name.split('@').next().unwrap_or_default();
            let payload = if name == "delayed" {
                "*".to_string()
            } else {
                normal_id(&payload)
            };
            out.entry(queue.to_string())
                .or_default()
                .push(format!("{name} {payload}"));
        }
    }
}

/// Bull's and bullring's twin queues hold the same after a step, and published the same.
fn same(prefix: &str, step: &str, messages: &mut Messages) {
    let ours = dump(prefix, "ours");
    let theirs = dump(prefix, "twin");
    assert_eq!(
        ours, theirs,
        "after {step}: bullring (left) and Bull (right)"
    );
    check_jobs(prefix, "ours");
    let published = messages.take();
    assert_eq!(
        published.get("ours"),
        published.get("twin"),
        "after {step}: what bullring (left) and Bull (right) published"
    );
}

#[tokio::test]
async fn every_action_leaves_what_bulls_own_method_leaves() {
    let prefix = unique_prefix("bullw");
    twin(&prefix, "seed", "ours,twin", &[]);
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let mut messages = Messages::listen(&prefix);
    same(&prefix, "seeding", &mut messages);
    let before = check_jobs(&prefix, "ours");
    assert_eq!(before.len(), 15, "{before:?}");

    let repeatables = twin(&prefix, "repeatables", "ours", &[]);
    let repeat_key = repeatables["repeatables"][0]["key"]
        .as_str()
        .expect("key")
        .to_string();
    let add =
        |name: &str, n: u64, opts: Value| json!({"name": name, "data": {"n": n}, "opts": opts});
    let added = [
        add(
            "added",
            20,
            json!({"priority": 2, "attempts": 3, "backoff": 2000}),
        ),
        add(
            "added",
            21,
            json!({"delay": 5_400_000, "jobId": "add-later"}),
        ),
        add("added", 22, json!({"lifo": true, "jobId": 7001})),
        add("added", 23, json!({"jobId": "order-42"})),
    ];
    // (what bullring is asked, what Bull is asked) per step.
    let mut steps: Vec<(String, Value, Vec<String>)> = vec![
        (
            "queues/ours/jobs/fail-1/retry".into(),
            json!({}),
            vec!["retry".into(), "fail-1".into()],
        ),
        (
            "queues/ours/jobs/later-p/promote".into(),
            json!({}),
            vec!["promote".into(), "later-p".into()],
        ),
    ];
    for job in &added {
        steps.push((
            "queues/ours/jobs".into(),
            job.clone(),
            vec!["add".into(), String::new(), job.to_string()],
        ));
    }
    steps.extend([
        (
            "queues/ours/jobs/order-42/data".into(),
            json!({"n": 99}),
            vec![
                "edit".into(),
                "order-42".into(),
                json!({"n": 99}).to_string(),
            ],
        ),
        (
            "queues/ours/jobs/done-1/remove".into(),
            json!({}),
            vec!["remove".into(), "done-1".into()],
        ),
        ("queues/ours/pause".into(), json!({}), vec!["pause".into()]),
    ]);
    for (path, body, theirs) in steps {
        let outcome = act(&dash, &path, body).await;
        let mut extra = vec!["--action", theirs[0].as_str()];
        if let Some(id) = theirs.get(1).filter(|id| !id.is_empty()) {
            extra.extend(["--id", id]);
        }
        if let Some(arg) = theirs.get(2) {
            extra.extend(["--arg", arg]);
        }
        twin(&prefix, "act", "twin", &extra);
        same(&prefix, &path, &mut messages);
        if theirs[0] == "add" {
            assert!(outcome["jobs"][0].is_string(), "{outcome}");
        }
    }
    // While paused, the app's jobs go to `paused`.
    let app = add("app", 30, json!({})).to_string();
    for queue in ["ours", "twin"] {
        twin(&prefix, "act", queue, &["--action", "add", "--arg", &app]);
    }
    let report = bull(&prefix, "report", "ours");
    assert_eq!(report["isPaused"], true);
    assert_eq!(report["counts"]["waiting"], 0, "{report}");
    same(&prefix, "the app's add while paused", &mut messages);

    let later: Vec<(&str, Value, Vec<&str>)> = vec![
        ("queues/ours/resume", json!({}), vec!["--action", "resume"]),
        (
            "queues/ours/clean",
            json!({"state": "failed", "grace_ms": 0, "limit": 1}),
            vec![
                "--action",
                "clean",
                "--arg",
                r#"{"grace":0,"type":"failed","limit":1}"#,
            ],
        ),
        (
            "queues/ours/retry-failed",
            json!({}),
            vec!["--action", "retry-failed"],
        ),
    ];
    for (path, body, extra) in later {
        act(&dash, path, body).await;
        twin(&prefix, "act", "twin", &extra);
        same(&prefix, path, &mut messages);
    }
    let scheduler = format!(
        "queues/ours/schedulers/{}/remove",
        url::form_urlencoded::byte_serialize(repeat_key.as_bytes()).collect::<String>()
    );
    act(&dash, &scheduler, json!({})).await;
    twin(
        &prefix,
        "act",
        "twin",
        &["--action", "remove-repeatable", "--id", &repeat_key],
    );
    same(&prefix, "remove-repeatable", &mut messages);
    for (path, body, extra) in [
        (
            "queues/ours/promote-delayed",
            json!({}),
            vec!["--action", "promote-delayed"],
        ),
        (
            "queues/ours/clean",
            json!({"state": "completed", "grace_ms": 0, "limit": 0}),
            vec![
                "--action",
                "clean",
                "--arg",
                r#"{"grace":0,"type":"completed","limit":0}"#,
            ],
        ),
    ] {
        act(&dash, path, body).await;
        twin(&prefix, "act", "twin", &extra);
        same(&prefix, path, &mut messages);
    }

    // Real Bull workers take every waiting job, retried and promoted ones included, in the
    // same (priority) order on both queues.
    let ours = bull(&prefix, "work", "ours");
    let theirs = bull(&prefix, "work", "twin");
    assert_eq!(ours["processed"], ours["waiting"], "{ours}");
    assert_eq!(
        ours["processed"], theirs["processed"],
        "bullring's (left) and Bull's (right)"
    );
    let processed: Vec<&str> = ours["processed"]
        .as_array()
        .expect("processed")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    for id in [
        "fail-1",
        "fail-3",
        "later-1",
        "later-p",
        "add-later",
        "7001",
        "order-42",
    ] {
        assert!(processed.contains(&id), "{id} in {processed:?}");
        assert_eq!(ours["states"][id], "completed", "{ours}");
    }
    let prio = |id: &str| processed.iter().position(|p| *p == id).expect("processed");
    // Bull's priority order: the priority-1 jobs (one promoted), then the priority-2 ones (one
    // added by bullring), then the others; LIFO jobs first of all.
    let last_urgent = prio("prio-1").max(prio("later-p"));
    assert!(last_urgent < prio("7").min(prio("16")), "{processed:?}");
    assert!(
        prio("7").max(prio("16")) < prio("order-42"),
        "{processed:?}"
    );
    let after = check_jobs(&prefix, "ours");
    let mut expected = before.clone();
    expected.remove("done-1");
    expected.remove("done-2");
    expected.remove("fail-2");
    expected.extend(["16", "add-later", "7001", "20"].map(String::from));
    expected.retain(|id| !id.starts_with("repeat:"));
    assert_eq!(after, expected, "no job lost, none duplicated");
    same(&prefix, "working", &mut messages);

    act(&dash, "queues/ours/obliterate", json!({"force": true})).await;
    twin(&prefix, "act", "twin", &["--action", "obliterate"]);
    same(&prefix, "obliterate", &mut messages);
    assert!(
        dump(&prefix, "ours").is_empty(),
        "{:?}",
        dump(&prefix, "ours")
    );
}

/// Every id of the queue, by Bull's own report (`getJobs` of every state).
fn bull_ids(report: &Value) -> BTreeSet<String> {
    report["ids"]
        .as_object()
        .expect("ids")
        .values()
        .flat_map(|order| order["asc"].as_array().cloned().unwrap_or_default())
        .filter_map(|id| id.as_str().map(String::from))
        .collect()
}

#[tokio::test]
async fn a_paused_bull_queue_stops_bull_workers_and_resuming_lets_them_take_every_job() {
    let prefix = unique_prefix("bullp");
    twin(&prefix, "seed", "q", &[]);
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let before = bull_ids(&bull(&prefix, "report", "q"));

    // Pause all includes Bull queues, with Bull's pause.
    let paused = act(&dash, "pause-all", json!({})).await;
    assert_eq!(paused["count"], 1, "{paused}");
    let app = json!({"name": "app", "data": {"n": 40}, "opts": {}}).to_string();
    let added = twin(&prefix, "act", "q", &["--action", "add", "--arg", &app]);
    let report = bull(&prefix, "report", "q");
    assert_eq!(report["isPaused"], true, "{report}");
    assert_eq!(report["counts"]["waiting"], 0, "{report}");
    assert_eq!(
        report["counts"]["paused"], 7,
        "the app's job went to paused: {report}"
    );
    assert!(
        report["ids"]["paused"]["asc"]
            .as_array()
            .expect("ids")
            .contains(&added["id"])
    );
    // A Bull worker blocks on an empty `wait`: it found nothing to take.
    let idle = twin(&prefix, "idle", "q", &[]);
    assert_eq!(idle["processed"], json!([]), "{idle}");
    assert_eq!(idle["counts"], report["counts"], "{idle}");

    let resumed = act(&dash, "resume-all", json!({})).await;
    assert_eq!(resumed["count"], 1, "{resumed}");
    let worked = bull(&prefix, "work", "q");
    assert_eq!(
        worked["waiting"].as_array().map(Vec::len),
        Some(7),
        "{worked}"
    );
    assert_eq!(worked["processed"], worked["waiting"], "{worked}");
    for id in worked["waiting"].as_array().expect("waiting") {
        assert_eq!(worked["states"][id.as_str().expect("id")], "completed");
    }
    let mut expected = before;
    expected.insert(added["id"].as_str().expect("id").to_string());
    assert_eq!(
        bull_ids(&bull(&prefix, "report", "q")),
        expected,
        "no job lost or added twice"
    );
    check_jobs(&prefix, "q");
}

/// Every key of `queue` with its value (`support::stored`).
fn snapshot(prefix: &str, queue: &str) -> BTreeMap<String, Vec<u8>> {
    let mut conn = conn();
    let keys: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut conn, format!("{prefix}:{queue}:*"))
            .expect("SCAN")
            .collect::<Result<_, _>>()
            .expect("SCAN keys");
    keys.into_iter()
        .map(|key| {
            let value = crate::support::stored(&mut conn, &key);
            (key, value)
        })
        .collect()
}

#[tokio::test]
async fn bad_input_leaves_a_bull_queue_byte_for_byte_as_it_was() {
    let prefix = unique_prefix("bullbad");
    twin(&prefix, "seed", "q", &[]);
    let dash = Dashboard::new(&[&prefix], BASE).await;
    // Two jobs a worker holds.
    let mut c = conn();
    for id in ["order-42", "fail-2"] {
        let _: () = redis::cmd("SET")
            .arg(format!("{prefix}:q:{id}:lock"))
            .arg("a-worker")
            .query(&mut c)
            .expect("SET");
    }
    let before = snapshot(&prefix, "q");
    let add = |opts: Value| json!({"name": "x", "data": {}, "opts": opts});
    let cases: Vec<(&str, Value, StatusCode, &str)> = vec![
        (
            "jobs/done-1/retry",
            json!({}),
            StatusCode::CONFLICT,
            "Bull retries failed jobs only",
        ),
        (
            "jobs/order-42/retry",
            json!({}),
            StatusCode::CONFLICT,
            "is waiting",
        ),
        (
            "jobs/fail-2/retry",
            json!({}),
            StatusCode::CONFLICT,
            "holds its lock",
        ),
        ("jobs/nope/retry", json!({}), StatusCode::NOT_FOUND, "nope"),
        (
            "jobs/order-42/promote",
            json!({}),
            StatusCode::CONFLICT,
            "only delayed",
        ),
        (
            "jobs/order-42/remove",
            json!({}),
            StatusCode::CONFLICT,
            "holds its lock",
        ),
        (
            "jobs/nope/data",
            json!({"a": 1}),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            "jobs",
            add(json!({"parent": {"id": "1", "queue": "x"}})),
            StatusCode::BAD_REQUEST,
            "no flows",
        ),
        (
            "jobs",
            add(json!({"deduplication": {"id": "d"}})),
            StatusCode::BAD_REQUEST,
            "no deduplication",
        ),
        (
            "jobs",
            add(json!({"repeat": {"every": 1000}})),
            StatusCode::BAD_REQUEST,
            "repeatable",
        ),
        (
            "jobs",
            add(json!({"jobId": "a:b"})),
            StatusCode::BAD_REQUEST,
            "':'",
        ),
        (
            "jobs",
            add(json!({"jobId": "meta-paused"})),
            StatusCode::BAD_REQUEST,
            "own keys",
        ),
        (
            "jobs",
            add(json!({"attempts": 0})),
            StatusCode::BAD_REQUEST,
            "at least 1",
        ),
        (
            "jobs",
            add(json!({"priority": "high"})),
            StatusCode::BAD_REQUEST,
            "priority",
        ),
        (
            "jobs",
            add(json!({"bogus": true})),
            StatusCode::BAD_REQUEST,
            "not a Bull job option",
        ),
        (
            "jobs",
            json!({"name": " ", "data": {}}),
            StatusCode::BAD_REQUEST,
            "needs a name",
        ),
        (
            "clean",
            json!({"state": "prioritized", "grace_ms": 0, "limit": 0}),
            StatusCode::BAD_REQUEST,
            "cannot be cleaned",
        ),
        (
            "clean",
            json!({"state": "active", "grace_ms": 0, "limit": 0}),
            StatusCode::BAD_REQUEST,
            "cannot be cleaned",
        ),
        (
            "schedulers/nope:::1000/remove",
            json!({}),
            StatusCode::NOT_FOUND,
            "nope",
        ),
        (
            "bulk",
            json!({"action": "retry", "ids": ["done-1", "order-42", "fail-2"]}),
            StatusCode::OK,
            "Retried 0 of 3",
        ),
        (
            "bulk",
            json!({"action": "remove", "ids": ["order-42"]}),
            StatusCode::OK,
            "Removed 0 of 1",
        ),
    ];
    for (path, body, status, says) in cases {
        let reply = post(&dash, &format!("queues/q/{path}"), body).await;
        assert_eq!(reply.status, status, "{path}: {}", reply.body);
        assert!(reply.body.contains(says), "{path}: {}", reply.body);
        assert_eq!(
            snapshot(&prefix, "q"),
            before,
            "POST {path} changed the queue"
        );
    }
    // With active jobs, obliterate is refused unless forced, before anything is written.
    let _: () = redis::cmd("LPUSH")
        .arg(format!("{prefix}:q:active"))
        .arg("order-42")
        .query(&mut c)
        .expect("LPUSH");
    let before = snapshot(&prefix, "q");
    let reply = post(&dash, "queues/q/obliterate", json!({})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("force"), "{}", reply.body);
    assert_eq!(snapshot(&prefix, "q"), before, "a refused obliterate wrote");
}

#[tokio::test]
async fn drain_keeps_the_pause_and_the_repeatable_and_duplicate_copies_a_job() {
    let prefix = unique_prefix("bulld");
    twin(&prefix, "seed", "q", &[]);
    let dash = Dashboard::new(&[&prefix], BASE).await;

    // A duplicate is a new Bull job with the same name, data and options.
    let copy = act(&dash, "queues/q/jobs/11/duplicate", json!({})).await;
    let copy_id = copy["jobs"][0].as_str().expect("id").to_string();
    let report = bull(&prefix, "report", "q");
    let (original, duplicate) = (&report["jobs"]["11"], &report["jobs"][&copy_id]);
    assert_eq!(duplicate["name"], original["name"], "{report}");
    assert_eq!(duplicate["data"], original["data"]);
    assert_eq!(duplicate["opts"]["backoff"], original["opts"]["backoff"]);
    assert_eq!(duplicate["opts"]["attempts"], 3);
    assert_eq!(duplicate["state"], "waiting");

    act(&dash, "queues/q/pause", json!({})).await;
    // A paused Bull queue's jobs can be cleaned: the page offers Bull's states.
    let page = dash
        .get(&format!("{BASE}/queues/q/actions/clean?state=paused"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(!page.body.contains("prioritized"), "{}", page.body);
    let cleaned = act(
        &dash,
        "queues/q/clean",
        json!({"state": "paused", "grace_ms": 0, "limit": 1}),
    )
    .await;
    assert_eq!(cleaned["count"], 1, "{cleaned}");
    let drained = act(&dash, "queues/q/drain", json!({"delayed": true})).await;
    // 6 waiting (7 with the copy, one cleaned) and 3 delayed; the repeatable's armed run stays.
    assert_eq!(drained["count"], 9, "{drained}");
    let report = bull(&prefix, "report", "q");
    assert_eq!(
        report["isPaused"], true,
        "a drained queue stays paused: {report}"
    );
    for state in ["waiting", "paused"] {
        assert_eq!(report["counts"][state], 0, "{report}");
    }
    assert_eq!(report["counts"]["delayed"], 1, "{report}");
    let armed = report["ids"]["delayed"]["asc"][0].as_str().expect("armed");
    assert!(armed.starts_with("repeat:"), "{armed}");
    let repeatables = twin(&prefix, "repeatables", "q", &[]);
    assert_eq!(repeatables["repeatables"].as_array().map(Vec::len), Some(1));
    assert_eq!(report["counts"]["completed"], 2);
    assert_eq!(report["counts"]["failed"], 3);
    // Every removed job went with its hash: no job is left without a state.
    check_jobs(&prefix, "q");
}

#[tokio::test]
async fn the_demo_writes_bull_queues_bull_reads_back() {
    let prefix = unique_prefix("bulldemo");
    let summary = bullring::demo::seed(&redis().url, &prefix)
        .await
        .expect("demo seed");
    assert_eq!(
        summary.bull_queues,
        bullring::demo::BULL_QUEUES.map(String::from)
    );
    let report = bull(&prefix, "report", bullring::demo::BULL_QUEUE);
    let counts = &report["counts"];
    for (state, n) in [
        ("waiting", 2),
        ("active", 1),
        ("delayed", 2),
        ("completed", 2),
        ("failed", 1),
        ("paused", 0),
    ] {
        assert_eq!(counts[state], n, "{state}: {report}");
    }
    let failed = report["ids"]["failed"]["asc"][0].as_str().expect("failed");
    let job = &report["jobs"][failed];
    assert_eq!(job["attemptsMade"], 3, "{job}");
    assert_eq!(job["stacktrace"].as_array().map(Vec::len), Some(3), "{job}");
    assert_eq!(
        job["opts"]["backoff"],
        json!({"type": "exponential", "delay": 2000})
    );
    assert_eq!(
        job["opts"]["removeOnComplete"],
        json!({"age": 86400, "count": 1000})
    );
    let retrying = &report["jobs"]["4"];
    assert_eq!(
        (retrying["state"].as_str(), &retrying["attemptsMade"]),
        (Some("delayed"), &json!(1)),
        "{report}"
    );
    assert!(
        report["jobs"]["case-7108"]["delay"].as_u64() == Some(3_600_000),
        "{report}"
    );
    let done = report["ids"]["completed"]["asc"][0]
        .as_str()
        .expect("completed");
    assert!(
        report["jobs"][done]["returnvalue"]["findings"].is_array(),
        "{report}"
    );
    let backfill = bull(&prefix, "report", bullring::demo::BULL_PAUSED);
    assert_eq!(backfill["isPaused"], true, "{backfill}");
    assert_eq!(backfill["counts"]["paused"], 2, "{backfill}");
    for queue in bullring::demo::BULL_QUEUES {
        check_jobs(&prefix, queue);
    }
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let listed = dash.json(&format!("{BASE}/api/queues")).await;
    let bull_listed = listed["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .filter(|q| q["library"] == "bull")
        .count();
    assert_eq!(bull_listed, 2, "{listed}");
}

#[tokio::test]
async fn a_bull_queues_declared_defaults_apply_under_the_options_given() {
    let prefix = unique_prefix("bulldef");
    twin(&prefix, "seed", "q", &[]);
    let defaults = bullmq::JobOptions {
        attempts: Some(3),
        backoff: Some(bullmq::types::BackoffStrategy::Exponential(2000)),
        ..bullmq::JobOptions::default()
    };
    let (dash, _) = crate::support::Dashboard::with_state(&redis().url, &[&prefix], BASE, |s| {
        s.with_job_defaults(&[("q".to_string(), defaults)])
    })
    .await;
    let plain = act(
        &dash,
        "queues/q/jobs",
        json!({"name": "x", "opts": {"priority": 1}}),
    )
    .await;
    let own = act(
        &dash,
        "queues/q/jobs",
        json!({"name": "y", "opts": {"attempts": 5}}),
    )
    .await;
    let report = bull(&prefix, "report", "q");
    let opts =
        |outcome: &Value| report["jobs"][outcome["jobs"][0].as_str().expect("id")]["opts"].clone();
    let plain = opts(&plain);
    assert_eq!(plain["attempts"], 3, "{plain}");
    assert_eq!(
        plain["backoff"],
        json!({"type": "exponential", "delay": 2000})
    );
    assert_eq!(plain["priority"], 1);
    assert_eq!(opts(&own)["attempts"], 5, "the options given win");
}
