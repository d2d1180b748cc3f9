//! The alerts loop: every `interval_secs`, read every queue's state and the alerts' own
//! bookkeeping in a constant number of round trips, read the events streams past their stored
//! positions, and decide which messages to send; Redis is written only where something changed. Sending happens in background tasks (`notify`), so a slow webhook never holds the loop
//! up, and nothing here can stop the process: errors are logged and the next round tries again.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::notify::Notifier;
use super::rules::{AlertsConfig, Condition, Rule};
use crate::queue::alerts::{AlertRecord, AlertStore, FailedEvent};
use crate::queue::discovery::Discovery;
use crate::queue::error::Result;
use crate::queue::metrics::QueueMetrics;
use crate::queue::model::{QueueRef, QueueSummary};
use crate::queue::read::Reader;
use crate::queue::workers::WorkerClient;

/// Events read per queue and round; a longer backlog is read over the next rounds.
const EVENTS_PER_ROUND: usize = 500;

/// The alerts engine of one process.
pub struct Engine {
    config: AlertsConfig,
    reader: Reader,
    discovery: Discovery,
    store: AlertStore,
    notifier: Notifier,
    /// Dashboard base path, for links when no `dashboard_url` is set.
    base_path: String,
}

impl Engine {
    pub fn new(
        config: AlertsConfig,
        reader: Reader,
        discovery: Discovery,
        store: AlertStore,
        base_path: &str,
    ) -> Self {
        Engine {
            config,
            reader,
            discovery,
            store: store.clone(),
            notifier: Notifier::new(store),
            base_path: base_path.to_string(),
        }
    }

    /// Run until `cancel` fires.
    pub fn spawn(self, cancel: CancellationToken) {
        tokio::spawn(async move {
            let every = Duration::from_secs(self.config.interval_secs);
            loop {
                if let Err(err) = self.round().await {
                    tracing::warn!(error = %err, "alerts: this round failed; trying again next round");
                }
                tokio::select! {
                    _ = cancel.cancelled() => return,
                    _ = tokio::time::sleep(every) => {}
                }
            }
        });
    }

    /// One pass over every rule and queue.
    pub async fn round(&self) -> Result<()> {
        let queues = self.discovery.snapshot().queues;
        let now = chrono::Utc::now().timestamp_millis();
        self.final_failures(&queues).await?;
        let minutes = self
            .config
            .rules
            .iter()
            .filter_map(|r| match r.condition {
                Condition::FailureRate { window_minutes, .. } => Some(window_minutes),
                _ => None,
            })
            .max()
            .unwrap_or(1);
        let (rows, workers) = self.reader.overview_with(&queues, now, minutes).await?;
        // What is active or pending already: Redis is written only where something changes.
        let (active, pending) = self.store.bookkeeping().await?;
        let needs_age = self.config.rules.iter().any(|r| {
            matches!(
                r.condition,
                Condition::Backlog {
                    max_age_ms: Some(_),
                    ..
                }
            )
        });
        let oldest = if needs_age {
            let refs: Vec<QueueRef> = rows.iter().map(|(s, _)| s.queue()).collect();
            self.store.oldest_waiting(&refs).await?
        } else {
            vec![None; rows.len()]
        };
        for ((summary, metrics), oldest) in rows.iter().zip(oldest) {
            for rule in self
                .config
                .rules
                .iter()
                .filter(|r| r.applies_to(&summary.name))
            {
                let state = State {
                    summary,
                    metrics,
                    workers: workers.as_deref(),
                    oldest,
                    now,
                    active: &active,
                    pending: &pending,
                };
                if let Err(err) = self.check(rule, &state).await {
                    tracing::warn!(rule = %rule.id, queue = %summary.name, error = %err, "alerts: check failed");
                }
            }
        }
        Ok(())
    }

    fn link(&self, path: &str) -> String {
        match &self.config.dashboard_url {
            Some(url) => format!("{url}{path}"),
            None => format!("{}{path}", self.base_path),
        }
    }

    fn record(
        &self,
        rule: &Rule,
        queue: &QueueRef,
        title: String,
        text: String,
        url: String,
        at_ms: i64,
    ) -> AlertRecord {
        AlertRecord {
            id: String::new(),
            status: "firing".into(),
            rule: rule.id.clone(),
            kind: rule.condition.kind().into(),
            // The rule watches one connection's queues: the engine runs per connection.
            connection: rule.connection.clone(),
            prefix: queue.prefix.clone(),
            queue: queue.name.clone(),
            title,
            text,
            url,
            at_ms,
        }
    }

