//! A flow: the tree of a parent job and its children, across queues and prefixes.
//!
//! The root is found by following `parent` fields up (one small read per level). The tree is then
//! read one level per round trip (two when some of its jobs are in no sorted set nor `active`:
//! only those are looked for in `wait`), every node of a level in one pipeline, bounded in depth, in
//! children shown per node and in nodes overall, so a flow with 10,000 children costs as little
//! as one with ten. Nodes whose children were not all shown say how many there are.

use serde::Serialize;
use serde_json::Value as Json;

use super::batch::{Batch, Slot, Step, finish};
use super::connection::Redis;
use super::decode::{job_from_hash, split_job_key};
use super::error::{QueueError, Result};
use super::layout::{self, Shown};
use super::model::{Children, JobState, QueueRef};
use crate::text::Said;

/// How far up a job's parents are followed to find the root.
pub const MAX_ANCESTORS: usize = 32;

/// Bounds of a flow read.
#[derive(Debug, Clone, Copy)]
pub struct FlowLimits {
    /// Levels below the root that are read.
    pub depth: usize,
    /// Children shown per node.
    pub children: usize,
    /// Nodes read in all.
    pub nodes: usize,
}

impl Default for FlowLimits {
    fn default() -> Self {
        FlowLimits {
            depth: 5,
            children: 50,
            nodes: 500,
        }
    }
}

/// One job of a flow.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlowNode {
    pub prefix: String,
    pub queue: String,
    pub id: String,
    pub name: Option<String>,
    /// `None` when the job is gone or in no state.
    pub state: Option<JobState>,
    pub progress: Json,
    /// The job's hash is missing (removed, or a dangling dependency).
    pub missing: bool,
    /// Children still pending / processed / failed (exact counts).
    pub pending_count: u64,
    pub processed_count: u64,
    pub failed_count: u64,
    /// The children that were read (at most `FlowLimits::children`).
    pub children: Vec<FlowNode>,
    /// True when this node has children that were not read (depth, per-node or node bounds).
    pub more: bool,
}

impl FlowNode {
    pub fn children_total(&self) -> u64 {
        self.pending_count + self.processed_count + self.failed_count
    }

    pub fn queue_ref(&self) -> QueueRef {
        QueueRef::new(&self.prefix, &self.queue)
    }
}

/// The root of the flow `queue`/`id` belongs to: its topmost ancestor.
pub async fn root_of(redis: &Redis, queue: &QueueRef, id: &str) -> Result<(QueueRef, String)> {
    let mut current = (queue.clone(), id.to_string());
    for _ in 0..MAX_ANCESTORS {
        let mut batch = Batch::new();
        let (queue, id) = &current;
        let parent = layout::of(queue).fields(&mut batch, id, &["parent"]);
        let parent = batch.send(redis).await?.take(parent)?;
        let Some(parent) = parent.into_iter().flatten().next().and_then(|text| {
            let job = job_from_hash(id, &[("parent".to_string(), text)].into_iter().collect());
            job.parent
        }) else {
            return Ok(current);
        };
        current = (QueueRef::new(parent.prefix, parent.queue), parent.id);
    }
    Ok(current)
}

/// What one level's read gives for one node: its fields, its state so far, its children.
struct NodeRead {
    fields: Vec<Option<String>>,
    state: Step<Option<JobState>>,
    children: Children,
}

/// Push the reads of one node of a level.
fn push_node(
    batch: &mut Batch,
    prefixes: &[String],
    queue: &QueueRef,
    id: &str,
    shown: usize,
) -> Slot<NodeRead> {
    let layout = layout::of(queue);
    let fields = layout.fields(batch, id, &["name", "progress", "timestamp"]);
    let state = layout.state(batch, id);
    let shown = Shown {
        per_group: shown,
        prefixes,
    };
    let children = layout.children(batch, id, shown);
    batch.combine(move |r| {
        Ok(NodeRead {
            fields: r.take(fields)?,
            state: r.take(state)?,
            children: r.take(children)?,
        })
    })
}

/// The tree below `root`, within `limits`.
pub async fn tree(
    redis: &Redis,
    prefixes: &[String],
    root: &QueueRef,
    id: &str,
    limits: FlowLimits,
) -> Result<FlowNode> {
    // Levels of (queue, id) to read; each node records its children's positions in the next level.
    let mut levels: Vec<Vec<FlowNode>> = Vec::new();
    let mut links: Vec<Vec<Vec<usize>>> = Vec::new();
    let mut next: Vec<(QueueRef, String)> = vec![(root.clone(), id.to_string())];
    let mut read_nodes = 0usize;
    for depth in 0..=limits.depth {
        if next.is_empty() {
            break;
        }
        let mut batch = Batch::new();
        let reads: Vec<Slot<NodeRead>> = next
            .iter()
            .map(|(queue, job_id)| push_node(&mut batch, prefixes, queue, job_id, limits.children))
            .collect();
        let reads = batch.all(reads);
        let reads = batch.send(redis).await?.take(reads)?;
        read_nodes += next.len();
        let mut level = Vec::new();
        let mut level_links = Vec::new();
        let mut following = Vec::new();
        // Nodes found in no sorted set nor `active` are looked for in `wait`: one more round trip
        // for all of them.
        let mut states = Vec::new();
        for ((queue, job_id), read) in next.iter().zip(reads) {
            let NodeRead {
                fields,
                state,
                children,
            } = read;
            states.push(state);
            let field = |i: usize| fields.get(i).cloned().flatten();
            let mut node = FlowNode {
                prefix: queue.prefix.clone(),
                queue: queue.name.clone(),
                id: job_id.clone(),
                name: field(0),
                state: None,
                progress: field(1)
                    .map(|p| serde_json::from_str(&p).unwrap_or(Json::String(p)))
                    .unwrap_or(Json::from(0)),
                missing: field(0).is_none() && field(2).is_none(),
                pending_count: children.pending_count,
                processed_count: children.processed_count,
                failed_count: children.failed_count,
                children: Vec::new(),
                more: false,
            };
            let mut mine = Vec::new();
            let expand = depth < limits.depth;
            let keys: Vec<String> = children
                .processed
                .iter()
                .chain(&children.failed)
                .chain(&children.pending)
                .map(|c| c.key.clone())
                .take(limits.children)
                .collect();
            for key in &keys {
                if !expand || read_nodes + following.len() >= limits.nodes {
                    break;
                }
                let child = split_job_key(key, prefixes);
                mine.push(following.len());
                following.push((QueueRef::new(child.prefix, child.queue), child.id));
            }
            node.more = (mine.len() as u64) < node.children_total();
            level.push(node);
            level_links.push(mine);
        }
        for (node, state) in level.iter_mut().zip(finish(redis, states).await?) {
            node.state = state;
        }
        levels.push(level);
        links.push(level_links);
        next = following;
    }
    // Assemble bottom-up.
    let mut below: Vec<FlowNode> = Vec::new();
    while let (Some(mut level), Some(level_links)) = (levels.pop(), links.pop()) {
        let mut taken: Vec<Option<FlowNode>> = below.into_iter().map(Some).collect();
        for (node, mine) in level.iter_mut().zip(level_links) {
            node.children = mine
                .into_iter()
                .filter_map(|i| taken.get_mut(i).and_then(Option::take))
                .collect();
        }
        below = level;
    }
    below
        .pop()
        .ok_or_else(|| QueueError::InvalidInput(Said::new("check.empty_flow")))
}
