//! Bull 3/4 queues written by the real npm `bull` (4.16.5, tests/node/bull.js). bullring reads
//! them as Bull's own API reports them (counts, pages in both orders, every job field, state,
//! logs), knows them for Bull's with and without `library = "bull"` declared while BullMQ
//! queues stay BullMQ's, and pays the same round trips for their pages as for a BullMQ queue's.
//! Actions on them are in `bull_actions.rs`.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::config::Config;
use bullring::queue::connection::{Redis, RedisSettings};
use bullring::queue::discovery::Discovery;
use bullring::queue::model::Library;
use bullring::queue::read::Reader;
use bullring::runner::add::{AddJob, add};
use bullring::web::{self, AppState};
use serde_json::{Value, json};

use crate::interop::node;
use crate::support::{Dashboard, Reply, conn, engine_queue, redis, unique_prefix};

pub(crate) const BASE: &str = "/admin/queues";
const BULL_QUEUES: [&str; 2] = ["pre-diagnosis", "bull-paused"];
const STATES: [&str; 6] = [
    "waiting",
    "active",
    "delayed",
    "completed",
    "failed",
    "paused",
];

/// Run a step of bull.js under `prefix`.
pub(crate) fn bull(prefix: &str, step: &str, queue: Option<&str>) -> Value {
    let url = redis().url.clone();
    let mut args = vec!["--redis", url.as_str(), "--prefix", prefix, "--step", step];
    if let Some(queue) = queue {
        args.extend(["--queue", queue]);
    }
    let out = node("bull.js", &args);
    assert_eq!(out["ok"], true, "bull.js {step}: {out}");
    assert_eq!(out["bull"], "4.16.5", "{out}");
    out
}

/// Bull's fixtures, and a BullMQ queue `mq` (two waiting jobs, one delayed) beside them.
pub(crate) async fn seed() -> String {
    let prefix = unique_prefix("bull");
    bull(&prefix, "seed", None);
    let mq = engine_queue(&prefix, "mq").await;
    let jobs = (0..2)
        .map(|i| bullmq::BulkJob::new("work", json!({ "i": i })))
        .collect();
    mq.add_bulk(jobs).await.expect("add_bulk");
    prefix
}

/// A dashboard over `prefix`, with these libraries declared (as `[[queues]] library` does).
pub(crate) async fn dashboard(prefix: &str, declared: &[(&str, Library)]) -> Dashboard {
    let prefixes = vec![prefix.to_string()];
    let settings = RedisSettings::url(&redis().url);
    let configured = declared.iter().map(|(n, _)| n.to_string()).collect();
    let discovery = Discovery::new(prefixes.clone(), configured, true)
        .declaring(declared.iter().map(|(n, l)| (n.to_string(), *l)));
    discovery
        .refresh(&Redis::new(settings.clone()))
        .await
        .expect("discovery");
    let reader = Reader::new(Redis::new(settings), prefixes);
    let state = AppState::new(reader, discovery, BASE, "bullring test");
    Dashboard {
        redis: state.reader().redis().clone(),
        router: web::app(state),
    }
}

pub(crate) fn summary<'a>(queues: &'a Value, name: &str) -> &'a Value {
    queues["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in {queues}"))
}

/// A field of a JSON object, with `null` and absent taken alike (as Bull's `Job` has them).
fn field<'a>(object: &'a Value, name: &str) -> &'a Value {
    object.get(name).unwrap_or(&Value::Null)
}

/// Every job of `bull` (the `report` step's output for `queue`) read through bullring's JSON API
/// equals Bull's `getJob`: every field, its state and its logs.
pub(crate) async fn jobs_as_bull_reports_them(dash: &Dashboard, queue: &str, bull: &Value) {
    let jobs = bull["jobs"].as_object().expect("jobs");
    for (id, theirs) in jobs {
        let ours = dash
            .json(&format!("{BASE}/api/queues/{queue}/jobs/{id}"))
            .await;
        assert_eq!(ours["library"], "bull");
        for name in [
            "id",
            "name",
            "data",
            "opts",
            "progress",
            "delay",
            "timestamp",
            "attemptsMade",
            "failedReason",
            "stacktrace",
            "returnvalue",
            "finishedOn",
            "processedOn",
            "retriedOn",
            "state",
        ] {
            assert_eq!(
                field(&ours, name),
                field(theirs, name),
                "{queue}/{id} {name}"
            );
        }
        assert_eq!(ours["logs"]["lines"], theirs["logs"], "{queue}/{id} logs");
        assert_eq!(
            ours["logs"]["total"], theirs["logCount"],
            "{queue}/{id} logs"
        );
    }
}

