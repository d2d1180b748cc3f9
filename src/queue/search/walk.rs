//! One chunk of a search's walk: the next ids of a list or a sorted set after an [`Anchor`], in
//! the order the tab shows, each with the anchor that resumes right after it.
//!
//! Lists are read by index and the last id is looked for in a window around where it was, so
//! jobs pushed at the head or taken from the tail meanwhile neither repeat nor skip a job (as
//! long as fewer than [`WINDOW`] moved); sorted sets are read by score from the last score, past
//! the jobs of that score already scanned (found by their member, as Redis orders ties).

use redis::Value;

use super::cursor::Anchor;
use crate::queue::batch::{Batch, Slot, cmd};
use crate::queue::model::Order;

/// How many positions a list's last id is looked for on each side of where it was.
pub const WINDOW: u64 = 256;

/// One list or sorted set of the walk: which queue (an index into the search's queues), its key.
#[derive(Debug, Clone)]
pub struct Segment {
    pub queue: usize,
    pub key: String,
    pub sorted: bool,
}

/// A job id met by the walk, with the position right after it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub id: String,
    pub anchor: Anchor,
}

/// The ids of one chunk; `exhausted` when the container has nothing after them. `last` is the
/// position after the last id read, even one that is not a job or was scanned before (so a
/// chunk of those still moves the walk on).
#[derive(Debug, Default)]
pub struct Chunk {
    pub entries: Vec<Entry>,
    pub exhausted: bool,
    pub last: Option<Anchor>,
}

/// The logical range `[from, to]` of a list in `order` (newest first is head first).
fn list_range(key: &str, order: Order, from: u64, to: u64) -> redis::Cmd {
    let (from, to) = (clamp(from), clamp(to));
    match order {
        Order::NewestFirst => cmd("LRANGE", (key, from, to)),
        Order::OldestFirst => cmd("LRANGE", (key, -to - 1, -from - 1)),
    }
}

fn clamp(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX / 2)
}

/// Push the read of the chunk of at most `n` ids of `segment` after `anchor` (its start when
/// `None`).
pub fn push(
    batch: &mut Batch,
    segment: &Segment,
    anchor: Option<&Anchor>,
    n: u64,
    order: Order,
) -> Slot<Chunk> {
    let n = n.max(1);
    if segment.sorted {
        return push_set(batch, &segment.key, anchor, n, order);
    }
    let (from, last) = match anchor {
        Some(Anchor::List { next, last }) => (*next, Some(last.clone())),
        _ => (0, None),
    };
    let window_start = match last {
        Some(_) => from.saturating_sub(1 + WINDOW),
        None => from,
    };
    let window_end = from + n - 1 + if last.is_some() { WINDOW } else { 0 };
    let asked = window_end - window_start + 1;
    let reverse = order == Order::OldestFirst;
    let range = list_range(&segment.key, order, window_start, window_end);
    batch.strings(range).map(move |mut ids| {
        if reverse {
            ids.reverse();
        }
        let start = last
            .and_then(|last| ids.iter().position(|id| *id == last).map(|i| i + 1))
            .unwrap_or_else(|| usize::try_from(from - window_start).unwrap_or(usize::MAX));
        let fetched = ids.len();
        let take = usize::try_from(n).unwrap_or(usize::MAX);
        let exhausted = (fetched as u64) < asked && fetched.saturating_sub(start) <= take;
        let mut chunk = Chunk {
            exhausted,
            ..Chunk::default()
        };
        for (i, id) in ids.into_iter().enumerate().skip(start).take(take) {
            let anchor = Anchor::List {
                next: window_start + i as u64 + 1,
                last: id.clone(),
            };
            chunk.last = Some(anchor.clone());
            // BullMQ 4 left "0:<n>" markers in wait lists; they are not jobs.
            if !id.starts_with("0:") {
                chunk.entries.push(Entry { id, anchor });
            }
        }
        chunk
    })
}

/// How many already scanned jobs of the last score are read again, so one of them removed
/// meanwhile does not make the walk skip one it has not scanned.
const TIE_SLACK: u64 = 16;

fn push_set(
    batch: &mut Batch,
    key: &str,
    anchor: Option<&Anchor>,
    n: u64,
    order: Order,
) -> Slot<Chunk> {
    let newest = order == Order::NewestFirst;
    let (bound, seen, last) = match anchor {
        Some(Anchor::Set { score, ties, last }) => (score.clone(), *ties, Some(last.clone())),
        _ => (if newest { "+inf" } else { "-inf" }.to_string(), 0, None),
    };
    let again = seen.min(TIE_SLACK);
    let offset = seen - again;
    let count = n + again;
    let command = if newest {
        cmd(
            "ZRANGE",
            (
                key, &bound, "-inf", "BYSCORE", "REV", "LIMIT", offset, count,
            ),
        )
    } else {
        cmd(
            "ZRANGE",
            (key, &bound, "+inf", "BYSCORE", "LIMIT", offset, count),
        )
    };
    let mut command = command;
    command.arg("WITHSCORES");
    batch.push(command, scored).map(move |pairs| {
        let mut chunk = Chunk {
            exhausted: (pairs.len() as u64) < count,
            entries: Vec::with_capacity(pairs.len()),
            last: None,
        };
        // The position of each job among those of its score, counted from the read's offset.
        let (mut group, mut rank) = (bound.clone(), offset);
        for (id, score) in pairs {
            if score == group {
                rank += 1;
            } else {
                group = score.clone();
                rank = 1;
            }
            let scanned_before = last.as_ref().is_some_and(|last| {
                score == bound && if newest { id >= *last } else { id <= *last }
            });
            let anchor = Anchor::Set {
                score,
                ties: rank,
                last: id.clone(),
            };
            chunk.last = Some(anchor.clone());
            if !scanned_before {
                chunk.entries.push(Entry { id, anchor });
            }
        }
        chunk
    })
}

