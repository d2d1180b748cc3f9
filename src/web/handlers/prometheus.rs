//! `GET {base}/metrics`: the Prometheus text format (version 0.0.4), in one Redis round trip per
//! connection whatever the number of queues: every queue's counts, paused flag and BullMQ metrics totals,
//! plus `CLIENT LIST` for connected workers.
//!
//! Every connection is scraped, each in parallel within its own time limit; every series has a
//! `connection` label (`default` for the top-level Redis). Metric names (labels `connection`,
//! `prefix`, `queue`, and `state` for the first):
//! - `bullring_queue_jobs` (gauge): jobs per state, states named as in the JSON API;
//! - `bullring_queue_paused` (gauge): 1 when the queue is paused;
//! - `bullring_queue_workers` (gauge): worker connections (left out when Redis refuses
//!   `CLIENT LIST`);
//! - `bullring_queue_completed_total`, `bullring_queue_failed_total` (counters): BullMQ's own
//!   counts, recorded by workers with metrics on (left out for queues without);
//! - `bullring_redis_up` (gauge, label `connection`): 1 when that connection's Redis answered
//!   this scrape, else 0 and nothing else about it;
//! - with `bullring start`, the runner's own series ([`crate::runner::health::RunnerHealth`]).

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::queue::metrics::QueueMetrics;
use crate::queue::model::QueueSummary;
use crate::queue::workers::WorkerClient;
use crate::web::handlers::connections::CONNECTION_TIMEOUT;
use crate::web::state::AppState;

const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A label value as the text format wants it: `\`, `"` and newlines escaped.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

fn header_lines(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// One connection's queue rows and workers, as the overview read gives them.
pub type Overview<'a> = (
    &'a [(QueueSummary, QueueMetrics)],
    Option<&'a [WorkerClient]>,
);

/// What one connection gave this scrape: its queues' rows and workers, or nothing when its
/// Redis did not answer.
pub struct Scraped<'a> {
    pub connection: &'a str,
    pub read: Option<Overview<'a>>,
}

