//! A queue's throughput (BullMQ's metrics, drawn as server-side SVG), its wait and processing
//! times, and the workers connected to queues.

use askama::Template;
use axum::Json;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use axum::response::Html;
use serde_json::{Value, json};

use super::queues::render;
use super::{Scope, resolve};
use crate::queue::metrics::{QueueMetrics, Series, Timings, failure_rate};
use crate::queue::model::QueueRef;
use crate::queue::workers::WorkerClient;
use crate::web::AppState;
use crate::web::charts;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::params::ActionQuery;
use crate::web::security::Principal;
use crate::web::views::Chrome;

/// Minutes in a week: BullMQ's `MetricsTime.ONE_WEEK`, the most a worker usually keeps.
pub const WEEK_MINUTES: usize = 7 * 24 * 60;

/// One window of the metrics page.
pub struct Window {
    pub title: &'static str,
    pub svg: String,
    pub completed: u64,
    pub failed: u64,
    pub failure_rate: String,
}

/// The last `minutes` of a series (it ends now).
fn last(series: &Series, minutes: usize) -> Series {
    let skip = series.per_minute.len().saturating_sub(minutes);
    Series {
        per_minute: series.per_minute[skip..].to_vec(),
        ..series.clone()
    }
}

fn window(metrics: &QueueMetrics, title: &'static str, minutes: usize, per_bar: usize) -> Window {
    let part = QueueMetrics {
        completed: last(&metrics.completed, minutes),
        failed: last(&metrics.failed, minutes),
        recorded: metrics.recorded,
    };
    Window {
        title,
        svg: charts::throughput(&part.completed, &part.failed, per_bar, title),
        completed: part.completed.sum(),
        failed: part.failed.sum(),
        failure_rate: percent(failure_rate(&part)),
    }
}

/// "2.5 %", or "–" when nothing finished.
pub fn percent(rate: Option<f64>) -> String {
    match rate {
        Some(rate) if rate > 0.0 && rate < 0.1 => "< 0.1 %".into(),
        Some(rate) => format!("{rate:.1} %"),
        None => "–".into(),
    }
}

/// "850 ms", "12.3 s", "4.0 min".
pub fn duration(ms: Option<i64>) -> String {
    match ms {
        None => "–".into(),
        Some(ms) if ms < 1000 => format!("{ms} ms"),
        Some(ms) if ms < 60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        Some(ms) if ms < 3_600_000 => format!("{:.1} min", ms as f64 / 60_000.0),
        Some(ms) => format!("{:.1} h", ms as f64 / 3_600_000.0),
    }
}

#[derive(Template)]
#[template(path = "pages/metrics.html")]
pub struct MetricsPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub recorded: bool,
    pub windows: Vec<Window>,
    pub total_completed: u64,
    pub total_failed: u64,
    pub timings: Timings,
    pub wait_p50: String,
    pub wait_p95: String,
    pub run_p50: String,
    pub run_p95: String,
    pub sample: usize,
}

/// `GET {base}/queues/{queue}/metrics`
pub async fn metrics_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Path(name): Path<String>,
    Query(query): Query<ActionQuery>,
) -> Result<Html<String>, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let reader = state.reader();
    let (metrics, timings) =
        tokio::try_join!(reader.metrics(&queue, WEEK_MINUTES), reader.timings(&queue))?;
    let windows = vec![
        window(&metrics, "Last hour", 60, 1),
        window(&metrics, "Last day", 24 * 60, 30),
        window(&metrics, "Last week", WEEK_MINUTES, 360),
    ];
    render(&MetricsPage {
        chrome: Chrome::page(&state, &principal, flash),
        queue_name: queue.name.clone(),
        queue_href: state.links().queue(&queue),
        recorded: metrics.recorded,
        windows,
        total_completed: metrics.completed.total,
        total_failed: metrics.failed.total,
        wait_p50: duration(timings.wait_p50),
        wait_p95: duration(timings.wait_p95),
        run_p50: duration(timings.processing_p50),
        run_p95: duration(timings.processing_p95),
        sample: timings.samples,
        timings,
    })
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
        return Err(WebError::BadRequest(format!(
            "minutes must be between 1 and {WEEK_MINUTES}, not {minutes}"
        )));
    }
    let reader = state.reader();
    let (metrics, timings) =
        tokio::try_join!(reader.metrics(&queue, minutes), reader.timings(&queue))?;
    Ok(Json(json!({
        "queue": queue.name,
        "prefix": queue.prefix,
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

// ---------------------------------------------------------------------------------------------
// Workers

pub struct WorkerRow {
    pub queue: String,
    pub queue_href: String,
    pub name: String,
    pub addr: String,
    pub age: String,
    pub idle: String,
}

#[derive(Template)]
#[template(path = "pages/workers.html")]
pub struct WorkersPage {
    pub chrome: Chrome,
    pub queue: Option<String>,
    pub queue_href: String,
    /// `None`: Redis refused `CLIENT LIST`, so workers are unknown.
    pub rows: Option<Vec<WorkerRow>>,
}

/// "3 d 4 h", "5 min", "12 s".
fn seconds(total: u64) -> String {
    match total {
        s if s >= 86_400 => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
        s if s >= 3600 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        s if s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
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

async fn workers_view(
    state: AppState,
    principal: Principal,
    flash: Flash,
    queue: Option<QueueRef>,
) -> Result<Html<String>, WebError> {
    let found = workers(&state, queue.as_ref()).await?;
    let links = state.links();
    let rows = found.map(|list| {
        list.into_iter()
            .map(|w| WorkerRow {
                queue_href: links.queue(&QueueRef::new(&w.prefix, &w.queue)),
                queue: w.queue,
                name: w.name,
                addr: w.addr,
                age: seconds(w.age),
                idle: seconds(w.idle),
            })
            .collect()
    });
    render(&WorkersPage {
        chrome: Chrome::page(&state, &principal, flash),
        queue_href: queue.as_ref().map(|q| links.queue(q)).unwrap_or_default(),
        queue: queue.map(|q| q.name),
        rows,
    })
}

/// `GET {base}/workers` and `GET {base}/queues/{queue}/workers`
pub async fn workers_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Scope(queue): Scope,
) -> Result<Html<String>, WebError> {
    workers_view(state, principal, flash, queue).await
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