/// A `ZRANGE ... WITHSCORES` reply as (member, score text) pairs: flat in RESP2, pairs in RESP3.
fn scored(value: &Value) -> Vec<(String, String)> {
    let text = |value: &Value| match value {
        Value::BulkString(bytes) => String::from_utf8(bytes.clone()).ok(),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Double(d) => Some(d.to_string()),
        Value::Int(n) => Some(n.to_string()),
        _ => None,
    };
    let Value::Array(items) = value else {
        return Vec::new();
    };
    if items.iter().all(|item| matches!(item, Value::Array(_))) {
        return items
            .iter()
            .filter_map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => Some((text(&pair[0])?, text(&pair[1])?)),
                _ => None,
            })
            .collect();
    }
    items
        .chunks(2)
        .filter_map(|pair| match pair {
            [member, score] => Some((text(member)?, text(score)?)),
            _ => None,
        })
        .collect()
}

/// Push the size of `segment`'s container.
pub fn push_size(batch: &mut Batch, segment: &Segment) -> Slot<u64> {
    let command = if segment.sorted { "ZCARD" } else { "LLEN" };
    batch.count(cmd(command, &segment.key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bulk(s: &str) -> Value {
        Value::BulkString(s.as_bytes().to_vec())
    }

    #[test]
    fn reads_scores_of_both_protocols() {
        let flat = Value::Array(vec![bulk("a"), bulk("5"), bulk("b"), bulk("6")]);
        let pairs = Value::Array(vec![
            Value::Array(vec![bulk("a"), Value::Double(5.0)]),
            Value::Array(vec![bulk("b"), Value::Double(6.5)]),
        ]);
        assert_eq!(
            scored(&flat),
            vec![("a".into(), "5".into()), ("b".into(), "6".into())]
        );
        assert_eq!(scored(&pairs)[1], ("b".into(), "6.5".into()));
        assert!(scored(&Value::Nil).is_empty());
    }

    #[test]
    fn a_set_resumes_past_the_jobs_of_its_last_score() {
        let segment = Segment {
            queue: 0,
            key: "q:failed".into(),
            sorted: true,
        };
        let anchor = Anchor::Set {
            score: "5".into(),
            ties: 2,
            last: "m".into(),
        };
        let mut batch = Batch::new();
        let chunk = push(&mut batch, &segment, Some(&anchor), 3, Order::NewestFirst);
        // Read again from offset 0 (the two seen ties: "z" and "m"), then the rest.
        let reply = Value::Array(
            ["z", "5", "m", "5", "c", "5", "x", "4", "w", "4"]
                .iter()
                .map(|s| bulk(s))
                .collect(),
        );
        let chunk = batch.answer(vec![reply]).unwrap().take(chunk).unwrap();
        let ids: Vec<_> = chunk.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["c", "x", "w"]);
        assert!(!chunk.exhausted);
        assert_eq!(
            chunk.entries[0].anchor,
            Anchor::Set {
                score: "5".into(),
                ties: 3,
                last: "c".into()
            }
        );
        assert_eq!(
            chunk.entries[2].anchor,
            Anchor::Set {
                score: "4".into(),
                ties: 2,
                last: "w".into()
            }
        );
    }

    #[test]
    fn a_list_finds_its_last_id_again_after_a_push() {
        let segment = Segment {
            queue: 0,
            key: "q:wait".into(),
            sorted: false,
        };
        let anchor = Anchor::List {
            next: 2,
            last: "b".into(),
        };
        let mut batch = Batch::new();
        let chunk = push(&mut batch, &segment, Some(&anchor), 2, Order::NewestFirst);
        // Two jobs were pushed at the head since: "b" is now at index 3.
        let reply = Value::Array(
            ["y", "x", "a", "b", "c", "d", "e"]
                .iter()
                .map(|s| bulk(s))
                .collect(),
        );
        let chunk = batch.answer(vec![reply]).unwrap().take(chunk).unwrap();
        let ids: Vec<_> = chunk.entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, vec!["c", "d"]);
        assert!(!chunk.exhausted);
        assert_eq!(
            chunk.entries[1].anchor,
            Anchor::List {
                next: 6,
                last: "d".into()
            }
        );
    }
}
