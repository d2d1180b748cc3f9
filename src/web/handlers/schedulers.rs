//! Job schedulers of every queue (or one queue), with their next run and template.

use axum::Json;
use axum::extract::State;
use axum::response::Html;
use serde_json::{Value, json};

use super::Scope;
use super::render;
use crate::queue::access::Principal;
use crate::queue::action::Action;
use crate::queue::model::QueueRef;
use crate::queue::schedulers::Scheduler;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::schedulers::SchedulersPage;

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
    render(&SchedulersPage::new(
        Chrome::page(&state, &principal, flash),
        &state.links(),
        queue.as_ref(),
        list,
        principal.may(Action::RemoveScheduler),
    ))
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
