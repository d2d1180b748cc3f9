//! Alerts: final failures of jobs run by a Node worker and by bullring's runner reach a webhook
//! once (across two engines and a restart), a burst of failures fires one rate alert and one
//! resolved message, backlog and no-worker rules fire and resolve, and the dashboard shows them.
//! Engines are driven round by round (`Engine::round`), so nothing waits on a timer.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use axum::routing::post;
use bullring::alerts::{AlertsFile, Engine};
use bullring::config::Config;
use bullring::queue::alerts::AlertStore;
use bullring::queue::connection::{Redis, RedisSettings};
use bullring::queue::discovery::Discovery;
use bullring::queue::read::Reader;
use bullring::runner::{JobError, Runner, RunnerJob};
use serde_json::Value;

use crate::interop::node;
use crate::support::{Dashboard, engine_queue, redis, unique_prefix};

/// A webhook target: every JSON body it was sent.
pub(crate) type Received = Arc<Mutex<Vec<Value>>>;

pub(crate) async fn target() -> (String, Received) {
    let received: Received = Arc::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            post(
                |State(r): State<Received>, Json(body): Json<Value>| async move {
                    r.lock().unwrap().push(body);
                    "ok"
                },
            ),
        )
        .with_state(received.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), received)
}

/// Wait until the target got `n` messages (they are sent in the background).
pub(crate) async fn received(target: &Received, n: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = target.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} messages arrived: {got:?}",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// An engine as one bullring process would run it: its own connections and discovery.
pub(crate) async fn engine(prefix: &str, alerts_toml: &str) -> Engine {
    engine_and_redis(prefix, alerts_toml).await.0
}

/// An engine and the connection it sends everything through (to count round trips).
async fn engine_and_redis(prefix: &str, alerts_toml: &str) -> (Engine, Redis) {
    let file: AlertsFile = toml::from_str(alerts_toml).expect("alerts TOML");
    let config = bullring::alerts::rules::validate(&file)
        .expect("valid rules")
        .expect("some rules");
    let settings = RedisSettings::url(&redis().url);
    let discovery = Discovery::new(vec![prefix.to_string()], Vec::new(), true);
    discovery
        .refresh(&Redis::new(settings.clone()))
        .await
        .unwrap();
    let redis = Redis::new(settings);
    let engine = Engine::new(
        config,
        Reader::new(redis.clone(), vec![prefix.to_string()]),
        discovery,
        AlertStore::new(redis.clone(), prefix),
        "/admin/queues",
    );
    (engine, redis)
}

pub(crate) fn store(prefix: &str) -> AlertStore {
    AlertStore::new(Redis::new(RedisSettings::url(&redis().url)), prefix)
}

