//! Final-failure alerts for Bull 3/4 queues, which have no events stream: read from Bull's
//! `failed` set by finish time, from a position kept in Redis (a bullring key, outside Bull's
//! keys). A job that a real Bull worker fails for good (after its two attempts) reaches a real
//! webhook receiver exactly once, whether two engines look at once, an engine restarts, or two
//! `bullring serve` processes run side by side.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::alerts::{engine, received, store, target};
use crate::bull::bull;
use crate::support::{conn, redis, unique_prefix};

fn rules(url: &str) -> String {
    format!(
        "[webhooks.ops]\nurl = \"{url}\"\n\
         [[rules]]\nid = \"gave-up\"\nkind = \"final-failure\"\nwebhook = \"ops\"\ncooldown_secs = 0\n"
    )
}

/// The message about job `id`, checked for what Bull's job says.
fn message_about<'a>(got: &'a [Value], id: &str) -> &'a Value {
    got.iter()
        .find(|m| {
            m["title"]
                .as_str()
                .unwrap_or("")
                .contains(&format!("Job {id} "))
        })
        .unwrap_or_else(|| panic!("no message for job {id}: {got:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bull_final_failure_alerts_once_across_engines_and_restarts() {
    let prefix = unique_prefix("bull-alert");
    let (url, hook) = target().await;
    // An older failure, before the engines first look: it is not alerted.
    let old = bull(&prefix, "fail", Some("pre-diagnosis"));
    let (one, two) = (
        engine(&prefix, &rules(&url)).await,
        engine(&prefix, &rules(&url)).await,
    );
    let (a, b) = tokio::join!(one.round(), two.round());
    a.unwrap();
    b.unwrap();
    let position: String = redis::cmd("HGET")
        .arg(format!("{prefix}:bullring:alerts:positions"))
        .arg(format!("{prefix}|pre-diagnosis"))
        .query(&mut conn())
        .expect("a position");
    assert_eq!(
        position,
        format!("{}-0", old["finishedOn"].as_i64().unwrap() + 1)
    );

    // A Bull worker fails a job twice (its 2 attempts): one final failure.
    let failed = bull(&prefix, "fail", Some("pre-diagnosis"));
    assert_eq!(failed["attemptsMade"], 2, "{failed}");
    let id = failed["id"].as_str().unwrap().to_string();
    let (a, b) = tokio::join!(one.round(), two.round());
    a.unwrap();
    b.unwrap();
    let got = received(&hook, 1).await;
    let message = message_about(&got, &id);
    assert_eq!(message["kind"], "final-failure");
    assert_eq!(message["queue"], "pre-diagnosis");
    assert_eq!(
        message["text"], "pre-diagnosis failed for case 7",
        "{message}"
    );
    assert!(
        message["title"].as_str().unwrap().contains("(diagnose)"),
        "{message}"
    );
    assert_eq!(message["at_ms"], failed["finishedOn"], "{message}");
    assert!(
        message["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/queues/pre-diagnosis/jobs/{id}"))
    );

    // Another round sends nothing again; a restarted engine neither repeats nor misses.
    one.round().await.unwrap();
    drop((one, two));
    let later = bull(&prefix, "fail", Some("pre-diagnosis"));
    let restarted = engine(&prefix, &rules(&url)).await;
    restarted.round().await.unwrap();
    restarted.round().await.unwrap();
    let got = received(&hook, 2).await;
    message_about(&got, later["id"].as_str().unwrap());
    assert_eq!(store(&prefix).recent(100).await.unwrap().len(), 2);
    assert_eq!(hook.lock().unwrap().len(), 2, "{:?}", hook.lock().unwrap());
}

/// `bullring serve` as a child process, killed when dropped.
struct ServeProcess(std::process::Child);

impl Drop for ServeProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_bullring_processes_send_a_bull_final_failure_once() {
    let prefix = unique_prefix("bull-alert-two");
    let (url, hook) = target().await;
    // The queue exists (with an older failure) before the processes first look at it.
    bull(&prefix, "fail", Some("pre-diagnosis"));
    let dir = std::env::temp_dir().join(format!("bullring-{prefix}"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bullring.toml");
    std::fs::write(
        &file,
        format!(
            "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\nlisten = \"127.0.0.1:0\"\n\
             [alerts]\ninterval_secs = 1\n[alerts.webhooks.ops]\nurl = \"{url}\"\n\
             [[alerts.rules]]\nid = \"gave-up\"\nkind = \"final-failure\"\nwebhook = \"ops\"\ncooldown_secs = 0\n",
            redis().url
        ),
    )
    .unwrap();
    let _processes: Vec<ServeProcess> = (0..2)
        .map(|_| {
            ServeProcess(
                std::process::Command::new(env!("CARGO_BIN_EXE_bullring"))
                    .arg("serve")
                    .arg("--config")
                    .arg(&file)
                    .env_remove("REDIS_URL")
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap(),
            )
        })
        .collect();
    // Wait for the engines' first look at the queue (it starts after the newest failure).
    let mut conn = conn();
    let positions = format!("{prefix}:bullring:alerts:positions");
    let field = format!("{prefix}|pre-diagnosis");
    let position = |conn: &mut redis::Connection| -> Option<String> {
        redis::cmd("HGET")
            .arg(&positions)
            .arg(&field)
            .query(conn)
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while position(&mut conn).is_none() {
        assert!(
            Instant::now() < deadline,
            "the alerts engines did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let failed = bull(&prefix, "fail", Some("pre-diagnosis"));
    let id = failed["id"].as_str().unwrap();
    let got = received(&hook, 1).await;
    message_about(&got, id);
    // Both engines have read past the failure once the position is past it.
    let past = format!("{}-1", failed["finishedOn"].as_i64().unwrap());
    let deadline = Instant::now() + Duration::from_secs(30);
    while position(&mut conn).as_deref() != Some(past.as_str()) {
        assert!(
            Instant::now() < deadline,
            "the failed set was not read to the end"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hook.lock().unwrap().len(), 1, "{:?}", hook.lock().unwrap());
    assert_eq!(store(&prefix).recent(100).await.unwrap().len(), 1);
    // Nothing of bullring's was written among Bull's keys.
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:pre-diagnosis:*"))
        .query(&mut conn)
        .unwrap();
    assert!(keys.iter().all(|k| !k.contains("bullring")), "{keys:?}");
    for bullmq_only in ["events", "marker", "meta"] {
        assert!(
            !keys.contains(&format!("{prefix}:pre-diagnosis:{bullmq_only}")),
            "{keys:?}"
        );
    }
}
