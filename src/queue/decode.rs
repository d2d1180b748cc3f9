//! Turning raw Redis replies into the read model.
//!
//! Everything here is pure (no I/O) and tolerant: a job hash written by hand, by an old BullMQ or
//! cut short still becomes a [`Job`], with a note saying what was wrong, never a panic.

use std::collections::HashMap;

use redis::{FromRedisValue, Value};
use serde_json::{Map, Value as Json};

use super::model::{ChildRef, Job, ParentRef, RawJob, TruncatedField};
use super::note::Note;

/// Decode one reply of a pipeline, `None` when it is an error or of another type.
pub(crate) fn reply<T: FromRedisValue>(value: &Value) -> Option<T> {
    match value {
        Value::ServerError(_) => None,
        other => T::from_redis_value_ref(other).ok(),
    }
}

/// An integer reply; errors and nil count as 0.
pub(crate) fn count(value: &Value) -> u64 {
    reply::<u64>(value).unwrap_or(0)
}

/// A list reply of strings; anything else is empty.
pub(crate) fn strings(value: &Value) -> Vec<String> {
    reply::<Vec<String>>(value).unwrap_or_default()
}

/// A hash reply (HGETALL); anything else is empty.
pub(crate) fn hash(value: &Value) -> HashMap<String, String> {
    reply::<HashMap<String, String>>(value).unwrap_or_default()
}

/// Option names BullMQ stores in short form, and the names Node's `Job` gives them back.
const SHORT_OPTS: [(&str, &str); 6] = [
    ("de", "deduplication"),
    ("fpof", "failParentOnFailure"),
    ("cpof", "continueParentOnFailure"),
    ("idof", "ignoreDependencyOnFailure"),
    ("kl", "keepLogs"),
    ("rdof", "removeDependencyOnFailure"),
];

/// Parse a JSON field; a value that does not parse is kept as a string and noted.
fn json_field(
    field: &'static str,
    raw: Option<&String>,
    default: Json,
    notes: &mut Vec<Note>,
) -> Json {
    match raw {
        None => default,
        Some(text) => serde_json::from_str(text).unwrap_or_else(|_| {
            notes.push(Note::NotJson(field));
            Json::String(text.clone())
        }),
    }
}

fn int_field(field: &'static str, raw: Option<&String>, notes: &mut Vec<Note>) -> Option<i64> {
    let text = raw?;
    match text.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => match text.trim().parse::<f64>() {
            Ok(f) if f.is_finite() => Some(f as i64),
            _ => {
                notes.push(Note::NotNumber {
                    field,
                    text: text.clone(),
                });
                None
            }
        },
    }
}

/// The options as Node's `Job` presents them: short keys expanded, telemetry regrouped,
/// `attempts` defaulted to 0, a numeric `backoff` normalized to `{type: "fixed"}`, and
/// `repeatJobKey` moved out (it is the job's own field).
fn expand_opts(opts: Json) -> Json {
    let Json::Object(map) = opts else {
        return opts;
    };
    let mut out = Map::new();
    out.insert("attempts".into(), Json::from(0));
    for (key, value) in map {
        if let Some((_, long)) = SHORT_OPTS.iter().find(|(short, _)| *short == key) {
            out.insert((*long).to_string(), value);
            continue;
        }
        match key.as_str() {
            "repeatJobKey" => {}
            "tm" | "omc" => {
                let field = if key == "tm" {
                    "metadata"
                } else {
                    "omitContext"
                };
                let telemetry = out
                    .entry("telemetry")
                    .or_insert_with(|| Json::Object(Map::new()));
                if let Json::Object(t) = telemetry {
                    t.insert(field.into(), value);
                }
            }
            "backoff" if value.is_number() => {
                let fixed = serde_json::json!({ "type": "fixed", "delay": value });
                out.insert(key, fixed);
            }
            _ => {
                out.insert(key, value);
            }
        }
    }
    Json::Object(out)
}

/// Decode a job hash. An empty hash means the job is gone: the caller decides what to say.
pub fn job_from_hash(id: &str, raw: &RawJob) -> Job {
    job_from_preview(id, raw, Vec::new())
}