/// Node's worker fails `fail` jobs and completes `complete` on `queue`; the failed ids.
fn node_outcomes(prefix: &str, queue: &str, fail: usize, complete: usize) -> Vec<String> {
    let out = node(
        "outcomes.js",
        &[
            "--redis",
            &redis().url,
            "--prefix",
            prefix,
            "--bullmq",
            "6",
            "--queue",
            queue,
            "--fail",
            &fail.to_string(),
            "--complete",
            &complete.to_string(),
        ],
    );
    out["failed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn final_failures_alert_once_across_engines_and_restarts() {
    let prefix = unique_prefix("alert-final");
    let (url, hook) = target().await;
    let rules = format!(
        "[webhooks.ops]\nurl = \"{url}\"\n\
         [[rules]]\nid = \"gave-up\"\nkind = \"final-failure\"\nwebhook = \"ops\"\ncooldown_secs = 0\n"
    );
    // The queues exist before the engines first look (a first look starts at the stream's end).
    node_outcomes(&prefix, "mail", 0, 1);
    // Opening the engine's queue writes its meta hash: the queue exists, its stream does not yet.
    let queue = engine_queue(&prefix, "bounce").await;
    let (one, two) = (engine(&prefix, &rules).await, engine(&prefix, &rules).await);
    let (a, b) = tokio::join!(one.round(), two.round());
    a.unwrap();
    b.unwrap();

    // A Node worker fails two jobs; bullring's runner fails one with a closure.
    let node_failed = node_outcomes(&prefix, "mail", 2, 1);
    let config = Config::from_toml(&format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n[[queues]]\nname = \"bounce\"\n[[workers]]\nqueue = \"bounce\"\n",
        redis().url
    ))
    .unwrap();
    let runner = Runner::builder(&config)
        .redis(RedisSettings::url(&redis().url))
        .handler("bounce-mail", |_job: RunnerJob| async move {
            Err::<Value, _>(JobError::fatal("mailbox does not exist"))
        })
        .start()
        .await
        .unwrap();
    let ours = queue
        .add("bounce-mail", serde_json::json!({}))
        .await
        .unwrap();
    let ours_id = ours.id().to_string();
    let mut conn = crate::support::conn();
    let deadline = Instant::now() + Duration::from_secs(20);
    while redis::cmd("ZSCORE")
        .arg(format!("{prefix}:bounce:failed"))
        .arg(&ours_id)
        .query::<Option<f64>>(&mut conn)
        .unwrap()
        .is_none()
    {
        assert!(Instant::now() < deadline, "the runner did not fail the job");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    runner.shutdown().await;

    // Two engines look at once: each failure is sent once.
    let (a, b) = tokio::join!(one.round(), two.round());
    a.unwrap();
    b.unwrap();
    let got = received(&hook, 3).await;
    let recent = store(&prefix).recent(100).await.unwrap();
    assert_eq!(recent.len(), 3, "{recent:?}");
    for id in node_failed.iter().chain([&ours_id]) {
        let message = got
            .iter()
            .find(|m| m["title"].as_str().unwrap().contains(&format!("Job {id} ")))
            .unwrap_or_else(|| panic!("no message for job {id}: {got:?}"));
        assert_eq!(message["status"], "firing");
        assert_eq!(message["kind"], "final-failure");
        assert_eq!(message["connection"], "default");
        assert!(
            message["url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/jobs/{id}"))
        );
    }
    let node_message = got.iter().find(|m| m["queue"] == "mail").unwrap();
    assert!(
        node_message["text"]
            .as_str()
            .unwrap()
            .starts_with("doomed to fail")
    );
    assert!(node_message["title"].as_str().unwrap().contains("(doomed)"));
    let our_message = got.iter().find(|m| m["queue"] == "bounce").unwrap();
    assert_eq!(our_message["text"], "mailbox does not exist");

    // Another round sends nothing again; a restarted engine neither repeats nor misses.
    one.round().await.unwrap();
    drop((one, two));
    let later = node_outcomes(&prefix, "mail", 1, 0);
    let restarted = engine(&prefix, &rules).await;
    restarted.round().await.unwrap();
    let got = received(&hook, 4).await;
    assert_eq!(store(&prefix).recent(100).await.unwrap().len(), 4);
    assert!(
        got[3]["title"]
            .as_str()
            .unwrap()
            .contains(&format!("Job {} ", later[0]))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_failures_fires_one_rate_alert_then_one_resolved() {
    let prefix = unique_prefix("alert-rate");
    let (url, hook) = target().await;
    let rules = format!(
        "[webhooks.chat]\nurl = \"{url}\"\nformat = \"slack\"\n\
         [[rules]]\nid = \"mail-failing\"\nkind = \"failure-rate\"\nqueue = \"mail\"\n\
         webhook = \"chat\"\nwindow_secs = 300\nmax_failure_percent = 50.0\n"
    );
    node_outcomes(&prefix, "mail", 12, 0);
    let (one, two) = (engine(&prefix, &rules).await, engine(&prefix, &rules).await);
    for _ in 0..2 {
        let (a, b) = tokio::join!(one.round(), two.round());
        a.unwrap();
        b.unwrap();
    }
    let got = received(&hook, 1).await;
    let text = got[0]["text"].as_str().unwrap();
    assert!(
        text.starts_with("🚨 *mail-failing: failure-rate on mail*"),
        "{text}"
    );
    assert!(text.contains("12 failed of 12 finished"), "{text}");
    let active = store(&prefix).active().await.unwrap();
    assert_eq!(active.len(), 1);

    // The dashboard shows it: on the overview and the Alerts page.
    let (dash, _) = Dashboard::with_state(&redis().url, &[&prefix], "/admin/queues", |s| {
        s.with_alerts(true)
    })
    .await;
    let overview = dash.get("/admin/queues/").await;
    assert!(overview.body.contains("Active alerts"));
    assert!(overview.body.contains("mail-failing: failure-rate on mail"));
    let page = dash.get("/admin/queues/alerts").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("12 failed of 12 finished"));

    // Enough successes bring the rate under 50 %: one resolved message.
    node_outcomes(&prefix, "mail", 0, 30);
    for _ in 0..2 {
        let (a, b) = tokio::join!(one.round(), two.round());
        a.unwrap();
        b.unwrap();
    }
    let got = received(&hook, 2).await;
    assert!(
        got[1]["text"]
            .as_str()
            .unwrap()
            .starts_with("✅ *Resolved: mail-failing on mail*")
    );
    let recent = store(&prefix).recent(100).await.unwrap();
    assert_eq!(
        recent.iter().map(|r| r.status.as_str()).collect::<Vec<_>>(),
        vec!["resolved", "firing"]
    );
    assert!(store(&prefix).active().await.unwrap().is_empty());
    let overview = dash.get("/admin/queues/").await;
    assert!(!overview.body.contains("Active alerts"));
}

#[tokio::test]
async fn backlog_and_no_worker_fire_and_resolve() {
    let prefix = unique_prefix("alert-backlog");
    let (url, hook) = target().await;
    let rules = format!(
        "[webhooks.ops]\nurl = \"{url}\"\n\
         [[rules]]\nid = \"pile\"\nkind = \"backlog\"\nqueue = \"jobs\"\nwebhook = \"ops\"\nmax_waiting = 2\n\
         [[rules]]\nid = \"old\"\nkind = \"backlog\"\nqueue = \"jobs\"\nwebhook = \"ops\"\nmax_age_secs = 3600\n\
         [[rules]]\nid = \"nobody\"\nkind = \"no-worker\"\nwebhook = \"ops\"\nfor_secs = 0\n"
    );
    let queue = engine_queue(&prefix, "jobs").await;
    for n in 0..3 {
        queue
            .add("wait", serde_json::json!({ "n": n }))
            .await
            .unwrap();
    }
    // The oldest job was added two hours ago, as far as its timestamp says.
    let mut conn = crate::support::conn();
    let oldest: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{prefix}:jobs:wait"))
        .arg(-1)
        .arg(-1)
        .query(&mut conn)
        .unwrap();
    let two_hours_ago = chrono::Utc::now().timestamp_millis() - 2 * 3600 * 1000;
    let _: () = redis::cmd("HSET")
        .arg(format!("{prefix}:jobs:{}", oldest[0]))
        .arg("timestamp")
        .arg(two_hours_ago)
        .query(&mut conn)
        .unwrap();

    let engine = engine(&prefix, &rules).await;
    engine.round().await.unwrap();
    let got = received(&hook, 3).await;
    let titles: Vec<&str> = got.iter().map(|m| m["title"].as_str().unwrap()).collect();
    assert!(titles.contains(&"pile: backlog on jobs"), "{titles:?}");
    assert!(titles.contains(&"old: backlog on jobs"), "{titles:?}");
    assert!(titles.contains(&"nobody: no-worker on jobs"), "{titles:?}");
    let pile = got.iter().find(|m| m["rule"] == "pile").unwrap();
    assert_eq!(pile["text"], "3 jobs waiting (more than 2)");
    engine.round().await.unwrap();
    assert_eq!(
        store(&prefix).recent(100).await.unwrap().len(),
        3,
        "no repeats"
    );

    queue.drain(false).await.unwrap();
    engine.round().await.unwrap();
    let got = received(&hook, 6).await;
    assert_eq!(
        got[3..]
            .iter()
            .filter(|m| m["status"] == "resolved")
            .count(),
        3
    );
    assert!(store(&prefix).active().await.unwrap().is_empty());
}

/// `bullring run` as a child process, killed when dropped.
struct RunProcess(std::process::Child);

impl Drop for RunProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bullring_run_processes_send_each_alert_once() {
    let prefix = unique_prefix("alert-two");
    let (url, hook) = target().await;
    let dir = std::env::temp_dir().join(format!("bullring-{prefix}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bullring.toml");
    std::fs::write(
        &file,
        format!(
            "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n\
             [[queues]]\nname = \"mail\"\n\
             [[workers]]\nqueue = \"mail\"\nhandler = {{ type = \"command\", program = \"false\", timeout_secs = 10 }}\n\
             [alerts]\ninterval_secs = 1\n[alerts.webhooks.ops]\nurl = \"{url}\"\n\
             [[alerts.rules]]\nid = \"gave-up\"\nkind = \"final-failure\"\nwebhook = \"ops\"\ncooldown_secs = 0\n",
            redis().url
        ),
    )
    .unwrap();
    let queue = engine_queue(&prefix, "mail").await;
    let _processes: Vec<RunProcess> = (0..2)
        .map(|_| {
            RunProcess(
                std::process::Command::new(env!("CARGO_BIN_EXE_bullring"))
                    .arg("run")
                    .arg("--config")
                    .arg(&file)
                    .env_remove("REDIS_URL")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    // Wait for the engines' first look at the queue (it starts at the end of the stream).
    let mut conn = crate::support::conn();
    let positions = format!("{prefix}:bullring:alerts:positions");
    let field = format!("{prefix}|mail");
    let deadline = Instant::now() + Duration::from_secs(30);
    while redis::cmd("HGET")
        .arg(&positions)
        .arg(&field)
        .query::<Option<String>>(&mut conn)
        .unwrap()
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "the alerts engines did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    for n in 0..2 {
        queue
            .add("deliver", serde_json::json!({ "n": n }))
            .await
            .unwrap();
    }
    let got = received(&hook, 2).await;
    // Both engines have read past the failures once the position reaches the stream's end.
    let events = format!("{prefix}:mail:events");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let last: Vec<(String, Vec<String>)> = redis::cmd("XREVRANGE")
            .arg(&events)
            .arg("+")
            .arg("-")
            .arg("COUNT")
            .arg(1)
            .query(&mut conn)
            .unwrap();
        let position: Option<String> = redis::cmd("HGET")
            .arg(&positions)
            .arg(&field)
            .query(&mut conn)
            .unwrap();
        if position.as_deref() == last.first().map(|(id, _)| id.as_str()) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the events were not read to the end"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(store(&prefix).recent(100).await.unwrap().len(), 2);
    assert!(
        got.iter()
            .all(|m| m["kind"] == "final-failure" && m["queue"] == "mail")
    );
}

/// A quiet round (nothing fails, nothing changes) costs the same round trips for 3 queues and
/// for 30: every rule of every kind, and no write.
#[tokio::test]
async fn a_quiet_round_costs_the_same_for_few_and_many_queues() {
    let (url, _hook) = target().await;
    let rules = format!(
        "[webhooks.ops]\nurl = \"{url}\"\n\
         [[rules]]\nid = \"gave-up\"\nkind = \"final-failure\"\nwebhook = \"ops\"\n\
         [[rules]]\nid = \"rate\"\nkind = \"failure-rate\"\nwebhook = \"ops\"\nmax_failures = 100\n\
         [[rules]]\nid = \"pile\"\nkind = \"backlog\"\nwebhook = \"ops\"\nmax_waiting = 100\nmax_age_secs = 3600\n\
         [[rules]]\nid = \"nobody\"\nkind = \"no-worker\"\nwebhook = \"ops\"\nfor_secs = 60\n"
    );
    let mut costs = Vec::new();
    for queues in [3, 30] {
        let prefix = unique_prefix("alert-cost");
        for n in 0..queues {
            engine_queue(&prefix, &format!("q{n}")).await;
        }
        let (engine, redis) = engine_and_redis(&prefix, &rules).await;
        engine.round().await.unwrap(); // the first look stores the stream positions
        let before = redis.round_trips();
        engine.round().await.unwrap();
        costs.push(redis.round_trips() - before);
    }
    assert_eq!(
        costs[0], costs[1],
        "round trips for 3 and 30 queues: {costs:?}"
    );
}
