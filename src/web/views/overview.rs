//! The overview: every queue with its counts, throughput, failure rate and workers; with a
//! delimiter, the queues whose names share a prefix up to it gathered in groups (see
//! [`crate::queue::groups`]), each with the sum of each state's count and the group's pause /
//! resume / retry-failed buttons. Grouping is done on the rows already read, in memory: it
//! costs no Redis round trip.

use askama::Template;

use super::format::percent;
use super::queue::{StateCell, state_cells};
use super::{Button, Chrome, Links, Perms};
use crate::queue::action::Action;
use crate::queue::groups::group_of;
use crate::queue::metrics::{QueueMetrics, failure_rate};
use crate::queue::model::{JobState, QueueSummary};
use crate::queue::workers::WorkerClient;
use crate::web::charts;
use crate::web::i18n;

pub struct QueueRow {
    pub name: String,
    pub prefix: String,
    pub href: String,
    pub metrics_href: String,
    pub workers_href: String,
    pub paused: bool,
    /// The queue's library ("BullMQ 6", "Bull").
    pub badge: String,
    pub library: &'static str,
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

/// One connection on the overview of several: its state and its queues' rolled-up counts.
pub struct ConnectionRow {
    pub name: String,
    pub label: String,
    /// The label badge's color class.
    pub color: &'static str,
    /// The connection's own overview.
    pub href: String,
    pub up: bool,
    /// How long its read took ("1.2 ms"); empty when down.
    pub latency: String,
    /// Why it is down; empty when up.
    pub error: String,
    pub queues: usize,
    /// The sum of each state's count over its queues, in `JobState::ALL`'s order (empty: down).
    pub totals: Vec<u64>,
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
    /// Pause all, resume all.
    pub buttons: Vec<Button>,
    pub totals: Vec<u64>,
    /// Active alerts: title, text, link.
    pub alerts: Vec<(String, String, String)>,
    /// Every connection, when there are several (empty with one).
    pub connections: Vec<ConnectionRow>,
    /// The queue groups, when queues are grouped by a delimiter (their queues are then not in
    /// `rows`).
    pub groups: Vec<GroupRow>,
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
                    cells: state_cells(links, &queue, &s.counts, &JobState::ALL, None),
                    badge: s.badge(),
                    library: s.library.as_str(),
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
        let buttons = [Action::PauseAll, Action::ResumeAll]
            .into_iter()
            .filter(|action| perms.may(*action))
            .map(|action| {
                Button::new(action, links.all_action(action))
                    .asking(i18n::t("overview.pause_all_confirm").into())
            })
            .collect();
        OverviewPage {
            chrome,
            perms,
            buttons,
            rows,
            filter,
            show_prefix: links.with_prefix,
            discovering,
            states: JobState::ALL.iter().map(|s| s.as_str()).collect(),
            totals,
            alerts: Vec::new(),
            connections: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// The same page with the queues whose names share a prefix up to `delimiter` gathered in
    /// groups (see [`crate::queue::groups`]).
    pub fn grouped(mut self, delimiter: &str, links: &Links) -> Self {
        let rows = std::mem::take(&mut self.rows);
        (self.groups, self.rows) = group_rows(rows, delimiter, links, &self.perms);
        self
    }

    /// How many queues the page shows, grouped or not.
    pub fn queue_count(&self) -> usize {
        self.rows.len() + self.groups.iter().map(|g| g.rows.len()).sum::<usize>()
    }
}

/// One group of queues on the overview.
pub struct GroupRow {
    pub name: String,
    /// Its queues' rows, in the overview's order.
    pub rows: Vec<QueueRow>,
    /// Each state with the sum of its count over the group's queues, in the columns' order.
    pub totals: Vec<(&'static str, u64)>,
    /// How many of its queues are paused.
    pub paused: usize,
    /// Pause, resume and retry-failed of the whole group, as the principal may take them.
    pub buttons: Vec<Button>,
}

/// Split `rows` into the groups of `delimiter` (in the order each group first appears) and the
/// rows of queues in no group.
pub fn group_rows(
    rows: Vec<QueueRow>,
    delimiter: &str,
    links: &Links,
    perms: &Perms,
) -> (Vec<GroupRow>, Vec<QueueRow>) {
    let mut groups: Vec<GroupRow> = Vec::new();
    let mut alone = Vec::new();
    for row in rows {
        let Some(name) = group_of(&row.name, delimiter).map(String::from) else {
            alone.push(row);
            continue;
        };
        let at = match groups.iter().position(|g| g.name == name) {
            Some(at) => at,
            None => {
                groups.push(GroupRow {
                    buttons: buttons(&name, links, perms),
                    name,
                    rows: Vec::new(),
                    totals: row.cells.iter().map(|c| (c.state, 0)).collect(),
                    paused: 0,
                });
                groups.len() - 1
            }
        };
        let group = &mut groups[at];
        for (total, cell) in group.totals.iter_mut().zip(&row.cells) {
            total.1 += cell.count;
        }
        group.paused += usize::from(row.paused);
        group.rows.push(row);
    }
    (groups, alone)
}

/// The group's buttons the principal may use.
fn buttons(group: &str, links: &Links, perms: &Perms) -> Vec<Button> {
    [Action::Pause, Action::Resume, Action::RetryFailed]
        .into_iter()
        .filter(|action| perms.may(*action))
        .map(|action| {
            let url = links.group_action(group, action);
            let question = i18n::tf(
                &format!("overview.group_confirm.{}", action.name()),
                &[("group", &group)],
            );
            let mut button = Button::new(action, url)
                .labelled(i18n::t(&format!("overview.group_button.{}", action.name())));
            // Pausing many queues asks first, as pause-all does; resuming does not.
            if action != Action::Resume {
                button.confirm = Some(question);
            }
            button
        })
        .collect()
}
