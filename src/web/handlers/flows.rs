//! The flow page: the whole tree of a job's flow, from its root, drawn as nested lists.

use askama::Template;
use axum::Json;
use axum::extract::State;

use crate::web::extract::{Path, Query};
use axum::response::Html;
use serde::Deserialize;

use super::queues::render;
use super::resolve;
use crate::queue::flows::{FlowLimits, FlowNode};
use crate::queue::model::QueueRef;
use crate::web::AppState;
use crate::web::error::WebError;
use crate::web::flash::Flash;
use crate::web::security::Principal;
use crate::web::views::{Chrome, Links};

#[derive(Debug, Default, Deserialize)]
pub struct FlowQuery {
    pub prefix: Option<String>,
    /// `self`: draw the tree below this job instead of from the root.
    pub from: Option<String>,
}

/// One line of the drawn tree. Rows come in depth-first order; a row with children opens a
/// nested list (`open`), and `close` says how many nested lists end after it.
pub struct FlowRow {
    pub id: String,
    pub label: String,
    pub queue: String,
    pub href: String,
    pub more_href: String,
    pub state: String,
    pub progress: String,
    pub current: bool,
    pub missing: bool,
    pub pending: u64,
    pub total: u64,
    pub shown: usize,
    pub more: bool,
    pub open: bool,
    pub close: usize,
}

fn rows(
    node: &FlowNode,
    links: &Links,
    current: &(String, String, String),
    out: &mut Vec<FlowRow>,
) {
    let queue = node.queue_ref();
    out.push(FlowRow {
        id: node.id.clone(),
        label: node.name.clone().unwrap_or_default(),
        queue: node.queue.clone(),
        href: links.job(&queue, &node.id),
        more_href: links.flow(&queue, &node.id, true),
        state: node
            .state
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "unknown".into()),
        progress: match &node.progress {
            serde_json::Value::Number(n) if n.as_f64() != Some(0.0) => format!("{n}%"),
            serde_json::Value::Number(_) | serde_json::Value::Null => String::new(),
            other => other.to_string(),
        },
        current: (node.prefix.as_str(), node.queue.as_str(), node.id.as_str())
            == (current.0.as_str(), current.1.as_str(), current.2.as_str()),
        missing: node.missing,
        pending: node.pending_count,
        total: node.children_total(),
        shown: node.children.len(),
        more: node.more,
        open: !node.children.is_empty(),
        close: 0,
    });
    for child in &node.children {
        rows(child, links, current, out);
    }
    if !node.children.is_empty()
        && let Some(last) = out.last_mut()
    {
        last.close += 1;
    }
}

#[derive(Template)]
#[template(path = "pages/flow.html")]
pub struct FlowPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    pub job_id: String,
    pub job_href: String,
    pub rows: Vec<FlowRow>,
    pub limits: FlowLimits,
    pub from_root: bool,
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
    let links = state.links();
    let current = (queue.prefix.clone(), queue.name.clone(), id.clone());
    render(&FlowPage {
        chrome: Chrome::page(&state, &principal, flash),
        queue_name: queue.name.clone(),
        queue_href: links.queue(&queue),
        job_href: links.job(&queue, &id),
        job_id: id,
        rows: {
            let mut out = Vec::new();
            rows(&tree, &links, &current, &mut out);
            out
        },
        limits: FlowLimits::default(),
        from_root: query.from.as_deref() != Some("self"),
    })
}

/// `GET {base}/api/queues/{queue}/jobs/{id}/flow[?from=self]`
pub async fn flow_api(
    State(state): State<AppState>,
    Path((name, id)): Path<(String, String)>,
    Query(query): Query<FlowQuery>,
) -> Result<Json<FlowNode>, WebError> {
    Ok(Json(read(&state, &name, &id, &query).await?.1))
}
