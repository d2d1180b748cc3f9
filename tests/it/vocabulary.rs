//! The action vocabulary end to end: the names routes parse, answers carry and the audit trail
//! records agree; adding a job whose id is taken adds nothing and says so; a job id that names
//! one of the queue's own keys (or has a `:`) is refused before anything is written.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::{Dashboard, Reply, engine_queue, unique_prefix};

const BASE: &str = "/admin/queues";

async fn post(dash: &Dashboard, uri: &str, content_type: &str, body: String) -> Reply {
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .body(Body::from(body))
        .expect("request");
    dash.send(request).await
}

async fn post_json(dash: &Dashboard, uri: &str, body: Value) -> Reply {
    post(dash, uri, "application/json", body.to_string()).await
}

async fn post_form(dash: &Dashboard, uri: &str, fields: &[(&str, &str)]) -> Reply {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    post(dash, uri, "application/x-www-form-urlencoded", body).await
}

fn json_of(reply: &Reply) -> Value {
    serde_json::from_str(&reply.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", reply.body))
}

/// The newest audit entry.
async fn last_audit(dash: &Dashboard) -> Value {
    dash.json(&format!("{BASE}/api/audit")).await["entries"][0].clone()
}

/// The page a form's 303 leads to, fetched with the flash cookie it set.
async fn follow(dash: &Dashboard, reply: &Reply) -> (String, Reply) {
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    let location = reply.headers[header::LOCATION]
        .to_str()
        .expect("location")
        .to_string();
    let cookie = reply
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("bullring_flash="))
        .and_then(|v| v.split(';').next())
        .expect("a flash cookie")
        .to_string();
    let request = Request::get(&location)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let page = dash.send(request).await;
    (location, page)
}

#[tokio::test]
async fn adding_a_job_whose_id_exists_adds_nothing_and_says_so() {
    let prefix = unique_prefix("vocab-dup");
    let queue = engine_queue(&prefix, "mail").await;
    queue.add("warm-up", json!({})).await.expect("add");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let add = format!("{BASE}/api/queues/mail/jobs");

    let first = json!({"name": "send", "data": {"v": 1}, "opts": {"jobId": "welcome-1"}});
    let reply = post_json(&dash, &add, first).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let out = json_of(&reply);
    assert_eq!(
        (&out["count"], &out["action"]),
        (&json!(1), &json!("add-job"))
    );

    // The same id again, through the API: nothing is written at all, and the answer says why.
    let before = crate::support::snapshot(&prefix);
    let again = json!({"name": "other", "data": {"v": 2}, "opts": {"jobId": "welcome-1"}});
    let reply = post_json(&dash, &add, again).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let out = json_of(&reply);
    assert_eq!(out["ok"], true);
    assert_eq!(out["action"], "add-job");
    assert_eq!(out["count"], 0, "{out}");
    assert_eq!(out["jobs"], json!(["welcome-1"]));
    assert_eq!(
        out["message"],
        "Job welcome-1 already exists; nothing was added."
    );
    assert_eq!(
        crate::support::snapshot(&prefix),
        before,
        "a taken id wrote something"
    );
    let audit = last_audit(&dash).await;
    assert_eq!(
        (&audit["action"], &audit["outcome"], &audit["detail"]),
        (
            &json!("add-job"),
            &json!("ok"),
            &json!("Job welcome-1 already exists; nothing was added.")
        )
    );

    // And through the form: on to the existing job's page, which says so.
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/mail/jobs"),
        &[
            ("name", "other"),
            ("data", r#"{"v": 3}"#),
            ("job_id", "welcome-1"),
        ],
    )
    .await;
    let (location, page) = follow(&dash, &reply).await;
    assert_eq!(location, format!("{BASE}/queues/mail/jobs/welcome-1"));
    assert!(
        page.body
            .contains("Job welcome-1 already exists; nothing was added."),
        "{}",
        page.body
    );
    assert_eq!(
        crate::support::snapshot(&prefix),
        before,
        "the form wrote something"
    );

    // The existing job is unchanged.
    let job = queue
        .get_job("welcome-1")
        .await
        .expect("get_job")
        .expect("the job");
    assert_eq!(job.data(), &json!({"v": 1}));
}

