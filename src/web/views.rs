//! Askama templates and the view models they render.
//!
//! View models hold display-ready strings (formatted times, pretty JSON, URLs with the base path
//! and percent-encoded segments), so templates stay free of logic. Askama escapes every value;
//! no template uses `|safe` on job data (only on the SVG charts of `charts`, built from numbers).

use askama::Template;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::AppState;
use super::assets::HTMX;
use super::charts;
use super::flash::Flash;
use super::handlers::metrics::percent;
use super::security::{Action, Principal};
use crate::queue::metrics::{QueueMetrics, failure_rate};
use crate::queue::model::{
    ChildRef, Counts, Job, JobDetail, JobPage, JobState, Order, ParentRef, QueueRef, QueueSummary,
};
use crate::queue::workers::WorkerClient;

/// Data or return values larger than this are shown truncated, with a link to the raw JSON.
pub const DISPLAY_LIMIT: usize = 64 * 1024;

/// What every page's layout needs.
#[derive(Debug, Clone)]
pub struct Chrome {
    pub base: String,
    pub title: String,
    pub version: &'static str,
    pub htmx: &'static str,
    /// The result of the action that redirected here.
    pub flash: Option<String>,
    /// "alice (operator)", empty when nobody is signed in.
    pub user: String,
    pub read_only: bool,
    /// Live updates are on: the page subscribes to `{base}/events` (when JavaScript runs).
    pub live: bool,
    /// Alert rules are configured: the navigation links to the Alerts page.
    pub alerts: bool,
}

impl Chrome {
    /// For pages that know nobody (error pages).
    pub fn new(state: &AppState) -> Self {
        Chrome {
            base: state.base(),
            title: state.title().to_string(),
            version: env!("CARGO_PKG_VERSION"),
            htmx: HTMX,
            flash: None,
            user: String::new(),
            read_only: state.security().read_only,
            live: state.sampler().interval().is_some(),
            alerts: state.alerts().is_some(),
        }
    }

    pub fn page(state: &AppState, principal: &Principal, flash: Flash) -> Self {
        Chrome {
            flash: flash.0,
            user: format!("{} ({})", principal.user, principal.role),
            ..Chrome::new(state)
        }
    }
}

/// Which action buttons a page shows.
#[derive(Debug, Clone, Copy)]
pub struct Perms {
    pub operator: bool,
    pub admin: bool,
}

impl Perms {
    pub fn of(principal: &Principal) -> Self {
        Perms {
            operator: principal.may(Action::Retry),
            admin: principal.may(Action::Clean),
        }
    }
}

/// Builds every URL the pages link to, so each carries the base path and encoded segments.
#[derive(Debug, Clone)]
pub struct Links {
    pub base: String,
    /// Add `?prefix=` to queue links (more than one prefix is configured).
    pub with_prefix: bool,
}

impl Links {
    pub fn queue(&self, queue: &QueueRef) -> String {
        format!(
            "{}/queues/{}{}",
            self.base,
            encode(&queue.name),
            self.prefix_query(queue, '?')
        )
    }

    pub fn tab(&self, queue: &QueueRef, state: JobState) -> String {
        let sep = if self.with_prefix { '&' } else { '?' };
        format!("{}{sep}state={}", self.queue(queue), state.as_str())
    }

    pub fn job(&self, queue: &QueueRef, id: &str) -> String {
        format!(
            "{}/queues/{}/jobs/{}{}",
            self.base,
            encode(&queue.name),
            encode(id),
            self.prefix_query(queue, '?')
        )
    }

    /// `POST` target of a queue action (`pause`, `clean`, `jobs` ...).
    pub fn queue_action(&self, queue: &QueueRef, action: &str) -> String {
        format!(
            "{}/queues/{}/{action}{}",
            self.base,
            encode(&queue.name),
            self.prefix_query(queue, '?')
        )
    }

    /// A page that asks for an action's details (`clean`, `drain`, `obliterate`, `add`).
    pub fn action_page(&self, queue: &QueueRef, action: &str) -> String {
        format!(
            "{}/queues/{}/actions/{action}{}",
            self.base,
            encode(&queue.name),
            self.prefix_query(queue, '?')
        )
    }

    /// `POST` target of a job action (`retry`, `promote`, `remove`, `duplicate`, `data`).
    pub fn job_action(&self, queue: &QueueRef, id: &str, action: &str) -> String {
        format!(
            "{}/queues/{}/jobs/{}/{action}{}",
            self.base,
            encode(&queue.name),
            encode(id),
            self.prefix_query(queue, '?')
        )
    }

