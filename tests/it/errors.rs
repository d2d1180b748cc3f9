//! One mapping of errors to responses: axum's own extractor rejections (a path segment that is
//! not UTF-8, a repeated query key) answer like every other error, JSON under `{base}/api/` and
//! an HTML page elsewhere, never axum's plain text.

use axum::http::StatusCode;

use crate::support::{Dashboard, engine_queue, unique_prefix};

fn assert_json_400(reply: &crate::support::Reply, mentions: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).expect("a JSON error body");
    assert_eq!(body["status"], 400);
    let message = body["error"].as_str().expect("an error message");
    assert!(message.contains(mentions), "{message}");
}

fn assert_page_400(reply: &crate::support::Reply, mentions: &str) {
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let content_type = reply.headers["content-type"].to_str().unwrap();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(reply.body.contains("Bad request"), "{}", reply.body);
    assert!(reply.body.contains(mentions), "{}", reply.body);
}

#[tokio::test]
async fn a_repeated_query_key_is_a_400_in_the_dashboards_own_words() {
    let prefix = unique_prefix("errors");
    let q = engine_queue(&prefix, "mail").await;
    q.add("send", serde_json::json!({})).await.unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;

    let api = dash
        .get("/admin/queues/api/queues/mail/jobs?state=failed&state=waiting")
        .await;
    assert_json_400(&api, "bad query string");
    let page = dash
        .get("/admin/queues/queues/mail?state=failed&state=waiting")
        .await;
    assert_page_400(&page, "bad query string");
    let job = dash
        .get("/admin/queues/api/queues/mail/jobs/1?prefix=a&prefix=b")
        .await;
    assert_json_400(&job, "bad query string");
}

#[tokio::test]
async fn a_path_segment_that_is_not_utf8_is_a_400_in_the_dashboards_own_words() {
    let prefix = unique_prefix("errors");
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    let api = dash.get("/admin/queues/api/queues/%FF/jobs").await;
    assert_json_400(&api, "bad address");
    let page = dash.get("/admin/queues/queues/%FF%FE").await;
    assert_page_400(&page, "bad address");
}
