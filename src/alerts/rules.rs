//! The `[alerts]` section of the config file: webhooks and rules, checked once at start.
//!
//! ```toml
//! [alerts]
//! interval_secs = 5                       # how often conditions are checked
//! dashboard_url = "https://ops.example.com/admin/queues"   # for links in messages
//! [alerts.webhooks.ops]
//! url = "https://hooks.slack.com/services/..."
//! format = "slack"                        # or "json" (default)
//! headers = { "X-Token" = "..." }
//! [[alerts.rules]]
//! id = "attachments-failing"
//! kind = "final-failure"                  # failure-rate, backlog, no-worker
//! queue = "process-attachment"            # every queue when left out
//! webhook = "ops"
//! cooldown_secs = 600
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;

/// The `[alerts]` section as written.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AlertsFile {
    pub interval_secs: Option<u64>,
    pub dashboard_url: Option<String>,
    #[serde(default)]
    pub webhooks: BTreeMap<String, WebhookTarget>,
    #[serde(default)]
    pub rules: Vec<RuleFile>,
}

/// Where messages go.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct WebhookTarget {
    pub url: String,
    #[serde(default)]
    pub format: Format,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// The body of a message.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// bullring's own JSON document (see the README).
    #[default]
    Json,
    /// `{"text": ...}`, as Slack and Mattermost incoming webhooks take it.
    Slack,
}

/// One rule as written.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RuleFile {
    pub id: String,
    pub kind: String,
    pub queue: Option<String>,
    /// The connection whose queues the rule watches (default: `default`).
    pub connection: Option<String>,
    pub webhook: String,
    pub cooldown_secs: Option<u64>,
    /// failure-rate: the window (default 300 s).
    pub window_secs: Option<u64>,
    /// failure-rate: more failures than this in the window.
    pub max_failures: Option<u64>,
    /// failure-rate: a larger share of failed among finished jobs, in percent.
    pub max_failure_percent: Option<f64>,
    /// backlog: more waiting jobs than this.
    pub max_waiting: Option<u64>,
    /// backlog: the oldest waiting job is older than this.
    pub max_age_secs: Option<u64>,
    /// no-worker: waiting jobs and no worker for longer than this (default 60 s).
    pub for_secs: Option<u64>,
}

/// What a rule watches.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// A job failed for good (a `failed` event in the queue's events stream).
    FinalFailure,
    /// Failures over a window, from BullMQ's per-minute metrics.
    FailureRate {
        window_minutes: usize,
        max_failures: Option<u64>,
        max_percent: Option<f64>,
    },
    /// Too many waiting jobs, or a waiting job too old.
    Backlog {
        max_waiting: Option<u64>,
        max_age_ms: Option<i64>,
    },
    /// Waiting jobs and no worker connected, for longer than `for_ms`.
    NoWorker { for_ms: i64 },
}

impl Condition {
    pub fn kind(&self) -> &'static str {
        match self {
            Condition::FinalFailure => "final-failure",
            Condition::FailureRate { .. } => "failure-rate",
            Condition::Backlog { .. } => "backlog",
            Condition::NoWorker { .. } => "no-worker",
        }
    }
}

/// A checked rule.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    /// `None`: every queue.
    pub queue: Option<String>,
    /// The connection whose queues it watches (`default`, or a `[[connections]]` name).
    pub connection: String,
    pub condition: Condition,
    pub webhook: WebhookTarget,
    pub cooldown_secs: u64,
}

impl Rule {
    pub fn applies_to(&self, queue: &str) -> bool {
        self.queue.as_deref().is_none_or(|q| q == queue)
    }
}

/// The checked `[alerts]` section.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertsConfig {
    pub interval_secs: u64,
    pub dashboard_url: Option<String>,
    pub rules: Vec<Rule>,
}

impl AlertsConfig {
    /// The same section with only the rules that watch `connection` (`None` when it has none).
    pub fn on_connection(&self, connection: &str) -> Option<AlertsConfig> {
        let rules: Vec<Rule> = self
            .rules
            .iter()
            .filter(|r| r.connection == connection)
            .cloned()
            .collect();
        (!rules.is_empty()).then(|| AlertsConfig {
            rules,
            ..self.clone()
        })
    }
}

/// An `[alerts]` section that cannot be used: the message names the entry and what is wrong
/// with it (these are bullring's own rules, with no other error underneath).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidAlerts(pub String);