#[tokio::test]
async fn bullring_reads_bull_queues_as_bull_reports_them() {
    let prefix = seed().await;
    let dash = dashboard(&prefix, &[]).await;
    let listed = dash.json(&format!("{BASE}/api/queues")).await;
    assert_eq!(summary(&listed, "mq")["library"], "bullmq", "{listed}");
    for queue in BULL_QUEUES {
        let bull = bull(&prefix, "report", Some(queue));
        let ours = summary(&listed, queue);
        assert_eq!(ours["library"], "bull", "{ours}");
        assert_eq!(ours["paused"], bull["isPaused"], "{queue}: {ours}");
        for state in STATES {
            assert_eq!(
                ours["counts"][state], bull["counts"][state],
                "{queue} {state}"
            );
        }
        assert_eq!(
            ours["counts"]["prioritized"], 0,
            "priority jobs are waiting"
        );
        for state in STATES {
            for (order, node_order) in [("oldest", "asc"), ("newest", "desc")] {
                let uri = format!(
                    "{BASE}/api/queues/{queue}/jobs?state={state}&per_page=1000&order={order}"
                );
                let page = dash.json(&uri).await;
                assert_eq!(page["library"], "bull");
                let ids: Vec<&Value> = page["jobs"]
                    .as_array()
                    .expect("jobs")
                    .iter()
                    .map(|j| &j["id"])
                    .collect();
                let expected: Vec<&Value> = bull["ids"][state][node_order]
                    .as_array()
                    .expect("ids")
                    .iter()
                    .collect();
                assert_eq!(ids, expected, "{queue} {state} {order}");
                assert_eq!(page["total"], bull["counts"][state], "{queue} {state}");
            }
        }
        let jobs = bull["jobs"].as_object().expect("jobs");
        assert!(jobs.len() >= 4, "{queue}: {}", jobs.len());
        jobs_as_bull_reports_them(&dash, queue, &bull).await;
    }
    // What the fixture holds, so the comparisons above compared something.
    let report = bull(&prefix, "report", Some("pre-diagnosis"));
    let failed = &report["jobs"]["broken-4"];
    assert_eq!(failed["attemptsMade"], 2, "{failed}");
    assert_eq!(failed["stacktrace"].as_array().map(Vec::len), Some(2));
    assert_eq!(report["jobs"]["done-1"]["returnvalue"]["score"], 10);
    assert_eq!(report["ids"]["waiting"]["asc"][0], "lifo-1", "{report}");
    assert_eq!(report["ids"]["waiting"]["asc"][1], "10", "priority 1 next");

    // The pages: Bull's tabs and badge, and Bull's actions (no retry of a completed job).
    let page = dash
        .get(&format!("{BASE}/queues/bull-paused?state=paused"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(">Bull</span>"), "{}", page.body);
    assert!(!page.body.contains("state-prioritized"), "{}", page.body);
    assert!(!page.body.contains("state-waiting-children"));
    assert!(
        page.body.contains("/queues/bull-paused/resume"),
        "{}",
        page.body
    );
    let job = dash
        .get(&format!("{BASE}/queues/pre-diagnosis/jobs/broken-4"))
        .await;
    assert_eq!(job.status, StatusCode::OK, "{}", job.body);
    assert!(job.body.contains("/jobs/broken-4/retry"), "{}", job.body);
    let done = dash
        .get(&format!("{BASE}/queues/pre-diagnosis/jobs/done-1"))
        .await;
    assert!(!done.body.contains("/jobs/done-1/retry"), "{}", done.body);
    let completed = dash
        .get(&format!("{BASE}/queues/pre-diagnosis?state=completed"))
        .await;
    assert!(!completed.body.contains("/retry\""), "{}", completed.body);
    for page in [
        "queues/pre-diagnosis/actions/clean",
        "queues/pre-diagnosis/actions/add",
        "queues/bull-paused/actions/obliterate",
        "queues/pre-diagnosis/jobs/6/edit",
    ] {
        let reply = dash.get(&format!("{BASE}/{page}")).await;
        assert_eq!(reply.status, StatusCode::OK, "{page}: {}", reply.body);
    }
    let overview = dash.get(&format!("{BASE}/")).await;
    assert!(overview.body.contains(">Bull</span>"), "{}", overview.body);
    assert!(overview.body.contains(">BullMQ</span>") || overview.body.contains(">BullMQ "));
}

#[tokio::test]
async fn the_library_is_known_with_and_without_a_declaration() {
    let prefix = seed().await;
    let before = snapshot(&prefix);
    for declared in [
        vec![],
        vec![
            ("pre-diagnosis", Library::Bull),
            ("bull-paused", Library::Bull),
        ],
    ] {
        let dash = dashboard(&prefix, &declared).await;
        let listed = dash.json(&format!("{BASE}/api/queues")).await;
        for queue in BULL_QUEUES {
            assert_eq!(summary(&listed, queue)["library"], "bull", "{declared:?}");
        }
        assert_eq!(summary(&listed, "mq")["library"], "bullmq");
        let page = dash
            .json(&format!("{BASE}/api/queues/mq/jobs?state=waiting"))
            .await;
        assert_eq!(page["library"], "bullmq");
    }
    assert_eq!(snapshot(&prefix), before, "reads never write");
    // A queue declared Bull before it has a key takes its first job as Bull writes it.
    let dash = dashboard(&prefix, &[("later", Library::Bull)]).await;
    let reply = post(
        &dash,
        "api/queues/later/jobs",
        Some(json!({"name": "x"})),
        false,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let keys: Vec<String> = snapshot(&prefix)
        .into_keys()
        .filter(|k| k.contains(":later:"))
        .collect();
    let names: Vec<String> = keys
        .iter()
        .map(|k| k.rsplit(':').next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(names, ["1", "id", "wait"], "{keys:?}");
}

/// Every key of the Bull queues under `prefix`, with its value (`support::stored`).
pub(crate) fn snapshot(prefix: &str) -> BTreeMap<String, Vec<u8>> {
    let mut conn = conn();
    let mut all = BTreeMap::new();
    for queue in BULL_QUEUES.iter().chain(&["later"]) {
        let keys: Vec<String> =
            redis::Commands::scan_match::<_, String>(&mut conn, format!("{prefix}:{queue}:*"))
                .expect("SCAN")
                .collect::<Result<_, _>>()
                .expect("SCAN keys");
        for key in keys {
            let value = crate::support::stored(&mut conn, &key);
            all.insert(key, value);
        }
    }
    all
}

/// `POST` JSON (`form` false) or a form to `{BASE}/{path}`.
async fn post(dash: &Dashboard, path: &str, body: Option<Value>, form: bool) -> Reply {
    let (content_type, text) = if form {
        let fields: Vec<(String, String)> = body
            .as_ref()
            .and_then(Value::as_object)
            .map(|o| {
                o.iter()
                    .flat_map(|(k, v)| match v {
                        Value::Array(items) => items
                            .iter()
                            .map(|i| (k.clone(), i.as_str().unwrap_or_default().to_string()))
                            .collect::<Vec<_>>(),
                        Value::String(s) => vec![(k.clone(), s.clone())],
                        other => vec![(k.clone(), other.to_string())],
                    })
                    .collect()
            })
            .unwrap_or_default();
        let text = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        ("application/x-www-form-urlencoded", text)
    } else {
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        ("application/json", text)
    };
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{BASE}/{path}"))
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(text))
        .expect("request");
    dash.send(request).await
}

#[tokio::test]
async fn a_bull_queue_page_costs_what_a_bullmq_queue_page_costs() {
    let prefix = seed().await;
    let dash = dashboard(&prefix, &[]).await;
    let mut costs = Vec::new();
    for (queue, job) in [("pre-diagnosis", "6"), ("mq", "1")] {
        let (page, reply) = dash
            .round_trips(dash.get(&format!("{BASE}/queues/{queue}?state=waiting&per_page=20")))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (api, reply) = dash
            .round_trips(dash.get(&format!("{BASE}/api/queues/{queue}/jobs?state=waiting")))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        let (job_page, reply) = dash
            .round_trips(dash.get(&format!("{BASE}/queues/{queue}/jobs/{job}")))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        assert!(reply.body.contains("waiting"), "{}", reply.body);
        costs.push((page, api, job_page));
    }
    assert_eq!(costs[0], costs[1], "Bull (left) and BullMQ (right)");
    // A page: summary and ids, field sizes, the fields within bounds (see queue::preview).
    assert_eq!(costs[0], (3, 3, 2));
    let (trips, _) = dash.round_trips(dash.get(&format!("{BASE}/"))).await;
    assert_eq!(trips, 1, "the overview, Bull queues included");
}

#[tokio::test]
async fn the_runner_and_bullring_add_refuse_bull_queues() {
    let prefix = seed().await;
    let before = snapshot(&prefix);
    let url = &redis().url;
    let job = |queue: &str| AddJob {
        queue: queue.into(),
        name: "x".into(),
        data: "{}".into(),
        ..AddJob::default()
    };
    // Known by its keys.
    let config = Config::from_toml(&format!(
        "redis_url = \"{url}\"\nprefixes = [\"{prefix}\"]\n"
    ))
    .expect("config");
    let err = add(&config, &job("pre-diagnosis")).await.unwrap_err();
    assert!(
        err.to_string().contains("a Bull queue (by its keys)"),
        "{err}"
    );
    // Declared, even before it has a key.
    let config = Config::from_toml(&format!(
        "redis_url = \"{url}\"\nprefixes = [\"{prefix}\"]\n[[queues]]\nname = \"later\"\nlibrary = \"bull\"\n"
    ))
    .expect("config");
    assert_eq!(config.library("later"), Some(Library::Bull));
    let err = add(&config, &job("later")).await.unwrap_err();
    assert!(
        err.to_string().contains("declared library = \"bull\""),
        "{err}"
    );
    assert_eq!(
        snapshot(&prefix),
        before,
        "bullring add wrote into a Bull queue"
    );
    // A BullMQ queue still takes jobs.
    add(&config, &job("mq"))
        .await
        .expect("add to a BullMQ queue");

    // A worker or a scheduler on a queue declared Bull stops the start, saying why.
    let err = Config::from_toml(
        "[[queues]]\nname = \"later\"\nlibrary = \"bull\"\n[[workers]]\nqueue = \"later\"\nhandler = { type = \"noop\" }\n",
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("bullring's runner works BullMQ queues only"),
        "{err}"
    );
    let err = Config::from_toml("[[queues]]\nname = \"q\"\nlibrary = \"bullq\"\n").unwrap_err();
    assert!(err.to_string().contains("bullq"), "{err}");
}
