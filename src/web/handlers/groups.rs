//! Actions on a queue group (see [`crate::queue::groups`]): `POST {base}/groups/{group}/{action}`
//! (a form: back to the overview with a message) and `POST {base}/api/groups/{group}/{action}`
//! (JSON), where the action is `pause`, `resume` or `retry-failed`. The core's Dispatcher
//! checks the role, acts on each queue of the group with its library, and records one audit
//! entry naming the group and the queues acted on.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;

use crate::queue::access::Principal;
use crate::queue::command::{Command, Op};
use crate::queue::error::QueueError;
use crate::web::error::WebError;
use crate::web::extract::Path;
use crate::web::input::body_input;
use crate::web::reply::{json_outcome, redirect_with};
use crate::web::state::AppState;

/// `POST {base}/groups/{group}/{action}`: the overview's group buttons.
pub async fn form(
    State(state): State<AppState>,
    principal: Principal,
    Path((group, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    body_input(false, &headers, &body)?;
    let command = command(&state, group, &action)?;
    let outcome = state.commands().perform(&principal, command).await?;
    let to = state.links().home();
    Ok(redirect_with(
        &crate::web::views::outcome::flash_message(&outcome),
        &to,
        &state,
        &headers,
    ))
}

/// `POST {base}/api/groups/{group}/{action}`: JSON with what was done (`group`, `queues`,
/// `count`, `message`).
pub async fn api(
    State(state): State<AppState>,
    principal: Principal,
    Path((group, action)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, WebError> {
    body_input(true, &headers, &body)?;
    let command = command(&state, group, &action)?;
    let outcome = state.commands().perform(&principal, command).await?;
    Ok(json_outcome(outcome))
}

/// The group command of the action segment; an unknown action, or any group while queues are
/// not grouped, is a 404.
fn command(state: &AppState, group: String, action: &str) -> Result<Command, WebError> {
    let op = match action {
        "pause" => Op::Pause,
        "resume" => Op::Resume,
        "retry-failed" => Op::RetryFailed,
        _ => {
            return Err(WebError::no_page());
        }
    };
    let Some(delimiter) = state.delimiter() else {
        return Err(QueueError::GroupNotFound(group).into());
    };
    Ok(Command::Group {
        group,
        delimiter: delimiter.to_string(),
        op,
    })
}
