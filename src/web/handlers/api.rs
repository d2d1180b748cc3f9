//! The JSON API: the same data as the pages, with Node BullMQ's field names, for scripts.

use axum::Json;
use axum::extract::State;

use crate::web::extract::Query;
use serde_json::{Value, json};

use super::jobs::read_job;
use super::queues::read_page;
use super::{JobAt, QueueAt};
use crate::queue::model::{JobDetail, JobPage};
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
    QueueAt(queue): QueueAt,
    Query(query): Query<ListQuery>,
) -> Result<Json<JobPage>, WebError> {
    let (_summary, page, _order) = read_page(&state, &queue, &query).await?;
    Ok(Json(page))
}

/// `GET {base}/api/queues/{queue}/jobs/{id}`: the whole job, with state, logs and children.
pub async fn job(
    State(state): State<AppState>,
    at: JobAt,
    Query(query): Query<JobQuery>,
) -> Result<Json<JobDetail>, WebError> {
    Ok(Json(read_job(&state, &at, &query).await?.0))
}
