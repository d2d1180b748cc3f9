//! Rust closures as BullMQ job handlers, registered by job name.
//!
//! ```sh
//! redis-server --port 6390 --save '' &        # any Redis will do
//! REDIS_URL=redis://127.0.0.1:6390 cargo run --example closures
//! ```
//!
//! The example declares a queue and a worker in TOML (the same keys as the config file),
//! registers two closures, adds three jobs the way a producer would (Node's `queue.add` or
//! `bullring add` work the same), waits until they are finished, prints them and stops.

use std::time::Duration;

use bullring::config::Config;
use bullring::runner::{JobError, Runner, RunnerJob};
use serde_json::json;

const CONFIG: &str = r#"
[[queues]]
name = "emails"
[queues.defaults]
attempts = 3
backoff = { type = "exponential", delay_ms = 200 }

# No handler: jobs are dispatched by name to the closures registered below.
[[workers]]
queue = "emails"
concurrency = 4
"#;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into());
    let config = Config::from_toml(&format!(
        "redis_url = \"{url}\"\nprefixes = [\"example\"]\n{CONFIG}"
    ))?;

    let runner = Runner::builder(&config)
        .handler("send-email", |job: RunnerJob| async move {
            let to = job.data()["to"]
                .as_str()
                .ok_or_else(|| JobError::fatal("data.to is missing"))?
                .to_string();
            job.log(&format!("sending to {to}")).await?;
            job.progress(json!(50)).await?;
            // A temporary failure on the first attempt: BullMQ retries with backoff.
            if to.ends_with("@flaky.example") && job.attempt() == 1 {
                return Err(JobError::retry("SMTP server busy").with_detail("421 4.3.2 try later"));
            }
            Ok(json!({ "delivered": to, "attempt": job.attempt() }))
        })
        .handler("bounce", |_job: RunnerJob| async move {
            Err::<serde_json::Value, _>(JobError::fatal("mailbox does not exist"))
        })
        .start()
        .await?;

    let queue = bullmq::Queue::with_options(
        "emails",
        bullmq::QueueOptions {
            connection: config
                .redis
                .clone()
                .expect("redis_url is set")
                .engine_options(),
            prefix: "example".into(),
            default_job_options: config.runner.defaults("emails"),
            ..Default::default()
        },
    )
    .await?;
    let mut ids = Vec::new();
    for (name, to) in [
        ("send-email", "ann@example.com"),
        ("send-email", "bob@flaky.example"),
        ("bounce", "nobody@example.com"),
    ] {
        ids.push(queue.add(name, json!({ "to": to })).await?.id().to_string());
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    for id in &ids {
        loop {
            let job = queue.get_job(id).await?.expect("job exists");
            let state = job.get_state().await?;
            let done = matches!(
                state,
                bullmq::JobState::Completed | bullmq::JobState::Failed
            );
            if done {
                let job = queue.get_job(id).await?.expect("job exists");
                println!(
                    "job {id} {} {state:?}: attempts {} return {} reason {:?}",
                    job.name(),
                    job.attempts_made(),
                    job.returnvalue(),
                    job.failed_reason()
                );
                break;
            }
            anyhow::ensure!(
                tokio::time::Instant::now() < deadline,
                "job {id} did not finish"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    runner.shutdown().await;
    queue.close().await;
    Ok(())
}
