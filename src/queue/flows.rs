//! A flow: the tree of a parent job and its children, across queues and prefixes.
//!
//! The root is found by following `parent` fields up (one small read per level). The tree is then
//! read one level per round trip (two when some of its jobs are in no sorted set nor `active`:
//! only those are looked for in `wait`), every node of a level in one pipeline, bounded in depth, in
//! children shown per node and in nodes overall, so a flow with 10,000 children costs as little
//! as one with ten. Nodes whose children were not all shown say how many there are.

use redis::Value;
use serde::Serialize;
use serde_json::Value as Json;

use super::connection::Redis;
use super::decode::{job_from_hash, reply, split_job_key};
use super::error::{QueueError, Result};
use super::model::{JobState, QueueRef};
use super::read::{
    CHILDREN_REPLIES, STATE_REPLIES, decode_children, decode_state, push_children,
    push_state_checks, waiting_states,
};

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
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        pipe.cmd("HGET")
            .arg(current.0.keys().job_key(&current.1))
            .arg("parent");
        let replies: Vec<Value> = redis.read(&pipe).await?;
        let parent: Option<String> = reply::<Option<String>>(&replies[0]).flatten();
        let Some(parent) = parent.and_then(|text| {
            let job = job_from_hash(
                &current.1,
                &[("parent".to_string(), text)].into_iter().collect(),
            );
            job.parent
        }) else {
            return Ok(current);
        };
        current = (QueueRef::new(parent.prefix, parent.queue), parent.id);
    }
    Ok(current)
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
        let mut pipe = redis::pipe();
        pipe.ignore_errors();
        for (queue, job_id) in &next {
            let keys = queue.keys();
            let job_key = keys.job_key(job_id);
            pipe.cmd("HMGET")
                .arg(&job_key)
                .arg("name")
                .arg("progress")
                .arg("timestamp");
            push_state_checks(&mut pipe, &keys, job_id);
            push_children(&mut pipe, &job_key, limits.children);
        }
        let replies: Vec<Value> = redis.read(&pipe).await?;
        let per_node = 1 + STATE_REPLIES + CHILDREN_REPLIES;
        read_nodes += next.len();
        let mut level = Vec::new();
        let mut level_links = Vec::new();
        let mut following = Vec::new();
        for ((queue, job_id), r) in next.iter().zip(replies.chunks(per_node)) {
            let fields: Vec<Option<String>> = reply(&r[0]).unwrap_or_default();
            let field = |i: usize| fields.get(i).cloned().flatten();
            let children = decode_children(&r[1 + STATE_REPLIES..], prefixes);
            let mut node = FlowNode {
                prefix: queue.prefix.clone(),
                queue: queue.name.clone(),
                id: job_id.clone(),
                name: field(0),
                state: decode_state(&r[1..1 + STATE_REPLIES]),
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
        // Nodes found in no sorted set nor `active`: one more round trip looks in `wait`.
        let unknown: Vec<usize> = (0..level.len())
            .filter(|&i| level[i].state.is_none())
            .collect();
        let asked: Vec<(&QueueRef, &str)> = unknown
            .iter()
            .map(|&i| (&next[i].0, next[i].1.as_str()))
            .collect();
        let states = waiting_states(redis, &asked).await?;
        for (i, state) in unknown.into_iter().zip(states) {
            level[i].state = state;
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
        .ok_or_else(|| QueueError::InvalidInput("empty flow".into()))
}

impl super::read::Reader {
    /// The flow `queue`/`id` belongs to, from its root (or, with `from_self`, from the job),
    /// within `limits`. A 404-style error when the job does not exist.
    pub async fn flow(
        &self,
        queue: &QueueRef,
        id: &str,
        from_self: bool,
        limits: FlowLimits,
    ) -> Result<FlowNode> {
        self.raw_field(queue, id, "name").await?;
        let (root_queue, root_id) = if from_self {
            (queue.clone(), id.to_string())
        } else {
            root_of(self.redis(), queue, id).await?
        };
        tree(self.redis(), self.prefixes(), &root_queue, &root_id, limits).await
    }
}
