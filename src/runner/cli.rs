//! The terminal commands for on-demand jobs and monitoring: `bullring add` (in [`super::add`]),
//! `bullring jobs`, `bullring stats`. Each returns the text to print (a table, or JSON with
//! `--json`). `jobs` and `stats` use the dashboard's read model (one pipelined round trip for the
//! counts, two for a job list, plus one to tell the queue's library when the configuration does
//! not declare it), and read Bull 3/4 queues as Bull reports them.

use std::fmt::Write as _;

use serde_json::json;

pub use super::add::{AddJob, add};
use super::add::{check_queue_name, prefix, redis};
use crate::config::Config;
use crate::queue::connection::Redis;
use crate::queue::error::QueueError;
use crate::queue::model::{Job, JobState, Order, QueueRef, QueueSummary};
use crate::queue::read::Reader;
use crate::queue::search::{self, export::Export, query::Query as SearchQuery};
use crate::queue::survey::{find_queues, with_library};
use crate::text::Said;

/// Most jobs `bullring jobs` lists at once (the read model's page limit).
pub const MAX_LIMIT: u64 = 1000;

fn reader(config: &Config) -> Result<Reader, QueueError> {
    Ok(Reader::new(
        Redis::new(redis(config)?),
        config.prefixes.clone(),
    ))
}

/// `bullring jobs QUEUE STATE`: the newest `limit` jobs in `state`.
pub async fn jobs(
    config: &Config,
    queue: &str,
    state: &str,
    limit: u64,
    as_json: bool,
) -> Result<String, QueueError> {
    check_queue_name(queue)?;
    let state: JobState = state.parse()?;
    if limit == 0 || limit > MAX_LIMIT {
        return Err(QueueError::InvalidInput(Said::plain(format!(
            "--limit must be between 1 and {MAX_LIMIT}"
        ))));
    }
    let reader = reader(config)?;
    let queue_ref = QueueRef::new(prefix(config), queue);
    let queue_ref = with_library(&reader, queue_ref, config.library(queue)).await?;
    if !queue_ref.library.states().contains(&state) {
        return Err(QueueError::InvalidInput(Said::plain(format!(
            "{queue} is a {} queue, which has no {state} jobs",
            queue_ref.library.badge(None)
        ))));
    }
    let (summary, page) = reader
        .job_page(&queue_ref, state, 1, limit, Order::NewestFirst)
        .await?;
    if as_json {
        return Ok(serde_json::to_string_pretty(&json!({
            "queue": summary.name,
            "prefix": summary.prefix,
            "library": queue_ref.library,
            "state": state.as_str(),
            "total": page.total,
            "jobs": page.jobs,
        }))
        .unwrap_or_default());
    }
    Ok(job_table(&summary, state, page.total, &page.jobs))
}

/// `bullring jobs QUEUE STATE --json --query Q`: every match, one JSON line each, written to
/// stdout as it is read (the export of the API); returns nothing more to print.
pub async fn export(
    config: &Config,
    queue: &str,
    state: &str,
    query: &str,
) -> Result<String, QueueError> {
    use std::io::Write as _;
    check_queue_name(queue)?;
    let state: JobState = state.parse()?;
    let query = SearchQuery::parse(query).map_err(|e| QueueError::InvalidInput(e.said()))?;
    let states = if query.states.is_empty() {
        vec![state]
    } else {
        query.states.clone()
    };
    let export = Export {
        queues: vec![QueueRef::new(prefix(config), queue)],
        states,
        order: Order::NewestFirst,
        query,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let mut written = Ok(());
    search::export::collect(Redis::new(redis(config)?), export, |piece| {
        if written.is_ok() {
            written = out.write_all(piece);
        }
    })
    .await?;
    written
        .and_then(|()| out.flush())
        .map_err(|e| QueueError::InvalidInput(Said::plain(format!("writing to stdout: {e}"))))?;
    Ok(String::new())
}

fn one_line(text: &str, max: usize) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if flat.chars().count() <= max {
        flat
    } else {
        let cut: String = flat.chars().take(max.saturating_sub(1)).collect();
        format!("{cut}…")
    }
}

