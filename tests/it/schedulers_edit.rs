//! Editing a job scheduler, running it now, and a queue's global concurrency, against queues
//! written by the real npm `bullmq` (5.x and 6.x, tests/node/schedulers.js): bullring acts
//! through its JSON API and its HTML forms, then Node's `getJobSchedulers`, `getJobs` and
//! `getGlobalConcurrency` say what happened. A viewer is refused, bad input changes no key, and a
//! Bull queue is not offered these actions (409).

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use bullring::web::security::{AuthMode, BasicUser, Role, Security, hash_password};
use serde_json::{Value, json};

use crate::interop::node;
use crate::support::{Dashboard, Reply, redis, unique_prefix};

const BASE: &str = "/admin/queues";

fn report(major: &str, prefix: &str) -> Value {
    let url = &redis().url;
    let args = [
        "--redis", url, "--prefix", prefix, "--bullmq", major, "--step", "report",
    ];
    let out = node("schedulers.js", &args);
    assert_eq!(out["ok"], true, "{out}");
    out
}

fn seed(major: &str, tag: &str) -> String {
    let prefix = unique_prefix(tag);
    let url = &redis().url;
    let args = [
        "--redis", url, "--prefix", &prefix, "--bullmq", major, "--step", "seed",
    ];
    let out = node("schedulers.js", &args);
    assert_eq!(out["ok"], true, "{out}");
    prefix
}

fn scheduler<'a>(report: &'a Value, key: &str) -> &'a Value {
    report["schedulers"]
        .as_array()
        .expect("schedulers")
        .iter()
        .find(|s| s["key"] == key)
        .unwrap_or_else(|| panic!("no scheduler {key}: {report}"))
}

async fn post(
    dash: &Dashboard,
    uri: &str,
    content_type: &str,
    body: String,
    auth: Option<&str>,
) -> Reply {
    let mut builder = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type);
    if let Some(auth) = auth {
        builder = builder.header(header::AUTHORIZATION, auth);
    }
    dash.send(builder.body(Body::from(body)).expect("request"))
        .await
}

async fn api(dash: &Dashboard, path: &str, body: Value) -> Reply {
    let uri = format!("{BASE}/api/queues/{path}");
    post(dash, &uri, "application/json", body.to_string(), None).await
}

async fn form(dash: &Dashboard, path: &str, fields: &[(&str, &str)]) -> Reply {
    let uri = format!("{BASE}/queues/{path}");
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    post(dash, &uri, "application/x-www-form-urlencoded", body, None).await
}

fn ok(reply: &Reply) -> Value {
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome: Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(outcome["ok"], true, "{outcome}");
    outcome
}

