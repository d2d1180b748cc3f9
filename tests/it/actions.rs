//! Actions against queues written by the real npm `bullmq` (5.x and 6.x): Node writes the jobs
//! (tests/node/actions.js), bullring acts through its JSON API and its HTML forms, then BullMQ's
//! own API (`getState`, `getJobCounts`, `isPaused`, a `Worker`) says what happened. Also: bad
//! input changes nothing (the Redis keys are byte-for-byte the same), and htmx posts are answered
//! without a redirect.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::interop::node;
use crate::support::{Dashboard, Reply, engine_queue, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// Every fixture queue of actions.js.
const QUEUES: [&str; 10] = [
    "jobs", "bulk", "cleaning", "draining", "doomed", "pause-a", "pause-b", "adding", "parents",
    "children",
];

async fn send(dash: &Dashboard, request: Request<Body>) -> Reply {
    dash.send(request).await
}

/// `POST` a raw body with this content type.
async fn post_raw(dash: &Dashboard, uri: &str, content_type: &str, body: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body.to_string()))
        .expect("request");
    send(dash, request).await
}

/// `POST` to the JSON API (no body when `None`).
async fn post_json(dash: &Dashboard, uri: &str, body: Option<Value>) -> Reply {
    let text = body.map(|b| b.to_string()).unwrap_or_default();
    post_raw(dash, uri, "application/json", &text).await
}

/// `POST` to the JSON API, asserting a 200 `{"ok":true}`; gives the outcome.
async fn act(dash: &Dashboard, path: &str, body: Option<Value>) -> Value {
    let uri = format!("{BASE}/api/queues/{path}");
    let reply = post_json(dash, &uri, body).await;
    assert_eq!(reply.status, StatusCode::OK, "POST {uri}: {}", reply.body);
    let outcome: Value = serde_json::from_str(&reply.body).expect("JSON outcome");
    assert_eq!(outcome["ok"], true, "POST {uri}: {outcome}");
    outcome
}

fn form_body(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// `POST` an HTML form, with extra request headers.
async fn post_form(
    dash: &Dashboard,
    uri: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Reply {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Body::from(form_body(fields)))
        .expect("request");
    send(dash, request).await
}

/// The flash cookie a form answer sets (`name=value`).
fn flash_cookie(reply: &Reply) -> String {
    reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bullring_flash="))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no flash cookie in {:?}", reply.headers))
        .to_string()
}

/// Submit a form as a browser without JavaScript: a 303, then the page it leads to shows the
/// one-line message. Gives that page's address.
async fn submit(dash: &Dashboard, uri: &str, fields: &[(&str, &str)], message: &str) -> String {
    let reply = post_form(dash, uri, fields, &[]).await;
    assert_eq!(
        reply.status,
        StatusCode::SEE_OTHER,
        "POST {uri}: {}",
        reply.body
    );
    let location = reply.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let request = Request::get(&location)
        .header(header::COOKIE, flash_cookie(&reply))
        .body(Body::empty())
        .expect("request");
    let page = send(dash, request).await;
    assert_eq!(page.status, StatusCode::OK, "GET {location}: {}", page.body);
    let escaped = askama_escape(message);
    assert!(
        page.body
            .contains(&format!("class=\"flash\" role=\"status\">{escaped}</p>")),
        "{location} does not show {message:?}: {}",
        page.body
    );
    location
}

/// HTML-escape like the templates do (only the characters our messages can contain).
fn askama_escape(text: &str) -> String {
    text.replace('&', "&#38;")
        .replace('"', "&#34;")
        .replace('\'', "&#39;")
        .replace('<', "&#60;")
        .replace('>', "&#62;")
}

struct NodeSide {
    major: &'static str,
    prefix: String,
}

impl NodeSide {
    fn run(&self, step: &str, extra: &[&str]) -> Value {
        let url = redis().url.clone();
        let mut args = vec![
            "--redis",
            url.as_str(),
            "--prefix",
            self.prefix.as_str(),
            "--bullmq",
            self.major,
            "--step",
            step,
        ];
        args.extend_from_slice(extra);
        let out = node("actions.js", &args);
        assert_eq!(out["ok"], true, "actions.js {step}: {out}");
        assert!(
            out["bullmq"].as_str().unwrap_or("").starts_with(self.major),
            "{out}"
        );
        out
    }

