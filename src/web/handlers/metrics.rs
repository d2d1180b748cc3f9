//! A queue's throughput and timings, and the workers connected to queues.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::{QueueAt, Scope, render, resolve};
use crate::queue::access::Principal;
use crate::queue::model::QueueRef;
use crate::queue::workers::WorkerClient;
use crate::web::error::WebError;
use crate::web::extract::{Path, Query};
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::metrics::{MetricsPage, WEEK_MINUTES};
use crate::web::views::workers::WorkersPage;

/// `GET {base}/queues/{queue}/metrics`
pub async fn metrics_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    QueueAt(queue): QueueAt,
) -> Result<Html<String>, WebError> {
    let reader = state.reader();
    let (metrics, timings) =
        tokio::try_join!(reader.metrics(&queue, WEEK_MINUTES), reader.timings(&queue))?;
    render(&MetricsPage::new(
        Chrome::page(&state, &principal, flash),
        queue.name.clone(),
        state.links().queue(&queue),
        queue.library,
        &metrics,
        timings,
    ))
}

/// `GET {base}/api/queues/{queue}/metrics?minutes=60` (1 to a week of minutes)
pub async fn metrics_api(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<MetricsQuery>,
) -> Result<Json<Value>, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let minutes = query.minutes.unwrap_or(60);
    if !(1..=WEEK_MINUTES).contains(&minutes) {
        return Err(WebError::BadRequest(crate::web::i18n::tf(
            "input.minutes",
            &[("max", &WEEK_MINUTES), ("given", &minutes)],
        )));
    }
    let reader = state.reader();
    let (metrics, timings) =
        tokio::try_join!(reader.metrics(&queue, minutes), reader.timings(&queue))?;
    Ok(Json(json!({
        "queue": queue.name,
        "prefix": queue.prefix,
        "library": queue.library,
        "minutes": minutes,
        "recorded": metrics.recorded,
        "completed": metrics.completed,
        "failed": metrics.failed,
        "timings": timings,
    })))
}

#[derive(Debug, Default, serde::Deserialize)]
pub struct MetricsQuery {
    pub prefix: Option<String>,
    pub minutes: Option<usize>,
}

async fn workers(
    state: &AppState,
    queue: Option<&QueueRef>,
) -> Result<Option<Vec<WorkerClient>>, WebError> {
    let queues = match queue {
        Some(q) => vec![q.clone()],
        None => state.discovery().snapshot().queues,
    };
    Ok(state.reader().workers(&queues).await?)
}

/// `GET {base}/workers` and `GET {base}/queues/{queue}/workers`
pub async fn workers_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Scope(queue): Scope,
) -> Result<Html<String>, WebError> {
    let found = workers(&state, queue.as_ref()).await?;
    render(&WorkersPage::new(
        Chrome::page(&state, &principal, flash),
        &state.links(),
        queue.as_ref(),
        found,
    ))
}

/// `GET {base}/api/workers` and `GET {base}/api/queues/{queue}/workers`; `workers` is `null`
/// when Redis refuses `CLIENT LIST`.
pub async fn workers_api(
    State(state): State<AppState>,
    Scope(queue): Scope,
) -> Result<Json<Value>, WebError> {
    Ok(Json(
        json!({ "workers": workers(&state, queue.as_ref()).await? }),
    ))
}
