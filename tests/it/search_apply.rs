//! The queue page's import form (an admin posts NDJSON, as `bullring add --from` reads it),
//! checked against the real npm `bullmq`: a good text adds its jobs, which Node's `getJobs`
//! reads back; a bad line adds nothing and is named; viewers, read-only mode and Bull queues are
//! refused; a text over the limit is a 413; one audit entry says what was done.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::web::security::{Role, Security};
use serde_json::Value;

use crate::interop::node;
use crate::support::{Dashboard, Reply, anonymous_as, engine_queue, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// A dashboard on `prefix` whose anonymous users have `security`'s role.
async fn dashboard(prefix: &str, security: Security) -> Dashboard {
    Dashboard::with_state(&redis().url, &[prefix], BASE, |state| {
        state.with_security(security)
    })
    .await
    .0
}

async fn post_form(dash: &Dashboard, uri: &str, fields: &[(&str, &str)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    post(dash, uri, "application/x-www-form-urlencoded", body).await
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

/// Node's `getJobs(['waiting'])` of `queue`: (name, data) of each job, by `data.n`.
fn waiting_in_node(prefix: &str, queue: &str) -> Vec<(String, Value)> {
    let url = &redis().url;
    let out = node(
        "search.js",
        &[
            "--redis", url, "--prefix", prefix, "--bullmq", "6", "--step", "export", "--queue",
            queue, "--states", "waiting",
        ],
    );
    assert_eq!(out["ok"], true, "{out}");
    let mut jobs: Vec<(String, Value)> = out["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| (j["name"].as_str().unwrap().to_string(), j["data"].clone()))
        .collect();
    jobs.sort_by_key(|(_, data)| data["n"].as_u64());
    jobs
}

/// The job counts `/api/queues` gives for `queue`.
async fn counts_of(dash: &Dashboard, queue: &str) -> Value {
    let all = dash.json(&format!("{BASE}/api/queues")).await;
    let entry = all["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|q| q["name"] == queue)
        .unwrap_or_else(|| panic!("{queue} in {all}"));
    entry["counts"].clone()
}

/// The audit entries of the import action.
async fn imports_audited(dash: &Dashboard) -> Vec<Value> {
    let audit = dash.json(&format!("{BASE}/api/audit")).await;
    audit["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "import")
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_admin_imports_ndjson_from_the_queue_page_all_or_nothing() {
    let prefix = unique_prefix("import");
    let queue = engine_queue(&prefix, "imports").await;
    queue
        .add("seed", serde_json::json!({ "n": 0 }))
        .await
        .expect("add");
    let dash = dashboard(&prefix, Security::default()).await;

    // The admin sees the form; it posts to the import route.
    let page = dash.get(&format!("{BASE}/queues/imports")).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body
            .contains(&format!("action=\"{BASE}/queues/imports/import\"")),
        "the import form is on the page"
    );
    assert!(page.body.contains("name=\"ndjson\""));

    // A bad line adds nothing, and the answer names it.
    let good =
        |n: u32| format!(r#"{{"name":"mail-{n}","data":{{"n":{n}}},"opts":{{"attempts":2}}}}"#);
    let bad = format!("{}\n{}\n{{\"data\":1}}\nnot json\n", good(1), good(2));
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/imports/import"),
        &[("ndjson", &bad)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("line 3: no name"), "{}", reply.body);
    assert!(reply.body.contains("line 4: not JSON"), "{}", reply.body);
    assert!(reply.body.contains("nothing was added"), "{}", reply.body);
    assert_eq!(
        waiting_in_node(&prefix, "imports"),
        [("seed".to_string(), serde_json::json!({ "n": 0 }))]
    );

    // A good text adds every job, in order, as Node's getJobs reads them; a blank line is skipped.
    let text = format!("{}\n\n{}\n{}\n", good(1), good(2), good(3));
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/imports/import"),
        &[
            ("ndjson", &text),
            ("back", &format!("{BASE}/queues/imports")),
        ],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(
        reply.headers[header::LOCATION].to_str().unwrap(),
        format!("{BASE}/queues/imports")
    );
    let want: Vec<(String, Value)> =
        std::iter::once(("seed".to_string(), serde_json::json!({"n": 0})))
            .chain((1..=3).map(|n| (format!("mail-{n}"), serde_json::json!({ "n": n }))))
            .collect();
    assert_eq!(waiting_in_node(&prefix, "imports"), want);

    // The JSON API takes the text as a string field, and answers with the count.
    let reply = post(
        &dash,
        &format!("{BASE}/api/queues/imports/import"),
        "application/json",
        serde_json::json!({ "ndjson": good(4) }).to_string(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(outcome["action"], "import", "{outcome}");
    assert_eq!(outcome["count"], 1, "{outcome}");
    assert_eq!(waiting_in_node(&prefix, "imports").len(), 5);

    // One audit entry for each import that ran, with its count (the bad text never ran).
    let entries = imports_audited(&dash).await;
    let ok: Vec<&Value> = entries.iter().filter(|e| e["outcome"] == "ok").collect();
    assert_eq!(ok.len(), 2, "{entries:?}");
    assert!(
        ok.iter()
            .any(|e| e["detail"].as_str().unwrap().contains("Imported 3 job(s)")),
        "{entries:?}"
    );

    // Over the limit: a 413, and nothing added.
    let huge = "x".repeat(bullring::queue::ndjson::MAX_TEXT + 1);
    let reply = post(
        &dash,
        &format!("{BASE}/api/queues/imports/import"),
        "application/json",
        serde_json::json!({ "ndjson": huge }).to_string(),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    let body = "x".repeat(3 * bullring::queue::ndjson::MAX_TEXT + 65 * 1024);
    let reply = post(
        &dash,
        &format!("{BASE}/queues/imports/import"),
        "application/x-www-form-urlencoded",
        format!("ndjson={body}"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(waiting_in_node(&prefix, "imports").len(), 5);
}

#[tokio::test]
async fn viewers_operators_read_only_mode_and_bull_queues_may_not_import() {
    let prefix = unique_prefix("import-refused");
    let queue = engine_queue(&prefix, "imports").await;
    queue
        .add("seed", serde_json::json!({ "n": 0 }))
        .await
        .expect("add");
    let text = r#"{"name":"mail","data":{"n":1}}"#;
    for (role, read_only) in [
        (Role::Viewer, false),
        (Role::Operator, false),
        (Role::Admin, true),
    ] {
        let dash = dashboard(&prefix, anonymous_as(role, read_only)).await;
        let page = dash.get(&format!("{BASE}/queues/imports")).await;
        assert_eq!(page.status, 200);
        assert!(
            !page.body.contains("name=\"ndjson\""),
            "{role:?} read_only={read_only}: no import form"
        );
        let reply = post_form(
            &dash,
            &format!("{BASE}/queues/imports/import"),
            &[("ndjson", text)],
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{role:?} read_only={read_only}: {}",
            reply.body
        );
    }
    assert_eq!(waiting_in_node(&prefix, "imports").len(), 1);

    // A Bull queue: a 409 that says why, and the queue is as it was.
    let seeded = node(
        "bull.js",
        &[
            "--redis",
            &redis().url,
            "--prefix",
            &prefix,
            "--step",
            "seed",
        ],
    );
    assert_eq!(seeded["ok"], true, "{seeded}");
    let dash = dashboard(&prefix, Security::default()).await;
    let before = counts_of(&dash, "bull-paused").await;
    let page = dash.get(&format!("{BASE}/queues/bull-paused")).await;
    assert!(
        !page.body.contains("name=\"ndjson\""),
        "no form on a Bull queue"
    );
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/bull-paused/import"),
        &[("ndjson", text)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::CONFLICT, "{}", reply.body);
    assert!(reply.body.contains("BullMQ queues only"), "{}", reply.body);
    assert_eq!(counts_of(&dash, "bull-paused").await, before);
}