    /// Failed events past each queue's position, for the final-failure rules: a constant number
    /// of round trips (positions, events, job names, claims, new positions), plus one cool-down
    /// claim per message when a cool-down is set.
    async fn final_failures(&self, queues: &[QueueRef]) -> Result<()> {
        let rules: Vec<&Rule> = self
            .config
            .rules
            .iter()
            .filter(|r| r.condition == Condition::FinalFailure)
            .collect();
        let watched: Vec<QueueRef> = queues
            .iter()
            .filter(|q| rules.iter().any(|r| r.applies_to(&q.name)))
            .cloned()
            .collect();
        if watched.is_empty() {
            return Ok(());
        }
        let positions = self.store.positions(&watched).await?;
        let batches = self
            .store
            .read_events(&watched, &positions, EVENTS_PER_ROUND)
            .await?;
        let failed: Vec<(&QueueRef, &FailedEvent)> = watched
            .iter()
            .zip(&batches)
            .flat_map(|(queue, batch)| batch.failed.iter().map(move |event| (queue, event)))
            .collect();
        let names = self
            .store
            .job_names(
                &failed
                    .iter()
                    .map(|(q, e)| (*q, e.job_id.as_str()))
                    .collect::<Vec<_>>(),
            )
            .await?;
        // Each (rule, event) is claimed once, so it is one message across processes and restarts.
        let mut claims = Vec::new();
        for (i, (queue, _)) in failed.iter().enumerate() {
            for rule in rules.iter().filter(|r| r.applies_to(&queue.name)) {
                claims.push((i, *rule));
            }
        }
        let won = self
            .store
            .claim_events(
                &claims
                    .iter()
                    .map(|(i, rule)| (rule.id.as_str(), failed[*i].0, failed[*i].1.entry.as_str()))
                    .collect::<Vec<_>>(),
            )
            .await?;
        for ((i, rule), won) in claims.iter().zip(won) {
            let (queue, event) = failed[*i];
            if !won {
                continue;
            }
            if !self
                .store
                .claim_cooldown(&rule.id, queue, rule.cooldown_secs)
                .await?
            {
                tracing::info!(rule = %rule.id, queue = %queue.name, job = %event.job_id, "alerts: final failure within the cool-down, not sent");
                continue;
            }
            let (name, stored_reason) = names[*i].clone();
            let name = name.unwrap_or_default();
            let reason = if event.reason.is_empty() {
                stored_reason.unwrap_or_default()
            } else {
                event.reason.clone()
            };
            let at = event.at_ms;
            let record = self.record(
                rule,
                queue,
                format!(
                    "Job {} ({name}) of {} failed for good",
                    event.job_id, queue.name
                ),
                reason,
                self.link(&format!(
                    "/queues/{}/jobs/{}",
                    crate::web::links::encode(&queue.name),
                    crate::web::links::encode(&event.job_id)
                )),
                at,
            );
            self.notifier.send(&rule.webhook, record).await;
        }
        let moved: Vec<(&QueueRef, &str)> = watched
            .iter()
            .zip(&batches)
            .zip(&positions)
            .filter_map(|((queue, batch), position)| {
                let last = batch.last.as_deref()?;
                (position.as_deref() != Some(last)).then_some((queue, last))
            })
            .collect();
        self.store.save_positions(&moved).await
    }

