//! The connections side by side: `GET {base}/api/connections` (each connection's health) and the
//! overview's table of connections (state, latency, queues and their rolled-up counts). Every
//! connection is read in parallel, each within its own time limit, so one Redis that is down or
//! slow costs the others nothing.

use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::State;
use futures::future::join_all;
use serde_json::{Value, json};

use crate::queue::error::QueueError;
use crate::queue::model::{JobState, QueueRef, QueueSummary};
use crate::web::state::AppState;
use crate::web::views::overview::ConnectionRow;

/// How long one connection's read may take on a page about every connection.
pub const CONNECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// `GET {base}/api/connections`: every connection, the default first, with its health.
pub async fn api(State(state): State<AppState>) -> Json<Value> {
    let probes = state.every_connection().map(|each| async move {
        let health = each.queues().health(CONNECTION_TIMEOUT).await;
        let connection = each.connection();
        json!({
            "name": connection.name,
            "label": connection.label,
            "color": connection.color,
            "read_only": connection.read_only || each.security().read_only,
            "max_role": connection.max_role,
            "status": health.status,
            "latency_ms": health.latency_ms,
            "error": health.error,
            "redis_version": health.redis_version,
            "maxmemory_policy": health.maxmemory_policy,
        })
    });
    Json(json!({ "connections": join_all(probes).await }))
}

/// What reading one connection's queue summaries gave: the summaries and how long they took,
/// or why they could not be read.
pub type Read = Result<(Vec<QueueSummary>, Duration), String>;

/// The summaries of every known queue of `state`'s connection, within [`CONNECTION_TIMEOUT`]
/// (one round trip).
pub async fn read_summaries(state: &AppState) -> Read {
    let queues = state.discovery().snapshot().queues;
    let started = Instant::now();
    match tokio::time::timeout(CONNECTION_TIMEOUT, summaries(state, &queues)).await {
        Ok(Ok(summaries)) => Ok((summaries, started.elapsed())),
        Ok(Err(err)) => Err(crate::web::error::redis_trouble(&err)),
        Err(_) => Err(crate::web::i18n::tf(
            "error.no_answer",
            &[("ms", &CONNECTION_TIMEOUT.as_millis())],
        )),
    }
}

/// The summaries of `queues` on `state`'s connection (one round trip); with no queue to read, a
/// `PING`, so a connection that is down never passes for an empty one.
pub async fn summaries(
    state: &AppState,
    queues: &[QueueRef],
) -> Result<Vec<QueueSummary>, QueueError> {
    if queues.is_empty() {
        state.queues().ping().await?;
        return Ok(Vec::new());
    }
    state.reader().summaries(queues).await
}

/// The overview's row of each of `state`'s other connections, read in parallel.
pub async fn other_rows(state: &AppState) -> Vec<ConnectionRow> {
    let reads = state.others().iter().map(|other| async move {
        let read = read_summaries(other).await;
        row(other, &read)
    });
    join_all(reads).await
}

/// One connection's row from its read.
pub fn row(state: &AppState, read: &Read) -> ConnectionRow {
    let connection = state.connection();
    let (up, latency, error, queues, totals) = match read {
        Ok((summaries, took)) => (
            true,
            format!("{:.1} ms", took.as_secs_f64() * 1000.0),
            String::new(),
            summaries.len(),
            JobState::ALL
                .iter()
                .map(|s| summaries.iter().map(|q| q.counts.get(*s)).sum())
                .collect(),
        ),
        Err(error) => (false, String::new(), error.clone(), 0, Vec::new()),
    };
    ConnectionRow {
        name: connection.name.clone(),
        label: connection.label.clone(),
        color: connection.color.as_str(),
        href: state.links().home(),
        up,
        latency,
        error,
        queues,
        totals,
    }
}
