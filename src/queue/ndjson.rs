//! NDJSON of jobs to add (`{"name": ..., "data": ..., "opts": ...}` a line, as an export writes
//! them): read and checked whole before anything is written, so a text with a bad line adds
//! nothing and every bad line is named by its number. Shared by `bullring add --from` and the
//! dashboard's import form.

use bullmq::{JobOptions, Queue};
use serde_json::Value;

use super::error::QueueError;
pub use super::op::Line;
use super::op::parse_options;
use crate::text::{Lang, Said};

/// The largest NDJSON text the dashboard imports at once (10 MiB).
pub const MAX_TEXT: usize = 10 * 1024 * 1024;

/// Bad lines named at most in one error.
const BAD_LINES_SHOWN: usize = 20;

/// The options of an exported job that describe what happened to it, not how to add it.
const NOT_OPTIONS: [&str; 2] = ["repeatJobKey", "telemetry"];

fn read_line(text: &str) -> Result<(String, Value, JobOptions), Said> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| Said::new("check.ndjson.not_json").with("detail", e))?;
    let Value::Object(mut job) = value else {
        return Err(Said::new("check.ndjson.not_object"));
    };
    let name = match job.remove("name") {
        Some(Value::String(name)) if !name.trim().is_empty() => name,
        Some(Value::String(_)) | None => return Err(Said::new("check.ndjson.no_name")),
        Some(other) => return Err(Said::new("check.ndjson.name_type").with("value", other)),
    };
    let data = job
        .remove("data")
        .unwrap_or_else(|| Value::Object(Default::default()));
    let mut opts = job.remove("opts").unwrap_or(Value::Null);
    if let Value::Object(map) = &mut opts {
        for key in NOT_OPTIONS {
            map.remove(key);
        }
    }
    let opts = parse_options(opts).map_err(|e| e.said())?;
    Ok((name, data, opts))
}

/// Every job of an NDJSON text (blank lines are skipped), or an error naming each bad line.
pub fn parse(text: &str) -> Result<Vec<Line>, QueueError> {
    let mut jobs = Vec::new();
    let mut bad = Vec::new();
    for (index, text) in text.lines().enumerate() {
        if text.trim().is_empty() {
            continue;
        }
        match read_line(text) {
            Ok((name, data, opts)) => jobs.push(Line {
                line: index + 1,
                name,
                data,
                opts,
            }),
            Err(why) => bad.push((index + 1, why)),
        }
    }
    if !bad.is_empty() {
        let more = bad.len().saturating_sub(BAD_LINES_SHOWN);
        let shown = &bad[..bad.len().min(BAD_LINES_SHOWN)];
        let lines = |lang: Lang| {
            let each: Vec<String> = shown
                .iter()
                .map(|(line, why)| {
                    Said::new("check.ndjson.line")
                        .with("line", line)
                        .with_said("why", why)
                        .in_lang(lang)
                })
                .collect();
            let mut text = each.join("; ");
            if more > 0 {
                text.push_str(&Said::new("check.ndjson.more").with("n", more).in_lang(lang));
            }
            text
        };
        return Err(QueueError::InvalidInput(
            Said::new("check.ndjson.bad_lines")
                .with("n", bad.len())
                .with_each("lines", lines),
        ));
    }
    Ok(jobs)
}

/// Add `jobs` to `engine`'s queue one by one, in their order; the count added. Should Redis fail
/// on the way, the error says how many were added and from which line to start again.
pub async fn add_all(engine: &Queue, jobs: Vec<Line>) -> Result<usize, QueueError> {
    let total = jobs.len();
    for (done, job) in jobs.into_iter().enumerate() {
        let line = job.line;
        if let Err(err) = engine.add(&job.name, job.data).options(job.opts).await {
            let why = QueueError::from(err).said();
            return Err(QueueError::InvalidInput(
                Said::new("check.ndjson.add_failed")
                    .with("line", line)
                    .with("done", done)
                    .with("total", total)
                    .with_said("why", &why),
            ));
        }
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_line_is_named_and_nothing_is_kept() {
        let good = r#"{"name":"a","data":{"x":1},"opts":{"attempts":3,"jobId":"j-1"}}"#;
        let jobs = parse(&format!("{good}\n\n{{\"name\":\"b\"}}\n")).unwrap();
        assert_eq!(jobs.len(), 2);
        assert_eq!(
            (jobs[1].line, jobs[1].data.clone()),
            (3, serde_json::json!({}))
        );
        assert_eq!(jobs[0].opts.attempts, Some(3));
        let err = parse(&format!(
            "{good}\nnot json\n{{\"data\":1}}\n{{\"name\":\"c\",\"opts\":{{\"jobId\":\"a:b\"}}}}\n[1]"
        ))
        .unwrap_err()
        .to_string();
        for line in [
            "line 2: not JSON",
            "line 3: no name",
            "line 4:",
            "line 5: not a JSON object",
        ] {
            assert!(err.contains(line), "{line} in {err}");
        }
        assert!(err.contains("4 bad line(s), nothing was added"), "{err}");
    }
}
