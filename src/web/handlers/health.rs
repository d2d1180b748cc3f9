//! Probes for Docker and Kubernetes: `GET {base}/healthz` (the process answers; no Redis call,
//! always 200; with `bullring start`, also the runner's state under `"runner"`) and `GET {base}/readyz` (200 with Redis' round-trip latency when Redis answers,
//! 503 when it does not). Both answer JSON and need no credentials.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::web::state::AppState;

/// `GET {base}/healthz`
pub async fn healthz(State(state): State<AppState>) -> Json<Value> {
    let mut body = json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") });
    if let Some(runner) = state.runner() {
        body["runner"] = json!(runner.report());
    }
    Json(body)
}

/// `GET {base}/readyz`
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.queues().ping().await {
        Ok(latency) => {
            let latency_ms = latency.as_secs_f64() * 1000.0;
            let latency_ms = (latency_ms * 1000.0).round() / 1000.0;
            (
                StatusCode::OK,
                Json(json!({ "status": "ready", "redis": "up", "redis_latency_ms": latency_ms })),
            )
        }
        Err(err) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "unavailable", "redis": "down", "error": err.to_string() })),
        ),
    }
}
