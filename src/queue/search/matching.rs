//! How a [`Query`] matches a job: on the job's id and the hash fields the query asked for, the
//! way the README says (text as stored, JSON paths, times and attempts as numbers).

use serde_json::Value as Json;

use super::query::{Query, Term};

impl Query {
    /// Whether job `id`, whose hash has `values` for [`Query::fields`] (in that order), matches
    /// every term. A job whose hash is gone (every value missing) matches nothing.
    pub fn matches(&self, id: &str, fields: &[&str], values: &[Option<String>]) -> bool {
        if !fields.is_empty() && values.iter().all(Option::is_none) {
            return false;
        }
        let get = |name: &str| {
            fields
                .iter()
                .position(|f| *f == name)
                .and_then(|i| values.get(i))
                .and_then(Option::as_deref)
        };
        let mut data: Option<Option<Json>> = None;
        self.terms.iter().all(|term| match term {
            Term::Name(text) => get("name").is_some_and(|name| text.matches(name)),
            Term::Id(text) => text.matches(id),
            Term::DataContains(needle) => get("data").is_some_and(|d| d.contains(needle.as_str())),
            Term::DataAt { path, value } => {
                let data = data.get_or_insert_with(|| {
                    get("data").and_then(|text| serde_json::from_str(text).ok())
                });
                data.as_ref()
                    .and_then(|data| at_path(data, path))
                    .is_some_and(|found| as_text(found) == *value)
            }
            Term::Reason(needle) => {
                get("failedReason").is_some_and(|r| r.contains(needle.as_str()))
                    || get("stacktrace").is_some_and(|s| in_stacktrace(s, needle))
            }
            Term::Result(needle) => get("returnvalue").is_some_and(|r| r.contains(needle.as_str())),
            Term::Time { time, cmp, at_ms } => get(time.field())
                .and_then(number)
                .is_some_and(|t| cmp.holds(t, *at_ms)),
            Term::Attempts { cmp, count } => {
                let made = get("atm").or(get("attemptsMade")).and_then(number);
                cmp.holds(made.unwrap_or(0), *count)
            }
        })
    }
}

/// A number field as BullMQ and Bull write them (decimal text, sometimes with a fraction).
fn number(text: &str) -> Option<i64> {
    let text = text.trim();
    text.parse::<i64>()
        .ok()
        .or_else(|| text.parse::<f64>().ok().map(|f| f as i64))
}

/// The value at `path` of a JSON value (object keys, or array indexes).
fn at_path<'a>(value: &'a Json, path: &[String]) -> Option<&'a Json> {
    path.iter().try_fold(value, |value, part| match value {
        Json::Object(map) => map.get(part),
        Json::Array(items) => part.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

/// A JSON value as text: a string as it is, anything else as its JSON.
fn as_text(value: &Json) -> String {
    match value {
        Json::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether a stored stack trace (a JSON array of strings) has `needle` in one of its entries.
fn in_stacktrace(stored: &str, needle: &str) -> bool {
    match serde_json::from_str::<Vec<Json>>(stored) {
        Ok(items) => items.iter().any(|item| as_text(item).contains(needle)),
        Err(_) => stored.contains(needle),
    }
}
