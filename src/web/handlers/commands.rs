//! An action route ([`ActionRoute`]) and its input into a [`Command`]: the action comes from
//! the [`Action`] vocabulary (an unknown segment is a 404), its details from the form or JSON
//! body (a bad field is a 400 naming it). Nothing here acts.

use axum::extract::{FromRequestParts, MatchedPath, OriginalUri};
use axum::http::request::Parts;
use serde_json::Value;

use super::{path_param, resolve};
use crate::queue::action::{Action, Target, check_cleanable_in};
use crate::queue::actions::NewJob;
use crate::queue::command::{Command, MAX_BULK, Op};
use crate::queue::model::{JobState, QueueRef};
use crate::queue::ndjson::{self, Line};
use crate::queue::schedule_edit::{SchedulerEdit, TypedSchedule};
use crate::web::error::WebError;
use crate::web::extract::Query;
use crate::web::i18n;
use crate::web::input::Input;
use crate::web::params::ActionQuery;
use crate::web::state::AppState;

/// What an action route names: the action (from its last segment), the queue (found as
/// [`resolve`] finds it, `?prefix=` included) and the job or job scheduler id.
pub struct ActionRoute {
    pub action: Action,
    /// Posted to the JSON API (`{base}/api/...`) rather than by an HTML form.
    pub api: bool,
    pub queue: Option<QueueRef>,
    pub id: Option<String>,
}

impl FromRequestParts<AppState> for ActionRoute {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let matched = parts
            .extensions
            .get::<MatchedPath>()
            .map(|path| path.as_str().to_string())
            .unwrap_or_default();
        let scheduler = matched.ends_with("/schedulers/{id}/{action}");
        let queue = path_param(parts, state, "queue").await?;
        let id = path_param(parts, state, "id").await?;
        let target = match (&queue, &id) {
            (Some(_), Some(_)) if scheduler => Target::Scheduler,
            (Some(_), Some(_)) => Target::Job,
            (Some(_), None) => Target::Queue,
            _ => Target::AllQueues,
        };
        let queue = match queue {
            Some(name) => {
                let Query(query) = Query::<ActionQuery>::from_request_parts(parts, state).await?;
                Some(resolve(state, &name, query.prefix.as_deref()).await?)
            }
            None => None,
        };
        // `POST {base}/api/queues/{queue}/jobs` adds a job: the job list's own route; import has
        // its own route, for its larger body limit.
        let segment = match path_param(parts, state, "action").await? {
            Some(segment) => segment,
            None if matched.ends_with("/import") => Action::Import.segment().into(),
            None => Action::AddJob.segment().into(),
        };
        let path = parts.extensions.get::<OriginalUri>().map_or_else(
            || parts.uri.path().to_string(),
            |uri| uri.path().to_string(),
        );
        Ok(ActionRoute {
            action: named(target, &segment)?,
            api: state.is_api_path(&path),
            queue,
            id,
        })
    }
}

/// The action posted to `segment` on a route of `target`, or a 404.
pub fn named(target: Target, segment: &str) -> Result<Action, WebError> {
    Action::parse(target, segment).ok_or_else(|| {
        let key = match target {
            Target::Job => "error.no_action.job",
            Target::Queue => "error.no_action.queue",
            Target::AllQueues => "error.no_action.all",
            Target::Scheduler => "error.no_action.scheduler",
        };
        WebError::NotFound(i18n::tf(key, &[("name", &format!("{segment:?}"))]))
    })
}

/// The command of an action route with its input; `body_is_data`: the API's edit-data takes
/// the whole body as the new data.
pub fn command(
    route: &ActionRoute,
    input: &Input,
    body_is_data: bool,
) -> Result<Command, WebError> {
    let action = route.action;
    match (action.target(), route.queue.clone(), route.id.as_deref()) {
        (Target::Job, Some(queue), Some(id)) => job_command(action, queue, id, input, body_is_data),
        (Target::Queue, Some(queue), _) => queue_command(action, queue, input),
        (Target::Scheduler, Some(queue), Some(id)) => scheduler_command(action, queue, id, input),
        (Target::AllQueues, ..) => all_command(action),
        _ => Err(not_on(action, "this route")),
    }
}

/// A job action with its input; `body_is_data`: the API's edit-data takes the body as the data.
fn job_command(
    action: Action,
    queue: QueueRef,
    id: &str,
    input: &Input,
    body_is_data: bool,
) -> Result<Command, WebError> {
    let id = id.to_string();
    let op = match action {
        Action::Retry => Op::Retry(id),
        Action::Promote => Op::Promote(id),
        Action::Remove => Op::Remove {
            id,
            // Removing a parent removes its children unless told otherwise, as in BullMQ.
            children: input
                .text("children")
                .is_none_or(|_| input.flag("children")),
        },
        Action::Duplicate => Op::Duplicate(id),
        Action::EditData => {
            let data = if body_is_data && !input.is_form() {
                input
                    .body()
                    .cloned()
                    .ok_or_else(|| WebError::BadRequest(i18n::t("input.data_body").into()))?
            } else {
                input
                    .json_value("data")?
                    .ok_or_else(|| WebError::BadRequest(i18n::t("input.data_json").into()))?
            };
            Op::EditData { id, data }
        }
        other => return Err(not_on(other, "a job")),
    };
    Ok(Command::One(queue, op))
}

