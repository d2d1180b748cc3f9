//! The connection a queue belongs to is named wherever bullring records what it did: an action
//! on a queue of a second connection (its own real redis-server) answers, and leaves an audit
//! entry, naming that connection, not `default`; the default connection's own entries still say
//! `default`; and an alert fired by a rule on that connection names it, in its record and in
//! its webhook message.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::config::Config;
use bullring::queue::connection::RedisSettings;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use bullring::queue::connection::Redis;

use crate::support::{Dashboard, TestRedis, free_port, redis, unique_prefix};

const BASE: &str = "/admin/queues";

async fn queue_on(url: &str, prefix: &str, name: &str) -> bullmq::Queue {
    let opts = bullmq::QueueOptions {
        connection: RedisSettings::url(url).engine_options(),
        prefix: prefix.to_string(),
        ..Default::default()
    };
    bullmq::Queue::with_options(name, opts)
        .await
        .expect("engine queue")
}

async fn post(dash: &Dashboard, uri: &str) -> Value {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .expect("request");
    let reply = dash.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "POST {uri}: {}", reply.body);
    serde_json::from_str(&reply.body).expect("JSON outcome")
}

/// GET `uri` until its JSON satisfies `done`, within a deadline.
async fn eventually(dash: &Dashboard, uri: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = dash.get(uri).await;
        if reply.status == StatusCode::OK {
            let value: Value = serde_json::from_str(&reply.body).expect("JSON");
            if done(&value) {
                return value;
            }
        }
        assert!(
            Instant::now() < deadline,
            "GET {uri} never got there: {}",
            reply.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn actions_and_the_audit_trail_name_the_connection_of_the_queue() {
    let staging = TestRedis::start_on(free_port());
    let prefix = unique_prefix("conn-names");
    let config = Config::from_toml(&format!(
        r#"
redis_url = "{default}"
prefixes = ["{prefix}"]
base_path = "{BASE}"
[[connections]]
name = "staging"
redis_url = "{staging}"
prefixes = ["{prefix}"]
"#,
        default = redis().url,
        staging = staging.url,
    ))
    .expect("config");
    let there = queue_on(&staging.url, &prefix, "billing").await;
    there.add("charge", json!({"n": 1})).await.expect("add");
    let here = queue_on(&redis().url, &prefix, "mail").await;
    here.add("send", json!({"n": 2})).await.expect("add");

    let cancel = CancellationToken::new();
    let settings = config.redis.clone().expect("a Redis");
    let state = bullring::server::dashboard_state(&config, &settings, &cancel);
    let dash = Dashboard {
        redis: state.reader().redis().clone(),
        router: bullring::web::app(state),
    };
    let staging_base = format!("{BASE}/c/staging");
    eventually(&dash, &format!("{staging_base}/api/queues"), |v| {
        v["queues"].as_array().is_some_and(|q| !q.is_empty())
    })
    .await;

    // An action on the second connection's queue: the answer and the audit entry name it.
    let outcome = post(&dash, &format!("{staging_base}/api/queues/billing/pause")).await;
    assert_eq!(outcome["connection"], "staging", "{outcome}");
    assert_eq!(outcome["queue"], "billing", "{outcome}");
    assert!(
        there.is_paused().await.expect("is_paused"),
        "the pause landed on staging's Redis"
    );
    let audit = dash.json(&format!("{staging_base}/api/audit")).await;
    let entry = &audit["entries"][0];
    assert_eq!(entry["action"], "pause", "{audit}");
    assert_eq!(entry["queue"], "billing", "{audit}");
    assert_eq!(entry["connection"], "staging", "{audit}");
    assert_eq!(entry["outcome"], "ok", "{audit}");
    // ?connection= reaches the same trail.
    let same = dash
        .json(&format!("{BASE}/api/audit?connection=staging"))
        .await;
    assert_eq!(same["entries"][0]["connection"], "staging", "{same}");

    // The default connection's own action still says `default`.
    eventually(
        &dash,
        &format!("{BASE}/api/queues?connection=default"),
        |v| {
            v["queues"]
                .as_array()
                .is_some_and(|q| q.iter().any(|q| q["name"] == "mail"))
        },
    )
    .await;
    let outcome = post(
        &dash,
        &format!("{BASE}/api/queues/mail/pause?prefix={prefix}"),
    )
    .await;
    assert_eq!(outcome["connection"], "default", "{outcome}");
    let audit = dash.json(&format!("{BASE}/api/audit")).await;
    let entry = audit["entries"]
        .as_array()
        .and_then(|e| {
            e.iter()
                .find(|e| e["queue"] == "mail" && e["prefix"] == prefix.as_str())
        })
        .unwrap_or_else(|| panic!("no entry for mail: {audit}"));
    assert_eq!(entry["connection"], "default", "{audit}");
    cancel.cancel();
}

#[tokio::test]
async fn an_alert_on_a_second_connection_names_it() {
    use bullring::alerts::{AlertsFile, Engine};
    use bullring::queue::alerts::AlertStore;
    use bullring::queue::discovery::Discovery;
    use bullring::queue::read::Reader;

    let staging = TestRedis::start_on(free_port());
    let prefix = unique_prefix("conn-alert");
    let jobs = queue_on(&staging.url, &prefix, "jobs").await;
    for n in 0..3 {
        jobs.add("wait", json!({ "n": n })).await.expect("add");
    }
    // A backlog rule on the connection "staging", run as `bullring serve` runs it there.
    let file: AlertsFile = toml::from_str(
        "[webhooks.ops]\nurl = \"http://127.0.0.1:1/hook\"\n\
         [[rules]]\nid = \"pile\"\nkind = \"backlog\"\nqueue = \"jobs\"\nwebhook = \"ops\"\n\
         max_waiting = 2\nconnection = \"staging\"\n",
    )
    .expect("alerts TOML");
    let rules = bullring::alerts::rules::validate(&file)
        .expect("valid rules")
        .expect("some rules")
        .on_connection("staging")
        .expect("rules on staging");
    let settings = RedisSettings::url(&staging.url);
    let discovery = Discovery::new(vec![prefix.clone()], Vec::new(), true).on_connection("staging");
    discovery
        .refresh(&Redis::new(settings.clone()))
        .await
        .expect("discovery");
    let redis = Redis::new(settings);
    let store = AlertStore::new(redis.clone(), &prefix);
    let engine = Engine::new(
        rules,
        Reader::new(redis, vec![prefix.clone()]),
        discovery,
        store.clone(),
        &format!("{BASE}/c/staging"),
    );
    engine.round().await.expect("a round");
    let recent = store.recent(10).await.expect("recent alerts");
    let record = recent
        .iter()
        .find(|r| r.rule == "pile")
        .unwrap_or_else(|| panic!("no backlog alert: {recent:?}"));
    assert_eq!(record.connection, "staging", "{record:?}");
    assert_eq!(record.queue, "jobs");
    let body = bullring::alerts::notify::body(bullring::alerts::rules::Format::Json, record);
    assert_eq!(body["connection"], "staging", "{body}");
}
