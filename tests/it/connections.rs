//! Several Redis connections in one dashboard, each a real redis-server: the default (the shared
//! test server), a standalone one whose roles are capped, and one killed during the test. Pages
//! of the live connections answer while the dead one shows its error; `?connection=` selects
//! one; roles are capped per connection in the pages and in the core.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::config::Config;
use bullring::queue::connection::RedisSettings;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::support::{Dashboard, Reply, TestRedis, free_port, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// A BullMQ queue on the Redis at `url`, as a producer opens it.
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

/// The dashboard `bullring serve` builds for `config` (discovery in the background).
fn dashboard(config: &Config, cancel: &CancellationToken) -> Dashboard {
    let settings = config.redis.clone().expect("a Redis");
    let state = bullring::server::dashboard_state(config, &settings, cancel);
    Dashboard {
        redis: state.reader().redis().clone(),
        router: bullring::web::app(state),
    }
}

/// Poll `uri` until `done` holds for its JSON, within a deadline.
async fn eventually(dash: &Dashboard, uri: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let value = dash.json(uri).await;
        if done(&value) {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "GET {uri} never got there: {value}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post_json(dash: &Dashboard, uri: &str) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .expect("request");
    dash.send(request).await
}

fn connection<'a>(list: &'a Value, name: &str) -> &'a Value {
    list["connections"]
        .as_array()
        .and_then(|all| all.iter().find(|c| c["name"] == name))
        .unwrap_or_else(|| panic!("no connection {name} in {list}"))
}

