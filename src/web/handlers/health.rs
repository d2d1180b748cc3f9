//! `GET {base}/healthz`: 200 when Redis answers, 503 otherwise (for load balancers and Docker).

use axum::extract::State;
use axum::http::StatusCode;

use crate::web::AppState;

pub async fn healthz(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.reader().redis().ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "redis unreachable\n"),
    }
}