#[tokio::test]
async fn job_ids_naming_a_queue_key_or_with_a_colon_are_refused_before_anything_is_written() {
    let prefix = unique_prefix("vocab-keys");
    let queue = engine_queue(&prefix, "mail").await;
    queue.add("warm-up", json!({})).await.expect("add");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let add = format!("{BASE}/api/queues/mail/jobs");
    let before = crate::support::snapshot(&prefix);

    let reserved = [
        "meta",
        "id",
        "wait",
        "events",
        "marker",
        "paused",
        "active",
        "delayed",
        "prioritized",
        "completed",
        "failed",
        "stalled",
        "stalled-check",
        "limiter",
        "repeat",
        "metrics",
        "waiting-children",
        "de",
        "pc",
    ];
    for id in reserved {
        let body = json!({"name": "x", "opts": {"jobId": id}});
        let reply = post_json(&dash, &add, body).await;
        assert_eq!(
            reply.status,
            StatusCode::BAD_REQUEST,
            "{id}: {}",
            reply.body
        );
        let error = json_of(&reply)["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            error.contains(&format!("{id:?}")) && error.contains("the queue's own keys"),
            "{id}: {error}"
        );
    }
    let reply = post_json(
        &dash,
        &add,
        json!({"name": "x", "opts": {"jobId": "mail:1x"}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("contain ':'"), "{}", reply.body);

    // The form comes back with the reason next to the job id field.
    let reply = post_form(
        &dash,
        &format!("{BASE}/queues/mail/jobs"),
        &[("name", "x"), ("job_id", "events")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let at = reply
        .body
        .find(r#"id="job_id-error""#)
        .unwrap_or_else(|| panic!("no error next to job_id: {}", reply.body));
    assert!(reply.body[at..].contains("own keys"), "{}", reply.body);

    assert_eq!(
        crate::support::snapshot(&prefix),
        before,
        "a refused id wrote something"
    );
    // Ids that only look like key names are fine.
    let reply = post_json(
        &dash,
        &add,
        json!({"name": "x", "opts": {"jobId": "metadata"}}),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn routes_answers_buttons_and_the_audit_trail_use_the_same_action_names() {
    let prefix = unique_prefix("vocab-names");
    let queue = engine_queue(&prefix, "mail").await;
    let job = queue.add("send", json!({"v": 1})).await.expect("add");
    let id = job.id().to_string();
    let dash = Dashboard::new(&[&prefix], BASE).await;

    // (route below {BASE}/api, body, the name in the answer and the audit trail)
    let cases = [
        (
            format!("queues/mail/jobs/{id}/data"),
            json!({"v": 2}),
            "edit-data",
        ),
        (
            format!("queues/mail/jobs/{id}/duplicate"),
            json!(null),
            "duplicate",
        ),
        (
            "queues/mail/retry-failed".into(),
            json!(null),
            "retry-failed",
        ),
        (
            "queues/mail/promote-delayed".into(),
            json!(null),
            "promote-delayed",
        ),
        ("queues/mail/pause".into(), json!(null), "pause"),
        ("resume-all".into(), json!(null), "resume-all"),
        ("queues/mail/jobs".into(), json!({"name": "n"}), "add-job"),
    ];
    for (route, body, name) in cases {
        let uri = format!("{BASE}/api/{route}");
        let text = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let reply = post(&dash, &uri, "application/json", text).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
        assert_eq!(json_of(&reply)["action"], name, "{uri}");
        let audit = last_audit(&dash).await;
        assert_eq!(
            (&audit["action"], &audit["outcome"]),
            (&json!(name), &json!("ok")),
            "{uri}"
        );
    }
    // A bulk action answers with what it did to each job.
    let reply = post_json(
        &dash,
        &format!("{BASE}/api/queues/mail/bulk"),
        json!({"action": "promote", "ids": [id]}),
    )
    .await;
    assert_eq!(json_of(&reply)["action"], "promote", "{}", reply.body);

    // Unknown segments are 404s on every kind of action route.
    for uri in [
        format!("{BASE}/api/queues/mail/retry"),
        format!("{BASE}/api/queues/mail/jobs/{id}/pause"),
        format!("{BASE}/api/queues/mail/schedulers/s-1/retry"),
        format!("{BASE}/api/explode"),
        format!("{BASE}/queues/mail/edit-data"),
    ] {
        let reply = post(&dash, &uri, "application/json", String::new()).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}: {}", reply.body);
    }

    // Every form the queue and job pages offer posts to a route that takes it.
    let mut forms = Vec::new();
    for page in [
        format!("{BASE}/queues/mail?state=waiting"),
        format!("{BASE}/queues/mail/jobs/{id}"),
    ] {
        let html = dash.get(&page).await.body;
        for chunk in html.split("<form method=\"post\" action=\"").skip(1) {
            forms.push(
                chunk
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .replace("&#38;", "&"),
            );
        }
    }
    assert!(forms.len() >= 4, "{forms:?}");
    for form in forms {
        let reply = dash.get(&form).await;
        assert_eq!(
            reply.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{form} has no POST route"
        );
    }
}