#[tokio::test]
async fn live_connections_answer_while_a_dead_one_shows_its_error() {
    let staging = TestRedis::start_on(free_port());
    let doomed = TestRedis::start_on(free_port());
    let prefix = unique_prefix("conn");
    let config = Config::from_toml(&format!(
        r#"
redis_url = "{default}"
prefixes = ["{prefix}"]
base_path = "{BASE}"
[[connections]]
name = "staging"
redis_url = "{staging}"
prefixes = ["{prefix}"]
label = "staging"
color = "yellow"
max_role = "operator"
[[connections]]
name = "doomed"
redis_url = "{doomed}"
prefixes = ["{prefix}"]
label = "production"
color = "red"
"#,
        default = redis().url,
        staging = staging.url,
        doomed = doomed.url,
    ))
    .expect("config");
    let here = queue_on(&redis().url, &prefix, "mail").await;
    here.add("send", json!({"n": 1})).await.expect("add");
    let there = queue_on(&staging.url, &prefix, "billing").await;
    there.add("charge", json!({"n": 2})).await.expect("add");
    there.add("charge", json!({"n": 3})).await.expect("add");
    let gone = queue_on(&doomed.url, &prefix, "orders").await;
    gone.add("ship", json!({"n": 4})).await.expect("add");
    let cancel = CancellationToken::new();
    let dash = dashboard(&config, &cancel);

    // Every connection's queues, each with its connection, once discovery has seen them.
    let all = eventually(&dash, &format!("{BASE}/api/queues"), |v| {
        v["queues"].as_array().is_some_and(|q| q.len() == 3)
    })
    .await;
    let billing = all["queues"]
        .as_array()
        .and_then(|q| q.iter().find(|q| q["name"] == "billing"))
        .expect("billing listed");
    assert_eq!(billing["connection"], "staging");
    assert_eq!(billing["counts"]["waiting"], 2);
    let one = dash
        .json(&format!("{BASE}/api/queues?connection=staging"))
        .await;
    assert_eq!(one["queues"].as_array().map(Vec::len), Some(1), "{one}");
    assert_eq!(one["queues"][0]["name"], "billing");
    let mine = dash
        .json(&format!("{BASE}/api/queues?connection=default"))
        .await;
    assert!(
        mine["queues"].as_array().is_some_and(|q| q
            .iter()
            .any(|q| q["name"] == "mail" && q["connection"] == "default")),
        "{mine}"
    );

    let up = dash.json(&format!("{BASE}/api/connections")).await;
    for name in ["default", "staging", "doomed"] {
        let c = connection(&up, name);
        assert_eq!(c["status"], "up", "{c}");
        assert!(c["latency_ms"].as_f64().is_some(), "{c}");
        assert!(
            c["redis_version"].as_str().is_some_and(|v| !v.is_empty()),
            "{c}"
        );
        assert_eq!(c["maxmemory_policy"], "noeviction", "{c}");
    }
    assert_eq!(connection(&up, "doomed")["label"], "production");

    // The third Redis goes away: its row says so, the others answer as before.
    doomed.shutdown();
    let down = eventually(&dash, &format!("{BASE}/api/connections"), |v| {
        connection(v, "doomed")["status"] == "down"
    })
    .await;
    assert!(
        connection(&down, "doomed")["error"]
            .as_str()
            .is_some_and(|e| !e.is_empty()),
        "{down}"
    );
    assert_eq!(connection(&down, "staging")["status"], "up");
    let listed = dash.json(&format!("{BASE}/api/queues")).await;
    assert_eq!(listed["unavailable"][0]["connection"], "doomed", "{listed}");
    assert_eq!(listed["queues"].as_array().map(Vec::len), Some(2));

    let overview = dash.get(&format!("{BASE}/")).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.body);
    assert!(
        overview
            .body
            .contains(r#"<tr data-connection="doomed" class="problem">"#)
    );
    assert!(
        overview
            .body
            .contains(r#"<span class="badge down">down</span>"#)
    );
    assert!(
        overview
            .body
            .contains(&format!(r#"<a href="{BASE}/c/staging/">staging</a>"#))
    );
    assert!(
        overview.body.contains(r#"data-name="mail""#),
        "the default's queues"
    );

    // The staging connection's own pages, with its badge on each.
    let badge = r#"<span class="badge connection-label color-yellow" title="connection staging">staging</span>"#;
    let staging_page = dash.get(&format!("{BASE}/c/staging/")).await;
    assert_eq!(staging_page.status, StatusCode::OK, "{}", staging_page.body);
    assert!(staging_page.body.contains(badge), "{}", staging_page.body);
    assert!(staging_page.body.contains(r#"data-name="billing""#));
    assert!(!staging_page.body.contains(r#"data-name="mail""#));
    let queue_page = dash.get(&format!("{BASE}/c/staging/queues/billing")).await;
    assert_eq!(queue_page.status, StatusCode::OK, "{}", queue_page.body);
    assert!(queue_page.body.contains(badge));
    assert!(
        queue_page
            .body
            .contains(&format!("{BASE}/c/staging/queues/billing/jobs/")),
        "job links stay on the connection"
    );
    let by_query = dash
        .get(&format!("{BASE}/queues/billing?connection=staging"))
        .await;
    assert_eq!(by_query.status, StatusCode::OK, "{}", by_query.body);
    assert!(by_query.body.contains(badge));
    let unknown = dash.get(&format!("{BASE}/?connection=nowhere")).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The dead connection's pages say it is down, the JSON API with a JSON error.
    let dead = dash.get(&format!("{BASE}/c/doomed/")).await;
    assert_eq!(
        dead.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        dead.body
    );
    let dead_api = dash.get(&format!("{BASE}/c/doomed/api/queues")).await;
    assert_eq!(dead_api.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        serde_json::from_str::<Value>(&dead_api.body).is_ok(),
        "{}",
        dead_api.body
    );

    // Roles are capped on staging (operator at most): pages offer no admin action and the core
    // refuses one; an operator's action goes through. The default connection is not capped.
    assert!(
        !queue_page.body.contains("/actions/clean"),
        "no clean on staging"
    );
    let home_queue = dash.get(&format!("{BASE}/queues/mail")).await;
    assert!(home_queue.body.contains("/actions/clean"), "clean at home");
    let refused = post_json(
        &dash,
        &format!("{BASE}/c/staging/api/queues/billing/obliterate"),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("admin role"), "{}", refused.body);
    assert_eq!(
        there
            .get_job_counts_by_types(&["waiting"])
            .await
            .expect("counts")["waiting"],
        2,
        "nothing removed"
    );
    let paused = post_json(&dash, &format!("{BASE}/c/staging/api/queues/billing/pause")).await;
    assert_eq!(paused.status, StatusCode::OK, "{}", paused.body);
    assert!(
        there.is_paused().await.expect("is_paused"),
        "paused on staging"
    );
    assert!(!here.is_paused().await.expect("is_paused"), "not at home");
    cancel.cancel();
}

/// `bullring stats` and `bullring jobs` read the connection `--connection` names.
#[tokio::test]
async fn the_terminal_commands_take_a_connection() {
    let other = TestRedis::start_on(free_port());
    let prefix = unique_prefix("conncli");
    let queue = queue_on(&other.url, &prefix, "reports").await;
    queue.add("build", json!({"week": 7})).await.expect("add");
    let dir = std::env::temp_dir().join(&prefix);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("bullring.toml");
    std::fs::write(
        &path,
        format!(
            "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n[[connections]]\nname = \"reports\"\nredis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n",
            redis().url,
            other.url
        ),
    )
    .expect("write config");
    let run = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_bullring"))
            .args(args)
            .arg("--config")
            .arg(&path)
            .env_remove("REDIS_URL")
            .env_remove("REDIS_HOST")
            .env_remove("BULLRING_CONFIG")
            .env("NO_COLOR", "1")
            .output()
            .expect("run bullring");
        (
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        )
    };
    let (ok, out, err) = run(&["stats", "reports", "--json", "--connection", "reports"]);
    assert!(ok, "{err}");
    let stats: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(stats[0]["counts"]["waiting"], 1, "{out}");
    let (ok, out, err) = run(&[
        "jobs",
        "reports",
        "waiting",
        "--json",
        "--connection",
        "reports",
    ]);
    assert!(ok, "{err}");
    assert!(out.contains("\"week\": 7"), "{out}");
    // On the default connection there is no such queue; an unknown connection is named.
    let (ok, _, _) = run(&["stats", "reports", "--json"]);
    assert!(!ok, "no queue reports on the default connection");
    let (ok, _, err) = run(&["stats", "--connection", "nowhere"]);
    assert!(!ok);
    assert!(
        err.contains("no [[connections]] entry is named \"nowhere\""),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The overview and the list of every connection's queues cost one round trip per connection,
/// the connections read in parallel, whatever the number of queues.
#[tokio::test]
async fn every_connection_costs_one_round_trip() {
    let b = TestRedis::start_on(free_port());
    let c = TestRedis::start_on(free_port());
    let prefix = unique_prefix("conncost");
    for url in [&redis().url, &b.url, &c.url] {
        for n in 0..12 {
            let queue = queue_on(url, &prefix, &format!("q{n:02}")).await;
            queue.add("x", json!({})).await.expect("add");
        }
    }
    let config = Config::from_toml(&format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\nbase_path = \"{BASE}\"\n\
         [[connections]]\nname = \"b\"\nredis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n\
         [[connections]]\nname = \"c\"\nredis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n",
        redis().url,
        b.url,
        c.url
    ))
    .expect("config");
    let cancel = CancellationToken::new();
    let settings = config.redis.clone().expect("a Redis");
    let state = bullring::server::dashboard_state(&config, &settings, &cancel);
    let dash = Dashboard {
        redis: state.reader().redis().clone(),
        router: bullring::web::app(state.clone()),
    };
    eventually(&dash, &format!("{BASE}/api/queues"), |v| {
        v["queues"].as_array().is_some_and(|q| q.len() == 36)
    })
    .await;
    let handles: Vec<_> = state
        .every_connection()
        .map(|s| s.reader().redis().clone())
        .collect();
    for uri in [format!("{BASE}/api/queues"), format!("{BASE}/")] {
        let before: Vec<u64> = handles.iter().map(|r| r.round_trips()).collect();
        let reply = dash.get(&uri).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let spent: Vec<u64> = handles
            .iter()
            .zip(&before)
            .map(|(r, before)| r.round_trips() - before)
            .collect();
        assert_eq!(
            spent,
            vec![1, 1, 1],
            "GET {uri}: round trips per connection"
        );
    }
    cancel.cancel();
}

/// The Redis page: what the server says, the eviction warning on every page of a connection
/// whose policy is `allkeys-lru`, and what the README's read-only ACL user cannot see.
#[tokio::test]
async fn the_redis_page_warns_about_evictions_and_works_under_a_read_only_user() {
    let server = TestRedis::start_on(free_port());
    let mut admin = redis::Client::open(server.url.as_str())
        .and_then(|c| c.get_connection())
        .expect("connect");
    let _: () = redis::cmd("CONFIG")
        .arg("SET")
        .arg("maxmemory-policy")
        .arg("allkeys-lru")
        .query(&mut admin)
        .expect("CONFIG SET");
    let _: () = redis::cmd("ACL")
        .arg(
            &[
                "SETUSER",
                "dash",
                "on",
                ">pw",
                "~*",
                "&*",
                "+@read",
                "-@write",
                "+@connection",
            ][..],
        )
        .query(&mut admin)
        .expect("ACL SETUSER");
    let prefix = unique_prefix("connredis");
    let queue = queue_on(&server.url, &prefix, "mail").await;
    queue.add("send", json!({})).await.expect("add");
    let port = server.url.rsplit(':').next().expect("port");
    let config = Config::from_toml(&format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\nbase_path = \"{BASE}\"\n\
         [[connections]]\nname = \"viewer\"\nredis_url = \"redis://dash:pw@127.0.0.1:{port}\"\n\
         prefixes = [\"{prefix}\"]\nread_only = true\n",
        server.url
    ))
    .expect("config");
    let cancel = CancellationToken::new();
    let dash = dashboard(&config, &cancel);
    eventually(&dash, &format!("{BASE}/api/queues"), |v| {
        v["queues"].as_array().is_some_and(|q| q.len() == 2)
    })
    .await;

    let page = dash.get(&format!("{BASE}/redis")).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains("<th>maxmemory-policy</th><td>allkeys-lru</td>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("<th>Mode</th><td>standalone</td>"));
    assert!(page.body.contains("<th>Role</th><td>master</td>"));
    assert!(page.body.contains("evicts keys, and BullMQ jobs are lost"));
    assert!(page.body.contains(&format!(
        "<tr><td>{prefix}</td><td class=\"num\">1</td></tr>"
    )));
    let api = dash.json(&format!("{BASE}/api/redis")).await;
    assert_eq!(api["info"]["maxmemory_policy"], "allkeys-lru");
    assert!(api["info"]["keys"].as_u64().is_some_and(|k| k > 0), "{api}");
    // The warning reaches every page of the connection once the background read has run.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let queue_page = dash.get(&format!("{BASE}/queues/mail")).await;
        if queue_page
            .body
            .contains("This Redis evicts keys when full (maxmemory-policy allkeys-lru)")
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no eviction warning: {}",
            queue_page.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // The read-only ACL user may not run INFO: the page says what it cannot show.
    let limited = dash.get(&format!("{BASE}/c/viewer/redis")).await;
    assert_eq!(limited.status, StatusCode::OK, "{}", limited.body);
    assert!(
        limited
            .body
            .contains("This user may not run <code>INFO</code>"),
        "{}",
        limited.body
    );
    assert!(limited.body.contains("<th>Version</th><td>unknown</td>"));
    let keys = dash.json(&format!("{BASE}/c/viewer/api/redis")).await;
    assert_eq!(
        keys["info"]["keys"], api["info"]["keys"],
        "DBSIZE is allowed"
    );
    let connections = dash.json(&format!("{BASE}/api/connections")).await;
    let viewer = connection(&connections, "viewer");
    assert_eq!(viewer["status"], "up", "{viewer}");
    assert!(viewer["maxmemory_policy"].is_null(), "{viewer}");
    assert_eq!(
        connection(&connections, "default")["maxmemory_policy"],
        "allkeys-lru"
    );
    // Its pages and actions there are read-only.
    let viewer_queue = dash.get(&format!("{BASE}/c/viewer/queues/mail")).await;
    assert!(
        viewer_queue
            .body
            .contains(r#"<span class="badge">read-only</span>"#)
    );
    let refused = post_json(&dash, &format!("{BASE}/c/viewer/api/queues/mail/pause")).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(!queue.is_paused().await.expect("is_paused"));
    cancel.cancel();
}
