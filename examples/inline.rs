//! A producer that adds jobs to Redis, and runs them in-process when the app chooses to.
//!
//! ```sh
//! REDIS_URL=redis://127.0.0.1:6390 cargo run --example inline     # queued in Redis
//! BULLRING_QUEUE_ENABLED=false cargo run --example inline          # run inline, no Redis at all
//! REDIS_URL=redis://127.0.0.1:1 cargo run --example inline         # Redis down: the app falls back
//! ```
//!
//! bullring never runs a job inline behind the app's back: in queue mode an unreachable Redis is
//! an error (`ProduceError::Unavailable`). Falling back is the app's explicit choice, made below
//! with a second producer built in inline mode from the same handlers.

use bullring::config::Config;
use bullring::runner::{AddOptions, Added, JobError, ProduceError, Producer, RunnerJob};
use serde_json::{Value, json};

const CONFIG: &str = r#"
[[queues]]
name = "emails"
[queues.defaults]
attempts = 3
backoff = { type = "exponential", delay_ms = 200 }
"#;

/// The app's job handler, used by its workers and, inline, by its producer.
async fn send_email(job: RunnerJob) -> Result<Value, JobError> {
    job.log(&format!("sending to {}", job.data()["to"])).await?;
    Ok(json!({ "sent": true }))
}

fn producer(config: &Config, inline: Option<bool>) -> Producer {
    let builder = Producer::builder(config).handler("send-email", send_email);
    match inline {
        Some(inline) => builder.inline(inline).build(),
        // BULLRING_QUEUE_ENABLED=false makes the default inline.
        None => builder.build(),
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let redis_url =
        std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_string());
    let config = Config::from_toml(&format!("redis_url = \"{redis_url}\"\n{CONFIG}"))?;
    let data = json!({ "to": "ada@example.com" });

    let added = match producer(&config, None)
        .add("emails", "send-email", data.clone(), AddOptions::default())
        .await
    {
        Err(ProduceError::Unavailable(why)) => {
            // The app's decision: send the email now rather than not at all.
            eprintln!("Redis is unavailable ({why}); sending in-process instead");
            producer(&config, Some(true))
                .add("emails", "send-email", data, AddOptions::default())
                .await?
        }
        other => other?,
    };
    match added {
        Added::Queued { id } => println!("queued as job {id}; a worker will send it"),
        Added::Ran { result, logs, .. } => println!("sent in-process: {result} (log: {logs:?})"),
    }
    Ok(())
}