fn time_text(ms: Option<i64>) -> String {
    ms.and_then(chrono::DateTime::from_timestamp_millis)
        .map(|d| d.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_else(|| "-".into())
}

fn job_table(summary: &QueueSummary, state: JobState, total: u64, jobs: &[Job]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}:{} {} ({} job{}, showing {})",
        summary.prefix,
        summary.name,
        state,
        total,
        if total == 1 { "" } else { "s" },
        jobs.len()
    );
    let rows: Vec<[String; 5]> = jobs
        .iter()
        .map(|job| {
            let detail = match state {
                JobState::Failed => job.failed_reason.clone().unwrap_or_default(),
                JobState::Completed => job.returnvalue.to_string(),
                _ => job.data.to_string(),
            };
            [
                job.id.clone(),
                one_line(job.name.as_deref().unwrap_or("-"), 30),
                job.attempts_made.to_string(),
                time_text(job.timestamp),
                one_line(&detail, 60),
            ]
        })
        .collect();
    let detail_title = match state {
        JobState::Failed => "REASON",
        JobState::Completed => "RETURN VALUE",
        _ => "DATA",
    };
    let header = [
        "ID".to_string(),
        "NAME".into(),
        "ATTEMPTS".into(),
        "CREATED (UTC)".into(),
        detail_title.into(),
    ];
    table(&mut out, &header, &rows);
    out
}

fn table<const N: usize>(out: &mut String, header: &[String; N], rows: &[[String; N]]) {
    let mut widths = header.each_ref().map(|h| h.chars().count());
    for row in rows {
        for (i, cell) in row.iter().enumerate() {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut line = |cells: &[String; N]| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                text.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                text.push_str(cell);
                text.push_str(&" ".repeat(pad + 2));
            }
        }
        let _ = writeln!(out, "{}", text.trim_end());
    };
    line(header);
    for row in rows {
        line(row);
    }
}

/// `bullring stats [QUEUE]`: counts per state of one queue, or of every queue found.
pub async fn stats(
    config: &Config,
    queue: Option<&str>,
    as_json: bool,
) -> Result<String, QueueError> {
    let reader = reader(config)?;
    let queues = match queue {
        Some(name) => {
            check_queue_name(name)?;
            let queue = QueueRef::new(prefix(config), name);
            vec![with_library(&reader, queue, config.library(name)).await?]
        }
        None => {
            let mut configured = config.queues.clone();
            for spec in &config.runner.queues {
                if !configured.contains(&spec.name) {
                    configured.push(spec.name.clone());
                }
            }
            find_queues(&reader, configured, config.libraries.clone()).await?
        }
    };
    let summaries = reader.summaries(&queues).await?;
    if queue.is_some() && summaries.is_empty() {
        return Err(QueueError::QueueNotFound(queue.unwrap_or_default().into()));
    }
    if as_json {
        return Ok(serde_json::to_string_pretty(&summaries).unwrap_or_default());
    }
    let mut header = vec!["QUEUE".to_string(), "LIBRARY".into()];
    header.extend(JobState::ALL.iter().map(|s| s.as_str().to_uppercase()));
    header.push("STATUS".into());
    let header: [String; 11] = header.try_into().expect("eleven columns");
    let rows: Vec<[String; 11]> = summaries
        .iter()
        .map(|s| {
            let mut row = vec![format!("{}:{}", s.prefix, s.name), s.badge()];
            row.extend(JobState::ALL.iter().map(|st| s.counts.get(*st).to_string()));
            row.push(if s.paused {
                "paused".into()
            } else {
                "running".into()
            });
            row.try_into().expect("eleven columns")
        })
        .collect();
    let mut out = String::new();
    if rows.is_empty() {
        out.push_str("no queues found\n");
    } else {
        table(&mut out, &header, &rows);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_align_and_flatten() {
        let mut out = String::new();
        table(
            &mut out,
            &["A".to_string(), "BB".into()],
            &[["long".to_string(), "x".into()]],
        );
        assert_eq!(out, "A     BB\nlong  x\n");
        assert_eq!(one_line("a\nb", 10), "a b");
        assert_eq!(one_line("abcdef", 4), "abc…");
    }
}
