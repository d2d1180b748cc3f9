//! `GET {base}/metrics`: the Prometheus text format (version 0.0.4), in one Redis round trip
//! whatever the number of queues: every queue's counts, paused flag and BullMQ metrics totals,
//! plus `CLIENT LIST` for connected workers.
//!
//! Metric names (labels `prefix`, `queue`, and `state` for the first):
//! - `bullring_queue_jobs` (gauge): jobs per state, states named as in the JSON API;
//! - `bullring_queue_paused` (gauge): 1 when the queue is paused;
//! - `bullring_queue_workers` (gauge): worker connections (left out when Redis refuses
//!   `CLIENT LIST`);
//! - `bullring_queue_completed_total`, `bullring_queue_failed_total` (counters): BullMQ's own
//!   counts, recorded by workers with metrics on (left out for queues without);
//! - `bullring_redis_up` (gauge, no labels): 1 when Redis answered this scrape, else 0 and
//!   nothing else.

use std::fmt::Write;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use crate::queue::metrics::QueueMetrics;
use crate::queue::model::QueueSummary;
use crate::queue::workers::WorkerClient;
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

/// The exposition text for one scrape.
pub fn render(
    rows: &[(QueueSummary, QueueMetrics)],
    workers: Option<&[WorkerClient]>,
    redis_up: bool,
) -> String {
    let mut out = String::new();
    header_lines(
        &mut out,
        "bullring_redis_up",
        "gauge",
        "1 when Redis answered this scrape, 0 when it did not.",
    );
    let _ = writeln!(out, "bullring_redis_up {}", u8::from(redis_up));
    if !redis_up {
        return out;
    }
    let labels = |s: &QueueSummary| {
        format!(
            "prefix=\"{}\",queue=\"{}\"",
            label(&s.prefix),
            label(&s.name)
        )
    };
    header_lines(
        &mut out,
        "bullring_queue_info",
        "gauge",
        "1 for each queue, labelled with its library (bullmq, or bull for Bull 3/4).",
    );
    for (s, _) in rows {
        let _ = writeln!(
            out,
            "bullring_queue_info{{{},library=\"{}\"}} 1",
            labels(s),
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
    for (s, _) in rows {
        for &state in s.library.states() {
            let _ = writeln!(
                out,
                "bullring_queue_jobs{{{},state=\"{}\"}} {}",
                labels(s),
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
    for (s, _) in rows {
        let _ = writeln!(
            out,
            "bullring_queue_paused{{{}}} {}",
            labels(s),
            u8::from(s.paused)
        );
    }
    if let Some(workers) = workers {
        header_lines(
            &mut out,
            "bullring_queue_workers",
            "gauge",
            "Worker connections to the queue (BullMQ and Bull 3/4 workers name theirs alike).",
        );
        for (s, _) in rows {
            let n = workers
                .iter()
                .filter(|w| w.prefix == s.prefix && w.queue == s.name)
                .count();
            let _ = writeln!(out, "bullring_queue_workers{{{}}} {n}", labels(s));
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
        for (s, m) in rows.iter().filter(|(_, m)| m.recorded) {
            let total = if completed {
                m.completed.total
            } else {
                m.failed.total
            };
            let _ = writeln!(out, "{name}{{{}}} {total}", labels(s));
        }
    }
    out
}

/// `GET {base}/metrics`
pub async fn metrics(State(state): State<AppState>) -> Response {
    let queues = state.discovery().snapshot().queues;
    let now = chrono::Utc::now().timestamp_millis();
    let body = match state.reader().overview(&queues, now).await {
        Ok((rows, workers)) => render(&rows, workers.as_deref(), true),
        Err(err) => {
            tracing::warn!(error = %err, "metrics scrape: Redis did not answer");
            render(&[], None, false)
        }
    };
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
        let text = render(&[(summary, QueueMetrics::default())], None, true);
        assert!(text.contains(
            "bullring_queue_jobs{prefix=\"bull\",queue=\"a\\\"b\\\\c\\nd\",state=\"waiting\"} 3"
        ));
        assert!(
            text.contains("bullring_queue_paused{prefix=\"bull\",queue=\"a\\\"b\\\\c\\nd\"} 1")
        );
        assert!(!text.contains("bullring_queue_workers{"));
        assert!(text.contains(
            "bullring_queue_info{prefix=\"bull\",queue=\"a\\\"b\\\\c\\nd\",library=\"bullmq\"} 1"
        ));
        let bull = QueueSummary {
            library: crate::queue::model::Library::Bull,
            name: "pre-diagnosis".into(),
            ..summary_clone
        };
        let text = render(&[(bull, QueueMetrics::default())], None, true);
        assert!(text.contains(
            "bullring_queue_info{prefix=\"bull\",queue=\"pre-diagnosis\",library=\"bull\"} 1"
        ));
        assert!(text.contains("queue=\"pre-diagnosis\",state=\"paused\"} 0"));
        assert!(!text.contains("state=\"prioritized\""), "{text}");
        assert!(!text.contains("bullring_queue_completed_total{"));
        assert_eq!(
            render(&[], None, false),
            "# HELP bullring_redis_up 1 when Redis answered this scrape, 0 when it did not.\n# TYPE bullring_redis_up gauge\nbullring_redis_up 0\n"
        );
    }
}
