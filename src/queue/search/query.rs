//! The search query language: terms separated by spaces, all of which a job must match.
//!
//! - `name:send-email` (exact) and `name:send-*` (prefix); `id:42` and `id:attachment-*`
//! - `data.user.id:42`: the JSON value at that path of the data, as text, equals the value
//! - `data:"ada@example.com"`: the text appears anywhere in the stored data (its JSON)
//! - `reason:timeout`: in the failed reason or a stack trace; `result:"status\":500"`: in the
//!   stored return value (its JSON)
//! - `added>2026-11-01`, `processed<=...`, `finished<2026-11-20T12:00` (UTC; a date, a date and
//!   time to the minute or second, or milliseconds since the epoch); `attempts>=3` (attempts made)
//! - `state:failed,delayed`: the states searched (else the tab's)
//!
//! A value may be quoted (`"..."`, with `\"` and `\\` inside). Matching is case-sensitive. A bad
//! term is a [`QueryError`] naming it.

use chrono::{NaiveDate, NaiveDateTime};

use crate::queue::model::JobState;
use crate::text::Said;

/// A text that must be equal, or start with a prefix (`value*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    Exact(String),
    Prefix(String),
}

impl Text {
    fn parse(value: String, quoted_star: bool) -> Text {
        match value.strip_suffix('*') {
            Some(prefix) if !quoted_star => Text::Prefix(prefix.to_string()),
            _ => Text::Exact(value),
        }
    }

    pub fn matches(&self, text: &str) -> bool {
        match self {
            Text::Exact(value) => text == value,
            Text::Prefix(prefix) => text.starts_with(prefix.as_str()),
        }
    }
}

/// A comparison of a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Lt,
    Le,
    Eq,
    Ge,
    Gt,
}

impl Cmp {
    pub fn holds(self, left: i64, right: i64) -> bool {
        match self {
            Cmp::Lt => left < right,
            Cmp::Le => left <= right,
            Cmp::Eq => left == right,
            Cmp::Ge => left >= right,
            Cmp::Gt => left > right,
        }
    }
}

/// Which of a job's times a term compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Time {
    Added,
    Processed,
    Finished,
}

impl Time {
    /// The job hash field holding it (the same in BullMQ and Bull).
    pub fn field(self) -> &'static str {
        match self {
            Time::Added => "timestamp",
            Time::Processed => "processedOn",
            Time::Finished => "finishedOn",
        }
    }
}

/// One term of a query.
#[derive(Debug, Clone, PartialEq)]
pub enum Term {
    Name(Text),
    Id(Text),
    /// The JSON value at `path` of the data, as text (a string as is, else its JSON).
    DataAt {
        path: Vec<String>,
        value: String,
    },
    DataContains(String),
    Reason(String),
    Result(String),
    Time {
        time: Time,
        cmp: Cmp,
        at_ms: i64,
    },
    Attempts {
        cmp: Cmp,
        count: i64,
    },
}

/// A parsed query: terms all of which must match, and the states it names (if any).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub terms: Vec<Term>,
    pub states: Vec<JobState>,
}

/// A term that could not be read, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad search term `{term}`: {reason}")]
pub struct QueryError {
    pub term: String,
    pub reason: Said,
}

impl QueryError {
    /// The same words as a catalog text, for pages in the reader's language.
    pub fn said(&self) -> Said {
        Said::new("check.search.bad_term")
            .with("term", &self.term)
            .with_said("reason", &self.reason)
    }
}

fn bad(term: &str, reason: Said) -> QueryError {
    QueryError {
        term: term.to_string(),
        reason,
    }
}

/// One raw term: its text as typed, split where quotes allow.
fn split_terms(query: &str) -> Result<Vec<String>, QueryError> {
    let mut terms = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = query.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            '\\' if quoted => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    terms.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(bad(&current, Said::new("check.search.open_quote")));
    }
    if !current.is_empty() {
        terms.push(current);
    }
    Ok(terms)
}

/// A value with its quotes taken out; whether a `*` at its end was quoted.
fn unquote(raw: &str) -> (String, bool) {
    let mut out = String::new();
    let mut quoted = false;
    let mut last_quoted = false;
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => {
                if let Some(next) = chars.next() {
                    out.push(next);
                    last_quoted = true;
                }
            }
            c => {
                out.push(c);
                last_quoted = quoted;
            }
        }
    }
    (out, last_quoted)
}

/// A time: `2026-11-01`, `2026-11-20T12:00`, `2026-11-20T12:00:30` (UTC, an optional `Z`), or
/// milliseconds since the epoch.
fn parse_time(text: &str) -> Option<i64> {
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return text.parse().ok();
    }
    let text = text.strip_suffix('Z').unwrap_or(text);
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|at| at.and_utc().timestamp_millis())
}

