//! `bullring::web::router` nested in an axum app (the one `examples/embed.rs` builds), served on
//! a real port from the test's own tokio runtime, behind the app's own authentication layer.

use std::time::{Duration, Instant};

use crate::http::Client;
use crate::support::{engine_queue, redis, serve, unique_prefix};

#[path = "../../examples/embed.rs"]
#[allow(dead_code)]
mod example;

#[tokio::test]
async fn the_dashboard_nests_in_an_axum_app_behind_its_auth() {
    let prefix = unique_prefix("embed");
    let queue = engine_queue(&prefix, "mailer").await;
    queue
        .add("welcome", serde_json::json!({ "to": "ann@example.com" }))
        .await
        .expect("add");
    let cancel = tokio_util::sync::CancellationToken::new();
    let _stop_discovery = cancel.clone().drop_guard();
    let state = example::dashboard_state(&redis().url, &[&prefix], &cancel);
    let (port, stop) = serve(example::app(state, "s3cret")).await;
    let _stop = stop.drop_guard();
    let client = Client::plain();
    let root = format!("http://127.0.0.1:{port}");
    let auth = [("authorization", "Bearer s3cret")];

    // The app's own routes still work; the dashboard is behind the app's check.
    let home = client.get(&format!("{root}/"), &[]).await;
    assert_eq!(
        (home.status.as_u16(), home.body.as_str()),
        (200, "my app\n")
    );
    for path in ["/admin/queues", "/admin/queues/", "/admin/queues/healthz"] {
        let refused = client.get(&format!("{root}{path}"), &[]).await;
        assert_eq!(refused.status, 401, "{path} without the token");
        assert_eq!(refused.body, "admins only\n");
    }

    // With it: the overview (once background discovery has found the queue), at both spellings.
    let deadline = Instant::now() + Duration::from_secs(20);
    let overview = loop {
        let page = client.get(&format!("{root}/admin/queues/"), &auth).await;
        assert_eq!(page.status, 200, "{}", page.body);
        if page.body.contains("mailer") || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        overview
            .body
            .contains("href=\"/admin/queues/queues/mailer\""),
        "{}",
        overview.body
    );
    assert_eq!(
        client
            .get(&format!("{root}/admin/queues"), &auth)
            .await
            .status,
        200
    );
    let css = client
        .get(&format!("{root}/admin/queues/static/app.css"), &auth)
        .await;
    assert_eq!(css.status, 200);
    assert!(css.header("content-type").contains("css"));
    let health = client
        .get(&format!("{root}/admin/queues/healthz"), &auth)
        .await;
    assert_eq!(health.status.as_u16(), 200);
    assert!(health.body.contains("\"status\":\"ok\""), "{}", health.body);
    let queue_page = client
        .get(&format!("{root}/admin/queues/queues/mailer"), &auth)
        .await;
    assert_eq!(queue_page.status, 200);
    assert!(queue_page.body.contains("welcome"), "{}", queue_page.body);

    // An action through the nested router: redirected inside the mount point, and done.
    let mut headers = auth.to_vec();
    headers.push(("origin", root.as_str()));
    let paused = client
        .post_form(
            &format!("{root}/admin/queues/queues/mailer/pause"),
            &headers,
            "",
        )
        .await;
    assert_eq!(paused.status, 303, "{}", paused.body);
    assert_eq!(paused.header("location"), "/admin/queues/queues/mailer");
    assert!(queue.is_paused().await.expect("is_paused"));
    let missing = client
        .get(&format!("{root}/admin/queues/queues/nope"), &auth)
        .await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("/admin/queues/static/app.css"),
        "a dashboard 404 page"
    );
}
