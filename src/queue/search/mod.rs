//! Search: find the jobs of one or more queues' states that match a [`Query`], bounded by a
//! budget of jobs scanned and time per request, resumable through a [`Cursor`].
//!
//! A search walks each state's list or sorted set in the order its tab shows ([`walk`]), a chunk
//! at a time. Each round trip carries the hash fields the query needs for one chunk and the ids
//! of the next chunk, so `k` chunks cost `k + 1` round trips (the first also reads the states'
//! sizes), plus two for the matches' rows (the same preview reads as a page of jobs). An `id:`
//! term without `*` is one round trip ([`exact`]). Only read commands: no `KEYS`, no `SCAN`, no
//! Lua.

pub mod apply;
pub mod cursor;
mod exact;
pub mod export;
mod matching;
pub mod query;
pub(crate) mod walk;

use std::time::{Duration, Instant};

use self::cursor::{Cursor, key_hash};
use self::query::Query;
use self::walk::{Chunk, Entry, Segment};
use super::batch::Batch;
use super::connection::Redis;
use super::error::{QueueError, Result};
use super::layout;
use super::model::{Job, JobState, Order, QueueRef};
use crate::text::Said;

/// How many ids one chunk reads.
pub const CHUNK: u64 = 1000;

/// How much one search request may scan: jobs, and time (checked between chunks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub jobs: usize,
    pub time: Duration,
}

impl Default for Budget {
    fn default() -> Self {
        Budget {
            jobs: 20_000,
            time: Duration::from_millis(300),
        }
    }
}

/// What a search looks for: in `queues`, the jobs of `states` (walked in `order`) matching
/// `query`, from `cursor`, stopping at `limit` matches.
pub struct Request<'a> {
    pub queues: &'a [QueueRef],
    pub states: Vec<JobState>,
    pub order: Order,
    pub query: &'a Query,
    pub cursor: Option<&'a str>,
    pub limit: usize,
}

/// One job found, with its queue.
#[derive(Debug, Clone)]
pub struct Found {
    pub queue: QueueRef,
    pub job: Job,
}

/// What one request found: the matches, how many jobs were scanned of how many the states
/// hold, and the cursor to continue from (`None`: searched to the end).
#[derive(Debug, Clone)]
pub struct Outcome {
    pub found: Vec<Found>,
    pub scanned: u64,
    pub total: u64,
    pub cursor: Option<String>,
    /// How many round trips the scan took (the matches' rows not counted).
    pub round_trips: u64,
}

/// Every container `states` of `queues` are kept in, in walk order; a state a queue's library
/// does not have is left out.
pub(crate) fn segments(queues: &[QueueRef], states: &[JobState], order: Order) -> Vec<Segment> {
    let mut segments = Vec::new();
    for (index, queue) in queues.iter().enumerate() {
        let layout = layout::of(queue);
        for &state in states {
            if !queue.library.states().contains(&state) {
                continue;
            }
            for (key, sorted) in layout.containers(state, order) {
                segments.push(Segment {
                    queue: index,
                    key,
                    sorted,
                });
            }
        }
    }
    segments
}

/// A position in the walk: a segment, and where in it (`None`: its start). Past the last
/// segment is the end.
#[derive(Debug, Clone)]
pub(crate) struct Position {
    pub segment: usize,
    pub anchor: Option<cursor::Anchor>,
}

/// What a cursor names its container by: the key and the order it is walked in (a cursor of one
/// order means nothing in the other).
fn walked(segment: &Segment, order: Order) -> u64 {
    let order = match order {
        Order::NewestFirst => "newest",
        Order::OldestFirst => "oldest",
    };
    key_hash(&format!("{order} {}", segment.key))
}

