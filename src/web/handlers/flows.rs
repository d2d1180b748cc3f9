//! The flow page: the whole tree of a job's flow, from its root, drawn as nested lists.

use axum::Json;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use axum::response::Html;
use serde::Deserialize;

use super::render;
use super::resolve;
use crate::queue::access::Principal;
use crate::queue::flows::{FlowLimits, FlowNode};
use crate::queue::model::QueueRef;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::state::AppState;
use crate::web::views::Chrome;
use crate::web::views::flow::FlowPage;

#[derive(Debug, Default, Deserialize)]
pub struct FlowQuery {
    pub prefix: Option<String>,
    /// `self`: draw the tree below this job instead of from the root.
    pub from: Option<String>,
}

async fn read(
    state: &AppState,
    name: &str,
    id: &str,
    query: &FlowQuery,
) -> Result<(QueueRef, FlowNode), WebError> {
    let queue = resolve(state, name, query.prefix.as_deref()).await?;
    let from_self = query.from.as_deref() == Some("self");
    let tree = state
        .reader()
        .flow(&queue, id, from_self, FlowLimits::default())
        .await?;
    Ok((queue, tree))
}

/// `GET {base}/queues/{queue}/jobs/{id}/flow[?from=self]`
pub async fn flow_page(
    State(state): State<AppState>,
    principal: Principal,
    flash: Flash,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<FlowQuery>,
) -> Result<Html<String>, WebError> {
    let (queue, tree) = read(&state, &name, &id, &query).await?;
    render(&FlowPage::new(
        Chrome::page(&state, &principal, flash),
        &state.links(),
        &queue,
        id,
        &tree,
        query.from.as_deref() != Some("self"),
    ))
}

/// `GET {base}/api/queues/{queue}/jobs/{id}/flow[?from=self]`
pub async fn flow_api(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<FlowQuery>,
) -> Result<Json<FlowNode>, WebError> {
    Ok(Json(read(&state, &name, &id, &query).await?.1))
}