/// Decode the fields a list read of a job hash, `cut` naming those left out for their size:
/// they are not missing (no note), their value stays the default and their size is kept.
pub fn job_from_preview(id: &str, raw: &RawJob, cut: Vec<TruncatedField>) -> Job {
    let cut_len = |field: &str| {
        cut.iter()
            .find(|c| c.field == field)
            .map(|c| usize::try_from(c.bytes).unwrap_or(usize::MAX))
    };
    let mut notes = Vec::new();
    if raw.is_empty() && cut.is_empty() {
        notes.push(Note::MissingHash);
    } else {
        for required in ["name", "data", "timestamp"] {
            if !raw.contains_key(required) && cut_len(required).is_none() {
                notes.push(Note::NoField(required));
            }
        }
    }
    let data_default = if cut_len("data").is_some() {
        Json::Null
    } else {
        Json::Object(Map::new())
    };
    let data = json_field("data", raw.get("data"), data_default, &mut notes);
    let opts = expand_opts(json_field(
        "opts",
        raw.get("opts"),
        Json::Object(Map::new()),
        &mut notes,
    ));
    let progress = json_field("progress", raw.get("progress"), Json::from(0), &mut notes);
    let returnvalue = json_field(
        "returnvalue",
        raw.get("returnvalue"),
        Json::Null,
        &mut notes,
    );
    let stacktrace = match raw.get("stacktrace") {
        None => Vec::new(),
        Some(text) => match serde_json::from_str::<Vec<Json>>(text) {
            Ok(items) => items
                .into_iter()
                .map(|item| match item {
                    Json::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            Err(_) => {
                notes.push(Note::StacktraceNotArray);
                vec![text.clone()]
            }
        },
    };
    let parent = raw.get("parent").and_then(|text| {
        let parsed = parent_from_json(text);
        if parsed.is_none() {
            notes.push(Note::ParentNotBullMq);
        }
        parsed
    });
    let attempts_made = int_field("atm", raw.get("atm"), &mut notes)
        .or_else(|| int_field("attemptsMade", raw.get("attemptsMade"), &mut notes))
        .unwrap_or(0);
    Job {
        id: id.to_string(),
        name: raw.get("name").cloned(),
        data_len: cut_len("data").unwrap_or_else(|| raw.get("data").map_or(0, String::len)),
        returnvalue_len: cut_len("returnvalue")
            .unwrap_or_else(|| raw.get("returnvalue").map_or(0, String::len)),
        data,
        opts,
        progress,
        timestamp: int_field("timestamp", raw.get("timestamp"), &mut notes),
        delay: int_field("delay", raw.get("delay"), &mut notes).unwrap_or(0),
        priority: int_field("priority", raw.get("priority"), &mut notes).unwrap_or(0),
        attempts_made,
        attempts_started: int_field("ats", raw.get("ats"), &mut notes).unwrap_or(0),
        stalled_counter: int_field("stc", raw.get("stc"), &mut notes).unwrap_or(0),
        retried_on: None,
        processed_on: int_field("processedOn", raw.get("processedOn"), &mut notes),
        finished_on: int_field("finishedOn", raw.get("finishedOn"), &mut notes),
        failed_reason: raw.get("failedReason").cloned(),
        stacktrace,
        returnvalue,
        processed_by: raw.get("pb").cloned(),
        parent_key: raw.get("parentKey").cloned(),
        parent,
        repeat_job_key: raw.get("rjk").cloned(),
        deduplication_id: raw.get("deid").cloned(),
        next_repeatable_job_id: raw.get("nrjid").cloned(),
        deferred_failure: raw.get("defa").cloned(),
        pending_children: None,
        notes,
        truncated: cut,
    }
}

/// The `parent` field: `{"id": .., "queueKey": "prefix:queue", ...}`.
fn parent_from_json(text: &str) -> Option<ParentRef> {
    let value: Json = serde_json::from_str(text).ok()?;
    let id = match value.get("id")? {
        Json::String(s) => s.clone(),
        Json::Number(n) => n.to_string(),
        _ => return None,
    };
    let queue_key = value.get("queueKey")?.as_str()?.to_string();
    // Queue names cannot contain ':', so the queue is what follows the last one.
    let (prefix, queue) = queue_key.rsplit_once(':')?;
    Some(ParentRef {
        id,
        prefix: prefix.to_string(),
        queue: queue.to_string(),
        queue_key: queue_key.clone(),
    })
}

/// Split a full job key `prefix:queue:id` into its parts. Prefixes may contain ':', so the known
/// prefixes are tried first (longest first); otherwise the prefix is taken to end at the first ':'.
pub fn split_job_key(key: &str, known_prefixes: &[String]) -> ChildRef {
    let mut prefixes: Vec<&String> = known_prefixes.iter().collect();
    prefixes.sort_by_key(|p| std::cmp::Reverse(p.len()));
    let split = prefixes
        .iter()
        .find_map(|prefix| {
            let rest = key.strip_prefix(prefix.as_str())?.strip_prefix(':')?;
            let (queue, id) = rest.split_once(':')?;
            Some((prefix.to_string(), queue.to_string(), id.to_string()))
        })
        .or_else(|| {
            let (prefix, rest) = key.split_once(':')?;
            let (queue, id) = rest.split_once(':')?;
            Some((prefix.to_string(), queue.to_string(), id.to_string()))
        })
        .unwrap_or_else(|| (String::new(), String::new(), key.to_string()));
    ChildRef {
        key: key.to_string(),
        prefix: split.0,
        queue: split.1,
        id: split.2,
        returnvalue: None,
        failed_reason: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(pairs: &[(&str, &str)]) -> RawJob {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn decodes_a_failed_job() {
        let job = job_from_hash(
            "3",
            &raw(&[
                ("name", "send"),
                ("data", r#"{"to":"a@b"}"#),
                ("opts", r#"{"attempts":2,"de":{"id":"x"},"kl":5}"#),
                ("timestamp", "1700000000000"),
                ("atm", "2"),
                ("ats", "2"),
                ("failedReason", "boom"),
                ("stacktrace", r#"["Error: boom\n at x","Error: boom"]"#),
                ("finishedOn", "1700000000500"),
                ("delay", "0"),
                ("priority", "0"),
            ]),
        );
        assert_eq!(job.name.as_deref(), Some("send"));
        assert_eq!(job.data["to"], "a@b");
        assert_eq!(job.opts["deduplication"]["id"], "x");
        assert_eq!(job.opts["keepLogs"], 5);
        assert_eq!(job.opts["attempts"], 2);
        let scheduled = job_from_hash(
            "r",
            &raw(&[("opts", r#"{"repeatJobKey":"k","backoff":500}"#)]),
        );
        assert_eq!(
            scheduled.opts,
            serde_json::json!({"attempts": 0, "backoff": {"type": "fixed", "delay": 500}})
        );
        assert_eq!(job.attempts_made, 2);
        assert_eq!(job.stacktrace.len(), 2);
        assert_eq!(job.finished_on, Some(1700000000500));
        assert!(job.notes.is_empty(), "{:?}", job.notes);
    }

    #[test]
    fn keeps_bad_fields_and_notes_them() {
        let job = job_from_hash(
            "x",
            &raw(&[
                ("name", "n"),
                ("data", "{not json"),
                ("timestamp", "soon"),
                ("stacktrace", "plain"),
            ]),
        );
        assert_eq!(job.data, Json::String("{not json".into()));
        assert_eq!(job.timestamp, None);
        assert_eq!(job.stacktrace, vec!["plain".to_string()]);
        assert_eq!(job.notes.len(), 3, "{:?}", job.notes);
    }

    #[test]
    fn a_cut_field_is_not_missing() {
        let cut = vec![TruncatedField {
            field: "data".into(),
            bytes: 2_000_000,
            raw: None,
        }];
        let job = job_from_preview("1", &raw(&[("name", "n"), ("timestamp", "1")]), cut);
        assert!(job.notes.is_empty(), "{:?}", job.notes);
        assert_eq!(job.data, Json::Null);
        assert_eq!(job.data_len, 2_000_000);
        assert_eq!(job.truncated[0].field, "data");
    }

    #[test]
    fn notes_a_missing_hash() {
        let job = job_from_hash("gone", &RawJob::new());
        assert_eq!(job.notes.len(), 1);
        assert_eq!(job.data, serde_json::json!({}));
    }

    #[test]
    fn reads_the_parent_and_splits_child_keys() {
        let job = job_from_hash(
            "c1",
            &raw(&[("parent", r#"{"id":"p1","queueKey":"{bull}:flows"}"#)]),
        );
        let parent = job.parent.expect("parent");
        assert_eq!(
            (parent.prefix.as_str(), parent.queue.as_str()),
            ("{bull}", "flows")
        );

        let child = split_job_key("my:app:q:repeat:a:1", &["my:app".into()]);
        assert_eq!(
            (child.prefix.as_str(), child.queue.as_str()),
            ("my:app", "q")
        );
        assert_eq!(child.id, "repeat:a:1");
        let child = split_job_key("bull:q:7", &[]);
        assert_eq!(
            (
                child.prefix.as_str(),
                child.queue.as_str(),
                child.id.as_str()
            ),
            ("bull", "q", "7")
        );
    }
}
