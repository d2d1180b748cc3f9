//! The route table: every URL of the dashboard, relative to where it is mounted, and the
//! middleware every route goes through.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{MethodRouter, get, post};

use crate::queue::ndjson;
use crate::web::assets;
use crate::web::error::{self, WebError};
use crate::web::flash;
use crate::web::handlers::{
    actions, alerts, api, audit, connections, doctor, flows, groups, health, jobs, live, metrics,
    pages, prometheus, queues, redis_page, schedulers, search, tasks,
};
use crate::web::links::connection_base;
use crate::web::scope;
use crate::web::security;
use crate::web::state::AppState;
use crate::web::theme;

/// Every route of the dashboard, relative to where it is mounted: the default connection's
/// pages at the root, each other connection's under `/c/{name}` (with its own state, and its
/// principal capped to what the connection allows), and the list of connections.
pub fn router(state: AppState) -> Router {
    let mut routes = table().route("/api/connections", get(connections::api));
    for other in state.others() {
        let path = connection_base("", &other.connection().name);
        let scoped = table()
            .layer(from_fn_with_state(other.clone(), scope::cap_principal))
            .with_state(other.clone());
        // `{path}/`, the connection's overview as links write it, is not matched by the nest.
        let overview = get(queues::overview)
            .layer(from_fn_with_state(other.clone(), scope::cap_principal))
            .with_state(other.clone());
        routes = routes
            .nest(&path, scoped)
            .route(&format!("{path}/"), overview);
    }
    with_layers(routes, state)
}

/// The pages and actions of one connection, relative to where they are mounted.
fn table() -> Router<AppState> {
    Router::new()
        .route("/", get(queues::overview))
        .route("/{action}", post(actions::post))
        .route("/queues/{queue}", get(queues::queue_page))
        .route("/queues/{queue}/{action}", post(actions::post))
        .route("/queues/{queue}/import", import_route())
        .route("/queues/{queue}/actions/{action}", get(pages::action_page))
        .route("/queues/{queue}/jobs/{id}", get(jobs::job_page))
        .route("/queues/{queue}/jobs/{id}/edit", get(pages::edit_page))
        .route("/queues/{queue}/jobs/{id}/{action}", post(actions::post))
        .route("/alerts", get(alerts::alerts_page))
        .route("/redis", get(redis_page::page))
        .route("/api/redis", get(redis_page::api))
        .route("/api/alerts", get(alerts::alerts_api))
        .route("/audit", get(audit::audit_page))
        .route("/api/audit", get(audit::audit_api))
        .route("/api/{action}", post(actions::post))
        .route("/api/queues", get(api::queues))
        .route("/groups/{group}/{action}", post(groups::form))
        .route("/api/groups/{group}/{action}", post(groups::api))
        .route(
            "/api/queues/{queue}/jobs",
            get(api::jobs).post(actions::post),
        )
        .route("/api/queues/{queue}/{action}", post(actions::post))
        .route("/api/queues/{queue}/import", import_route())
        .route("/search", get(search::everywhere))
        .route("/api/queues/{queue}/search", get(search::api))
        .route("/api/queues/{queue}/export", get(search::export))
        .route(
            "/queues/{queue}/search/apply",
            get(tasks::confirm).post(tasks::start_form),
        )
        .route("/api/queues/{queue}/search/apply", post(tasks::start_api))
        .route("/tasks/{id}", get(tasks::page))
        .route("/tasks/{id}/cancel", post(tasks::cancel_form))
        .route("/api/tasks", get(tasks::list))
        .route("/api/tasks/{id}", get(tasks::api))
        .route("/api/tasks/{id}/cancel", post(tasks::cancel_api))
        .route("/api/queues/{queue}/jobs/{id}", get(api::job))
        .route("/api/queues/{queue}/jobs/{id}/raw", get(jobs::raw_field))
        .route(
            "/api/queues/{queue}/jobs/{id}/{action}",
            post(actions::post),
        )
        .route("/queues/{queue}/jobs/{id}/flow", get(flows::flow_page))
        .route("/queues/{queue}/metrics", get(metrics::metrics_page))
        .route("/queues/{queue}/workers", get(metrics::workers_page))
        .route("/queues/{queue}/doctor", get(doctor::page))
        .route("/api/queues/{queue}/doctor", get(doctor::api))
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
        .route("/theme", get(crate::web::handlers::theme::choose))
        .route("/lang", get(crate::web::handlers::locale::choose_lang))
        .route("/tz", get(crate::web::handlers::locale::choose_tz))
        .fallback(not_found)
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
        // Requests the accept loop refuses are answered as errors, in the one shape.
        .layer(from_fn_with_state(state.clone(), error::render_errors))
        .with_state(state)
}

/// The import action's route: its body may hold [`ndjson::MAX_TEXT`] of NDJSON, percent-encoded
/// (at most three bytes for one) in a form; a larger body is a 413 before it is read whole.
fn import_route() -> MethodRouter<AppState> {
    post(actions::post).layer(DefaultBodyLimit::max(3 * ndjson::MAX_TEXT + 64 * 1024))
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
        // Pages, error pages included, are drawn in the theme the reader chose.
        .layer(axum::middleware::from_fn(theme::scope))
        // ... in the reader's language and time zone.
        .layer(from_fn_with_state(state.clone(), crate::web::i18n::scope))
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
/// `?connection=NAME` on any of its addresses shows that connection's page (see
/// [`scope::route_connection_query`]).
pub fn app(state: AppState) -> Router {
    let base = state.mount_base().to_string();
    let mounted = if base.is_empty() {
        router(state)
    } else {
        let slash = with_layers(
            Router::new().route(&format!("{base}/"), get(queues::overview)),
            state.clone(),
        );
        Router::new().nest(&base, router(state)).merge(slash)
    };
    let routed = tower::ServiceExt::map_request(mounted, move |request| {
        scope::route_connection_query(request, &base)
    });
    Router::new().fallback_service(routed)
}

async fn not_found() -> WebError {
    WebError::no_page()
}