/// A queue action with its input.
fn queue_command(action: Action, queue: QueueRef, input: &Input) -> Result<Command, WebError> {
    let op = match action {
        Action::Pause => Op::Pause,
        Action::Resume => Op::Resume,
        Action::RetryFailed => Op::RetryFailed,
        Action::PromoteDelayed => Op::PromoteDelayed,
        Action::Drain => Op::Drain {
            delayed: input.flag("delayed"),
        },
        Action::Obliterate => Op::Obliterate {
            force: input.flag("force"),
        },
        Action::Clean => {
            let state: JobState = input
                .text("state")
                .ok_or_else(|| WebError::BadRequest(i18n::t("input.clean_state").into()))?
                .parse()
                .map_err(|e: crate::queue::model::UnknownState| {
                    WebError::BadRequest(i18n::tf(
                        "input.state",
                        &[("why", &i18n::here(&e.said()))],
                    ))
                })?;
            check_cleanable_in(queue.library, state)?;
            Op::Clean {
                state,
                grace_ms: input.number("grace_ms", 0)?,
                limit: input.number("limit", 0)?,
            }
        }
        Action::Bulk => return bulk_command(queue, input),
        Action::AddJob => Op::AddJob(new_job(input)?),
        Action::SetConcurrency => {
            let given = input.text("concurrency").filter(|t| !t.trim().is_empty());
            let limit = given
                .as_deref()
                .map(|t| t.trim().parse::<u64>().ok().filter(|n| *n >= 1).ok_or(t))
                .transpose()
                .map_err(|t| {
                    WebError::BadRequest(i18n::tf(
                        "input.concurrency",
                        &[("text", &format!("{t:?}"))],
                    ))
                })?
                .ok_or_else(|| WebError::BadRequest(i18n::t("input.concurrency_missing").into()))?;
            Op::GlobalConcurrency(Some(limit))
        }
        Action::ClearConcurrency => Op::GlobalConcurrency(None),
        Action::RemoveOrphans => Op::RemoveOrphans,
        Action::Import => Op::Import(import_lines(input)?),
        other => return Err(not_on(other, "a queue")),
    };
    Ok(Command::One(queue, op))
}

/// A job scheduler action; an edit's schedule is checked here, before anything is read.
fn scheduler_command(
    action: Action,
    queue: QueueRef,
    id: &str,
    input: &Input,
) -> Result<Command, WebError> {
    match action {
        Action::RemoveScheduler => Ok(Command::One(queue, Op::RemoveScheduler(id.into()))),
        Action::RunScheduler => Ok(Command::One(queue, Op::RunScheduler(id.into()))),
        Action::EditScheduler => {
            let fields = ["pattern", "every", "tz", "limit", "endDate"].map(|f| input.text(f));
            let typed = TypedSchedule {
                pattern: fields[0].as_deref(),
                every: fields[1].as_deref(),
                tz: fields[2].as_deref(),
                limit: fields[3].as_deref(),
                end_date: fields[4].as_deref(),
            };
            let now = chrono::Utc::now().timestamp_millis().max(0) as u64;
            let edit = SchedulerEdit::parse(&typed, now)?;
            Ok(Command::One(
                queue,
                Op::EditScheduler {
                    id: id.into(),
                    edit,
                },
            ))
        }
        other => Err(not_on(other, "a job scheduler")),
    }
}

/// An action on every queue.
fn all_command(action: Action) -> Result<Command, WebError> {
    match action {
        Action::PauseAll => Ok(Command::PauseAll),
        Action::ResumeAll => Ok(Command::ResumeAll),
        other => Err(not_on(other, "every queue")),
    }
}

/// An action parsed for a route of another target (the router never gives one).
fn not_on(action: Action, what: &str) -> WebError {
    WebError::NotFound(i18n::tf(
        "error.not_action_on",
        &[("action", &action), ("what", &what)],
    ))
}

/// `action` (one of [`Action::BULK`]) and the ticked `ids`.
fn bulk_command(queue: QueueRef, input: &Input) -> Result<Command, WebError> {
    let named = input.text("action");
    let action = named
        .as_deref()
        .and_then(Action::from_name)
        .filter(|action| Action::BULK.contains(action))
        .ok_or_else(|| {
            WebError::BadRequest(i18n::tf(
                "input.bulk_action",
                &[("action", &format!("{named:?}"))],
            ))
        })?;
    let ids: Vec<String> = input
        .all("ids")
        .into_iter()
        .filter(|id| !id.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(WebError::BadRequest(i18n::t("input.ids_none").into()));
    }
    if ids.len() > MAX_BULK {
        return Err(WebError::BadRequest(i18n::tf(
            "input.ids_many",
            &[("max", &MAX_BULK)],
        )));
    }
    Ok(Command::Bulk { queue, action, ids })
}

/// The jobs of the import form's `ndjson` text, every line checked (a bad one: 400 naming it).
fn import_lines(input: &Input) -> Result<Vec<Line>, WebError> {
    let text = input.raw("ndjson").unwrap_or_default();
    if text.len() > ndjson::MAX_TEXT {
        return Err(WebError::TooLarge(i18n::tf(
            "input.ndjson_size",
            &[("n", &text.len()), ("max", &(ndjson::MAX_TEXT >> 20))],
        )));
    }
    let jobs = ndjson::parse(text)?;
    if jobs.is_empty() {
        return Err(WebError::BadRequest(i18n::t("input.ndjson_empty").into()));
    }
    Ok(jobs)
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
            let said = crate::text::Said::new("check.opts_object").with("value", other);
            return Err(WebError::BadRequest(i18n::here(&said)));
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
            return Err(WebError::BadRequest(i18n::tf(
                "input.backoff",
                &[("kind", &format!("{kind:?}"))],
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
                    WebError::BadRequest(i18n::tf(
                        "input.remove_on",
                        &[("field", &field), ("text", &format!("{n:?}"))],
                    ))
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
