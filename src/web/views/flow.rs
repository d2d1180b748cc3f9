//! The flow page: the whole tree of a job's flow, from its root, drawn as nested lists.

use askama::Template;

use super::{Chrome, Links};
use crate::queue::flows::{FlowLimits, FlowNode};
use crate::queue::model::QueueRef;

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

impl FlowPage {
    /// The tree around job `id` of `queue`, drawn from its root unless `from_root` is false.
    pub fn new(
        chrome: Chrome,
        links: &Links,
        queue: &QueueRef,
        id: String,
        tree: &FlowNode,
        from_root: bool,
    ) -> Self {
        let current = (queue.prefix.clone(), queue.name.clone(), id.clone());
        let mut out = Vec::new();
        rows(tree, links, &current, &mut out);
        FlowPage {
            chrome,
            queue_name: queue.name.clone(),
            queue_href: links.queue(queue),
            job_href: links.job(queue, &id),
            job_id: id,
            rows: out,
            limits: FlowLimits::default(),
            from_root,
        }
    }
}
