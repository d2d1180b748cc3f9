//! A queue's metrics page: throughput over the last hour, day and week (BullMQ's metrics,
//! drawn as server-side SVG), and its wait and processing times.

use askama::Template;

use super::Chrome;
use super::format::{duration, number, percent};
use crate::queue::metrics::{QueueMetrics, Series, Timings, failure_rate};
use crate::queue::model::Library;
use crate::web::charts;
use crate::web::i18n;

/// Minutes in a week: BullMQ's `MetricsTime.ONE_WEEK`, the most a worker usually keeps.
pub const WEEK_MINUTES: usize = 7 * 24 * 60;

/// One window of the metrics page.
pub struct Window {
    pub title: &'static str,
    pub svg: String,
    pub completed: u64,
    pub failed: u64,
    pub failure_rate: String,
    /// "12 completed · 1 failed · failure rate 7.7 %", in the reader's language.
    pub summary: String,
}

/// The last `minutes` of a series (it ends now).
fn last(series: &Series, minutes: usize) -> Series {
    let skip = series.per_minute.len().saturating_sub(minutes);
    Series {
        per_minute: series.per_minute[skip..].to_vec(),
        ..series.clone()
    }
}

fn window(metrics: &QueueMetrics, title: &'static str, minutes: usize, per_bar: usize) -> Window {
    let part = QueueMetrics {
        completed: last(&metrics.completed, minutes),
        failed: last(&metrics.failed, minutes),
        recorded: metrics.recorded,
    };
    Window {
        title,
        svg: charts::throughput(&part.completed, &part.failed, per_bar, title),
        completed: part.completed.sum(),
        failed: part.failed.sum(),
        failure_rate: percent(failure_rate(&part)),
        summary: i18n::tf(
            "metrics.window",
            &[
                ("completed", &number(part.completed.sum() as i64)),
                ("failed", &number(part.failed.sum() as i64)),
                ("rate", &percent(failure_rate(&part))),
            ],
        ),
    }
}

#[derive(Template)]
#[template(path = "pages/metrics.html")]
pub struct MetricsPage {
    pub chrome: Chrome,
    pub queue_name: String,
    pub queue_href: String,
    /// The queue's library (`bullmq`, `bull`): who records the metrics, and how to turn them on.
    pub library: &'static str,
    pub recorded: bool,
    pub windows: Vec<Window>,
    pub total_completed: u64,
    pub total_failed: u64,
    pub timings: Timings,
    pub wait_p50: String,
    pub wait_p95: String,
    pub run_p50: String,
    pub run_p95: String,
    pub sample: usize,
    /// Who records these metrics and the totals, in the reader's language.
    pub explain: String,
}

impl MetricsPage {
    pub fn new(
        chrome: Chrome,
        queue_name: String,
        queue_href: String,
        library: Library,
        metrics: &QueueMetrics,
        timings: Timings,
    ) -> Self {
        MetricsPage {
            chrome,
            queue_name,
            queue_href,
            library: library.as_str(),
            recorded: metrics.recorded,
            windows: vec![
                window(metrics, i18n::t("metrics.last_hour"), 60, 1),
                window(metrics, i18n::t("metrics.last_day"), 24 * 60, 30),
                window(metrics, i18n::t("metrics.last_week"), WEEK_MINUTES, 360),
            ],
            total_completed: metrics.completed.total,
            total_failed: metrics.failed.total,
            wait_p50: duration(timings.wait_p50),
            wait_p95: duration(timings.wait_p95),
            run_p50: duration(timings.processing_p50),
            run_p95: duration(timings.processing_p95),
            sample: timings.samples,
            explain: i18n::tf(
                "metrics.explain",
                &[
                    (
                        "library",
                        &if library == Library::Bull {
                            "Bull"
                        } else {
                            "BullMQ"
                        },
                    ),
                    ("zone", &i18n::current().tz.name()),
                    ("completed", &number(metrics.completed.total as i64)),
                    ("failed", &number(metrics.failed.total as i64)),
                ],
            ),
            timings,
        }
    }
}