    /// The flow page of a job: from its root, or (`from_self`) the tree below it.
    pub fn flow(&self, queue: &QueueRef, id: &str, from_self: bool) -> String {
        let from = if from_self { "from=self" } else { "" };
        let prefix = self.prefix_query(queue, '?');
        let query = match (prefix.is_empty(), from.is_empty()) {
            (true, true) => String::new(),
            (true, false) => format!("?{from}"),
            (false, true) => prefix,
            (false, false) => format!("{prefix}&{from}"),
        };
        format!(
            "{}/queues/{}/jobs/{}/flow{query}",
            self.base,
            encode(&queue.name),
            encode(id)
        )
    }

    pub fn edit(&self, queue: &QueueRef, id: &str) -> String {
        format!(
            "{}/queues/{}/jobs/{}/edit{}",
            self.base,
            encode(&queue.name),
            encode(id),
            self.prefix_query(queue, '?')
        )
    }

    pub fn raw(&self, queue: &QueueRef, id: &str, field: &str) -> String {
        format!(
            "{}/api/queues/{}/jobs/{}/raw?field={field}{}",
            self.base,
            encode(&queue.name),
            encode(id),
            self.prefix_query(queue, '&')
        )
    }

    /// A page about one queue: `metrics`, `schedulers`, `workers`.
    pub fn queue_sub(&self, queue: &QueueRef, page: &str) -> String {
        format!(
            "{}/queues/{}/{page}{}",
            self.base,
            encode(&queue.name),
            self.prefix_query(queue, '?')
        )
    }

    /// `POST` target that removes a job scheduler.
    pub fn scheduler_remove(&self, queue: &QueueRef, id: &str) -> String {
        format!(
            "{}/queues/{}/schedulers/{}/remove{}",
            self.base,
            encode(&queue.name),
            encode(id),
            self.prefix_query(queue, '?')
        )
    }

    fn prefix_query(&self, queue: &QueueRef, sep: char) -> String {
        if self.with_prefix {
            format!("{sep}prefix={}", encode(&queue.prefix))
        } else {
            String::new()
        }
    }
}

/// Percent-encode a path segment or query value (everything but unreserved characters).
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// "2026-11-22 14:05:03" (UTC) for a millisecond timestamp.
pub fn format_time(ms: Option<i64>) -> String {
    ms.and_then(DateTime::<Utc>::from_timestamp_millis)
        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
        .unwrap_or_default()
}

/// "3m ago" / "in 2h" relative to now.
pub fn relative_time(ms: Option<i64>, now_ms: i64) -> String {
    let Some(ms) = ms else {
        return String::new();
    };
    let delta = (now_ms - ms) / 1000;
    let (amount, future) = (delta.unsigned_abs(), delta < 0);
    let text = match amount {
        0..=59 => format!("{amount}s"),
        60..=3599 => format!("{}m", amount / 60),
        3600..=86399 => format!("{}h", amount / 3600),
        _ => format!("{}d", amount / 86400),
    };
    if future {
        format!("in {text}")
    } else {
        format!("{text} ago")
    }
}

/// Pretty JSON, truncated to [`DISPLAY_LIMIT`] bytes (on a character boundary).
pub fn pretty(value: &Value) -> (String, bool) {
    let text = match value {
        // A field that did not parse is kept as a string: show it as stored, unquoted.
        Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    };
    truncate(text)
}

fn truncate(mut text: String) -> (String, bool) {
    if text.len() <= DISPLAY_LIMIT {
        return (text, false);
    }
    let mut cut = DISPLAY_LIMIT;
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
    (text, true)
}

fn progress_text(value: &Value) -> String {
    match value {
        Value::Number(n) if n.as_f64() == Some(0.0) => String::new(),
        Value::Number(n) => format!("{n}%"),
        Value::Null => String::new(),
        other => {
            let text = other.to_string();
            excerpt(&text, 60)
        }
    }
}