/// The comparison at the start of `rest`, and what follows it.
fn comparison(rest: &str) -> Option<(Cmp, &str)> {
    [
        (">=", Cmp::Ge),
        ("<=", Cmp::Le),
        (">", Cmp::Gt),
        ("<", Cmp::Lt),
        ("=", Cmp::Eq),
        (":", Cmp::Eq),
    ]
    .into_iter()
    .find_map(|(op, cmp)| rest.strip_prefix(op).map(|value| (cmp, value)))
}

fn parse_term(raw: &str, query: &mut Query) -> Result<(), QueryError> {
    let key_len = raw
        .find([':', '<', '>', '=', '"'])
        .ok_or_else(|| bad(raw, Said::new("check.search.term_form")))?;
    let (key, rest) = raw.split_at(key_len);
    let (cmp, value) = comparison(rest).ok_or_else(|| bad(raw, Said::new("check.search.colon")))?;
    let (value, star_quoted) = unquote(value);
    if value.is_empty() {
        return Err(bad(raw, Said::new("check.search.empty_value")));
    }
    let text_only = |cmp: Cmp| {
        if cmp == Cmp::Eq {
            Ok(())
        } else {
            Err(bad(
                raw,
                Said::new("check.search.text_only").with("field", key),
            ))
        }
    };
    let term = match key {
        "name" => {
            text_only(cmp)?;
            Term::Name(Text::parse(value, star_quoted))
        }
        "id" => {
            text_only(cmp)?;
            Term::Id(Text::parse(value, star_quoted))
        }
        "data" => {
            text_only(cmp)?;
            Term::DataContains(value)
        }
        "reason" => {
            text_only(cmp)?;
            Term::Reason(value)
        }
        "result" => {
            text_only(cmp)?;
            Term::Result(value)
        }
        "state" => {
            text_only(cmp)?;
            for name in value.split(',').filter(|s| !s.is_empty()) {
                let state = name
                    .parse::<JobState>()
                    .map_err(|err| bad(raw, err.said()))?;
                if !query.states.contains(&state) {
                    query.states.push(state);
                }
            }
            return Ok(());
        }
        "added" | "processed" | "finished" => {
            let time = match key {
                "added" => Time::Added,
                "processed" => Time::Processed,
                _ => Time::Finished,
            };
            let at_ms =
                parse_time(&value).ok_or_else(|| bad(raw, Said::new("check.search.time_form")))?;
            Term::Time { time, cmp, at_ms }
        }
        "attempts" => {
            let count = value
                .parse()
                .map_err(|_| bad(raw, Said::new("check.search.attempts_whole")))?;
            Term::Attempts { cmp, count }
        }
        path if path.starts_with("data.") => {
            text_only(cmp)?;
            let path: Vec<String> = path["data.".len()..].split('.').map(String::from).collect();
            if path.iter().any(String::is_empty) {
                return Err(bad(raw, Said::new("check.search.data_path")));
            }
            Term::DataAt { path, value }
        }
        other => {
            return Err(bad(
                raw,
                Said::new("check.search.unknown_field").with("field", format!("{other:?}")),
            ));
        }
    };
    query.terms.push(term);
    Ok(())
}

impl Query {
    /// Parse a query; an empty one matches every job.
    pub fn parse(text: &str) -> Result<Query, QueryError> {
        let mut query = Query::default();
        for raw in split_terms(text)? {
            parse_term(&raw, &mut query)?;
        }
        Ok(query)
    }

    /// The exact id it asks for, when it has an `id:` term without `*`.
    pub fn exact_id(&self) -> Option<&str> {
        self.terms.iter().find_map(|term| match term {
            Term::Id(Text::Exact(id)) => Some(id.as_str()),
            _ => None,
        })
    }

    /// The job hash fields its terms read, each once, in a fixed order.
    pub fn fields(&self) -> Vec<&'static str> {
        let mut fields: Vec<&'static str> = Vec::new();
        let mut add = |names: &[&'static str]| {
            for name in names {
                if !fields.contains(name) {
                    fields.push(name);
                }
            }
        };
        for term in &self.terms {
            match term {
                Term::Name(_) => add(&["name"]),
                Term::Id(_) => {}
                Term::DataAt { .. } | Term::DataContains(_) => add(&["data"]),
                Term::Reason(_) => add(&["failedReason", "stacktrace"]),
                Term::Result(_) => add(&["returnvalue"]),
                Term::Time { time, .. } => add(&[time.field()]),
                Term::Attempts { .. } => add(&["atm", "attemptsMade"]),
            }
        }
        fields
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Term {
        let query = Query::parse(text).unwrap();
        assert_eq!(query.terms.len(), 1, "{query:?}");
        query.terms[0].clone()
    }

