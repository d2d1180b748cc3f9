//! Every action, once: parse the input (an HTML form or a JSON body) into a [`Command`], check
//! the user's role, act through [`crate::queue::actions`], record it in the audit trail, and
//! answer: a 303 back to the page with a one-line message (forms), or JSON with what changed.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::Value;

use super::{pages, resolve};
use crate::queue::actions::{NewJob, Outcome};
use crate::queue::audit::AuditEntry;
use crate::queue::model::{JobState, QueueRef};
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::flash;
use crate::web::params::ActionQuery;
use crate::web::security::{Action, Principal};

/// One action with its parsed input.
#[derive(Debug, Clone)]
pub enum Command {
    Retry(String),
    Promote(String),
    Remove {
        id: String,
        children: bool,
    },
    Duplicate(String),
    EditData {
        id: String,
        data: Value,
    },
    AddJob(NewJob),
    Pause,
    Resume,
    RetryFailed,
    PromoteDelayed,
    Clean {
        state: JobState,
        grace_ms: u64,
        limit: u64,
    },
    Drain {
        delayed: bool,
    },
    Obliterate {
        force: bool,
    },
    Bulk {
        action: Action,
        ids: Vec<String>,
    },
    PauseAll,
    ResumeAll,
    RemoveScheduler(String),
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::Retry(_) => Action::Retry,
            Command::Promote(_) => Action::Promote,
            Command::Remove { .. } => Action::Remove,
            Command::Duplicate(_) => Action::Duplicate,
            Command::EditData { .. } => Action::EditData,
            Command::AddJob(_) => Action::AddJob,
            Command::Pause => Action::Pause,
            Command::Resume => Action::Resume,
            Command::RetryFailed => Action::RetryFailed,
            Command::PromoteDelayed => Action::PromoteDelayed,
            Command::Clean { .. } => Action::Clean,
            Command::Drain { .. } => Action::Drain,
            Command::Obliterate { .. } => Action::Obliterate,
            Command::Bulk { action, .. } => *action,
            Command::PauseAll => Action::PauseAll,
            Command::ResumeAll => Action::ResumeAll,
            Command::RemoveScheduler(_) => Action::RemoveScheduler,
        }
    }

    fn job_ids(&self) -> Vec<String> {
        match self {
            Command::Retry(id)
            | Command::Promote(id)
            | Command::Duplicate(id)
            | Command::Remove { id, .. }
            | Command::EditData { id, .. } => vec![id.clone()],
            Command::Bulk { ids, .. } => ids.clone(),
            _ => Vec::new(),
        }
    }
}

/// The fields of a form or JSON body, looked up by name.
pub struct Input {
    form: Vec<(String, String)>,
    json: Value,
}

impl Input {
    /// An `application/x-www-form-urlencoded` body.
    pub fn form(body: &[u8]) -> Input {
        Input {
            form: form_urlencoded::parse(body).into_owned().collect(),
            json: Value::Null,
        }
    }