/// Where `cursor` points in `segments`: its segment when the key matches, else the segment with
/// that key (the queues listed may have changed), else `InvalidInput`.
fn resume(segments: &[Segment], order: Order, text: Option<&str>) -> Result<Position> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(Position {
            segment: 0,
            anchor: None,
        });
    };
    let cursor = Cursor::decode(text)?;
    let at = |i: usize| segments.get(i).map(|s| walked(s, order)) == Some(cursor.key_hash);
    let segment = if at(cursor.segment) {
        cursor.segment
    } else {
        (0..segments.len())
            .find(|&i| at(i))
            .ok_or_else(|| QueueError::InvalidInput(Said::new("check.search.other_cursor")))?
    };
    Ok(Position {
        segment,
        anchor: cursor.anchor,
    })
}

/// The cursor text of a position, `None` at the end.
fn encode(segments: &[Segment], order: Order, position: &Position) -> Option<String> {
    let segment = segments.get(position.segment)?;
    Some(
        Cursor {
            segment: position.segment,
            key_hash: walked(segment, order),
            anchor: position.anchor.clone(),
        }
        .encode(),
    )
}

/// One chunk scanned: its segment, its entries each with whether it matched, and where the
/// walk goes after it.
pub(crate) struct Scanned {
    pub segment: usize,
    pub entries: Vec<(Entry, bool)>,
    pub after: Position,
}

/// A walk over segments, a chunk per [`Walker::step`], reading the next chunk's ids with this
/// chunk's fields.
pub(crate) struct Walker<'a> {
    redis: &'a Redis,
    queues: &'a [QueueRef],
    segments: Vec<Segment>,
    query: &'a Query,
    fields: Vec<&'static str>,
    order: Order,
    next: Option<(Position, Chunk)>,
    pub round_trips: u64,
}

impl<'a> Walker<'a> {
    /// A walk from `position`: one round trip for the sizes of every segment (their sum) and the
    /// first chunk of at most `first` ids.
    pub(crate) async fn start(
        redis: &'a Redis,
        queues: &'a [QueueRef],
        segments: Vec<Segment>,
        query: &'a Query,
        order: Order,
        position: Position,
        first: u64,
    ) -> Result<(Walker<'a>, u64)> {
        let mut batch = Batch::new();
        let sizes: Vec<_> = segments
            .iter()
            .map(|s| walk::push_size(&mut batch, s))
            .collect();
        let sizes = batch.all(sizes);
        let chunk = segments
            .get(position.segment)
            .map(|s| walk::push(&mut batch, s, position.anchor.as_ref(), first, order));
        let replies = batch.send(redis).await?;
        let total = replies.take(sizes)?.iter().sum();
        let next = chunk
            .map(|slot| replies.take(slot))
            .transpose()?
            .map(|chunk| (position, chunk));
        let walker = Walker {
            redis,
            queues,
            segments,
            query,
            fields: query.fields(),
            order,
            next,
            round_trips: 1,
        };
        Ok((walker, total))
    }

    /// Scan the chunk read last (its fields, in one round trip that also reads the ids of the
    /// next `ahead` ones, when `ahead` is more than 0); `None` at the end of the walk.
    pub(crate) async fn step(&mut self, ahead: u64) -> Result<Option<Scanned>> {
        let Some((position, chunk)) = self.next.take() else {
            return Ok(None);
        };
        let segment = position.segment;
        let after = match (chunk.exhausted, &chunk.last) {
            (false, Some(last)) => Position {
                segment,
                anchor: Some(last.clone()),
            },
            (false, None) => position,
            (true, _) => Position {
                segment: segment + 1,
                anchor: None,
            },
        };
        let queue = &self.queues[self.segments[segment].queue];
        let layout = layout::of(queue);
        let mut batch = Batch::new();
        let values: Vec<_> = if self.fields.is_empty() {
            Vec::new()
        } else {
            chunk
                .entries
                .iter()
                .map(|entry| layout.fields(&mut batch, &entry.id, &self.fields))
                .collect()
        };
        let prefetch = (ahead > 0)
            .then(|| self.segments.get(after.segment))
            .flatten()
            .map(|s| walk::push(&mut batch, s, after.anchor.as_ref(), ahead, self.order));
        if !batch.is_empty() {
            self.round_trips += 1;
        }
        let replies = batch.send(self.redis).await?;
        let entries = if values.is_empty() {
            chunk
                .entries
                .into_iter()
                .map(|entry| {
                    let matched = self.query.matches(&entry.id, &[], &[]);
                    (entry, matched)
                })
                .collect()
        } else {
            let mut entries = Vec::with_capacity(chunk.entries.len());
            for (entry, values) in chunk.entries.into_iter().zip(values) {
                let values = replies.take(values)?;
                let matched = self.query.matches(&entry.id, &self.fields, &values);
                entries.push((entry, matched));
            }
            entries
        };
        if let Some(slot) = prefetch {
            self.next = Some((after.clone(), replies.take(slot)?));
        }
        Ok(Some(Scanned {
            segment,
            entries,
            after,
        }))
    }