    #[test]
    fn reads_each_term_form() {
        assert_eq!(
            one("name:send-email"),
            Term::Name(Text::Exact("send-email".into()))
        );
        assert_eq!(one("name:send-*"), Term::Name(Text::Prefix("send-".into())));
        assert_eq!(
            one("id:attachment-42"),
            Term::Id(Text::Exact("attachment-42".into()))
        );
        assert_eq!(
            one("id:attachment-*"),
            Term::Id(Text::Prefix("attachment-".into()))
        );
        assert_eq!(
            one("data.user.id:42"),
            Term::DataAt {
                path: vec!["user".into(), "id".into()],
                value: "42".into()
            }
        );
        assert_eq!(
            one(r#"data:"ada@example.com""#),
            Term::DataContains("ada@example.com".into())
        );
        assert_eq!(one("reason:timeout"), Term::Reason("timeout".into()));
        assert_eq!(
            one(r#"result:"status\":500""#),
            Term::Result(r#"status":500"#.into())
        );
        assert_eq!(
            one("added>2026-11-01"),
            Term::Time {
                time: Time::Added,
                cmp: Cmp::Gt,
                at_ms: 1_793_491_200_000
            }
        );
        assert_eq!(
            one("finished<2026-11-20T12:00"),
            Term::Time {
                time: Time::Finished,
                cmp: Cmp::Lt,
                at_ms: 1_795_176_000_000
            }
        );
        assert_eq!(
            one("processed>=1700000000000"),
            Term::Time {
                time: Time::Processed,
                cmp: Cmp::Ge,
                at_ms: 1_700_000_000_000
            }
        );
        assert_eq!(
            one("attempts>=3"),
            Term::Attempts {
                cmp: Cmp::Ge,
                count: 3
            }
        );
        let query = Query::parse("state:failed,delayed  name:a").unwrap();
        assert_eq!(query.states, vec![JobState::Failed, JobState::Delayed]);
        assert_eq!(query.terms.len(), 1);
        assert_eq!(Query::parse("  ").unwrap(), Query::default());
    }

    #[test]
    fn quotes_keep_spaces_and_stars() {
        assert_eq!(
            one(r#"data:"two words""#),
            Term::DataContains("two words".into())
        );
        assert_eq!(one(r#"name:"a*""#), Term::Name(Text::Exact("a*".into())));
        assert_eq!(
            one(r#"name:"a b"*"#),
            Term::Name(Text::Prefix("a b".into()))
        );
        assert_eq!(
            one(r#"data:"back\\slash""#),
            Term::DataContains(r"back\slash".into())
        );
    }

    #[test]
    fn a_bad_term_is_named() {
        for (text, term) in [
            ("name:a bogus", "bogus"),
            ("colour:red", "colour:red"),
            ("added>yesterday", "added>yesterday"),
            ("attempts>=many", "attempts>=many"),
            ("name>a", "name>a"),
            ("state:sleeping", "state:sleeping"),
            ("data..x:1", "data..x:1"),
            ("name:", "name:"),
            (r#"data:"open"#, r#"data:"open"#),
        ] {
            let err = Query::parse(text).unwrap_err();
            assert_eq!(err.term, term, "{text}: {err}");
            assert!(err.to_string().contains(term), "{err}");
        }
    }

    #[test]
    fn matches_the_fields_it_reads() {
        let query = Query::parse(
            r#"name:send-* data.user.id:42 data:"ada" reason:timeout attempts>=2 finished<2000"#,
        )
        .unwrap();
        let fields = query.fields();
        assert_eq!(
            fields,
            vec![
                "name",
                "data",
                "failedReason",
                "stacktrace",
                "atm",
                "attemptsMade",
                "finishedOn"
            ]
        );
        let values = |name: &str, data: &str, stack: &str, atm: &str, finished: &str| {
            vec![
                Some(name.to_string()),
                Some(data.to_string()),
                Some("boom".to_string()),
                Some(stack.to_string()),
                Some(atm.to_string()),
                None,
                Some(finished.to_string()),
            ]
        };
        let good = values(
            "send-mail",
            r#"{"user":{"id":42},"to":"ada@x"}"#,
            r#"["Error: timeout\n at x"]"#,
            "2",
            "1999",
        );
        assert!(query.matches("1", &fields, &good));
        let mut other = good.clone();
        other[0] = Some("receive".into());
        assert!(!query.matches("1", &fields, &other));
        let mut other = good.clone();
        other[1] = Some(r#"{"user":{"id":"42"},"to":"ada@x"}"#.into());
        assert!(
            query.matches("1", &fields, &other),
            "a string 42 is 42 as text"
        );
        other[1] = Some(r#"{"user":{"id":43},"to":"ada@x"}"#.into());
        assert!(!query.matches("1", &fields, &other));
        let mut other = good.clone();
        other[4] = Some("1".into());
        assert!(!query.matches("1", &fields, &other));
        let mut other = good.clone();
        other[6] = None;
        assert!(!query.matches("1", &fields, &other), "not finished");
        assert!(!query.matches("1", &fields, &vec![None; fields.len()]));
        let ids = Query::parse("id:a-*").unwrap();
        assert!(ids.fields().is_empty());
        assert!(ids.matches("a-1", &[], &[]));
        assert!(!ids.matches("b-1", &[], &[]));
        assert_eq!(Query::parse("id:7 name:x").unwrap().exact_id(), Some("7"));
    }
}