    /// A JSON body; an empty body is no fields.
    pub fn json(body: &[u8]) -> Result<Input, WebError> {
        let json = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .map_err(|e| WebError::BadRequest(format!("the body is not valid JSON: {e}")))?
        };
        Ok(Input {
            form: Vec::new(),
            json,
        })
    }

    /// The raw form fields, to show a refused form again as it was typed.
    pub fn fields(&self) -> &[(String, String)] {
        &self.form
    }

    fn text(&self, name: &str) -> Option<String> {
        if let Some((_, v)) = self.form.iter().find(|(k, _)| k == name) {
            return Some(v.trim().to_string()).filter(|v| !v.is_empty());
        }
        match self.json.get(name)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            other => Some(other.to_string()),
        }
    }

    fn all(&self, name: &str) -> Vec<String> {
        if let Some(Value::Array(items)) = self.json.get(name) {
            return items
                .iter()
                .map(|v| {
                    v.as_str()
                        .map(String::from)
                        .unwrap_or_else(|| v.to_string())
                })
                .collect();
        }
        self.form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    fn flag(&self, name: &str) -> bool {
        match self.json.get(name) {
            Some(Value::Bool(b)) => *b,
            _ => matches!(
                self.text(name).as_deref(),
                Some("1" | "true" | "on" | "yes")
            ),
        }
    }

    fn number(&self, name: &str, default: u64) -> Result<u64, WebError> {
        match self.text(name) {
            None => Ok(default),
            Some(text) => text.parse().map_err(|_| {
                WebError::BadRequest(format!("{name}: {text:?} is not a whole number"))
            }),
        }
    }

    /// A JSON value typed in a form field, or given as JSON.
    fn json_value(&self, name: &str) -> Result<Option<Value>, WebError> {
        if let Some((_, text)) = self.form.iter().find(|(k, _)| k == name) {
            if text.trim().is_empty() {
                return Ok(None);
            }
            return serde_json::from_str(text)
                .map(Some)
                .map_err(|e| WebError::BadRequest(format!("{name}: not valid JSON ({e})")));
        }
        Ok(self.json.get(name).cloned())
    }
}

/// Parse `{action}` of a job route.
pub fn job_command(
    action: &str,
    id: &str,
    input: &Input,
    body_is_data: bool,
) -> Result<Command, WebError> {
    let id = id.to_string();
    Ok(match action {
        "retry" => Command::Retry(id),
        "promote" => Command::Promote(id),
        "remove" => Command::Remove {
            id,
            // Removing a parent removes its children unless told otherwise, as in BullMQ.
            children: input
                .text("children")
                .is_none_or(|_| input.flag("children")),
        },
        "duplicate" => Command::Duplicate(id),
        "data" => {
            let data = if body_is_data && input.form.is_empty() {
                if input.json.is_null() {
                    return Err(WebError::BadRequest(
                        "data: give the new data as JSON in the body".into(),
                    ));
                }
                input.json.clone()
            } else {
                input
                    .json_value("data")?
                    .ok_or_else(|| WebError::BadRequest("data: give the new data as JSON".into()))?
            };
            Command::EditData { id, data }
        }
        other => return Err(WebError::NotFound(format!("no job action {other:?}"))),
    })
}

/// Parse `{action}` of a queue route.
pub fn queue_command(action: &str, input: &Input) -> Result<Command, WebError> {
    Ok(match action {
        "pause" => Command::Pause,
        "resume" => Command::Resume,
        "retry-failed" => Command::RetryFailed,
        "promote-delayed" => Command::PromoteDelayed,
        "drain" => Command::Drain {
            delayed: input.flag("delayed"),
        },
        "obliterate" => Command::Obliterate {
            force: input.flag("force"),
        },
        "clean" => {
            let state: JobState = input
                .text("state")
                .ok_or_else(|| WebError::BadRequest("state: choose which jobs to clean".into()))?
                .parse()
                .map_err(|e| WebError::BadRequest(format!("state: {e}")))?;
            crate::queue::actions::check_cleanable(state)?;
            Command::Clean {
                state,
                grace_ms: input.number("grace_ms", 0)?,
                limit: input.number("limit", 0)?,
            }
        }
        "bulk" => {
            let action = match input.text("action").as_deref() {
                Some("retry") => Action::Retry,
                Some("promote") => Action::Promote,
                Some("remove") => Action::Remove,
                other => {
                    return Err(WebError::BadRequest(format!(
                        "action: {other:?} is not retry, promote or remove"
                    )));
                }
            };
            let ids: Vec<String> = input
                .all("ids")
                .into_iter()
                .filter(|id| !id.is_empty())
                .collect();
            if ids.is_empty() {
                return Err(WebError::BadRequest("ids: tick at least one job".into()));
            }
            if ids.len() > 1000 {
                return Err(WebError::BadRequest(
                    "ids: at most 1000 jobs at once".into(),
                ));
            }
            Command::Bulk { action, ids }
        }
        "jobs" => Command::AddJob(new_job(input)?),
        other => return Err(WebError::NotFound(format!("no queue action {other:?}"))),
    })
}

