//! The HTML pages: they render, escape job data, carry the base path, and answer 400 / 404 / 503
//! with a page instead of failing.

use std::time::{Duration, Instant};

use redis::Commands;

use crate::support::{Dashboard, TestRedis, conn, engine_queue, free_port, unique_prefix};

#[tokio::test]
async fn overview_queue_and_job_pages_render_under_the_base_path() {
    let prefix = unique_prefix("pages");
    let q = engine_queue(&prefix, "mail").await;
    let job = q
        .add("send-welcome", serde_json::json!({"to": "a@example.com"}))
        .await
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;

    for uri in ["/admin/queues", "/admin/queues/"] {
        let reply = dash.get(uri).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.body);
        assert_eq!(reply.headers["content-type"], "text/html; charset=utf-8");
        assert!(
            reply.body.contains(r#"href="/admin/queues/queues/mail""#),
            "{}",
            reply.body
        );
        assert!(reply.body.contains(r#"/admin/queues/static/app.css"#));
    }
    let reply = dash.get("/admin/queues/queues/mail?state=waiting").await;
    assert_eq!(reply.status, 200);
    let job_href = format!(r#"href="/admin/queues/queues/mail/jobs/{}""#, job.id());
    assert!(reply.body.contains(&job_href), "{}", reply.body);
    assert!(reply.body.contains("send-welcome"));

    let reply = dash
        .get(&format!("/admin/queues/queues/mail/jobs/{}", job.id()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(reply.body.contains("a@example.com"));
    assert!(reply.body.contains("badge state-waiting"));

    // The jump box redirects to the job.
    let reply = dash
        .get(&format!("/admin/queues/queues/mail?job={}", job.id()))
        .await;
    assert_eq!(reply.status, 303);
    assert_eq!(
        reply.headers["location"],
        format!("/admin/queues/queues/mail/jobs/{}", job.id())
    );

    // Outside the base path there is nothing.
    assert_eq!(dash.get("/queues/mail").await.status, 404);
}

#[tokio::test]
async fn mounted_at_the_root_links_start_at_the_root() {
    let prefix = unique_prefix("root");
    engine_queue(&prefix, "root-q")
        .await
        .add("x", serde_json::json!({}))
        .await
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "").await;
    let reply = dash.get("/").await;
    assert_eq!(reply.status, 200);
    assert!(
        reply.body.contains(r#"href="/queues/root-q""#),
        "{}",
        reply.body
    );
    assert!(reply.body.contains(r#"href="/static/app.css"#));
    assert_eq!(dash.get("/queues/root-q").await.status, 200);
}

#[tokio::test]
async fn job_names_data_and_queue_names_are_escaped() {
    let prefix = unique_prefix("xss");
    let q = engine_queue(&prefix, "xss").await;
    let job = q
        .add(
            "<script>alert(1)</script>",
            serde_json::json!({"html": "<script>alert(2)</script>"}),
        )
        .await
        .unwrap();
    let mut c = conn();
    let key = format!("{prefix}:xss:{}", job.id());
    let _: () = c
        .hset(&key, "failedReason", "<img src=x onerror=alert(3)>")
        .unwrap();
    let _: () = c.rpush(format!("{key}:logs"), "<b>log</b>").unwrap();
    let _: () = c
        .hset(format!("{prefix}:<i>evil</i>:meta"), "version", "x")
        .unwrap();

    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    for uri in [
        "/admin/queues".to_string(),
        "/admin/queues/queues/xss?state=waiting".to_string(),
        format!("/admin/queues/queues/xss/jobs/{}", job.id()),
    ] {
        let reply = dash.get(&uri).await;
        assert_eq!(reply.status, 200, "{uri}");
        for raw in ["<script>alert", "<img src=x", "<b>log</b>", "<i>evil</i>"] {
            assert!(!reply.body.contains(raw), "{uri} shows {raw} unescaped");
        }
    }
    let job_page = dash
        .get(&format!("/admin/queues/queues/xss/jobs/{}", job.id()))
        .await
        .body;
    assert!(
        job_page.contains("&#60;script&#62;alert(1)")
            || job_page.contains("&lt;script&gt;alert(1)")
    );
    let overview = dash.get("/admin/queues").await.body;
    assert!(
        overview.contains("%3Ci%3Eevil%3C%2Fi%3E"),
        "queue link is encoded"
    );
}

#[tokio::test]
async fn malformed_jobs_are_shown_as_they_are_with_a_note() {
    let prefix = unique_prefix("bad");
    let mut c = conn();
    let base = format!("{prefix}:broken");
    let _: () = c
        .hset(format!("{base}:meta"), "version", "by-hand")
        .unwrap();
    let _: () = c
        .hset(format!("{base}:weird"), "data", "{not json")
        .unwrap();
    let _: () = c
        .hset(format!("{base}:weird"), "name", "hand-made")
        .unwrap();
    let _: () = c
        .hset(format!("{base}:weird"), "stacktrace", "not an array")
        .unwrap();
    let _: () = c
        .lpush(format!("{base}:wait"), &["weird", "ghost"])
        .unwrap();
    // A state key of the wrong type must not break the page.
    let _: () = c.set(format!("{base}:failed"), "oops").unwrap();

    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    assert_eq!(dash.get("/admin/queues").await.status, 200);
    let list = dash.get("/admin/queues/queues/broken?state=waiting").await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(
        list.body.matches(r#"class="problem""#).count(),
        2,
        "{}",
        list.body
    );
    assert_eq!(
        dash.get("/admin/queues/queues/broken?state=failed")
            .await
            .status,
        200
    );

    let page = dash.get("/admin/queues/queues/broken/jobs/weird").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("data is not valid JSON"));
    assert!(page.body.contains("{not json"));
    assert!(page.body.contains("has no timestamp field"));

    let api = dash
        .json("/admin/queues/api/queues/broken/jobs/weird")
        .await;
    assert_eq!(api["data"], "{not json");
    assert!(api["notes"].as_array().unwrap().len() >= 2);
    // The listed id whose hash is gone is a 404 of its own.
    assert_eq!(
        dash.get("/admin/queues/queues/broken/jobs/ghost")
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn unknown_things_are_404_and_bad_parameters_400() {
    let prefix = unique_prefix("codes");
    engine_queue(&prefix, "known")
        .await
        .add("x", serde_json::json!({}))
        .await
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    for uri in [
        "/admin/queues/queues/nope",
        "/admin/queues/queues/known/jobs/12345",
        "/admin/queues/no/such/page",
        "/admin/queues/static/nope.css",
    ] {
        let reply = dash.get(uri).await;
        assert_eq!(reply.status, 404, "{uri}");
        assert!(
            reply.body.contains("Back to all queues"),
            "{uri}: {}",
            reply.body
        );
    }
    for uri in [
        "/admin/queues/queues/known?state=sleeping",
        "/admin/queues/queues/known?page=0",
        "/admin/queues/queues/known?per_page=100000",
        "/admin/queues/queues/known?order=sideways",
        "/admin/queues/queues/known?prefix=unconfigured",
    ] {
        let reply = dash.get(uri).await;
        assert_eq!(reply.status, 400, "{uri}");
        assert!(reply.body.contains("Bad request"), "{uri}");
    }
    let reply = dash
        .get("/admin/queues/api/queues/known/jobs?state=sleeping")
        .await;
    assert_eq!(reply.status, 400);
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert!(body["error"].as_str().unwrap().contains("unknown state"));
    assert_eq!(
        dash.get("/admin/queues/api/queues/nope/jobs").await.status,
        404
    );
}

#[tokio::test]
async fn large_values_are_truncated_with_a_link_to_the_raw_json() {
    let prefix = unique_prefix("big");
    let q = engine_queue(&prefix, "big").await;
    let blob = "x".repeat(100 * 1024);
    let job = q
        .add("big", serde_json::json!({ "blob": blob }))
        .await
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    let page = dash
        .get(&format!("/admin/queues/queues/big/jobs/{}", job.id()))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Shown truncated to 64 KiB"));
    assert!(
        page.body.len() < 90 * 1024,
        "page is {} bytes",
        page.body.len()
    );
    let raw_href = format!(
        "/admin/queues/api/queues/big/jobs/{}/raw?field=data",
        job.id()
    );
    assert!(page.body.contains(&raw_href));
    let raw = dash.get(&raw_href).await;
    assert_eq!(raw.status, 200);
    assert_eq!(raw.headers["content-type"], "application/json");
    let value: serde_json::Value = serde_json::from_str(&raw.body).unwrap();
    assert_eq!(value["blob"].as_str().unwrap().len(), 100 * 1024);
}

#[tokio::test]
async fn static_files_are_served_with_cache_headers() {
    let dash = Dashboard::new(&[&unique_prefix("static")], "/admin/queues").await;
    let css = dash.get("/admin/queues/static/app.css").await;
    assert_eq!(css.status, 200);
    assert_eq!(css.headers["content-type"], "text/css");
    assert!(
        css.headers["cache-control"]
            .to_str()
            .unwrap()
            .contains("max-age")
    );
    assert!(css.headers.contains_key("etag"));
    let htmx = dash
        .get("/admin/queues/static/vendor/htmx-2.0.11.min.js")
        .await;
    assert_eq!(htmx.status, 200);
    assert!(htmx.body.contains("htmx"));
}

#[tokio::test]
async fn redis_going_away_is_a_503_and_pages_come_back_without_a_restart() {
    let port = free_port();
    let server = TestRedis::start_on(port);
    let prefix = unique_prefix("outage");
    let mut c = redis::Client::open(server.url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = c.lpush(format!("{prefix}:q:wait"), "1").unwrap();
    let _: () = c.hset(format!("{prefix}:q:meta"), "version", "x").unwrap();
    let dash = Dashboard::with_url(&server.url, &[&prefix], "/admin/queues").await;
    assert_eq!(dash.get("/admin/queues").await.status, 200);

    server.shutdown();
    let down = dash.get("/admin/queues").await;
    assert_eq!(down.status, 503, "{}", down.body);
    assert!(down.body.contains("Redis is unreachable"));
    let api = dash.get("/admin/queues/api/queues").await;
    assert_eq!(api.status, 503);
    let ready = dash.get("/admin/queues/readyz").await;
    assert_eq!(ready.status, 503);
    assert!(ready.body.contains("\"redis\":\"down\""), "{}", ready.body);
    // The process itself is alive: healthz makes no Redis call.
    assert_eq!(dash.get("/admin/queues/healthz").await.status, 200);

    let _back = TestRedis::start_on(port);
    // The connection reconnects on its own; poll with a deadline.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let reply = dash.get("/admin/queues").await;
        if reply.status == 200 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {} after Redis came back",
            reply.status
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let ready = dash.get("/admin/queues/readyz").await;
    assert_eq!(ready.status, 200);
    assert!(ready.body.contains("redis_latency_ms"), "{}", ready.body);
}