    /// A condition rule on one queue: fire when it starts holding, resolve when it stops.
    async fn check(&self, rule: &Rule, state: &State<'_>) -> Result<()> {
        let queue = state.summary.queue();
        let field = AlertStore::field(&rule.id, &queue);
        let firing = match &rule.condition {
            Condition::FinalFailure => return Ok(()),
            Condition::FailureRate {
                window_minutes,
                max_failures,
                max_percent,
            } => failure_rate(state.metrics, *window_minutes, *max_failures, *max_percent),
            Condition::Backlog {
                max_waiting,
                max_age_ms,
            } => backlog(state, *max_waiting, *max_age_ms),
            Condition::NoWorker { for_ms } => {
                let unattended = state.summary.counts.waiting > 0
                    && !state.summary.paused
                    && state.workers.is_some_and(|list| {
                        !list
                            .iter()
                            .any(|w| w.prefix == queue.prefix && w.queue == queue.name)
                    });
                if unattended {
                    let since = match state.pending.get(&field) {
                        Some(since) => *since,
                        None => self.store.first_seen(&rule.id, &queue, state.now).await?,
                    };
                    (state.now - since >= *for_ms).then(|| {
                        format!(
                            "{} jobs waiting and no worker connected for {} s",
                            state.summary.counts.waiting,
                            (state.now - since) / 1000
                        )
                    })
                } else {
                    if state.pending.contains_key(&field) {
                        self.store.clear_seen(&rule.id, &queue).await?;
                    }
                    None
                }
            }
        };
        let url = self.link(&format!(
            "/queues/{}",
            crate::web::links::encode(&queue.name)
        ));
        match firing {
            Some(_) if state.active.contains(&field) => {}
            None if !state.active.contains(&field) => {}
            Some(text) => {
                let title = format!("{}: {} on {}", rule.id, rule.condition.kind(), queue.name);
                let record = self.record(rule, &queue, title, text, url, state.now);
                if self.store.activate(&rule.id, &queue, &record).await?
                    && self
                        .store
                        .claim_cooldown(&rule.id, &queue, rule.cooldown_secs)
                        .await?
                {
                    self.notifier.send(&rule.webhook, record).await;
                }
            }
            None => {
                if self.store.resolve(&rule.id, &queue).await? {
                    let mut record = self.record(
                        rule,
                        &queue,
                        format!("Resolved: {} on {}", rule.id, queue.name),
                        format!("{} no longer holds", rule.condition.kind()),
                        url,
                        state.now,
                    );
                    record.status = "resolved".into();
                    self.notifier.send(&rule.webhook, record).await;
                }
            }
        }
        Ok(())
    }
}

/// What a condition rule looks at for one queue.
struct State<'a> {
    summary: &'a QueueSummary,
    metrics: &'a QueueMetrics,
    workers: Option<&'a [WorkerClient]>,
    oldest: Option<i64>,
    now: i64,
    /// Fields (`AlertStore::field`) of the conditions active at the start of the round.
    active: &'a HashSet<String>,
    /// First-seen times of pending conditions, by field.
    pending: &'a HashMap<String, i64>,
}

/// The message when the failure rate is over a limit, from the last `minutes` of metrics.
fn failure_rate(
    metrics: &QueueMetrics,
    minutes: usize,
    max_failures: Option<u64>,
    max_percent: Option<f64>,
) -> Option<String> {
    if !metrics.recorded {
        return None;
    }
    let tail = |v: &[u64]| -> u64 { v.iter().rev().take(minutes).sum() };
    let failed = tail(&metrics.failed.per_minute);
    let completed = tail(&metrics.completed.per_minute);
    let finished = failed + completed;
    let percent = (finished > 0).then(|| failed as f64 * 100.0 / finished as f64);
    let over_count = max_failures.is_some_and(|max| failed > max);
    let over_percent = matches!((max_percent, percent), (Some(max), Some(p)) if p > max);
    (over_count || over_percent).then(|| {
        format!(
            "{failed} failed of {finished} finished in the last {minutes} min ({:.1} %)",
            percent.unwrap_or(0.0)
        )
    })
}

fn backlog(state: &State<'_>, max_waiting: Option<u64>, max_age_ms: Option<i64>) -> Option<String> {
    let waiting = state.summary.counts.waiting;
    if let Some(max) = max_waiting
        && waiting > max
    {
        return Some(format!("{waiting} jobs waiting (more than {max})"));
    }
    if let (Some(max), Some(oldest)) = (max_age_ms, state.oldest) {
        let age = state.now - oldest;
        if age > max {
            return Some(format!(
                "the oldest waiting job has waited {} s (more than {} s)",
                age / 1000,
                max / 1000
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::queue::metrics::Series;

    #[test]
    fn rate_counts_only_the_window() {
        let metrics = QueueMetrics {
            completed: Series {
                per_minute: vec![100, 0, 0, 9],
                ..Series::default()
            },
            failed: Series {
                per_minute: vec![50, 0, 1, 11],
                ..Series::default()
            },
            recorded: true,
        };
        let text = failure_rate(&metrics, 2, Some(10), None).unwrap();
        assert!(text.starts_with("12 failed of 21 finished"), "{text}");
        assert!(failure_rate(&metrics, 2, Some(12), None).is_none());
        assert!(failure_rate(&metrics, 2, None, Some(50.0)).is_some());
        assert!(failure_rate(&metrics, 2, None, Some(60.0)).is_none());
        let off = QueueMetrics::default();
        assert!(failure_rate(&off, 2, Some(0), None).is_none());
    }
}