/// The add-job input: `name`, `data` (JSON) and options, either as `opts` (JSON) or as the form's
/// separate fields.
fn new_job(input: &Input) -> Result<NewJob, WebError> {
    let name = input.text("name").unwrap_or_default();
    let data = input
        .json_value("data")?
        .unwrap_or(Value::Object(Default::default()));
    let mut opts = match input.json_value("opts")? {
        Some(Value::Object(map)) => map,
        Some(other) => {
            return Err(WebError::BadRequest(format!(
                "opts: expected an object, got {other}"
            )));
        }
        None => Default::default(),
    };
    let mut set = |key: &str, value: Value| {
        opts.insert(key.to_string(), value);
    };
    if let Some(id) = input.text("job_id") {
        set("jobId", Value::String(id));
    }
    for (field, key) in [
        ("delay_ms", "delay"),
        ("priority", "priority"),
        ("attempts", "attempts"),
    ] {
        if input.text(field).is_some() {
            set(key, Value::from(input.number(field, 0)?));
        }
    }
    if let Some(kind) = input.text("backoff_type") {
        if !["fixed", "exponential"].contains(&kind.as_str()) {
            return Err(WebError::BadRequest(format!(
                "backoff_type: {kind:?} is not fixed or exponential"
            )));
        }
        let delay = input.number("backoff_delay_ms", 1000)?;
        set(
            "backoff",
            serde_json::json!({ "type": kind, "delay": delay }),
        );
    }
    for (field, key) in [
        ("remove_on_complete", "removeOnComplete"),
        ("remove_on_fail", "removeOnFail"),
    ] {
        match input.text(field).as_deref() {
            None => {}
            Some("true" | "on" | "yes") => set(key, Value::Bool(true)),
            Some("false" | "off" | "no") => set(key, Value::Bool(false)),
            Some(n) => {
                let count: u64 = n.parse().map_err(|_| {
                    WebError::BadRequest(format!("{field}: {n:?} is not true, false or a count"))
                })?;
                set(key, Value::from(count));
            }
        }
    }
    Ok(NewJob {
        name,
        data,
        opts: Value::Object(opts),
    })
}

/// Check the role, act, and record the attempt in the audit trail.
pub async fn perform(
    state: &AppState,
    principal: &Principal,
    queue: Option<&QueueRef>,
    command: Command,
) -> Result<Outcome, WebError> {
    let action = command.action();
    let mut entry = AuditEntry {
        id: String::new(),
        time_ms: chrono::Utc::now().timestamp_millis(),
        user: principal.user.clone(),
        role: principal.role.to_string(),
        action: action.to_string(),
        prefix: queue.map(|q| q.prefix.clone()).unwrap_or_default(),
        queue: queue.map(|q| q.name.clone()).unwrap_or_default(),
        jobs: command.job_ids(),
        outcome: String::new(),
        detail: String::new(),
    };
    if !principal.may(action) {
        let why = if principal.read_only {
            "the dashboard is read-only".to_string()
        } else {
            format!(
                "{action} needs the {} role; you are {}",
                action.required_role(),
                principal.role
            )
        };
        entry.outcome = "refused".into();
        entry.detail = why.clone();
        state.audit().record(&entry).await;
        return Err(WebError::Forbidden(format!("Not allowed: {why}.")));
    }
    let result = run(state, queue, command).await;
    match &result {
        Ok(outcome) => {
            entry.outcome = "ok".into();
            entry.detail = outcome.message.clone();
            if !outcome.jobs.is_empty() {
                entry.jobs = outcome.jobs.clone();
            }
        }
        Err(err) => {
            entry.outcome = "failed".into();
            entry.detail = err.public_message();
        }
    }
    state.audit().record(&entry).await;
    result
}

