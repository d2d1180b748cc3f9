//! "Apply to every match" of a search, as a background task: the confirmation page, starting a
//! task (a form, or `POST {base}/api/queues/{queue}/search/apply`), its page and JSON, and
//! cancelling it. The task itself is the core's (`queue::search::apply`); the registry that
//! bounds and keeps tasks is [`crate::web::tasks`].

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{QueueAt, path_param, render};
use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::queue::error::chain;
use crate::queue::model::{JobState, QueueRef};
use crate::queue::search::apply::Apply;
use crate::text::Said;
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::flash::Flash;
use crate::web::i18n;
use crate::web::input::{Input, body_input};
use crate::web::reply::redirect_with;
use crate::web::state::AppState;
use crate::web::tasks::{Full, MAX_RUNNING};
use crate::web::tasks::{RETRY_AFTER, Status, Task};
use crate::web::views::task::{ApplyPage, TaskPage, TaskView};
use crate::web::views::{Chrome, label_of};

/// `?state=&q=&action=&batch=` of the confirmation page.
#[derive(Debug, Default, Deserialize)]
pub struct ApplyParams {
    pub state: Option<String>,
    pub q: Option<String>,
    pub action: Option<String>,
    pub batch: Option<String>,
    pub prefix: Option<String>,
}

/// The task the fields ask for (a 400 naming what is wrong: the action, the state, a query
/// term, the batch size).
fn task_of(
    queue: QueueRef,
    action: Option<&str>,
    state: Option<&str>,
    q: &str,
    batch: Option<&str>,
) -> Result<Apply, WebError> {
    let action = action
        .and_then(Action::from_name)
        .filter(|a| Action::BULK.contains(a))
        .ok_or_else(|| WebError::BadRequest(i18n::t("input.apply_action").into()))?;
    let tab = match state.map(str::trim).filter(|s| !s.is_empty()) {
        Some(state) => state.parse::<JobState>()?,
        None => JobState::Waiting,
    };
    let batch = batch
        .map(|b| b.trim().parse::<u64>())
        .transpose()
        .map_err(|_| WebError::BadRequest(i18n::t("input.apply_batch").into()))?;
    Ok(Apply::new(queue, action, q, tab, batch)?)
}

/// What a task does, for people, in the reader's language: "Retry every match of `name:x` in
/// failed of mail".
fn heading(apply: &Apply) -> String {
    let states: Vec<&str> = apply
        .states
        .iter()
        .map(|s| i18n::t(&format!("state.{}", s.as_str())))
        .collect();
    let verb = label_of(apply.action);
    let states = states.join(", ");
    let queue = &apply.queue.name;
    if apply.text.is_empty() {
        i18n::tf(
            "task.heading",
            &[("verb", &verb), ("states", &states), ("queue", queue)],
        )
    } else {
        i18n::tf(
            "task.heading_query",
            &[
                ("verb", &verb),
                ("q", &apply.text),
                ("states", &states),
                ("queue", queue),
            ],
        )
    }
}

/// `GET {base}/queues/{queue}/search/apply?state=&q=&action=`: what the task will do, and the
/// button that starts it (the confirmation, with or without JavaScript).
pub async fn confirm(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    QueueAt(queue): QueueAt,
    Query(params): Query<ApplyParams>,
) -> Result<Response, WebError> {
    let q = params.q.as_deref().unwrap_or("");
    let apply = task_of(
        queue.clone(),
        params.action.as_deref(),
        params.state.as_deref(),
        q,
        params.batch.as_deref(),
    )?;
    if let Some(why) = state.connection().cap(&principal).refusal(apply.action) {
        return Err(WebError::Forbidden(why.said()));
    }
    let links = state.links();
    let tab = params
        .state
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(JobState::Waiting);
    let mut fields = vec![
        ("state", tab.as_str().to_string()),
        ("q", q.to_string()),
        ("action", apply.action.name().to_string()),
    ];
    if let Some(batch) = params.batch.filter(|b| !b.trim().is_empty()) {
        fields.push(("batch", batch));
    }
    let page = ApplyPage {
        chrome: Chrome::page(&state, &principal, flash),
        queue_name: queue.name.clone(),
        queue_href: links.queue(&queue),
        heading: format!("{}?", heading(&apply)),
        post_action: links.queue_sub(&queue, "search/apply"),
        fields,
        button: i18n::tf("task.button", &[("verb", &label_of(apply.action))]),
        danger: apply.action.destructive(),
        search_href: links.search(&queue, tab, q, None, ""),
    };
    Ok(render(&page)?.into_response())
}

