//! bullring's dashboard inside your own axum app: nested at `/admin/queues`, on your app's tokio
//! runtime, behind your app's own authentication layer.
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1:6379 ADMIN_TOKEN=change-me cargo run --example embed
//! curl -H 'Authorization: Bearer change-me' http://127.0.0.1:8080/admin/queues/
//! ```
//!
//! The integration test `embed::the_dashboard_nests_in_an_axum_app_behind_its_auth` serves
//! [`app`] from this file.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bullring::queue::connection::{Redis, RedisSettings};
use bullring::queue::discovery::Discovery;
use bullring::queue::read::Reader;
use bullring::web::AppState;
use tokio_util::sync::CancellationToken;

/// Where the dashboard is nested; its state must be built with the same path.
pub const DASHBOARD_PATH: &str = "/admin/queues";

/// The dashboard's state: a Redis connection for reads and actions, and queue discovery
/// refreshed in the background until `cancel` fires.
pub fn dashboard_state(redis_url: &str, prefixes: &[&str], cancel: &CancellationToken) -> AppState {
    let prefixes: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
    let settings = RedisSettings::url(redis_url);
    let discovery = Discovery::new(prefixes.clone(), Vec::new(), true);
    discovery.spawn(
        Redis::new(settings.clone()),
        Duration::from_secs(10),
        cancel.clone(),
    );
    AppState::new(
        Reader::new(Redis::new(settings), prefixes),
        discovery,
        DASHBOARD_PATH,
        "My app's queues",
    )
}

/// Your app: its own routes, and the dashboard mounted behind a bearer-token check.
///
/// `nest_service` rather than `nest`: in axum 0.8 a router nested with `nest("/admin/queues", ..)`
/// answers `/admin/queues` but not `/admin/queues/`, the overview's address in every page's
/// header; `nest_service` answers both and hands the dashboard everything below.
pub fn app(dashboard: AppState, admin_token: &str) -> Router {
    let token = Arc::new(format!("Bearer {admin_token}"));
    let dashboard = bullring::web::router(dashboard)
        .layer(middleware::from_fn_with_state(token, require_admin));
    Router::new()
        .route("/", get(|| async { "my app\n" }))
        .nest_service(DASHBOARD_PATH, dashboard)
}

/// The app's own authentication, in front of every dashboard route.
async fn require_admin(State(token): State<Arc<String>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    if given == Some(token.as_str()) {
        next.run(request).await
    } else {
        (StatusCode::UNAUTHORIZED, "admins only\n").into_response()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let redis_url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let token = std::env::var("ADMIN_TOKEN").map_err(|_| anyhow::anyhow!("set ADMIN_TOKEN"))?;
    let cancel = CancellationToken::new();
    let state = dashboard_state(&redis_url, &["bull"], &cancel);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("http://127.0.0.1:8080{DASHBOARD_PATH}/ (Authorization: Bearer <ADMIN_TOKEN>)");
    // Peer addresses, so bullring's trusted-proxy settings can work if you use them.
    let service = app(state, &token).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service).await?;
    cancel.cancel();
    Ok(())
}