    /// What BullMQ says about these queues (paused, counts) and jobs (`queue/id`).
    fn report(&self, queues: &[&str], jobs: &[&str]) -> Value {
        self.run(
            "report",
            &["--queues", &queues.join(","), "--jobs", &jobs.join(",")],
        )
    }
}

/// `getJobCounts` of a report, only the states that are not zero.
fn nonzero(report: &Value, queue: &str) -> BTreeMap<String, u64> {
    report["queues"][queue]["counts"]
        .as_object()
        .unwrap_or_else(|| panic!("no counts of {queue} in {report}"))
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_u64()?)).filter(|(_, n)| *n > 0))
        .collect()
}

fn counts(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, n)| (k.to_string(), *n)).collect()
}

fn state<'r>(report: &'r Value, job: &str) -> &'r str {
    report["jobs"][job]["state"]
        .as_str()
        .unwrap_or_else(|| panic!("no state of {job} in {report}"))
}

async fn actions_seen_by_bullmq(major: &'static str) {
    let node = NodeSide {
        major,
        prefix: unique_prefix(&format!("act{major}")),
    };
    let seeded = node.run("seed", &[]);
    assert_eq!(
        seeded["queues"].as_array().map(Vec::len),
        Some(QUEUES.len())
    );
    let dash = Dashboard::new(&[&node.prefix], BASE).await;

    // --- one job at a time, on "jobs" ------------------------------------------------------
    let out = act(&dash, "jobs/jobs/fail-1/retry", None).await;
    assert_eq!(
        (out["count"].clone(), out["jobs"].clone()),
        (json!(1), json!(["fail-1"]))
    );
    // A completed job can be retried too, here through the job page's form.
    submit(
        &dash,
        &format!("{BASE}/queues/jobs/jobs/done-1/retry"),
        &[],
        "Job done-1 is waiting again.",
    )
    .await;
    act(&dash, "jobs/jobs/later-1/promote", None).await;
    let dup = act(&dash, "jobs/jobs/dup-1/duplicate", None).await;
    let copy = dup["jobs"][0].as_str().expect("the copy's id").to_string();
    assert_ne!(copy, "dup-1");
    act(
        &dash,
        "jobs/jobs/edit-1/data",
        Some(json!({"version": 2, "note": "edited by bullring"})),
    )
    .await;
    let out = act(&dash, "jobs/retry-failed", None).await;
    assert_eq!(out["count"], 2, "fail-2 and fail-3: {out}");
    let out = act(&dash, "jobs/promote-delayed", None).await;
    assert_eq!(out["count"], 2, "later-2 and later-3: {out}");

    // --- a parent with and without its children ---------------------------------------------
    act(&dash, "parents/jobs/p-1/remove", None).await;
    let to = submit(
        &dash,
        &format!("{BASE}/queues/parents/jobs/p-2/remove"),
        &[("children", "0")],
        "Job p-2 was removed.",
    )
    .await;
    assert_eq!(to, format!("{BASE}/queues/parents"));

    // --- clean, with the clean page's preview -----------------------------------------------
    let preview = |state: &str, grace: u64, limit: u64| {
        format!("{BASE}/queues/cleaning/actions/clean?state={state}&grace_ms={grace}&limit={limit}")
    };
    let page = dash.get(&preview("completed", 3_600_000, 1000)).await;
    assert!(
        page.body
            .contains("This would remove <strong>0</strong> completed"),
        "{}",
        page.body
    );
    let body = json!({"state": "completed", "grace_ms": 3_600_000, "limit": 1000});
    assert_eq!(act(&dash, "cleaning/clean", Some(body)).await["count"], 0);
    let page = dash.get(&preview("completed", 0, 2)).await;
    assert!(
        page.body
            .contains("This would remove <strong>2</strong> completed"),
        "{}",
        page.body
    );
    let body = json!({"state": "completed", "grace_ms": 0, "limit": 2});
    assert_eq!(act(&dash, "cleaning/clean", Some(body)).await["count"], 2);
    let page = dash.get(&preview("failed", 0, 0)).await;
    assert!(
        page.body
            .contains("This would remove <strong>3</strong> failed"),
        "{}",
        page.body
    );
    submit(
        &dash,
        &format!("{BASE}/queues/cleaning/clean"),
        &[("state", "failed"), ("grace_ms", "0"), ("limit", "0")],
        "Removed 3 failed job(s) older than 0 s.",
    )
    .await;

    // --- drain, without then with the delayed jobs ------------------------------------------
    let out = act(&dash, "draining/drain", None).await;
    assert_eq!(out["count"], 4, "3 waiting + 1 prioritized: {out}");
    let after_drain = node.report(&["draining"], &["draining/d-5"]);
    assert_eq!(nonzero(&after_drain, "draining"), counts(&[("delayed", 2)]));
    assert_eq!(state(&after_drain, "draining/d-5"), "delayed");
    let out = act(&dash, "draining/drain", Some(json!({"delayed": true}))).await;
    assert_eq!(out["count"], 2, "{out}");

    // --- obliterate: refused unless paused, and with an active job only by force -------------
    let reply = post_json(&dash, &format!("{BASE}/api/queues/doomed/obliterate"), None).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("pause queue doomed"), "{}", reply.body);
    act(&dash, "doomed/pause", None).await;
    let reply = post_json(&dash, &format!("{BASE}/api/queues/doomed/obliterate"), None).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("1 active job"), "{}", reply.body);
    let kept = node.report(&["doomed"], &["doomed/o-1"]);
    // The engine pauses as BullMQ 6 does (jobs stay in `wait`), which BullMQ 5 reads as waiting.
    assert_eq!(
        nonzero(&kept, "doomed"),
        counts(&[("active", 1), ("delayed", 1), ("waiting", 2)])
    );
    assert_eq!(kept["queues"]["doomed"]["paused"], true);
    act(&dash, "doomed/obliterate", Some(json!({"force": true}))).await;

    // --- add jobs with options: JSON, then the form ------------------------------------------
    let body = json!({
        "name": "send",
        "data": {"to": "a@example.com"},
        "opts": {
            "jobId": "custom-1", "delay": 60000, "priority": 3, "attempts": 4,
            "backoff": {"type": "exponential", "delay": 2000},
            "removeOnComplete": 10, "removeOnFail": true
        }
    });
    let out = act(&dash, "adding/jobs", Some(body)).await;
    assert_eq!(out["jobs"], json!(["custom-1"]));
    let to = submit(
        &dash,
        &format!("{BASE}/queues/adding/jobs"),
        &[
            ("name", "from-form"),
            ("data", r#"{"n": 1}"#),
            ("job_id", "form-1"),
            ("priority", "2"),
            ("attempts", "2"),
            ("backoff_type", "fixed"),
            ("backoff_delay_ms", "500"),
            ("remove_on_complete", "true"),
            ("remove_on_fail", "25"),
        ],
        "Job form-1 was added.",
    )
    .await;
    assert_eq!(to, format!("{BASE}/queues/adding/jobs/form-1"));

    // --- bulk: retry (form), promote and remove (JSON) of ticked ids -------------------------
    submit(
        &dash,
        &format!("{BASE}/queues/bulk/bulk"),
        &[("action", "retry"), ("ids", "b-1"), ("ids", "b-2")],
        "Retried 2 of 2 job(s).",
    )
    .await;
    let out = act(
        &dash,
        "bulk/bulk",
        Some(json!({"action": "promote", "ids": ["b-4", "b-5"]})),
    )
    .await;
    assert_eq!(out["count"], 2, "{out}");
    let out = act(
        &dash,
        "bulk/bulk",
        Some(json!({"action": "remove", "ids": ["b-6", "b-3"]})),
    )
    .await;
    assert_eq!(out["count"], 2, "{out}");

    // --- what BullMQ sees now ---------------------------------------------------------------
    let copy_key = format!("jobs/{copy}");
    let report = node.report(
        &QUEUES,
        &[
            "jobs/fail-1",
            "jobs/fail-2",
            "jobs/fail-3",
            "jobs/done-1",
            "jobs/done-2",
            "jobs/later-1",
            "jobs/later-2",
            "jobs/later-3",
            "jobs/edit-1",
            "jobs/dup-1",
            &copy_key,
            "parents/p-1",
            "parents/p-2",
            "children/k-1",
            "children/k-2",
            "children/k-3",
            "children/k-4",
            "doomed/o-1",
            "doomed/o-2",
            "adding/custom-1",
            "adding/form-1",
            "bulk/b-1",
            "bulk/b-2",
            "bulk/b-3",
            "bulk/b-4",
            "bulk/b-5",
            "bulk/b-6",
            "bulk/b-7",
        ],
    );
    let label = format!("bullmq {major}");
    for job in [
        "jobs/fail-1",
        "jobs/fail-2",
        "jobs/fail-3",
        "jobs/done-1",
        "jobs/later-1",
        "jobs/later-2",
        "jobs/later-3",
        "jobs/edit-1",
        "jobs/dup-1",
        &copy_key,
        "children/k-3",
        "children/k-4",
        "bulk/b-1",
        "bulk/b-2",
        "bulk/b-4",
        "bulk/b-5",
        "bulk/b-7",
    ] {
        assert_eq!(state(&report, job), "waiting", "{label}: {job}");
    }
    for job in [
        "parents/p-1",
        "parents/p-2",
        "children/k-1",
        "children/k-2",
        "doomed/o-1",
        "doomed/o-2",
        "bulk/b-3",
        "bulk/b-6",
    ] {
        assert_eq!(
            state(&report, job),
            "unknown",
            "{label}: {job} should be gone"
        );
    }
    assert_eq!(state(&report, "jobs/done-2"), "completed", "{label}");
    assert_eq!(
        nonzero(&report, "jobs"),
        counts(&[("waiting", 11), ("prioritized", 1), ("completed", 1)]),
        "{label}"
    );
    assert_eq!(
        nonzero(&report, "cleaning"),
        counts(&[("completed", 3)]),
        "{label}"
    );
    assert_eq!(nonzero(&report, "draining"), counts(&[]), "{label}");
    assert_eq!(
        nonzero(&report, "doomed"),
        counts(&[]),
        "{label}: obliterated"
    );
    assert_eq!(
        nonzero(&report, "children"),
        counts(&[("waiting", 2)]),
        "{label}"
    );
    assert_eq!(
        report["jobs"]["jobs/edit-1"]["data"],
        json!({"version": 2, "note": "edited by bullring"})
    );
    let (orig, dup) = (&report["jobs"]["jobs/dup-1"], &report["jobs"][&copy_key]);
    assert_eq!(
        (&dup["name"], &dup["data"]),
        (&orig["name"], &orig["data"]),
        "{label}"
    );
    for opt in ["attempts", "backoff", "removeOnComplete"] {
        assert_eq!(
            dup["opts"][opt], orig["opts"][opt],
            "{label}: duplicate's {opt}"
        );
    }
    let custom = &report["jobs"]["adding/custom-1"];
    assert_eq!(custom["state"], "delayed", "{label}");
    assert_eq!(custom["name"], "send");
    for (opt, want) in [
        ("delay", json!(60000)),
        ("priority", json!(3)),
        ("attempts", json!(4)),
        ("backoff", json!({"type": "exponential", "delay": 2000})),
        ("removeOnComplete", json!(10)),
        ("removeOnFail", json!(true)),
    ] {
        assert_eq!(custom["opts"][opt], want, "{label}: custom-1 {opt}");
    }
    let form = &report["jobs"]["adding/form-1"];
    assert_eq!(form["state"], "prioritized", "{label}");
    assert_eq!(form["data"], json!({"n": 1}));
    for (opt, want) in [
        ("priority", json!(2)),
        ("attempts", json!(2)),
        ("backoff", json!({"type": "fixed", "delay": 500})),
        ("removeOnComplete", json!(true)),
        ("removeOnFail", json!(25)),
    ] {
        assert_eq!(form["opts"][opt], want, "{label}: form-1 {opt}");
    }

    // --- pause / resume, one queue and all of them -------------------------------------------
    act(&dash, "pause-a/pause", None).await;
    let report = node.report(&["pause-a", "pause-b"], &[]);
    assert_eq!(report["queues"]["pause-a"]["paused"], true, "{label}");
    assert_eq!(report["queues"]["pause-b"]["paused"], false, "{label}");
    submit(
        &dash,
        &format!("{BASE}/queues/pause-a/resume"),
        &[],
        "Queue pause-a is running again.",
    )
    .await;
    let reply = post_json(&dash, &format!("{BASE}/api/pause-all"), None).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let report = node.report(&QUEUES, &[]);
    for queue in QUEUES.iter().filter(|q| **q != "doomed") {
        assert_eq!(
            report["queues"][*queue]["paused"], true,
            "{label}: {queue} after pause-all"
        );
    }
    submit(
        &dash,
        &format!("{BASE}/resume-all"),
        &[],
        "Resumed 9 queue(s).",
    )
    .await;

    // --- a Node worker picks up and completes the retried and promoted jobs ------------------
    let worked = node.run(
        "work",
        &[
            "--jobs",
            &format!("jobs/fail-1,jobs/done-1,jobs/later-1,jobs/fail-2,jobs/later-3,{copy_key},bulk/b-1,bulk/b-4,pause-a/pa-1,pause-b/pb-1"),
        ],
    );
    for (job, seen) in worked["jobs"].as_object().expect("jobs") {
        assert_eq!(seen["state"], "completed", "{label}: {job}");
        let id = job.split_once('/').unwrap().1;
        assert_eq!(
            seen["returnvalue"],
            json!({"worked": id, "by": "node"}),
            "{label}: {job}"
        );
    }
    assert_eq!(worked["jobs"].as_object().unwrap().len(), 10);
}