/// Check the task, the role, and room for it; then run it in the background.
async fn start(
    state: &AppState,
    principal: &Principal,
    queue: QueueRef,
    input: &Input,
) -> Result<Arc<Task>, WebError> {
    let q = input.raw("q").unwrap_or("");
    let apply = task_of(
        queue,
        input.text("action").as_deref(),
        input.text("state").as_deref(),
        q,
        input.text("batch").as_deref(),
    )?;
    let principal = state.commands().admit(principal, &apply).await?;
    let task = state
        .tasks()
        .start(apply, &state.connection().name, &principal.user)
        .map_err(|Full| WebError::Busy {
            message: Said::new("busy.tasks").with("max", MAX_RUNNING),
            retry_after: RETRY_AFTER,
        })?;
    let (runner, running) = (state.clone(), task.clone());
    tokio::spawn(async move {
        let result = runner
            .commands()
            .apply(
                &principal,
                &running.apply,
                &running.id,
                &running.progress,
                &running.stop,
            )
            .await;
        running.finish(result.map_err(|err| {
            tracing::warn!(task = %running.id, error = %chain(&err), "task stopped");
            crate::web::error::said_of_task(&err)
        }));
    });
    Ok(task)
}

/// `POST {base}/queues/{queue}/search/apply` (a form): start the task, then its page.
pub async fn start_form(
    State(state): State<AppState>,
    principal: Principal,
    QueueAt(queue): QueueAt,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = body_input(false, &headers, &body)?;
    let task = start(&state, &principal, queue, &input).await?;
    let message = i18n::tf("task.started_flash", &[("what", &heading(&task.apply))]);
    Ok(redirect_with(
        &message,
        &href(&state, &task.id),
        &state,
        &headers,
    ))
}

/// `POST {base}/api/queues/{queue}/search/apply` with `{"state", "q", "action", "batch"}`: a
/// 202 with the task.
pub async fn start_api(
    State(state): State<AppState>,
    principal: Principal,
    QueueAt(queue): QueueAt,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let input = body_input(true, &headers, &body)?;
    let task = start(&state, &principal, queue, &input).await?;
    Ok((StatusCode::ACCEPTED, Json(task_json(&state, &task))).into_response())
}

fn href(state: &AppState, id: &str) -> String {
    format!("{}/tasks/{}", state.base(), crate::web::links::encode(id))
}

/// The task a `/tasks/{id}` route names, or a 404.
async fn task_at(state: &AppState, id: Option<String>) -> Result<Arc<Task>, WebError> {
    id.and_then(|id| state.tasks().get(&id))
        .ok_or_else(|| WebError::NotFound(i18n::t("task.no_such").into()))
}

/// A task's id from its route.
pub struct TaskId(pub Option<String>);

impl axum::extract::FromRequestParts<AppState> for TaskId {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, WebError> {
        Ok(TaskId(path_param(parts, state, "id").await?))
    }
}

