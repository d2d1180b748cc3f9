//! Sending alert messages: logged as a `tracing` event (target `bullring::alerts`), appended to
//! the recent alerts log, and POSTed to the rule's webhook in a background task, retried with
//! exponential backoff (1, 2, 4, 8 s) and logged when it still fails. Nothing here blocks the
//! caller or can stop the process.
//!
//! A webhook URL is never logged: a Slack or Mattermost URL is itself the key to the channel (its
//! token is in the path), so a failed delivery names the rule and the URL's scheme and host only.
//! In the `slack` format, every part made from job data or queue names is escaped as Slack asks
//! (`&`, `<`, `>`) and an `@` there cannot mention anyone in Mattermost.

use std::time::Duration;

use serde_json::json;

use super::rules::{Format, WebhookTarget};
use crate::http::{HttpsClient, WebhookUrl, client, post_json};
use crate::queue::alerts::{AlertRecord, AlertStore};

/// Tries per message.
const ATTEMPTS: u32 = 5;
/// How long one try may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The body of a message in a webhook's format.
pub fn body(format: Format, record: &AlertRecord) -> serde_json::Value {
    match format {
        Format::Json => json!({
            "status": record.status,
            "rule": record.rule,
            "kind": record.kind,
            "connection": record.connection,
            "prefix": record.prefix,
            "queue": record.queue,
            "title": record.title,
            "text": record.text,
            "url": record.url,
            "at_ms": record.at_ms,
        }),
        Format::Slack => {
            let icon = if record.status == "resolved" {
                "✅"
            } else {
                "🚨"
            };
            let link = if record.url.is_empty() {
                String::new()
            } else {
                format!(" <{}|open>", slack_link(&record.url))
            };
            let (title, text) = (slack_text(&record.title), slack_text(&record.text));
            json!({ "text": format!("{icon} *{title}*{link}\n{text}") })
        }
    }
}

/// Text from job data or queue names made inert in a Slack message: `&`, `<`, `>` escaped as
/// Slack's formatting rules ask (so `<!channel>` is shown, not sent), and a word joiner (U+2060)
/// after each `@` (Mattermost turns `@channel` or `@name` in the text into a mention).
pub fn slack_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '@' => out.push_str("@\u{2060}"),
            c => out.push(c),
        }
    }
    out
}

/// A URL inside `<url|label>`: escaped like text, and a `|` (which would end the URL) encoded.
fn slack_link(url: &str) -> String {
    slack_text(url).replace('|', "%7C")
}

/// Sends messages. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    store: AlertStore,
    client: HttpsClient,
}

impl Notifier {
    pub fn new(store: AlertStore) -> Self {
        Notifier {
            store,
            client: client(),
        }
    }

    /// Record the message and send it in the background.
    pub async fn send(&self, target: &WebhookTarget, record: AlertRecord) {
        let (status, rule, queue) = (&record.status, &record.rule, &record.queue);
        let connection = &record.connection;
        tracing::warn!(target: "bullring::alerts", %status, %rule, %connection, %queue, title = %record.title, text = %record.text, "alert");
        if let Err(err) = self.store.log(&record).await {
            tracing::warn!(error = %err, "alerts: the recent alerts log could not be written");
        }
        let payload = body(target.format, &record).to_string().into_bytes();
        let headers: Vec<(String, String)> = target
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let url = WebhookUrl::new(&target.url).path_is_secret();
        let rule = record.rule.clone();
        let client = self.client.clone();
        tokio::spawn(async move {
            let mut wait = Duration::from_secs(1);
            for attempt in 1..=ATTEMPTS {
                match post_json(&client, &url, &headers, payload.clone(), TIMEOUT).await {
                    Ok(status) if status.is_success() => return,
                    Ok(status) => {
                        tracing::warn!(%rule, webhook = %url, %status, attempt, "alerts: webhook refused the message")
                    }
                    Err(err) => {
                        let error = url.scrub(&crate::queue::error::chain(&err));
                        tracing::warn!(%rule, webhook = %url, %error, attempt, "alerts: webhook not reached")
                    }
                }
                if attempt < ATTEMPTS {
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
            tracing::error!(%rule, webhook = %url, "alerts: message dropped after {ATTEMPTS} tries");
        });
    }
}