async fn run(
    state: &AppState,
    queue: Option<&QueueRef>,
    command: Command,
) -> Result<Outcome, WebError> {
    let actions = state.actions();
    let Some(queue) = queue else {
        return all_queues(state, command).await;
    };
    // An unknown queue is a 404 for every action, before anything is written. A queue named in
    // the configuration may take its first job even before it has any key.
    let configured = matches!(command, Command::AddJob(_))
        && state.discovery().snapshot().queues.contains(queue);
    if !configured {
        state.reader().summary(queue).await?;
    }
    let outcome = match command {
        Command::Retry(id) => actions.retry(queue, &id).await?,
        Command::Promote(id) => actions.promote(queue, &id).await?,
        Command::Remove { id, children } => actions.remove(queue, &id, children).await?,
        Command::Duplicate(id) => actions.duplicate(queue, &id).await?,
        Command::EditData { id, data } => actions.update_data(queue, &id, data).await?,
        Command::AddJob(job) => actions.add(queue, job).await?,
        Command::Pause => actions.pause(queue).await?,
        Command::Resume => actions.resume(queue).await?,
        Command::RetryFailed => actions.retry_failed(queue).await?,
        Command::PromoteDelayed => actions.promote_delayed(queue).await?,
        Command::Clean {
            state: s,
            grace_ms,
            limit,
        } => actions.clean(queue, s, grace_ms, limit).await?,
        Command::Drain { delayed } => actions.drain(queue, delayed).await?,
        Command::Obliterate { force } => actions.obliterate(queue, force).await?,
        Command::Bulk { action, ids } => bulk(state, queue, action, ids).await?,
        Command::RemoveScheduler(id) => actions.remove_scheduler(queue, &id).await?,
        Command::PauseAll | Command::ResumeAll => return all_queues(state, command).await,
    };
    Ok(outcome)
}

/// One action on many jobs: each is tried, and the message says what could not be done.
async fn bulk(
    state: &AppState,
    queue: &QueueRef,
    action: Action,
    ids: Vec<String>,
) -> Result<Outcome, WebError> {
    let actions = state.actions();
    let mut done = Vec::new();
    let mut refused = Vec::new();
    for id in &ids {
        let result = match action {
            Action::Retry => actions.retry(queue, id).await,
            Action::Promote => actions.promote(queue, id).await,
            _ => actions.remove(queue, id, true).await,
        };
        match result {
            Ok(_) => done.push(id.clone()),
            Err(err) if err.is_unavailable() => return Err(err.into()),
            Err(err) => refused.push(err.to_string()),
        }
    }
    let verb = match action {
        Action::Retry => "Retried",
        Action::Promote => "Promoted",
        _ => "Removed",
    };
    let mut message = format!("{verb} {} of {} job(s).", done.len(), ids.len());
    if !refused.is_empty() {
        message.push_str(&format!(" Not done: {}.", refused.join("; ")));
    }
    Ok(Outcome {
        action: action.as_str(),
        queue: queue.name.clone(),
        prefix: queue.prefix.clone(),
        count: done.len() as u64,
        jobs: done,
        message,
    })
}

/// Pause or resume every known queue.
async fn all_queues(state: &AppState, command: Command) -> Result<Outcome, WebError> {
    let queues = state
        .reader()
        .summaries(&state.discovery().snapshot().queues)
        .await?;
    let pause = matches!(command, Command::PauseAll);
    let mut changed = 0;
    for summary in queues.iter().filter(|s| s.paused != pause) {
        let queue = summary.queue();
        if pause {
            state.actions().pause(&queue).await?;
        } else {
            state.actions().resume(&queue).await?;
        }
        changed += 1;
    }
    let verb = if pause { "Paused" } else { "Resumed" };
    Ok(Outcome {
        action: command.action().as_str(),
        queue: String::new(),
        prefix: String::new(),
        jobs: Vec::new(),
        count: changed,
        message: format!("{verb} {changed} queue(s)."),
    })
}

