//! The JSON API: the same data as the pages, with Node BullMQ's field names, for scripts.

use axum::Json;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use serde_json::{Value, json};

use super::resolve;
use crate::queue::model::{JobDetail, JobPage, JobState};
use crate::web::error::WebError;
use crate::web::params::{JobQuery, ListQuery, OverviewQuery};
use crate::web::state::AppState;

/// `GET {base}/api/queues`: every queue with its counts.
pub async fn queues(
    State(state): State<AppState>,
    Query(query): Query<OverviewQuery>,
) -> Result<Json<Value>, WebError> {
    let queues: Vec<_> = state
        .discovery()
        .snapshot()
        .queues
        .into_iter()
        .filter(|q| query.prefix.as_deref().is_none_or(|p| q.prefix == p))
        .collect();
    let summaries = state.reader().summaries(&queues).await?;
    Ok(Json(json!({ "queues": summaries })))
}

/// `GET {base}/api/queues/{queue}/jobs?state=failed&page=1&per_page=50&order=newest`
pub async fn jobs(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<JobPage>, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let params = query.params(JobState::Waiting)?;
    let (_summary, page) = state
        .reader()
        .job_page(
            &queue,
            params.state,
            params.page,
            params.per_page,
            params.order,
        )
        .await?;
    Ok(Json(page))
}

/// `GET {base}/api/queues/{queue}/jobs/{id}`: the whole job, with state, logs and children.
pub async fn job(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<JobQuery>,
) -> Result<Json<JobDetail>, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let (logs_page, logs_per_page) = query.logs()?;
    let (_summary, detail) = state
        .reader()
        .job(&queue, &id, logs_page, logs_per_page)
        .await?;
    Ok(Json(detail))
}
