//! Job schedulers of every queue (or one queue), with their next run and template.

use askama::Template;
use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::Scope;
use super::queues::render;
use crate::queue::model::QueueRef;
use crate::queue::schedulers::Scheduler;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::security::{Action, Principal};
use crate::web::views::{Chrome, format_time, relative_time};

pub struct SchedulerRow {
    pub id: String,
    pub queue: String,
    pub queue_href: String,
    pub schedule: String,
    pub tz: String,
    pub next: String,
    pub next_relative: String,
    pub next_job_href: String,
    pub iterations: String,
    pub limits: String,
    pub job_name: String,
    pub data: String,
    pub legacy: bool,
    pub remove_url: String,
}

#[derive(Template)]
#[template(path = "pages/schedulers.html")]
pub struct SchedulersPage {
    pub chrome: Chrome,
    pub queue: Option<String>,
    pub queue_href: String,
    pub rows: Vec<SchedulerRow>,
    pub can_remove: bool,
}

fn human_every(ms: i64) -> String {
    match ms {
        ms if ms % 86_400_000 == 0 => format!("every {} d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("every {} h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("every {} min", ms / 60_000),
        ms if ms % 1000 == 0 => format!("every {} s", ms / 1000),
        ms => format!("every {ms} ms"),
    }
}

async fn list(state: &AppState, queue: Option<&QueueRef>) -> Result<Vec<Scheduler>, WebError> {
    let queues = match queue {
        Some(q) => vec![q.clone()],
        None => state.discovery().snapshot().queues,
    };
    Ok(state.reader().schedulers(&queues).await?)
}

async fn view(
    state: AppState,
    principal: Principal,
    flash: Flash,
    queue: Option<QueueRef>,
) -> Result<Html<String>, WebError> {
    let list = list(&state, queue.as_ref()).await?;
    let links = state.links();
    let now = chrono::Utc::now().timestamp_millis();
    let rows = list
        .into_iter()
        .map(|s| {
            let q = QueueRef::new(&s.prefix, &s.queue);
            let mut limits = Vec::new();
            if let Some(limit) = s.limit {
                limits.push(format!("limit {limit}"));
            }
            if let Some(end) = s.end_date {
                limits.push(format!("ends {} UTC", format_time(Some(end))));
            }
            if let Some(start) = s.start_date {
                limits.push(format!("starts {} UTC", format_time(Some(start))));
            }
            SchedulerRow {
                queue_href: links.queue(&q),
                schedule: match (&s.pattern, s.every) {
                    (Some(p), _) => p.clone(),
                    (None, Some(every)) => human_every(every),
                    _ => String::new(),
                },
                tz: s.tz.clone().unwrap_or_default(),
                next: format_time(s.next),
                next_relative: relative_time(s.next, now),
                next_job_href: s
                    .next_job_id
                    .as_deref()
                    .map(|id| links.job(&q, id))
                    .unwrap_or_default(),
                iterations: s.iteration_count.map(|n| n.to_string()).unwrap_or_default(),
                limits: limits.join(", "),
                job_name: s.name.clone(),
                data: s.template.data.to_string(),
                legacy: s.legacy,
                remove_url: links.scheduler_remove(&q, &s.key),
                queue: s.queue,
                id: s.key,
            }
        })
        .collect();
    render(&SchedulersPage {
        chrome: Chrome::page(&state, &principal, flash),
        queue_href: queue.as_ref().map(|q| links.queue(q)).unwrap_or_default(),
        queue: queue.map(|q| q.name),
        rows,
        can_remove: principal.may(Action::RemoveScheduler),
    })
}

/// `GET {base}/schedulers` and `GET {base}/queues/{queue}/schedulers`
pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Scope(queue): Scope,
) -> Result<Html<String>, WebError> {
    view(state, principal, flash, queue).await
}

/// `GET {base}/api/schedulers` and `GET {base}/api/queues/{queue}/schedulers`
pub async fn api(
    State(state): State<AppState>,
    Scope(queue): Scope,
) -> Result<Json<Value>, WebError> {
    Ok(Json(
        json!({ "schedulers": list(&state, queue.as_ref()).await? }),
    ))
}