// ---------------------------------------------------------------------------------------------
// HTML forms: 303 back with a message.

/// Where to go after a form: the form's `back` field when it stays inside the dashboard.
fn back_to(state: &AppState, input: &Input, default: String) -> String {
    let base = &state.base();
    input
        .text("back")
        .filter(|b| {
            (b == base
                || b.starts_with(&format!("{base}/"))
                || (base.is_empty() && b.starts_with('/')))
                && !b.starts_with("//")
                && !b.contains(['\r', '\n'])
        })
        .unwrap_or(default)
}

/// Whether htmx sent the request (a boosted form): it is then answered without a redirect.
fn from_htmx(headers: &HeaderMap) -> bool {
    headers
        .get("hx-request")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"true"))
}

/// The answer to a form that worked: the message goes in the flash cookie, then a 303 to `to`
/// (post/redirect/get, no JavaScript needed). htmx gets a 200 with `HX-Location` instead: it
/// fetches `to` itself, swaps that page's `<main>` into this one and pushes `to` to the history.
fn redirect_with(message: &str, to: &str, state: &AppState, headers: &HeaderMap) -> Response {
    let mut response = if from_htmx(headers) {
        let location = serde_json::json!({
            "path": to,
            "target": "main",
            "select": "main",
            "swap": "outerHTML",
        });
        let mut response = StatusCode::OK.into_response();
        if let Ok(value) = HeaderValue::from_str(&location.to_string()) {
            response.headers_mut().insert("hx-location", value);
        }
        response
    } else {
        Redirect::to(to).into_response()
    };
    if let Ok(cookie) = HeaderValue::from_str(&flash::set_cookie(message, &state.base())) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

/// `POST {base}/queues/{queue}/jobs/{id}/{action}` (form)
pub async fn job_form(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id, action)): Path<(String, String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let input = Input::form(&body);
    let command = match job_command(&action, &id, &input, false) {
        Err(WebError::BadRequest(reason))
            if action == "data" && principal.may(Action::EditData) =>
        {
            let typed = input.text("data").unwrap_or_default();
            return Ok(pages::edit_form_again(
                &state, &principal, &queue, &id, typed, reason,
            ));
        }
        other => other?,
    };
    let removed = matches!(command, Command::Remove { .. });
    let links = state.links();
    let outcome = perform(&state, &principal, Some(&queue), command).await?;
    let default = match (&outcome.action, outcome.jobs.first()) {
        (_, _) if removed => links.queue(&queue),
        (&"duplicate", Some(new_id)) => links.job(&queue, new_id),
        _ => links.job(&queue, &id),
    };
    let to = if removed {
        default
    } else {
        back_to(&state, &input, default)
    };
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

/// `POST {base}/queues/{queue}/{action}` (form)
pub async fn queue_form(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, action)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let input = Input::form(&body);
    let parsed = queue_command(&action, &input);
    if action == "jobs" && principal.may(Action::AddJob) {
        // The add-job form comes back with what was typed when the input or options are refused.
        let refused = match parsed {
            Err(WebError::BadRequest(reason)) => Some(reason),
            Ok(command) => match perform(&state, &principal, Some(&queue), command).await {
                Err(WebError::BadRequest(reason)) => Some(reason),
                Err(other) => return Err(other),
                Ok(outcome) => {
                    let to = state
                        .links()
                        .job(&queue, outcome.jobs.first().map_or("", String::as_str));
                    return Ok(redirect_with(&outcome.message, &to, &state, &headers));
                }
            },
            Err(other) => return Err(other),
        };
        let reason = refused.unwrap_or_default();
        return Ok(pages::add_form_again(
            &state,
            &principal,
            &queue,
            input.fields(),
            reason,
        ));
    }
    let command = parsed?;
    if let Command::Obliterate { .. } = command
        && input.text("confirm").as_deref() != Some(queue.name.as_str())
    {
        return Err(WebError::BadRequest(format!(
            "confirm: type the queue's name ({}) to obliterate it",
            queue.name
        )));
    }
    let links = state.links();
    let obliterated = matches!(command, Command::Obliterate { .. });
    let outcome = perform(&state, &principal, Some(&queue), command).await?;
    let to = match (obliterated, outcome.action, outcome.jobs.first()) {
        (true, _, _) => format!("{}/", state.base()),
        (_, "add-job", Some(id)) => links.job(&queue, id),
        _ => back_to(&state, &input, links.queue(&queue)),
    };
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

/// `POST {base}/queues/{queue}/schedulers/{id}/remove` (form)
pub async fn scheduler_form(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let command = Command::RemoveScheduler(id);
    let outcome = perform(&state, &principal, Some(&queue), command).await?;
    let to = state.links().queue_sub(&queue, "schedulers");
    Ok(redirect_with(&outcome.message, &to, &state, &headers))
}

/// `POST {base}/api/queues/{queue}/schedulers/{id}/remove`
pub async fn scheduler_api(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let outcome = perform(
        &state,
        &principal,
        Some(&queue),
        Command::RemoveScheduler(id),
    )
    .await?;
    Ok(json_outcome(outcome))
}

/// `POST {base}/pause-all` and `{base}/resume-all` (form)
pub async fn all_form(
    State(state): State<AppState>,
    principal: Principal,
    Path(action): Path<String>,
    headers: HeaderMap,
) -> Result<Response, WebError> {
    let command = match action.as_str() {
        "pause-all" => Command::PauseAll,
        "resume-all" => Command::ResumeAll,
        other => return Err(WebError::NotFound(format!("no action {other:?}"))),
    };
    let outcome = perform(&state, &principal, None, command).await?;
    Ok(redirect_with(
        &outcome.message,
        &format!("{}/", state.base()),
        &state,
        &headers,
    ))
}

// ---------------------------------------------------------------------------------------------
// JSON API.

fn json_outcome(outcome: Outcome) -> Response {
    let mut value = serde_json::to_value(&outcome).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("ok".into(), Value::Bool(true));
    }
    (StatusCode::OK, Json(value)).into_response()
}

