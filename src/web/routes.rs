//! The route table: every URL of the dashboard, relative to where it is mounted, and the
//! middleware every route goes through.

use axum::Router;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, post};

use crate::web::assets;
use crate::web::error::{self, WebError};
use crate::web::flash;
use crate::web::handlers::{
    actions, alerts, api, audit, flows, health, jobs, live, metrics, pages, prometheus, queues,
    schedulers, search,
};
use crate::web::security;
use crate::web::state::AppState;

/// Every route of the dashboard, relative to where it is mounted.
pub fn router(state: AppState) -> Router {
    let routes = Router::new()
        .route("/", get(queues::overview))
        .route("/{action}", post(actions::post))
        .route("/queues/{queue}", get(queues::queue_page))
        .route("/queues/{queue}/{action}", post(actions::post))
        .route("/queues/{queue}/actions/{action}", get(pages::action_page))
        .route("/queues/{queue}/jobs/{id}", get(jobs::job_page))
        .route("/queues/{queue}/jobs/{id}/edit", get(pages::edit_page))
        .route("/queues/{queue}/jobs/{id}/{action}", post(actions::post))
        .route("/alerts", get(alerts::alerts_page))
        .route("/api/alerts", get(alerts::alerts_api))
        .route("/audit", get(audit::audit_page))
        .route("/api/audit", get(audit::audit_api))
        .route("/api/{action}", post(actions::post))
        .route("/api/queues", get(api::queues))
        .route(
            "/api/queues/{queue}/jobs",
            get(api::jobs).post(actions::post),
        )
        .route("/api/queues/{queue}/{action}", post(actions::post))
        .route("/search", get(search::everywhere))
        .route("/api/queues/{queue}/search", get(search::api))
        .route("/api/queues/{queue}/export", get(search::export))
        .route("/api/queues/{queue}/jobs/{id}", get(api::job))
        .route("/api/queues/{queue}/jobs/{id}/raw", get(jobs::raw_field))
        .route(
            "/api/queues/{queue}/jobs/{id}/{action}",
            post(actions::post),
        )
        .route("/queues/{queue}/jobs/{id}/flow", get(flows::flow_page))
        .route("/queues/{queue}/metrics", get(metrics::metrics_page))
        .route("/queues/{queue}/workers", get(metrics::workers_page))
        .route("/queues/{queue}/schedulers", get(schedulers::page))
        .route(
            "/queues/{queue}/schedulers/{id}/{action}",
            post(actions::post),
        )
        .route("/schedulers", get(schedulers::page))
        .route("/workers", get(metrics::workers_page))
        .route("/events", get(live::events))
        .route("/metrics", get(prometheus::metrics))
        .route("/api/schedulers", get(schedulers::api))
        .route("/api/workers", get(metrics::workers_api))
        .route("/api/queues/{queue}/jobs/{id}/flow", get(flows::flow_api))
        .route("/api/queues/{queue}/metrics", get(metrics::metrics_api))
        .route("/api/queues/{queue}/workers", get(metrics::workers_api))
        .route("/api/queues/{queue}/schedulers", get(schedulers::api))
        .route(
            "/api/queues/{queue}/schedulers/{id}/{action}",
            post(actions::post),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/static/{*path}", get(assets::serve))
        .fallback(not_found);
    with_layers(routes, state)
}

/// Only `GET /metrics` (Prometheus), without authentication, for a second listener that only a
/// scraper reaches (`--metrics-listen`).
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(prometheus::metrics))
        .fallback(|| async {
            (
                axum::http::StatusCode::NOT_FOUND,
                "only /metrics is served here\n",
            )
        })
        .with_state(state)
}

/// The middleware every dashboard route goes through.
fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    routes
        .layer(from_fn_with_state(state.clone(), flash::clear))
        // The last layer runs first: errors render outermost, so the 401 / 403 of the
        // security layers become pages or JSON; csrf runs after authentication.
        .layer(from_fn_with_state(
            state.clone(),
            security::csrf::<AppState>,
        ))
        .layer(from_fn_with_state(
            state.clone(),
            security::authenticate::<AppState>,
        ))
        // Before authentication: a rebound name learns nothing, not even that a login is asked.
        .layer(from_fn_with_state(
            state.clone(),
            security::check_host::<AppState>,
        ))
        .layer(from_fn_with_state(state.clone(), error::render_errors))
        // So error pages carry the proxy's prefix too.
        .layer(from_fn_with_state(
            state.clone(),
            security::forwarded_prefix::<AppState>,
        ))
        // Outermost: every response, the proxy's 400 included, gets the security headers.
        .layer(from_fn_with_state(
            state.clone(),
            security::security_headers::<AppState>,
        ))
        .with_state(state)
}

/// The dashboard mounted at the state's base path; `{base}` and `{base}/` both show the overview.
pub fn app(state: AppState) -> Router {
    let base = state.mount_base().to_string();
    if base.is_empty() {
        return router(state);
    }
    let slash = with_layers(
        Router::new().route(&format!("{base}/"), get(queues::overview)),
        state.clone(),
    );
    Router::new().nest(&base, router(state)).merge(slash)
}

async fn not_found() -> WebError {
    WebError::NotFound("There is no page at this address.".into())
}