/// Check the section; the error names the entry and what is wrong.
pub fn validate(file: &AlertsFile) -> Result<Option<AlertsConfig>, InvalidAlerts> {
    if file.rules.is_empty() {
        return Ok(None);
    }
    for (name, hook) in &file.webhooks {
        if !(hook.url.starts_with("http://") || hook.url.starts_with("https://")) {
            return Err(InvalidAlerts(format!(
                "alerts.webhooks.{name}: url must start with http:// or https://, not {:?}",
                crate::http::WebhookUrl::new(&hook.url)
                    .path_is_secret()
                    .shown()
            )));
        }
    }
    let mut rules = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (i, rule) in file.rules.iter().enumerate() {
        let at = format!("alerts.rules[{i}] (id {:?})", rule.id);
        if rule.id.trim().is_empty() || rule.id.contains('|') {
            return Err(InvalidAlerts(format!(
                "{at}: id must be non-empty and without '|'"
            )));
        }
        if !seen.insert(rule.id.clone()) {
            return Err(InvalidAlerts(format!("{at}: another rule has the same id")));
        }
        let webhook = file.webhooks.get(&rule.webhook).cloned().ok_or_else(|| {
            InvalidAlerts(format!(
                "{at}: webhook {:?} is not defined under [alerts.webhooks]",
                rule.webhook
            ))
        })?;
        let condition = match rule.kind.as_str() {
            "final-failure" => Condition::FinalFailure,
            "failure-rate" => {
                let window = rule.window_secs.unwrap_or(300);
                if window < 60 {
                    return Err(InvalidAlerts(format!(
                        "{at}: window_secs must be at least 60 (BullMQ's metrics count per minute)"
                    )));
                }
                if rule.max_failures.is_none() && rule.max_failure_percent.is_none() {
                    return Err(InvalidAlerts(format!(
                        "{at}: a failure-rate rule needs max_failures or max_failure_percent"
                    )));
                }
                if let Some(p) = rule.max_failure_percent
                    && !(0.0..100.0).contains(&p)
                {
                    return Err(InvalidAlerts(format!(
                        "{at}: max_failure_percent must be in 0..100"
                    )));
                }
                Condition::FailureRate {
                    window_minutes: window.div_ceil(60) as usize,
                    max_failures: rule.max_failures,
                    max_percent: rule.max_failure_percent,
                }
            }
            "backlog" => {
                if rule.max_waiting.is_none() && rule.max_age_secs.is_none() {
                    return Err(InvalidAlerts(format!(
                        "{at}: a backlog rule needs max_waiting or max_age_secs"
                    )));
                }
                Condition::Backlog {
                    max_waiting: rule.max_waiting,
                    max_age_ms: rule.max_age_secs.map(|s| s as i64 * 1000),
                }
            }
            "no-worker" => Condition::NoWorker {
                for_ms: rule.for_secs.unwrap_or(60) as i64 * 1000,
            },
            other => {
                return Err(InvalidAlerts(format!(
                    "{at}: unknown kind {other:?} (final-failure, failure-rate, backlog, no-worker)"
                )));
            }
        };
        rules.push(Rule {
            id: rule.id.clone(),
            queue: rule.queue.clone(),
            connection: rule
                .connection
                .clone()
                .unwrap_or_else(|| crate::queue::model::DEFAULT_CONNECTION.into()),
            condition,
            webhook,
            cooldown_secs: rule.cooldown_secs.unwrap_or(600),
        });
    }
    let interval_secs = file.interval_secs.unwrap_or(5);
    if interval_secs == 0 {
        return Err(InvalidAlerts(
            "alerts.interval_secs: must be at least 1".into(),
        ));
    }
    Ok(Some(AlertsConfig {
        interval_secs,
        dashboard_url: file
            .dashboard_url
            .as_ref()
            .map(|u| u.trim_end_matches('/').to_string()),
        rules,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<AlertsConfig>, String> {
        let file: AlertsFile = toml::from_str(text).map_err(|e| e.to_string())?;
        validate(&file).map_err(|e| e.to_string())
    }

    #[test]
    fn reads_rules_and_names_bad_entries() {
        let ok = parse(
            "[webhooks.ops]\nurl = \"http://127.0.0.1:9/h\"\nformat = \"slack\"\n\
             [[rules]]\nid = \"r\"\nkind = \"failure-rate\"\nwebhook = \"ops\"\nmax_failures = 10\nwindow_secs = 300\n",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            ok.rules[0].condition,
            Condition::FailureRate {
                window_minutes: 5,
                max_failures: Some(10),
                max_percent: None
            }
        );
        assert_eq!(ok.rules[0].webhook.format, Format::Slack);
        assert!(parse("").unwrap().is_none());
        let err = parse("[[rules]]\nid = \"r\"\nkind = \"final-failure\"\nwebhook = \"x\"\n")
            .unwrap_err();
        assert!(
            err.contains("alerts.rules[0]") && err.contains("\"x\""),
            "{err}"
        );
        let err = parse(
            "[webhooks.ops]\nurl = \"http://h\"\n[[rules]]\nid = \"r\"\nkind = \"sometimes\"\nwebhook = \"ops\"\n",
        )
        .unwrap_err();
        assert!(err.contains("unknown kind"), "{err}");
        let err = parse(
            "[webhooks.ops]\nurl = \"ftp://h\"\n[[rules]]\nid = \"r\"\nkind = \"backlog\"\nwebhook = \"ops\"\n",
        )
        .unwrap_err();
        assert!(err.contains("alerts.webhooks.ops"), "{err}");
    }
}
