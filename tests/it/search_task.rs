//! "Apply to every match" of a search, as a background task, against queues written by the real
//! npm `bullmq` (5 and 6) and `bull` (4): retry, promote and remove move exactly the matching
//! jobs (Node's `getJobs` reads the same ids back, nothing lost or doubled); a cancelled task
//! stops part way with every job either acted on or untouched; viewers, read-only mode and bad
//! queries are refused before any task exists; one audit entry per task; the task page.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::web::security::{Role, Security};
use serde_json::{Value, json};

use crate::interop::node;
use crate::support::{Dashboard, Reply, anonymous_as, conn, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// A dashboard on `prefix` whose anonymous users have `security`'s role.
async fn dashboard(prefix: &str, security: Security) -> Dashboard {
    Dashboard::with_state(&redis().url, &[prefix], BASE, |state| {
        state.with_security(security)
    })
    .await
    .0
}

async fn post(dash: &Dashboard, uri: &str, content_type: &str, body: String) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    dash.send(request).await
}

/// `POST {base}/api/queues/{queue}/search/apply` with `body`.
async fn apply(dash: &Dashboard, queue: &str, body: Value) -> Reply {
    let uri = format!("{BASE}/api/queues/{queue}/search/apply");
    post(dash, &uri, "application/json", body.to_string()).await
}

/// Start a task and answer its JSON (asserting the 202).
pub(crate) async fn started(dash: &Dashboard, queue: &str, body: Value) -> Value {
    let reply = apply(dash, queue, body).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let task: Value = serde_json::from_str(&reply.body).expect("task JSON");
    assert!(
        task["id"].as_str().is_some_and(|id| !id.is_empty()),
        "{task}"
    );
    task
}

/// Poll the task until `until` holds of it, within a minute.
pub(crate) async fn wait_task(dash: &Dashboard, id: &str, until: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let task = dash.json(&format!("{BASE}/api/tasks/{id}")).await;
        if until(&task) {
            return task;
        }
        assert!(
            Instant::now() < deadline,
            "the task never got there: {task}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn finished(dash: &Dashboard, id: &str) -> Value {
    wait_task(dash, id, |t| t["status"] != "running").await
}

/// Seed `queue` with `n` jobs of `kind` (failed or delayed) through `lib`.
pub(crate) fn seed(prefix: &str, lib: &str, queue: &str, kind: &str, n: usize) {
    let url = &redis().url;
    let n = n.to_string();
    let out = node(
        "search_task.js",
        &[
            "--redis", url, "--prefix", prefix, "--lib", lib, "--queue", queue, "--step", "seed",
            "--kind", kind, "--n", &n,
        ],
    );
    assert_eq!(out["ok"], true, "{out}");
}

/// What the library itself reads back: state -> (id, name) of each job.
pub(crate) fn in_node(prefix: &str, lib: &str, queue: &str) -> Value {
    let url = &redis().url;
    let out = node(
        "search_task.js",
        &[
            "--redis", url, "--prefix", prefix, "--lib", lib, "--queue", queue, "--step", "list",
        ],
    );
    assert_eq!(out["ok"], true, "{out}");
    out["jobs"].clone()
}

/// The ids of `state`, each once (a job listed twice is a failure), those named `name` only
/// when given.
pub(crate) fn ids(jobs: &Value, state: &str, name: Option<&str>) -> BTreeSet<String> {
    let list = jobs[state].as_array().expect("state list");
    let all: Vec<&Value> = list.iter().collect();
    let unique: BTreeSet<&str> = all.iter().map(|j| j["id"].as_str().unwrap()).collect();
    assert_eq!(unique.len(), all.len(), "a job listed twice in {state}");
    all.iter()
        .filter(|j| name.is_none_or(|n| j["name"] == n))
        .map(|j| j["id"].as_str().unwrap().to_string())
        .collect()
}

/// The audit entries of the task `id`.
pub(crate) async fn audited(dash: &Dashboard, id: &str) -> Vec<Value> {
    let audit = dash.json(&format!("{BASE}/api/audit")).await;
    audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["detail"].as_str().is_some_and(|d| d.contains(id)))
        .cloned()
        .collect()
}