#[tokio::test]
async fn every_action_on_bullmq_5_queues_is_what_bullmq_5_sees() {
    actions_seen_by_bullmq("5").await;
}

#[tokio::test]
async fn every_action_on_bullmq_6_queues_is_what_bullmq_6_sees() {
    actions_seen_by_bullmq("6").await;
}

// --- bad input ---------------------------------------------------------------------------------

fn changed_keys(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) -> Vec<String> {
    let mut keys: Vec<String> = before
        .keys()
        .chain(after.keys())
        .filter(|k| before.get(*k) != after.get(*k))
        .cloned()
        .collect();
    keys.dedup();
    keys
}

#[tokio::test]
async fn bad_input_is_refused_with_a_reason_and_changes_nothing() {
    let node = NodeSide {
        major: "6",
        prefix: unique_prefix("badinput"),
    };
    node.run("seed", &[]);
    let dash = Dashboard::new(&[&node.prefix], BASE).await;
    let before = crate::support::snapshot(&node.prefix);
    assert!(before.len() > 50, "the fixture has {} keys", before.len());

    let api = |path: &str| format!("{BASE}/api/queues/{path}");
    // (route, JSON body as typed, status, what the message must say)
    let cases: Vec<(String, &str, u16, &str)> = vec![
        // invalid JSON or options: 400
        (api("jobs/jobs"), r#"{"name": "x", "#, 400, "not valid JSON"),
        (
            api("jobs/jobs"),
            r#"{"name": "x", "opts": {"attempts": "three"}}"#,
            400,
            "opts:",
        ),
        (
            api("jobs/jobs"),
            r#"{"name": "x", "opts": {"jobId": "42"}}"#,
            400,
            "jobId",
        ),
        (
            api("jobs/jobs"),
            r#"{"name": "x", "opts": {"jobId": "a:b"}}"#,
            400,
            "jobId",
        ),
        (
            api("jobs/jobs"),
            r#"{"name": "x", "opts": [1]}"#,
            400,
            "opts: expected an object",
        ),
        (
            api("jobs/jobs"),
            r#"{"name": "x", "opts": {"priority": 3000000}}"#,
            400,
            "priority",
        ),
        (
            api("jobs/jobs"),
            r#"{"name": " ", "data": {}}"#,
            400,
            "name",
        ),
        (
            api("jobs/jobs/edit-1/data"),
            r#"{"version": "#,
            400,
            "not valid JSON",
        ),
        (api("jobs/jobs/edit-1/data"), "", 400, "data:"),
        (
            api("jobs/clean"),
            r#"{"state": "active"}"#,
            400,
            "cannot be cleaned",
        ),
        (api("jobs/clean"), r#"{"state": "sideways"}"#, 400, "state:"),
        (
            api("jobs/clean"),
            r#"{"state": "completed", "grace_ms": "soon"}"#,
            400,
            "grace_ms",
        ),
        (
            api("jobs/clean"),
            r#"{"state": "completed", "limit": -1}"#,
            400,
            "limit",
        ),
        (
            api("jobs/bulk"),
            r#"{"action": "explode", "ids": ["wait-1"]}"#,
            400,
            "action",
        ),
        (
            api("jobs/bulk"),
            r#"{"action": "retry", "ids": []}"#,
            400,
            "ids",
        ),
        (
            format!("{}?prefix=other", api("jobs/pause")),
            "",
            400,
            "prefix",
        ),
        // unknown queue or job: 404
        (api("nope/pause"), "", 404, "no queue named \\\"nope\\\""),
        (api("nope/resume"), "", 404, "nope"),
        (api("nope/retry-failed"), "", 404, "nope"),
        (api("nope/promote-delayed"), "", 404, "nope"),
        (api("nope/drain"), "", 404, "nope"),
        (api("nope/obliterate"), r#"{"force": true}"#, 404, "nope"),
        (api("nope/clean"), r#"{"state": "completed"}"#, 404, "nope"),
        (api("nope/jobs"), r#"{"name": "x"}"#, 404, "nope"),
        (api("nope/jobs/fail-1/retry"), "", 404, "nope"),
        (api("jobs/jobs/missing/retry"), "", 404, "missing"),
        (api("jobs/jobs/missing/promote"), "", 404, "missing"),
        (api("jobs/jobs/missing/remove"), "", 404, "missing"),
        (api("jobs/jobs/missing/duplicate"), "", 404, "missing"),
        (api("jobs/jobs/missing/data"), r#"{"a": 1}"#, 404, "missing"),
        (api("jobs/jobs/wait-1/explode"), "", 404, "explode"),
        // the action does not fit the state: 409
        (
            api("jobs/jobs/done-1/promote"),
            "",
            409,
            "job done-1 is completed: only delayed jobs can be promoted",
        ),
        (api("jobs/jobs/wait-1/promote"), "", 409, "is waiting"),
        (
            api("jobs/jobs/wait-1/retry"),
            "",
            409,
            "job wait-1 is waiting: only failed or completed jobs can be retried",
        ),
        (api("jobs/jobs/later-1/retry"), "", 409, "is delayed"),
        (
            api("jobs/obliterate"),
            "",
            409,
            "pause queue jobs before obliterating it",
        ),
        (
            api("jobs/obliterate"),
            r#"{"force": true}"#,
            409,
            "pause queue jobs",
        ),
    ];
    for (uri, body, status, says) in &cases {
        let reply = post_raw(&dash, uri, "application/json", body).await;
        assert_eq!(
            reply.status.as_u16(),
            *status,
            "POST {uri} {body}: {}",
            reply.body
        );
        let json: Value = serde_json::from_str(&reply.body)
            .unwrap_or_else(|e| panic!("POST {uri}: not JSON ({e}): {}", reply.body));
        assert_eq!(json["status"], *status);
        assert!(
            reply.body.contains(says),
            "POST {uri} {body}: {status} should say {says:?}: {}",
            reply.body
        );
        let after = crate::support::snapshot(&node.prefix);
        assert!(
            after == before,
            "POST {uri} {body} changed {:?}",
            changed_keys(&before, &after)
        );
    }

    // The HTML add form comes back with what was typed, the reason next to the field.
    let add = format!("{BASE}/queues/jobs/jobs");
    let typed = [
        ("name", "report"),
        ("data", r#"{"rows": 3,"#),
        ("job_id", "kept-id"),
        ("attempts", "3"),
        ("remove_on_fail", "7"),
    ];
    let reply = post_form(&dash, &add, &typed, &[]).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains(r#"id="data-error""#), "{}", reply.body);
    assert!(
        reply.body.contains("data: not valid JSON"),
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains(r#"{&#34;rows&#34;: 3,</textarea>"#),
        "{}",
        reply.body
    );
    for value in [
        r#"value="report""#,
        r#"value="kept-id""#,
        r#"value="3""#,
        r#"value="7""#,
    ] {
        assert!(
            reply.body.contains(value),
            "{value} not kept: {}",
            reply.body
        );
    }
    for (fields, field, says) in [
        (
            &[("name", "x"), ("job_id", "42")][..],
            "job_id",
            "custom ids must not be integers",
        ),
        (
            &[("name", "x"), ("attempts", "three")][..],
            "attempts",
            "is not a whole number",
        ),
        (
            &[("name", "x"), ("backoff_type", "linear")][..],
            "backoff_type",
            "not fixed or exponential",
        ),
        (
            &[("name", "x"), ("remove_on_complete", "maybe")][..],
            "remove_on_complete",
            "true, false or a count",
        ),
        (&[("name", "")][..], "name", "a job needs a name"),
    ] {
        let reply = post_form(&dash, &add, fields, &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{fields:?}: {}",
            reply.body
        );
        let at = reply
            .body
            .find(&format!(r#"id="{field}-error""#))
            .unwrap_or_else(|| panic!("{fields:?}: no error next to {field}: {}", reply.body));
        assert!(
            reply.body[at..].contains(says),
            "{fields:?}: {}",
            reply.body
        );
    }
    // The edit form likewise.
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/jobs/jobs/edit-1/data"),
        &[("data", r#"{"version": <2>}"#)],
        &[],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(
        reply
            .body
            .contains(r#"{&#34;version&#34;: &#60;2&#62;}</textarea>"#),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(r#"id="data-error""#), "{}", reply.body);
    // Other refused forms get a page saying why.
    for (uri, fields, status, says) in [
        (
            format!("{BASE}/queues/jobs/jobs/done-1/promote"),
            &[][..],
            409,
            "only delayed jobs can be promoted",
        ),
        (
            format!("{BASE}/queues/jobs/obliterate"),
            &[("confirm", "wrong")][..],
            400,
            "type the queue&#39;s name",
        ),
        (
            format!("{BASE}/queues/nope/pause"),
            &[][..],
            404,
            "no queue named",
        ),
    ] {
        let reply = post_form(&dash, &uri, fields, &[]).await;
        assert_eq!(reply.status.as_u16(), status, "{uri}: {}", reply.body);
        assert!(reply.body.contains(says), "{uri}: {}", reply.body);
    }
    let after = crate::support::snapshot(&node.prefix);
    assert!(
        after == before,
        "the forms changed {:?}",
        changed_keys(&before, &after)
    );
    // And BullMQ agrees: nothing moved.
    let report = node.report(&["jobs"], &["jobs/edit-1"]);
    assert_eq!(
        nonzero(&report, "jobs"),
        counts(&[
            ("waiting", 3),
            ("delayed", 3),
            ("prioritized", 1),
            ("completed", 2),
            ("failed", 3)
        ])
    );
    assert_eq!(report["jobs"]["jobs/edit-1"]["data"], json!({"version": 1}));
}

// --- htmx ---------------------------------------------------------------------------------------

#[tokio::test]
async fn htmx_posts_get_hx_location_and_plain_posts_a_303() {
    let prefix = unique_prefix("htmx");
    let queue = engine_queue(&prefix, "mail").await;
    queue.add("send", json!({"to": "x"})).await.expect("add");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let htmx = [("hx-request", "true"), ("hx-boosted", "true")];

    // htmx: 200, no redirect; HX-Location makes htmx fetch the queue page and swap its <main>.
    let reply = post_form(&dash, &format!("{BASE}/queues/mail/pause"), &[], &htmx).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(reply.headers.get(header::LOCATION).is_none());
    let location: Value =
        serde_json::from_str(reply.headers["hx-location"].to_str().expect("hx-location"))
            .expect("HX-Location is JSON");
    assert_eq!(
        location,
        json!({"path": format!("{BASE}/queues/mail"), "target": "main", "select": "main", "swap": "outerHTML"})
    );
    assert!(flash_cookie(&reply).contains("paused"));
    assert!(queue.is_paused().await.expect("is_paused"));

    // The layout boosts links and forms into <main>; destructive forms ask first (obliterate
    // shows its form once the queue is paused).
    let page = dash.get(&format!("{BASE}/queues/mail")).await;
    assert!(
        page.body
            .contains(r#"hx-boost="true" hx-target="main" hx-select="main""#)
    );
    for action in ["drain", "obliterate", "clean"] {
        let page = dash
            .get(&format!("{BASE}/queues/mail/actions/{action}"))
            .await;
        assert_eq!(page.status, StatusCode::OK, "{action}: {}", page.body);
        let form = page
            .body
            .split("<form")
            .find(|f| {
                f.contains(r#"method="post""#)
                    && f.contains(&format!("action=\"{BASE}/queues/mail/{action}\""))
            })
            .unwrap_or_else(|| panic!("{action}: no form: {}", page.body));
        assert!(form.contains("hx-confirm="), "{action}: {form}");
    }

    // Without JavaScript the same route answers 303.
    submit(
        &dash,
        &format!("{BASE}/queues/mail/resume"),
        &[],
        "Queue mail is running again.",
    )
    .await;
    assert!(!queue.is_paused().await.expect("is_paused"));

    // A refused htmx form gets the page with the reason (its <main> is swapped in by app.js).
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/mail/jobs"),
        &[("name", "x"), ("attempts", "many")],
        &htmx,
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.body.contains("<main>") && reply.body.contains(r#"id="attempts-error""#),
        "{}",
        reply.body
    );

    let app_js = dash.get(&format!("{BASE}/static/app.js")).await;
    assert!(app_js.body.contains("htmx:beforeSwap"));
}