/// A task as the JSON API answers it.
fn task_json(state: &AppState, task: &Task) -> Value {
    let (status, finished_ms) = task.status();
    let error = match &status {
        Status::Failed(message) => Value::String(message.english()),
        _ => Value::Null,
    };
    let counts = task.counts();
    let apply = &task.apply;
    json!({
        "id": task.id,
        "href": href(state, &task.id),
        "connection": task.connection,
        "prefix": apply.queue.prefix,
        "queue": apply.queue.name,
        "action": apply.action,
        "q": apply.text,
        "states": apply.states.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        "batch": apply.batch,
        "status": status.name(),
        "error": error,
        "scanned": counts.scanned,
        "total": counts.total,
        "matched": counts.matched,
        "applied": counts.applied,
        "skipped": counts.skipped,
        "user": task.user,
        "started_ms": task.started_ms,
        "finished_ms": finished_ms,
    })
}

/// `GET {base}/api/tasks`: the tasks kept, the newest first.
pub async fn list(State(state): State<AppState>) -> Json<Value> {
    let tasks: Vec<Value> = state
        .tasks()
        .list()
        .iter()
        .map(|task| task_json(&state, task))
        .collect();
    Json(json!({ "tasks": tasks }))
}

/// `GET {base}/api/tasks/{id}`
pub async fn api(
    State(state): State<AppState>,
    TaskId(id): TaskId,
) -> Result<Json<Value>, WebError> {
    let task = task_at(&state, id).await?;
    Ok(Json(task_json(&state, &task)))
}

/// `GET {base}/tasks/{id}`: the task's page (htmx reads it again every second while it runs).
pub async fn page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    TaskId(id): TaskId,
) -> Result<Response, WebError> {
    let task = task_at(&state, id).await?;
    let links = state.links();
    let (status, finished_ms) = task.status();
    let counts = task.counts();
    let apply = &task.apply;
    let running = status == Status::Running;
    let may_cancel = state.connection().cap(&principal).may(apply.action);
    let (started, finished) = TaskView::times(task.started_ms, finished_ms);
    let tab = apply.states.first().copied().unwrap_or(JobState::Waiting);
    let view = TaskView {
        id: task.id.clone(),
        href: href(&state, &task.id),
        queue_name: apply.queue.name.clone(),
        queue_href: links.queue(&apply.queue),
        search_href: links.search(&apply.queue, tab, &apply.text, None, ""),
        heading: heading(apply),
        status: status.name(),
        status_label: i18n::t(&format!("task.status.{}", status.name())),
        running,
        error: match status {
            Status::Failed(message) => Some(i18n::here(&message)),
            _ => None,
        },
        counts,
        max: counts.total.max(counts.scanned).max(1),
        user: task.user.clone(),
        started,
        finished,
        cancel: (running && may_cancel).then(|| format!("{}/cancel", href(&state, &task.id))),
    };
    let page = TaskPage {
        chrome: Chrome::page(&state, &principal, flash),
        view,
    };
    Ok(render(&page)?.into_response())
}

/// Cancel a task: the same role its action needs; a task that has ended stays as it ended.
async fn cancel(
    state: &AppState,
    principal: &Principal,
    id: Option<String>,
) -> Result<Arc<Task>, WebError> {
    let task = task_at(state, id).await?;
    if let Some(why) = state.connection().cap(principal).refusal(task.apply.action) {
        return Err(WebError::Forbidden(why.said()));
    }
    task.stop.cancel();
    Ok(task)
}

/// `POST {base}/tasks/{id}/cancel` (a form): back to the task's page.
pub async fn cancel_form(
    State(state): State<AppState>,
    principal: Principal,
    TaskId(id): TaskId,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let task = cancel(&state, &principal, id).await?;
    let message = i18n::t("task.cancelling");
    Ok(redirect_with(
        message,
        &href(&state, &task.id),
        &state,
        &headers,
    ))
}

/// `POST {base}/api/tasks/{id}/cancel`: the task (its status turns `cancelled` before its next
/// job).
pub async fn cancel_api(
    State(state): State<AppState>,
    principal: Principal,
    TaskId(id): TaskId,
) -> Result<Json<Value>, WebError> {
    let task = cancel(&state, &principal, id).await?;
    Ok(Json(task_json(&state, &task)))
}