/// The exposition text for one scrape of every connection.
pub fn render(connections: &[Scraped<'_>]) -> String {
    let mut out = String::new();
    header_lines(
        &mut out,
        "bullring_redis_up",
        "gauge",
        "1 when the connection's Redis answered this scrape, 0 when it did not.",
    );
    for c in connections {
        let up = u8::from(c.read.is_some());
        let _ = writeln!(
            out,
            "bullring_redis_up{{connection=\"{}\"}} {up}",
            label(c.connection)
        );
    }
    // Each connection's rows, with the labels of each row.
    let rows: Vec<(
        String,
        &QueueSummary,
        &QueueMetrics,
        Option<&[WorkerClient]>,
    )> = connections
        .iter()
        .filter_map(|c| c.read.map(|(rows, workers)| (c.connection, rows, workers)))
        .flat_map(|(connection, rows, workers)| {
            rows.iter().map(move |(s, m)| {
                let labels = format!(
                    "connection=\"{}\",prefix=\"{}\",queue=\"{}\"",
                    label(connection),
                    label(&s.prefix),
                    label(&s.name)
                );
                (labels, s, m, workers)
            })
        })
        .collect();
    if rows.is_empty() {
        return out;
    }
    header_lines(
        &mut out,
        "bullring_queue_info",
        "gauge",
        "1 for each queue, labelled with its library (bullmq, or bull for Bull 3/4).",
    );
    for (labels, s, _, _) in &rows {
        let _ = writeln!(
            out,
            "bullring_queue_info{{{labels},library=\"{}\"}} 1",
            s.library.as_str()
        );
    }
    header_lines(
        &mut out,
        "bullring_queue_jobs",
        "gauge",
        "Jobs in each state of the queue's library (Bull 3/4 has no prioritized or \
         waiting-children state), per queue.",
    );
    for (labels, s, _, _) in &rows {
        for &state in s.library.states() {
            let _ = writeln!(
                out,
                "bullring_queue_jobs{{{labels},state=\"{}\"}} {}",
                state.as_str(),
                s.counts.get(state)
            );
        }
    }
    header_lines(
        &mut out,
        "bullring_queue_paused",
        "gauge",
        "1 when the queue is paused, else 0.",
    );
    for (labels, s, _, _) in &rows {
        let _ = writeln!(
            out,
            "bullring_queue_paused{{{labels}}} {}",
            u8::from(s.paused)
        );
    }
    if rows.iter().any(|(_, _, _, workers)| workers.is_some()) {
        header_lines(
            &mut out,
            "bullring_queue_workers",
            "gauge",
            "Worker connections to the queue (BullMQ and Bull 3/4 workers name theirs alike).",
        );
        for (labels, s, _, workers) in &rows {
            let Some(workers) = workers else { continue };
            let n = workers
                .iter()
                .filter(|w| w.prefix == s.prefix && w.queue == s.name)
                .count();
            let _ = writeln!(out, "bullring_queue_workers{{{labels}}} {n}");
        }
    }
    for (name, help, completed) in [
        (
            "bullring_queue_completed_total",
            "Jobs completed, as BullMQ's and Bull 4.7+'s metrics count them (workers with metrics on).",
            true,
        ),
        (
            "bullring_queue_failed_total",
            "Jobs failed, as BullMQ's and Bull 4.7+'s metrics count them (workers with metrics on).",
            false,
        ),
    ] {
        header_lines(&mut out, name, "counter", help);
        for (labels, _, m, _) in rows.iter().filter(|(_, _, m, _)| m.recorded) {
            let total = if completed {
                m.completed.total
            } else {
                m.failed.total
            };
            let _ = writeln!(out, "{name}{{{labels}}} {total}");
        }
    }
    out
}

/// `GET {base}/metrics`: every connection, read in parallel, each within its own time limit.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let now = chrono::Utc::now().timestamp_millis();
    let reads = state.every_connection().map(|each| async move {
        let queues = each.discovery().snapshot().queues;
        let read = tokio::time::timeout(CONNECTION_TIMEOUT, each.reader().overview(&queues, now));
        let name = each.connection().name.as_str();
        match read.await {
            Ok(Ok(read)) => (name, Some(read)),
            Ok(Err(err)) => {
                tracing::warn!(connection = name, error = %err, "metrics scrape: Redis did not answer");
                (name, None)
            }
            Err(_) => {
                tracing::warn!(connection = name, "metrics scrape: Redis did not answer in time");
                (name, None)
            }
        }
    });
    let reads = futures::future::join_all(reads).await;
    let scraped: Vec<Scraped<'_>> = reads
        .iter()
        .map(|(connection, read)| Scraped {
            connection,
            read: read
                .as_ref()
                .map(|(rows, workers)| (rows.as_slice(), workers.as_deref())),
        })
        .collect();
    let mut body = render(&scraped);
    if let Some(runner) = state.runner() {
        body.push_str(&runner.prometheus());
    }
    let mut response = body.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::model::Counts;

    #[test]
    fn escapes_labels_and_leaves_out_unknowns() {
        let summary = QueueSummary {
            library: crate::queue::model::Library::BullMq,
            detected: None,
            connection: "default".into(),
            name: "a\"b\\c\nd".into(),
            prefix: "bull".into(),
            paused: true,
            counts: Counts {
                waiting: 3,
                ..Counts::default()
            },
            global_concurrency: None,
            scheduler_count: 0,
            version: None,
        };
        let summary_clone = summary.clone();
        let rows = [(summary, QueueMetrics::default())];
        let text = render(&[
            Scraped {
                connection: "default",
                read: Some((&rows, None)),
            },
            Scraped {
                connection: "eu",
                read: None,
            },
        ]);
        assert!(text.contains(
            "bullring_queue_jobs{connection=\"default\",prefix=\"bull\",queue=\"a\\\"b\\\\c\\nd\",state=\"waiting\"} 3"
        ));
        assert!(text.contains(
            "bullring_queue_paused{connection=\"default\",prefix=\"bull\",queue=\"a\\\"b\\\\c\\nd\"} 1"
        ));
        assert!(text.contains("bullring_redis_up{connection=\"eu\"} 0"));
        assert!(!text.contains("bullring_queue_workers{"));
        assert!(text.contains(
            "bullring_queue_info{connection=\"default\",prefix=\"bull\",queue=\"a\\\"b\\\\c\\nd\",library=\"bullmq\"} 1"
        ));
        let bull = QueueSummary {
            library: crate::queue::model::Library::Bull,
            name: "pre-diagnosis".into(),
            ..summary_clone
        };
        let rows = [(bull, QueueMetrics::default())];
        let text = render(&[Scraped {
            connection: "default",
            read: Some((&rows, None)),
        }]);
        assert!(text.contains(
            "bullring_queue_info{connection=\"default\",prefix=\"bull\",queue=\"pre-diagnosis\",library=\"bull\"} 1"
        ));
        assert!(text.contains("queue=\"pre-diagnosis\",state=\"paused\"} 0"));
        assert!(!text.contains("state=\"prioritized\""), "{text}");
        assert!(!text.contains("bullring_queue_completed_total{"));
        assert_eq!(
            render(&[Scraped {
                connection: "default",
                read: None
            }]),
            "# HELP bullring_redis_up 1 when the connection's Redis answered this scrape, 0 when it did not.\n# TYPE bullring_redis_up gauge\nbullring_redis_up{connection=\"default\"} 0\n"
        );
    }
}