fn excerpt(text: &str, max_chars: usize) -> String {
    let first_line = text.lines().next().unwrap_or("");
    if first_line.chars().count() > max_chars {
        let cut: String = first_line.chars().take(max_chars).collect();
        format!("{cut}…")
    } else {
        first_line.to_string()
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

/// A state with its count and link, for tabs and overview cells.
#[derive(Debug, Clone)]
pub struct StateCell {
    pub state: &'static str,
    pub count: u64,
    pub href: String,
    pub active: bool,
}

fn state_cells(
    links: &Links,
    queue: &QueueRef,
    counts: &Counts,
    current: Option<JobState>,
) -> Vec<StateCell> {
    JobState::ALL
        .iter()
        .map(|state| StateCell {
            state: state.as_str(),
            count: counts.get(*state),
            href: links.tab(queue, *state),
            active: current == Some(*state),
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Overview

pub struct QueueRow {
    pub name: String,
    pub prefix: String,
    pub href: String,
    pub metrics_href: String,
    pub workers_href: String,
    pub paused: bool,
    pub cells: Vec<StateCell>,
    pub global_concurrency: Option<u64>,
    pub scheduler_count: u64,
    /// The last hour's throughput as an inline SVG, when metrics are recorded.
    pub sparkline: Option<String>,
    /// Failed / finished in the last hour.
    pub failure_rate: String,
    /// Connected workers; `None` when unknown (Redis refused `CLIENT LIST`).
    pub workers: Option<usize>,
    /// Waiting jobs and no worker to take them.
    pub unattended: bool,
}

#[derive(Template)]
#[template(path = "pages/overview.html")]
pub struct OverviewPage {
    pub chrome: Chrome,
    pub perms: Perms,
    pub rows: Vec<QueueRow>,
    pub filter: String,
    pub show_prefix: bool,
    pub discovering: bool,
    pub states: Vec<&'static str>,
    pub totals: Vec<u64>,
    /// Active alerts: title, text, link.
    pub alerts: Vec<(String, String, String)>,
}

impl OverviewPage {
    pub fn new(
        chrome: Chrome,
        perms: Perms,
        links: &Links,
        summaries: &[(QueueSummary, QueueMetrics)],
        workers: Option<&[WorkerClient]>,
        filter: String,
        discovering: bool,
    ) -> Self {
        let rows: Vec<QueueRow> = summaries
            .iter()
            .map(|(s, m)| {
                let queue = s.queue();
                let connected = workers.map(|list| {
                    list.iter()
                        .filter(|w| w.prefix == s.prefix && w.queue == s.name)
                        .count()
                });
                QueueRow {
                    name: s.name.clone(),
                    prefix: s.prefix.clone(),
                    href: links.queue(&queue),
                    metrics_href: links.queue_sub(&queue, "metrics"),
                    workers_href: links.queue_sub(&queue, "workers"),
                    paused: s.paused,
                    cells: state_cells(links, &queue, &s.counts, None),
                    global_concurrency: s.global_concurrency,
                    scheduler_count: s.scheduler_count,
                    sparkline: m
                        .recorded
                        .then(|| charts::sparkline(&m.completed, &m.failed)),
                    failure_rate: if m.recorded {
                        percent(failure_rate(m))
                    } else {
                        String::new()
                    },
                    workers: connected,
                    unattended: connected == Some(0) && s.counts.waiting > 0 && !s.paused,
                }
            })
            .collect();
        let totals = JobState::ALL
            .iter()
            .map(|state| summaries.iter().map(|(s, _)| s.counts.get(*state)).sum())
            .collect();
        OverviewPage {
            chrome,
            perms,
            rows,
            filter,
            show_prefix: links.with_prefix,
            discovering,
            states: JobState::ALL.iter().map(|s| s.as_str()).collect(),
            totals,
            alerts: Vec::new(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Queue page

pub struct JobRow {
    pub id: String,
    pub href: String,
    pub retry_url: String,
    pub promote_url: String,
    pub remove_url: String,
    pub name: String,
    pub added: String,
    pub processed: String,
    pub finished: String,
    pub attempts: i64,
    pub progress: String,
    pub reason: String,
    pub problem: bool,
    /// For parents in waiting-children: children still pending.
    pub pending_children: Option<u64>,
}

pub struct Pager {
    pub page: u64,
    pub pages: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/queue.html")]
pub struct QueuePage {
    pub chrome: Chrome,
    pub perms: Perms,
    /// Where forms come back to: this very page.
    pub back: String,
    pub pause_url: String,
    pub resume_url: String,
    pub retry_failed_url: String,
    pub promote_delayed_url: String,
    pub bulk_url: String,
    pub add_url: String,
    pub clean_url: String,
    pub drain_url: String,
    pub obliterate_url: String,
    pub can_retry_rows: bool,
    pub can_promote_rows: bool,
    pub failed_count: u64,
    pub delayed_count: u64,
    pub name: String,
    pub prefix: String,
    pub show_prefix: bool,
    pub paused: bool,
    pub global_concurrency: Option<u64>,
    pub scheduler_count: u64,
    pub version: String,
    pub tabs: Vec<StateCell>,
    pub state: &'static str,
    pub rows: Vec<JobRow>,
    pub total: u64,
    pub per_page: u64,
    pub newest_first: bool,
    pub pager: Pager,
    pub order_href: String,
    pub action: String,
    pub metrics_href: String,
    pub schedulers_href: String,
    pub workers_href: String,
}

impl QueuePage {
    pub fn new(
        chrome: Chrome,
        perms: Perms,
        links: &Links,
        summary: &QueueSummary,
        page: &JobPage,
        order: Order,
    ) -> Self {
        let queue = summary.queue();
        let now = now_ms();
        let rows = page
            .jobs
            .iter()
            .map(|job| JobRow {
                id: job.id.clone(),
                href: links.job(&queue, &job.id),
                retry_url: links.job_action(&queue, &job.id, "retry"),
                promote_url: links.job_action(&queue, &job.id, "promote"),
                remove_url: links.job_action(&queue, &job.id, "remove"),
                name: job.name.clone().unwrap_or_default(),
                added: relative_time(job.timestamp, now),
                processed: relative_time(job.processed_on, now),
                finished: relative_time(job.finished_on, now),
                attempts: job.attempts_made,
                progress: progress_text(&job.progress),
                reason: job
                    .failed_reason
                    .as_deref()
                    .map(|r| excerpt(r, 120))
                    .unwrap_or_default(),
                problem: !job.notes.is_empty(),
                pending_children: job.pending_children,
            })
            .collect();
        let pages = page.total.div_ceil(page.per_page).max(1);
        let tab = links.tab(&queue, page.state);
        let order_param = if order == Order::OldestFirst {
            "&order=oldest"
        } else {
            ""
        };
        let page_href = |n: u64| format!("{tab}&page={n}&per_page={}{order_param}", page.per_page);
        let pager = Pager {
            page: page.page,
            pages,
            prev: (page.page > 1).then(|| page_href(page.page - 1)),
            next: (page.page < pages).then(|| page_href(page.page + 1)),
        };
        let flipped = if order == Order::OldestFirst {
            ""
        } else {
            "&order=oldest"
        };
        let clean_state = if JobState::ALL.contains(&page.state)
            && crate::queue::actions::CLEANABLE.contains(&page.state)
        {
            page.state
        } else {
            JobState::Completed
        };
        QueuePage {
            chrome,
            perms,
            back: page_href(page.page),
            pause_url: links.queue_action(&queue, "pause"),
            resume_url: links.queue_action(&queue, "resume"),
            retry_failed_url: links.queue_action(&queue, "retry-failed"),
            promote_delayed_url: links.queue_action(&queue, "promote-delayed"),
            bulk_url: links.queue_action(&queue, "bulk"),
            add_url: links.action_page(&queue, "add"),
            clean_url: format!(
                "{}{}state={}",
                links.action_page(&queue, "clean"),
                if links.with_prefix { '&' } else { '?' },
                clean_state.as_str()
            ),
            drain_url: links.action_page(&queue, "drain"),
            obliterate_url: links.action_page(&queue, "obliterate"),
            can_retry_rows: matches!(page.state, JobState::Failed | JobState::Completed),
            can_promote_rows: page.state == JobState::Delayed,
            failed_count: summary.counts.failed,
            delayed_count: summary.counts.delayed,
            name: summary.name.clone(),
            prefix: summary.prefix.clone(),
            show_prefix: links.with_prefix,
            paused: summary.paused,
            global_concurrency: summary.global_concurrency,
            scheduler_count: summary.scheduler_count,
            version: summary.version.clone().unwrap_or_default(),
            tabs: state_cells(links, &queue, &summary.counts, Some(page.state)),
            state: page.state.as_str(),
            rows,
            total: page.total,
            per_page: page.per_page,
            newest_first: order == Order::NewestFirst,
            pager,
            order_href: format!("{tab}&per_page={}{flipped}", page.per_page),
            action: links.queue(&queue),
            metrics_href: links.queue_sub(&queue, "metrics"),
            schedulers_href: links.queue_sub(&queue, "schedulers"),
            workers_href: links.queue_sub(&queue, "workers"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Job page

pub struct Field {
    pub label: &'static str,
    pub value: String,
}

pub struct JsonBlock {
    pub label: &'static str,
    pub text: String,
    pub truncated: bool,
    pub raw_href: String,
}

pub struct ChildLink {
    pub label: String,
    pub href: String,
    pub detail: String,
}

pub struct LogView {
    pub lines: Vec<String>,
    pub total: u64,
    pub first_line: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/job.html")]
pub struct JobPageView {
    pub chrome: Chrome,
    pub perms: Perms,
    pub retry_url: Option<String>,
    pub promote_url: Option<String>,
    pub remove_url: String,
    pub duplicate_url: String,
    pub edit_url: String,
    pub queue_name: String,
    pub queue_href: String,
    pub id: String,
    pub name: String,
    pub state: String,
    pub state_href: String,
    pub fields: Vec<Field>,
    pub blocks: Vec<JsonBlock>,
    pub failed_reason: String,
    pub stacktrace: Vec<String>,
    pub notes: Vec<String>,
    pub logs: LogView,
    pub parent: Option<ChildLink>,
    /// The parent's state ("unknown" when the parent is gone).
    pub parent_state: String,
    /// The flow page, for jobs with a parent or children.
    pub flow_href: Option<String>,
    pub pending: Vec<ChildLink>,
    pub processed: Vec<ChildLink>,
    pub failed: Vec<ChildLink>,
    pub pending_count: u64,
    pub processed_count: u64,
    pub failed_count: u64,
}

fn child_link(links: &Links, child: &ChildRef, detail: String) -> ChildLink {
    let queue = QueueRef::new(&child.prefix, &child.queue);
    ChildLink {
        label: format!("{} / {}", child.queue, child.id),
        href: links.job(&queue, &child.id),
        detail,
    }
}

fn parent_link(links: &Links, parent: &ParentRef) -> ChildLink {
    let queue = QueueRef::new(&parent.prefix, &parent.queue);
    ChildLink {
        label: format!("{} / {}", parent.queue, parent.id),
        href: links.job(&queue, &parent.id),
        detail: String::new(),
    }
}

fn job_fields(job: &Job, now: i64) -> Vec<Field> {
    let time = |ms: Option<i64>| match ms {
        Some(_) => format!("{} UTC ({})", format_time(ms), relative_time(ms, now)),
        None => String::new(),
    };
    let mut fields = vec![
        Field {
            label: "Added",
            value: time(job.timestamp),
        },
        Field {
            label: "Processed",
            value: time(job.processed_on),
        },
        Field {
            label: "Finished",
            value: time(job.finished_on),
        },
        Field {
            label: "Attempts made",
            value: job.attempts_made.to_string(),
        },
        Field {
            label: "Attempts started",
            value: job.attempts_started.to_string(),
        },
    ];
    let optional = [
        (
            "Delay",
            (job.delay != 0).then(|| format!("{} ms", job.delay)),
        ),
        (
            "Priority",
            (job.priority != 0).then(|| job.priority.to_string()),
        ),
        (
            "Stalled",
            (job.stalled_counter != 0).then(|| job.stalled_counter.to_string()),
        ),
        ("Processed by", job.processed_by.clone()),
        ("Scheduler", job.repeat_job_key.clone()),
        ("Deduplication id", job.deduplication_id.clone()),
        ("Next scheduled job", job.next_repeatable_job_id.clone()),
        ("Deferred failure", job.deferred_failure.clone()),
    ];
    for (label, value) in optional {
        if let Some(value) = value {
            fields.push(Field { label, value });
        }
    }
    fields
}

impl JobPageView {
    pub fn new(
        chrome: Chrome,
        perms: Perms,
        links: &Links,
        queue: &QueueRef,
        detail: &JobDetail,
        log_pages: (String, u64),
    ) -> Self {
        let job = &detail.job;
        let now = now_ms();
        let mut blocks = Vec::new();
        let (data, data_cut) = pretty(&job.data);
        blocks.push(JsonBlock {
            label: "Data",
            text: data,
            truncated: data_cut || job.data_len > DISPLAY_LIMIT,
            raw_href: links.raw(queue, &job.id, "data"),
        });
        if job.returnvalue_len > 0 {
            let (text, cut) = pretty(&job.returnvalue);
            blocks.push(JsonBlock {
                label: "Return value",
                text,
                truncated: cut || job.returnvalue_len > DISPLAY_LIMIT,
                raw_href: links.raw(queue, &job.id, "returnvalue"),
            });
        }
        let (progress, cut) = pretty(&job.progress);
        blocks.push(JsonBlock {
            label: "Progress",
            text: progress,
            truncated: cut,
            raw_href: links.raw(queue, &job.id, "progress"),
        });
        let (opts, cut) = pretty(&job.opts);
        blocks.push(JsonBlock {
            label: "Options",
            text: opts,
            truncated: cut,
            raw_href: links.raw(queue, &job.id, "opts"),
        });

        let (log_base, per_page) = log_pages;
        let logs = &detail.logs;
        let log_pages_total = logs.total.div_ceil(per_page).max(1);
        let log_href = |n: u64| {
            let sep = if log_base.contains('?') { '&' } else { '?' };
            format!("{log_base}{sep}logs_page={n}#logs")
        };
        let state = detail
            .state
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| "unknown".into());
        let id = &job.id;
        JobPageView {
            chrome,
            perms,
            retry_url: matches!(detail.state, Some(JobState::Failed | JobState::Completed))
                .then(|| links.job_action(queue, id, "retry")),
            promote_url: (detail.state == Some(JobState::Delayed))
                .then(|| links.job_action(queue, id, "promote")),
            remove_url: links.job_action(queue, id, "remove"),
            duplicate_url: links.job_action(queue, id, "duplicate"),
            edit_url: links.edit(queue, id),
            queue_name: queue.name.clone(),
            queue_href: links.queue(queue),
            id: job.id.clone(),
            name: job.name.clone().unwrap_or_default(),
            state_href: detail
                .state
                .map(|s| links.tab(queue, s))
                .unwrap_or_default(),
            state,
            fields: job_fields(job, now),
            blocks,
            failed_reason: job.failed_reason.clone().unwrap_or_default(),
            stacktrace: job.stacktrace.clone(),
            notes: job.notes.clone(),
            logs: LogView {
                lines: logs.lines.clone(),
                total: logs.total,
                first_line: (logs.page - 1) * logs.per_page + 1,
                prev: (logs.page > 1).then(|| log_href(logs.page - 1)),
                next: (logs.page < log_pages_total).then(|| log_href(logs.page + 1)),
            },
            parent: job.parent.as_ref().map(|p| parent_link(links, p)),
            parent_state: detail
                .parent_state
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "unknown".into()),
            flow_href: (job.parent.is_some() || !detail.children.is_empty())
                .then(|| links.flow(queue, id, false)),
            pending: detail
                .children
                .pending
                .iter()
                .map(|c| child_link(links, c, String::new()))
                .collect(),
            processed: detail
                .children
                .processed
                .iter()
                .map(|c| {
                    let rv = c
                        .returnvalue
                        .as_ref()
                        .map(|v| excerpt(&v.to_string(), 120))
                        .unwrap_or_default();
                    child_link(links, c, rv)
                })
                .collect(),
            failed: detail
                .children
                .failed
                .iter()
                .map(|c| child_link(links, c, c.failed_reason.clone().unwrap_or_default()))
                .collect(),
            pending_count: detail.children.pending_count,
            processed_count: detail.children.processed_count,
            failed_count: detail.children.failed_count,
        }
    }

    pub fn has_children(&self) -> bool {
        self.pending_count + self.processed_count + self.failed_count > 0
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Template)]
#[template(path = "pages/error.html")]
pub struct ErrorPage {
    pub chrome: Chrome,
    pub status: u16,
    pub heading: &'static str,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_segments() {
        assert_eq!(encode("repeat:a b/c"), "repeat%3Aa%20b%2Fc");
        assert_eq!(encode("attachment-42"), "attachment-42");
    }

    #[test]
    fn formats_times() {
        assert_eq!(format_time(Some(0)), "1970-01-01 00:00:00");
        assert_eq!(relative_time(Some(1_000), 61_000), "1m ago");
        assert_eq!(relative_time(Some(7_300_000), 100_000), "in 2h");
        assert_eq!(relative_time(None, 0), "");
    }

    #[test]
    fn truncates_large_values_on_char_boundaries() {
        let big = Value::String("é".repeat(DISPLAY_LIMIT));
        let (text, cut) = pretty(&big);
        assert!(cut);
        assert!(text.len() <= DISPLAY_LIMIT);
    }
}