#[tokio::test]
async fn retry_promote_and_remove_every_match_as_the_library_sees_it() {
    let prefix = unique_prefix("apply-all");
    seed(&prefix, "bullmq5", "mail", "failed", 3000);
    seed(&prefix, "bullmq6", "later", "delayed", 600);
    let dash = dashboard(&prefix, Security::default()).await;

    // Retry: exactly the failed jobs named sync-user wait again, the others stay failed.
    let before = in_node(&prefix, "bullmq5", "mail");
    let matching = ids(&before, "failed", Some("sync-user"));
    let others = ids(&before, "failed", Some("send-email"));
    assert_eq!((matching.len(), others.len()), (1000, 2000));
    let task = started(
        &dash,
        "mail",
        json!({"state": "failed", "q": "name:sync-user", "action": "retry", "batch": 200}),
    )
    .await;
    assert_eq!(task["action"], "retry");
    assert_eq!(task["states"], json!(["failed"]));
    let id = task["id"].as_str().unwrap().to_string();
    let done = finished(&dash, &id).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(
        (&done["scanned"], &done["total"], &done["matched"]),
        (&json!(3000), &json!(3000), &json!(1000)),
        "{done}"
    );
    assert_eq!(
        (&done["applied"], &done["skipped"]),
        (&json!(1000), &json!(0))
    );
    assert!(done["finished_ms"].as_i64().is_some());
    let after = in_node(&prefix, "bullmq5", "mail");
    assert_eq!(ids(&after, "waiting", None), matching);
    assert_eq!(ids(&after, "failed", None), others);

    // One audit entry, with the query and the count.
    let entries = audited(&dash, &id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    let detail = entries[0]["detail"].as_str().unwrap();
    assert_eq!(entries[0]["action"], "retry");
    assert_eq!(entries[0]["queue"], "mail");
    assert_eq!(entries[0]["outcome"], "ok");
    assert!(
        detail.contains("`name:sync-user`") && detail.contains("in failed"),
        "{detail}"
    );
    assert!(
        detail.contains("1000 of 1000 match(es) retried"),
        "{detail}"
    );

    // Promote (BullMQ 6): the delayed sync-user jobs wait now, the others are still delayed.
    let before = in_node(&prefix, "bullmq6", "later");
    let matching = ids(&before, "delayed", Some("sync-user"));
    let others = ids(&before, "delayed", Some("send-email"));
    let task = started(
        &dash,
        "later",
        json!({"state": "delayed", "q": "name:sync-user", "action": "promote", "batch": 64}),
    )
    .await;
    let done = finished(&dash, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["applied"], json!(matching.len()));
    let after = in_node(&prefix, "bullmq6", "later");
    assert_eq!(ids(&after, "waiting", None), matching);
    assert_eq!(ids(&after, "delayed", None), others);

    // Remove, with the state in the query: the rest of the delayed jobs are gone, hashes too.
    let task = started(
        &dash,
        "later",
        json!({"state": "waiting", "q": "state:delayed name:send-*", "action": "remove"}),
    )
    .await;
    let done = finished(&dash, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["applied"], json!(others.len()));
    let after = in_node(&prefix, "bullmq6", "later");
    assert!(ids(&after, "delayed", None).is_empty());
    assert_eq!(
        ids(&after, "waiting", None),
        matching,
        "the promoted jobs stay"
    );
    let gone = others.iter().next().unwrap();
    let exists: bool = redis::cmd("EXISTS")
        .arg(format!("{prefix}:later:{gone}"))
        .query(&mut conn())
        .expect("EXISTS");
    assert!(!exists, "a removed job's hash is gone");
}

#[tokio::test]
async fn a_cancelled_task_stops_part_way_with_every_job_acted_on_or_untouched() {
    let prefix = unique_prefix("apply-cancel");
    seed(&prefix, "bullmq5", "big", "failed", 3000);
    let dash = dashboard(&prefix, Security::default()).await;
    let before = in_node(&prefix, "bullmq5", "big");
    let matching = ids(&before, "failed", Some("send-email"));
    let task = started(
        &dash,
        "big",
        json!({"state": "failed", "q": "name:send-email", "action": "retry", "batch": 10}),
    )
    .await;
    let id = task["id"].as_str().unwrap().to_string();
    wait_task(&dash, &id, |t| t["applied"].as_u64() > Some(0)).await;
    let reply = post(
        &dash,
        &format!("{BASE}/api/tasks/{id}/cancel"),
        "application/json",
        String::new(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let done = finished(&dash, &id).await;
    assert_eq!(done["status"], "cancelled", "{done}");
    let applied = done["applied"].as_u64().unwrap();
    assert!(
        applied > 0 && applied < matching.len() as u64,
        "cancelled part way: {done}"
    );
    // Every job is where it was or retried, none twice, none lost.
    let after = in_node(&prefix, "bullmq5", "big");
    let waiting = ids(&after, "waiting", None);
    let failed = ids(&after, "failed", None);
    assert_eq!(waiting.len() as u64, applied);
    assert!(waiting.is_subset(&matching), "only matches were retried");
    assert!(waiting.is_disjoint(&failed));
    assert_eq!(waiting.len() + failed.len(), 3000, "nothing lost");
    let entries = audited(&dash, &id).await;
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0]["outcome"], "cancelled");
}

#[tokio::test]
async fn viewers_read_only_mode_and_bad_requests_start_no_task() {
    let prefix = unique_prefix("apply-refused");
    seed(&prefix, "bullmq5", "guarded", "failed", 30);
    let before = in_node(&prefix, "bullmq5", "guarded");
    let body = json!({"state": "failed", "q": "name:sync-user", "action": "retry"});
    for security in [
        anonymous_as(Role::Viewer, false),
        anonymous_as(Role::Admin, true),
    ] {
        let dash = dashboard(&prefix, security).await;
        let reply = apply(&dash, "guarded", body.clone()).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        let tasks = dash.json(&format!("{BASE}/api/tasks")).await;
        assert_eq!(tasks["tasks"], json!([]), "no task was created");
        // The search page offers no "apply to every match" to them.
        let page = dash
            .get(&format!(
                "{BASE}/queues/guarded?state=failed&q=name%3Async-user"
            ))
            .await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("Apply to every match"));
    }
    let dash = dashboard(&prefix, Security::default()).await;
    for (body, names) in [
        (
            json!({"state": "failed", "q": "colour:red", "action": "retry"}),
            "colour:red",
        ),
        (
            json!({"state": "failed", "q": "", "action": "clean"}),
            "action",
        ),
        (
            json!({"state": "failed", "q": "", "action": "promote"}),
            "promote does not apply to failed",
        ),
        (
            json!({"state": "failed", "q": "", "action": "retry", "batch": 0}),
            "batch",
        ),
    ] {
        let reply = apply(&dash, "guarded", body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
        assert!(reply.body.contains(names), "{}", reply.body);
    }
    let nowhere = apply(
        &dash,
        "nowhere",
        json!({"state": "failed", "q": "", "action": "retry"}),
    )
    .await;
    assert_eq!(nowhere.status, StatusCode::NOT_FOUND, "{}", nowhere.body);
    let tasks = dash.json(&format!("{BASE}/api/tasks")).await;
    assert_eq!(tasks["tasks"], json!([]), "no task was created");
    assert_eq!(in_node(&prefix, "bullmq5", "guarded"), before, "unchanged");
    let missing = dash.get(&format!("{BASE}/api/tasks/nope")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_search_page_confirms_and_the_task_page_shows_the_progress() {
    let prefix = unique_prefix("apply-pages");
    seed(&prefix, "bullmq5", "pages", "failed", 90);
    let dash = dashboard(&prefix, Security::default()).await;
    let page = dash
        .get(&format!(
            "{BASE}/queues/pages?state=failed&q=name%3Async-user"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Apply to every match"), "{}", page.body);
    assert!(
        page.body
            .contains(&format!("action=\"{BASE}/queues/pages/search/apply\""))
    );
    assert!(page.body.contains("value=\"retry\"") && page.body.contains("value=\"remove\""));
    assert!(
        !page.body.contains("value=\"promote\""),
        "promote does not fit failed jobs"
    );

    // The confirmation (no JavaScript needed), then the form starts the task.
    let confirm = dash
        .get(&format!(
            "{BASE}/queues/pages/search/apply?state=failed&q=name%3Async-user&action=remove"
        ))
        .await;
    assert_eq!(confirm.status, StatusCode::OK, "{}", confirm.body);
    assert!(
        confirm
            .body
            .contains("Remove every match of `name:sync-user` in failed of pages?")
    );
    assert!(confirm.body.contains("method=\"post\""));
    let form = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("state", "failed"),
            ("q", "name:sync-user"),
            ("action", "remove"),
        ])
        .finish();
    let reply = post(
        &dash,
        &format!("{BASE}/queues/pages/search/apply"),
        "application/x-www-form-urlencoded",
        form,
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string();
    let id = location
        .strip_prefix(&format!("{BASE}/tasks/"))
        .unwrap_or_else(|| panic!("to the task page: {location}"));
    let done = finished(&dash, id).await;
    assert_eq!(done["status"], "done");
    let html = dash.get(&location).await;
    assert_eq!(html.status, StatusCode::OK);
    assert!(
        html.body.contains("<progress max=\"90\" value=\"90\""),
        "{}",
        html.body
    );
    assert!(html.body.contains("class=\"applied\">30<"), "{}", html.body);
    assert!(html.body.contains("class=\"matched\">30<"));
    assert!(html.body.contains("data-status=\"done\""));
    assert!(
        !html.body.contains("hx-trigger"),
        "a finished task is not read again"
    );
    assert!(!html.body.contains("/cancel"), "nothing to cancel");
    let after = in_node(&prefix, "bullmq5", "pages");
    assert!(ids(&after, "failed", Some("sync-user")).is_empty());
    assert_eq!(ids(&after, "failed", None).len(), 60);
}

#[tokio::test]
async fn a_bull_queue_retries_every_match_with_bulls_semantics() {
    let prefix = unique_prefix("apply-bull");
    seed(&prefix, "bull", "legacy", "failed", 300);
    let dash = dashboard(&prefix, Security::default()).await;
    let before = in_node(&prefix, "bull", "legacy");
    let matching = ids(&before, "failed", Some("sync-user"));
    let others = ids(&before, "failed", Some("send-email"));
    assert_eq!(matching.len(), 100);
    let task = started(
        &dash,
        "legacy",
        json!({"state": "failed", "q": "name:sync-user", "action": "retry", "batch": 32}),
    )
    .await;
    let done = finished(&dash, task["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["applied"], json!(100));
    let after = in_node(&prefix, "bull", "legacy");
    assert_eq!(ids(&after, "waiting", None), matching);
    assert_eq!(ids(&after, "failed", None), others);
    // Bull retries only failed jobs: completed ones are refused before any task exists.
    let reply = apply(
        &dash,
        "legacy",
        json!({"state": "completed", "q": "", "action": "retry"}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

#[tokio::test]
async fn four_tasks_run_at_once_and_a_fifth_waits_its_turn() {
    let prefix = unique_prefix("apply-busy");
    seed(&prefix, "bullmq5", "busy", "failed", 2000);
    let dash = dashboard(&prefix, Security::default()).await;
    let before = in_node(&prefix, "bullmq5", "busy");
    let matching = ids(&before, "failed", Some("send-email"));
    let body = json!({"state": "failed", "q": "name:send-email", "action": "retry", "batch": 1});
    let mut running = Vec::new();
    for _ in 0..4 {
        let task = started(&dash, "busy", body.clone()).await;
        running.push(task["id"].as_str().unwrap().to_string());
    }
    let full = apply(&dash, "busy", body.clone()).await;
    assert_eq!(
        full.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        full.body
    );
    assert_eq!(full.headers[header::RETRY_AFTER], "10");
    for id in &running {
        let uri = format!("{BASE}/api/tasks/{id}/cancel");
        let reply = post(&dash, &uri, "application/json", String::new()).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    }
    // Four tasks on the same jobs: each job was retried once, by one of them.
    let mut applied = 0;
    for id in &running {
        let done = finished(&dash, id).await;
        assert_ne!(done["status"], "failed", "{done}");
        applied += done["applied"].as_u64().unwrap();
    }
    let after = in_node(&prefix, "bullmq5", "busy");
    let waiting = ids(&after, "waiting", None);
    assert_eq!(waiting.len() as u64, applied, "no job retried twice");
    assert!(waiting.is_subset(&matching));
    assert_eq!(waiting.len() + ids(&after, "failed", None).len(), 2000);
    let tasks = dash.json(&format!("{BASE}/api/tasks")).await;
    assert_eq!(tasks["tasks"].as_array().unwrap().len(), 4);
    assert_eq!(tasks["tasks"][0]["id"], running[3].as_str(), "newest first");
}

/// The `dd` of the task page's `class` count, from the page's source.
fn shown(source: &str, class: &str) -> Option<String> {
    let at = source.find(&format!("class=\"{class}\">"))? + class.len() + 9;
    Some(source[at..].split('<').next()?.to_string())
}

#[tokio::test]
async fn in_a_browser_the_task_page_updates_itself_and_cancels() {
    use crate::browser::Browser;
    use crate::support::{app_state, serve};

    let prefix = unique_prefix("apply-browser");
    seed(&prefix, "bullmq5", "sync", "failed", 3000);
    let state = app_state(&redis().url, &[&prefix], BASE).await;
    let (port, stop) = serve(bullring::web::app(state)).await;
    let _stop = stop.drop_guard();
    let origin = format!("http://127.0.0.1:{port}");
    let browser = Browser::start(true).await;

    // The search's "apply to every match" asks on a page of its own.
    browser
        .goto(&format!(
            "{origin}{BASE}/queues/sync?state=failed&q=name%3Async-user"
        ))
        .await;
    browser
        .click("form.apply-all button[value=\"retry\"]")
        .await;
    let confirm = browser
        .wait_for_url("the confirmation", |url| url.contains("/search/apply?"))
        .await;
    browser.find("main form[method=\"post\"] button").await;
    browser.assert_clean("confirmation", true).await;

    // One job a chunk, so the task runs long enough to be watched.
    browser.goto(&format!("{confirm}&batch=1")).await;
    browser.click("main form[method=\"post\"] button").await;
    browser
        .find("section#task[data-status=\"running\"] progress")
        .await;
    let first = browser
        .wait_for_source("the first counts", |s| shown(s, "scanned").is_some())
        .await;
    let before = shown(&first, "scanned");
    let url = browser.url().await;
    assert!(url.contains("/tasks/"), "{url}");
    // Read again in place (htmx), no navigation: the counts move on.
    browser
        .wait_for_source("the progress to move", |s| {
            shown(s, "scanned") != before && s.contains("data-status=\"running\"")
        })
        .await;
    assert_eq!(browser.url().await, url);
    browser.click("section#task form button.danger").await;
    let ended = browser
        .wait_for_source("the task cancelled", |s| {
            s.contains("data-status=\"cancelled\"")
        })
        .await;
    assert!(ended.contains("class=\"flash\""), "the cancel says so");
    assert!(!ended.contains("hx-trigger=\"every 1s\""));
    browser.assert_clean("task page", true).await;
    browser.close().await;
    let after = in_node(&prefix, "bullmq5", "sync");
    let applied: usize = shown(&ended, "applied").unwrap().parse().unwrap();
    assert_eq!(ids(&after, "waiting", None).len(), applied);
    assert!(applied < 1000, "cancelled part way");
}