/// `POST {base}/api/queues/{queue}/jobs/{id}/{action}`; for `data` the body is the new data.
pub async fn job_api(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, id, action)): Path<(String, String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let input = api_input(&headers, &body)?;
    let command = job_command(&action, &id, &input, true)?;
    Ok(json_outcome(
        perform(&state, &principal, Some(&queue), command).await?,
    ))
}

/// `POST {base}/api/queues/{queue}/{action}` (and `.../jobs` to add a job).
pub async fn queue_api(
    State(state): State<AppState>,
    principal: Principal,
    Path((name, action)): Path<(String, String)>,
    Query(query): Query<ActionQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    let queue = resolve(&state, &name, query.prefix.as_deref()).await?;
    let input = api_input(&headers, &body)?;
    let command = queue_command(&action, &input)?;
    Ok(json_outcome(
        perform(&state, &principal, Some(&queue), command).await?,
    ))
}

/// `POST {base}/api/pause-all` and `{base}/api/resume-all`
pub async fn all_api(
    State(state): State<AppState>,
    principal: Principal,
    Path(action): Path<String>,
) -> Result<Response, WebError> {
    let command = match action.as_str() {
        "pause-all" => Command::PauseAll,
        "resume-all" => Command::ResumeAll,
        other => return Err(WebError::NotFound(format!("no action {other:?}"))),
    };
    Ok(json_outcome(
        perform(&state, &principal, None, command).await?,
    ))
}

/// API bodies are JSON; a form-encoded body is accepted too (curl -d).
fn api_input(headers: &HeaderMap, body: &[u8]) -> Result<Input, WebError> {
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if form {
        Ok(Input::form(body))
    } else {
        Input::json(body)
    }
}