async fn edit_run_and_concurrency_are_what_bullmq_sees(major: &str) {
    let prefix = seed(major, &format!("schededit{major}"));
    let dash = Dashboard::new(&[&prefix], BASE).await;

    // The pages offer the forms, prefilled, without JavaScript; not on a Bull queue.
    let page = dash.get(&format!("{BASE}/queues/sched/schedulers")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"/schedulers/nightly/edit">"#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"name="pattern" value="0 3 * * *""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains(r#"name="tz" value="UTC""#),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(r#"name="every" inputmode="numeric" value="60000""#),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("/schedulers/every-min/run"),
        "{}",
        page.body
    );
    let page = dash.get(&format!("{BASE}/queues/sched")).await;
    assert!(
        page.body
            .contains(r#"action="/admin/queues/queues/sched/concurrency""#),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("/clear-concurrency"),
        "nothing to clear yet"
    );
    let page = dash.get(&format!("{BASE}/queues/legacy")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.body.contains("/concurrency"), "{}", page.body);

    // Edit through the API: an interval becomes a cron pattern in a time zone, with a limit
    // and an end date.
    let end = "2099-01-01T00:00:00Z";
    let end_ms: i64 = 4_070_908_800_000;
    let reply = api(
        &dash,
        "sched/schedulers/every-min/edit",
        json!({"pattern": "30 4 * * 1", "tz": "Europe/Paris", "limit": 7, "endDate": end}),
    )
    .await;
    assert_eq!(ok(&reply)["action"], "edit-scheduler");
    let seen = report(major, &prefix);
    let edited = scheduler(&seen, "every-min");
    assert_eq!(edited["pattern"], "30 4 * * 1", "{edited}");
    assert_eq!(edited["tz"], "Europe/Paris", "{edited}");
    assert_eq!(edited["limit"], 7, "{edited}");
    assert_eq!(edited["endDate"], end_ms, "{edited}");
    assert!(edited.get("every").is_none(), "{edited}");
    assert_eq!(edited["name"], "tick", "the template stays: {edited}");
    assert_eq!(edited["template"]["data"], json!({"n": 1}), "{edited}");
    assert_eq!(edited["template"]["opts"]["attempts"], 3, "{edited}");

    // Edit through the HTML form: a cron pattern becomes an interval.
    let reply = form(
        &dash,
        "sched/schedulers/nightly/edit",
        &[
            ("pattern", ""),
            ("every", "90000"),
            ("tz", ""),
            ("limit", ""),
            ("endDate", ""),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers[header::LOCATION].to_str().unwrap();
    assert!(location.contains("/queues/sched/schedulers"), "{location}");
    let seen = report(major, &prefix);
    let nightly = scheduler(&seen, "nightly");
    assert_eq!(nightly["every"], 90000, "{nightly}");
    assert!(nightly.get("pattern").is_none(), "{nightly}");
    assert_eq!(nightly["name"], "night", "{nightly}");

    // Run now: one more job from the template, the next run where it was.
    let before = report(major, &prefix);
    let next_before = scheduler(&before, "nightly")["next"].clone();
    let jobs_before = before["jobs"].as_array().unwrap().len();
    let outcome = ok(&api(&dash, "sched/schedulers/nightly/run", json!({})).await);
    assert_eq!(outcome["action"], "run-scheduler");
    let id = outcome["jobs"][0]
        .as_str()
        .expect("the new job's id")
        .to_string();
    let after = report(major, &prefix);
    assert_eq!(scheduler(&after, "nightly")["next"], next_before, "{after}");
    assert_eq!(
        after["jobs"].as_array().unwrap().len(),
        jobs_before + 1,
        "{after}"
    );
    let job = after["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|j| j["id"] == id.as_str())
        .unwrap_or_else(|| panic!("job {id} not listed by Node: {after}"));
    assert_eq!(job["name"], "night", "{job}");
    assert_eq!(job["data"], json!({"n": 2}), "{job}");
    assert_eq!(job["delay"], 0, "{job}");

    // Global concurrency: set through the API, cleared through the form.
    let outcome = ok(&api(&dash, "sched/concurrency", json!({"concurrency": 4})).await);
    assert_eq!(outcome["action"], "set-concurrency");
    assert_eq!(report(major, &prefix)["concurrency"], 4);
    let page = dash.get(&format!("{BASE}/queues/sched")).await;
    assert!(page.body.contains(r#"size="4" value="4""#), "{}", page.body);
    assert!(
        page.body.contains("/queues/sched/clear-concurrency"),
        "{}",
        page.body
    );
    let reply = form(&dash, "sched/clear-concurrency", &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(report(major, &prefix)["concurrency"], Value::Null);
}

#[tokio::test]
async fn edits_runs_and_concurrency_on_bullmq_5_are_what_bullmq_5_sees() {
    edit_run_and_concurrency_are_what_bullmq_sees("5").await;
}

#[tokio::test]
async fn edits_runs_and_concurrency_on_bullmq_6_are_what_bullmq_6_sees() {
    edit_run_and_concurrency_are_what_bullmq_sees("6").await;
}

#[tokio::test]
async fn bad_input_a_viewer_and_bull_queues_change_nothing() {
    let prefix = seed("6", "schedbad");
    let viewer = BasicUser {
        name: "vera".into(),
        password_hash: hash_password("vera-secret").expect("hash"),
        role: Role::Viewer,
    };
    let security = Security {
        mode: AuthMode::Basic,
        users: vec![viewer],
        ..Security::default()
    };
    let (viewer_dash, _) = Dashboard::with_state(&redis().url, &[&prefix], BASE, |s| {
        s.with_security(security)
    })
    .await;
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let before = crate::support::snapshot(&prefix);
    assert!(before.len() > 5, "the fixture has {} keys", before.len());

    // A viewer may not edit, run or set anything.
    let vera = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("vera:vera-secret")
    );
    for (path, body) in [
        ("sched/schedulers/nightly/edit", json!({"every": 1000})),
        ("sched/schedulers/nightly/run", json!({})),
        ("sched/concurrency", json!({"concurrency": 2})),
        ("sched/clear-concurrency", json!({})),
    ] {
        let uri = format!("{BASE}/api/queues/{path}");
        let reply = post(
            &viewer_dash,
            &uri,
            "application/json",
            body.to_string(),
            Some(&vera),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{path}: {}",
            reply.body
        );
    }

    // Bad input: a 400 that names the field.
    for (path, body, says) in [
        (
            "sched/schedulers/nightly/edit",
            json!({"pattern": "not a cron"}),
            "pattern",
        ),
        (
            "sched/schedulers/nightly/edit",
            json!({"pattern": "0 3 * * *", "every": 1000}),
            "not both",
        ),
        ("sched/schedulers/nightly/edit", json!({}), "pattern"),
        (
            "sched/schedulers/nightly/edit",
            json!({"pattern": "0 3 * * *", "tz": "Mars/Olympus"}),
            "time zone",
        ),
        (
            "sched/schedulers/nightly/edit",
            json!({"every": 1000, "tz": "UTC"}),
            "tz",
        ),
        (
            "sched/schedulers/nightly/edit",
            json!({"every": 0}),
            "every",
        ),
        (
            "sched/schedulers/nightly/edit",
            json!({"every": 1000, "limit": 0}),
            "limit",
        ),
        (
            "sched/schedulers/nightly/edit",
            json!({"every": 1000, "endDate": "soon"}),
            "end date",
        ),
        (
            "sched/schedulers/nightly/edit",
            json!({"every": 1000, "endDate": "2001-01-01T00:00:00Z"}),
            "future",
        ),
        (
            "sched/concurrency",
            json!({"concurrency": 0}),
            "concurrency",
        ),
        (
            "sched/concurrency",
            json!({"concurrency": "many"}),
            "concurrency",
        ),
        ("sched/concurrency", json!({}), "concurrency"),
    ] {
        let reply = api(&dash, path, body.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{path} {body}: {}",
            reply.body
        );
        assert!(reply.body.contains(says), "{path} {body}: {}", reply.body);
    }

    assert_eq!(
        crate::support::snapshot(&prefix),
        before,
        "refused actions changed keys"
    );

    // An unknown scheduler is a 404 found by a read, before the engine's handle (which writes
    // the queue's `meta`) is opened: nothing changes.
    let reply = api(&dash, "sched/schedulers/nope/run", json!({})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let reply = api(&dash, "sched/schedulers/nope/edit", json!({"every": 1000})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let reply = api(&dash, "sched/schedulers/nope/remove", json!({})).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    assert_eq!(
        crate::support::snapshot(&prefix),
        before,
        "an unknown scheduler changed keys"
    );
    // A Bull queue is not offered these actions (409).
    let reply = api(&dash, "legacy/concurrency", json!({"concurrency": 2})).await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
}