    /// Whether the walk has a chunk read and not yet scanned.
    pub(crate) fn has_next(&self) -> bool {
        self.next.is_some()
    }
}

/// Run one bounded search request.
pub async fn search(redis: &Redis, budget: Budget, request: Request<'_>) -> Result<Outcome> {
    let Request {
        queues,
        states,
        order,
        query,
        cursor,
        limit,
    } = request;
    let segments = segments(queues, &states, order);
    if let Some(id) = query.exact_id() {
        if cursor.is_some_and(|c| !c.trim().is_empty()) {
            resume(&segments, order, cursor)?;
        }
        return exact::find(redis, queues, &segments, query, id).await;
    }
    let started = Instant::now();
    let position = resume(&segments, order, cursor)?;
    let jobs = budget.jobs as u64;
    let first = CHUNK.min(jobs);
    let (mut walker, total) = Walker::start(
        redis,
        queues,
        segments,
        query,
        order,
        position.clone(),
        first,
    )
    .await?;
    let (mut scanned, mut hits) = (0u64, Vec::new());
    let at = 'walk: loop {
        let this = walker
            .next
            .as_ref()
            .map_or(0, |(_, c)| c.entries.len() as u64);
        let left = jobs.saturating_sub(scanned + this);
        let ahead = if started.elapsed() < budget.time {
            CHUNK.min(left)
        } else {
            0
        };
        let Some(chunk) = walker.step(ahead).await? else {
            break None;
        };
        for (entry, matched) in chunk.entries {
            scanned += 1;
            if matched {
                hits.push((walker.segments[chunk.segment].queue, entry.id.clone()));
                if hits.len() >= limit {
                    break 'walk Some(Position {
                        segment: chunk.segment,
                        anchor: Some(entry.anchor),
                    });
                }
            }
        }
        if !walker.has_next() {
            break Some(chunk.after);
        }
    };
    let cursor = at.and_then(|p| encode(&walker.segments, order, &p));
    let round_trips = walker.round_trips;
    let found = rows(redis, queues, hits).await?;
    Ok(Outcome {
        found,
        scanned,
        total,
        cursor,
        round_trips,
    })
}

/// The rows of the jobs found (queue index, id), in the order found: the same preview reads as a
/// page of jobs, two round trips per queue with matches.
async fn rows(
    redis: &Redis,
    queues: &[QueueRef],
    hits: Vec<(usize, String)>,
) -> Result<Vec<Found>> {
    let mut found: Vec<Option<Found>> = vec![None; hits.len()];
    for (index, queue) in queues.iter().enumerate() {
        let (places, ids): (Vec<usize>, Vec<String>) = hits
            .iter()
            .enumerate()
            .filter(|(_, (q, _))| *q == index)
            .map(|(place, (_, id))| (place, id.clone()))
            .unzip();
        if ids.is_empty() {
            continue;
        }
        let jobs = super::rows::read(redis, queue, &ids, false).await?;
        for (place, job) in places.into_iter().zip(jobs) {
            found[place] = Some(Found {
                queue: queue.clone(),
                job,
            });
        }
    }
    Ok(found.into_iter().flatten().collect())
}
