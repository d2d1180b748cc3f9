//! The producer API: inline mode runs handlers (with retries and backoff) without any Redis;
//! queue mode adds to Redis, and says so clearly when Redis is not there, never running the job
//! behind the app's back.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use bullring::config::Config;
use bullring::runner::{AddOptions, Added, JobError, ProduceError, Producer, RunnerJob};
use serde_json::{Value, json};

use crate::support::{free_port, redis, unique_prefix};

/// A config whose Redis is a port nothing listens on.
fn config_without_redis(defaults: &str) -> Config {
    let text = format!(
        "redis_url = \"redis://127.0.0.1:{}\"\n[[queues]]\nname = \"mail\"\n{defaults}",
        free_port()
    );
    Config::from_toml(&text).unwrap()
}

#[tokio::test]
async fn inline_mode_runs_handlers_and_retries_without_redis() {
    let config = config_without_redis(
        "[queues.defaults]\nattempts = 3\nbackoff = { type = \"exponential\", delay_ms = 5 }\n",
    );
    let tries = Arc::new(AtomicU32::new(0));
    let counter = tries.clone();
    let producer = Producer::builder(&config)
        .inline(true)
        .handler("send", move |job: RunnerJob| {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                job.log(&format!(
                    "attempt {} of {}",
                    job.attempt(),
                    job.max_attempts()
                ))
                .await?;
                if job.attempt() < 3 {
                    return Err(JobError::retry("smtp busy"));
                }
                Ok(json!({ "sent_to": job.data()["to"] }))
            }
        })
        .handler("bounce", |_job: RunnerJob| async move {
            Err::<Value, _>(JobError::fatal("mailbox does not exist"))
        })
        .build();
    assert!(producer.is_inline());

    let added = producer
        .add(
            "mail",
            "send",
            json!({ "to": "ada@example.com" }),
            AddOptions::default(),
        )
        .await
        .unwrap();
    match added {
        Added::Ran {
            result,
            attempts,
            logs,
            ..
        } => {
            assert_eq!(result, json!({ "sent_to": "ada@example.com" }));
            assert_eq!(attempts, 3);
            assert_eq!(
                logs,
                vec!["attempt 1 of 3", "attempt 2 of 3", "attempt 3 of 3"]
            );
        }
        other => panic!("not run inline: {other:?}"),
    }
    assert_eq!(tries.load(Ordering::SeqCst), 3);

    // The job's own attempts win over the queue's; they run out with the last error.
    let options = AddOptions {
        attempts: Some(2),
        ..AddOptions::default()
    };
    let err = producer
        .add("mail", "send", json!({ "to": "bob@example.com" }), options)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ProduceError::Failed { attempts: 2, error, .. } if error.reason == "smtp busy"),
        "{err}"
    );
    // A fatal error is not retried.
    let err = producer
        .add("mail", "bounce", json!({}), AddOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProduceError::Failed { attempts: 1, .. }),
        "{err}"
    );
    // A name without a handler is an error, not a silent success.
    let err = producer
        .add("mail", "unknown", json!({}), AddOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ProduceError::NoHandler(_)), "{err}");
}

#[tokio::test]
async fn queue_mode_adds_to_redis_and_never_falls_back_by_itself() {
    let ran = Arc::new(AtomicU32::new(0));
    let counter = ran.clone();
    let handler = move |_job: RunnerJob| {
        let counter = counter.clone();
        async move {
            counter.fetch_add(1, Ordering::SeqCst);
            Ok(Value::Null)
        }
    };

    // Redis unreachable: a clear error, and the handler did not run.
    let producer = Producer::builder(&config_without_redis(""))
        .inline(false)
        .handler("send", handler.clone())
        .build();
    let err = producer
        .add("mail", "send", json!({}), AddOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(err, ProduceError::Unavailable(_)), "{err}");
    assert!(err.to_string().contains("not added"), "{err}");
    assert_eq!(ran.load(Ordering::SeqCst), 0);

    // Redis there: the job is queued with its id, nothing runs in-process.
    let prefix = unique_prefix("producer");
    let config = Config::from_toml(&format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n[[queues]]\nname = \"mail\"\n",
        redis().url
    ))
    .unwrap();
    let producer = Producer::builder(&config)
        .inline(false)
        .handler("send", handler)
        .build();
    let options = AddOptions {
        job_id: Some("mail-1".into()),
        ..AddOptions::default()
    };
    let added = producer
        .add("mail", "send", json!({ "to": "ada@example.com" }), options)
        .await
        .unwrap();
    assert_eq!(
        added,
        Added::Queued {
            id: "mail-1".into()
        }
    );
    assert_eq!(ran.load(Ordering::SeqCst), 0);
    let mut conn = crate::support::conn();
    let name: Option<String> = redis::cmd("HGET")
        .arg(format!("{prefix}:mail:mail-1"))
        .arg("name")
        .query(&mut conn)
        .unwrap();
    assert_eq!(name.as_deref(), Some("send"));
}
