//! The runner against a real redis-server and the real npm `bullmq`: Node producers and bullring's
//! command / webhook workers, bullring schedulers and a Node worker, closures by job name, the
//! CLI (`add` with deduplication, `jobs`, `stats`), and the `bullring run` binary under kill -9
//! and SIGTERM.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bullring::config::Config;
use bullring::runner::{JobError, Runner, RunnerJob};
use serde_json::{Value, json};

use crate::support::{engine_queue, redis, unique_prefix};

const DEADLINE: Duration = Duration::from_secs(30);

/// Run `node runner.js <args>` and parse the JSON line it prints last.
async fn node_runner(args: Vec<String>) -> Value {
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::interop::node("runner.js", &args)
    })
    .await
    .expect("node task")
}

pub(crate) fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bullring-runner-{}-{tag}", unique_prefix("d")));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Write an executable shell script.
pub(crate) fn script(dir: &Path, name: &str, body: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// A configuration on the test Redis under `prefix`, from the runner's TOML keys.
fn config(prefix: &str, toml: &str) -> Config {
    let text = format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n{toml}",
        redis().url
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// Poll `check` until it returns `Some`, or panic after the deadline.
pub(crate) async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The job's state, once it is completed or failed.
async fn finished(queue: &bullmq::Queue, id: &str) -> (String, bullmq::Job) {
    eventually(&format!("job {id} to finish"), || async {
        let job = queue.get_job(id).await.ok().flatten()?;
        let state = format!("{:?}", job.get_state().await.ok()?).to_lowercase();
        if state != "completed" && state != "failed" {
            return None;
        }
        // Read the job again: the first read may predate the move to its final state.
        let job = queue.get_job(id).await.ok().flatten()?;
        Some((state, job))
    })
    .await
}

fn stack(conn: &mut redis::Connection, prefix: &str, queue: &str, id: &str) -> Vec<String> {
    let text: Option<String> = redis::cmd("HGET")
        .arg(format!("{prefix}:{queue}:{id}"))
        .arg("stacktrace")
        .query(conn)
        .unwrap();
    text.map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------------------
// Node producers → bullring command and webhook workers
// ------------------------------------------------------------------------------------------

#[derive(Clone, Default)]
struct Target {
    bad_signatures: Arc<Mutex<Vec<String>>>,
}

/// The webhook target: echoes the job, fails `flaky` twice with a 500, answers `plain` with
/// text, `reject` with a 404 and `slow` after the handler's timeout; checks every signature.
async fn webhook_target(secret: &'static str) -> (String, Target) {
    let target = Target::default();
    let state = target.clone();
    let app = axum::Router::new().route(
        "/jobs",
        post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let expected = bullring::runner::webhook::signature(
                    secret.as_bytes(),
                    &header("x-bullring-timestamp"),
                    &header("x-bullring-delivery"),
                    &body,
                );
                let got = headers
                    .get("x-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if got != expected {
                    state.bad_signatures.lock().unwrap().push(got.to_string());
                }
                let doc: Value = serde_json::from_slice(&body).unwrap();
                let attempts = doc["attemptsMade"].as_u64().unwrap();
                match doc["name"].as_str().unwrap() {
                    "flaky" if attempts < 2 => (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        format!("upstream down (attempt {})", attempts + 1),
                    ),
                    "plain" => (StatusCode::OK, "plain text answer".to_string()),
                    "reject" => (StatusCode::NOT_FOUND, "no such dossier".to_string()),
                    "slow" => {
                        tokio::time::sleep(Duration::from_secs(3)).await;
                        (StatusCode::OK, "too late".to_string())
                    }
                    _ => (
                        StatusCode::OK,
                        json!({"echo": doc["id"], "queue": doc["queue"], "attemptsMade": attempts, "data": doc["data"], "auth": headers.get("authorization").and_then(|v| v.to_str().ok())}).to_string(),
                    ),
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/jobs"), target)
}

const COMMAND_SCRIPT: &str = r#"input=$(cat)
echo "::progress 40" >&2
echo "::log attempt $BULLRING_ATTEMPT of $BULLRING_JOB_NAME" >&2
if [ "$BULLRING_JOB_NAME" = flaky ] && [ "$BULLRING_ATTEMPT" -lt 3 ]; then
  echo "flaky attempt $BULLRING_ATTEMPT failed" >&2
  exit 1
fi
printf '{"job":"%s","queue":"%s","input":%s}\n' "$BULLRING_JOB_ID" "$BULLRING_QUEUE" "$input"
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_jobs_run_on_command_and_webhook_workers() {
    let prefix = unique_prefix("run-node");
    let dir = scratch("node");
    let program = script(&dir, "job.sh", COMMAND_SCRIPT);
    let (url, target) = webhook_target("s3cret").await;
    let config = config(
        &prefix,
        &format!(
            r#"
[[queues]]
name = "cmd"
[[queues]]
name = "hook"
[[workers]]
queue = "cmd"
concurrency = 2
handler = {{ type = "command", program = "{}", timeout_secs = 10 }}
[[workers]]
queue = "hook"
concurrency = 3
handler = {{ type = "webhook", url = "{url}", secret = "s3cret", signature_header = "x-signature", headers = {{ authorization = "Bearer t0ken" }} }}
"#,
            program.display()
        ),
    );
    let runner = Runner::builder(&config).start().await.unwrap();
    assert_eq!(runner.worker_count(), 2);

    for queue in ["cmd", "hook"] {
        let report = node_runner(
            [
                "produce",
                "--redis",
                &redis().url,
                "--prefix",
                &prefix,
                "--bullmq",
                "6",
                "--queue",
                queue,
            ]
            .map(String::from)
            .to_vec(),
        )
        .await;
        let jobs = &report["jobs"];
        for key in ["plain", "delayed", "prioritized", "custom", "flaky"] {
            assert_eq!(jobs[key]["state"], "completed", "{queue} {key}: {report}");
        }
        assert_eq!(jobs["custom"]["id"], "custom-id-1");
        assert_eq!(jobs["flaky"]["attemptsMade"], 3, "{report}");
        assert_eq!(jobs["plain"]["attemptsMade"], 1, "{report}");
        let flaky_stack = jobs["flaky"]["stacktrace"].as_array().unwrap();
        assert_eq!(flaky_stack.len(), 2, "{report}");
        if queue == "cmd" {
            assert_eq!(jobs["plain"]["returnvalue"]["job"], jobs["plain"]["id"]);
            assert_eq!(jobs["plain"]["returnvalue"]["queue"], "cmd");
            assert_eq!(jobs["plain"]["returnvalue"]["input"]["data"]["n"], 1);
            assert_eq!(jobs["plain"]["returnvalue"]["input"]["name"], "plain");
            assert_eq!(jobs["flaky"]["returnvalue"]["input"]["attemptsMade"], 2);
            assert!(
                flaky_stack[0]
                    .as_str()
                    .unwrap()
                    .contains("flaky attempt 1 failed"),
                "{report}"
            );
            assert!(flaky_stack[1].as_str().unwrap().contains("attempt 2"));
        } else {
            assert_eq!(jobs["plain"]["returnvalue"], "plain text answer");
            assert_eq!(jobs["custom"]["returnvalue"]["echo"], "custom-id-1");
            assert_eq!(jobs["custom"]["returnvalue"]["queue"], "hook");
            assert_eq!(jobs["custom"]["returnvalue"]["auth"], "Bearer t0ken");
            assert_eq!(jobs["delayed"]["returnvalue"]["data"]["n"], 2, "{report}");
            assert!(flaky_stack[0].as_str().unwrap().contains("500"), "{report}");
        }
    }
    // Progress and log lines from the command's stderr.
    let mut conn = crate::support::conn();
    let custom_progress: String = redis::cmd("HGET")
        .arg(format!("{prefix}:cmd:custom-id-1"))
        .arg("progress")
        .query(&mut conn)
        .unwrap();
    assert_eq!(custom_progress.parse::<f64>().unwrap(), 40.0);
    let logs: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{prefix}:cmd:custom-id-1:logs"))
        .arg(0)
        .arg(-1)
        .query(&mut conn)
        .unwrap();
    assert_eq!(logs, vec!["attempt 1 of custom"]);
    assert!(target.bad_signatures.lock().unwrap().is_empty());
    // Metrics for the dashboard's charts.
    let completed: u64 = redis::cmd("HGET")
        .arg(format!("{prefix}:cmd:metrics:completed"))
        .arg("count")
        .query(&mut conn)
        .unwrap();
    assert_eq!(completed, 5);
    runner.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_4xx_and_timeouts_and_closures_by_job_name() {
    let prefix = unique_prefix("run-fail");
    let (url, _target) = webhook_target("k").await;
    let config = config(
        &prefix,
        &format!(
            r#"
[[queues]]
name = "hook"
[[queues]]
name = "mail"
[[workers]]
queue = "hook"
concurrency = 2
handler = {{ type = "webhook", url = "{url}", timeout_secs = 1, secret = "k", signature_header = "x-signature" }}
[[workers]]
queue = "mail"
"#
        ),
    );
    let runner = Runner::builder(&config)
        .handler("send-email", |job: RunnerJob| async move {
            job.log("sending").await?;
            Ok(json!({"sent_to": job.data()["to"], "attempt": job.attempt()}))
        })
        .handler("bounce", |_job: RunnerJob| async move {
            Err::<Value, _>(JobError::fatal("mailbox does not exist").with_detail("550 5.1.1"))
        })
        .start()
        .await
        .unwrap();

    let hook = engine_queue(&prefix, "hook").await;
    let three = bullmq::JobOptions {
        attempts: Some(3),
        ..Default::default()
    };
    let reject = hook
        .add("reject", json!({}))
        .options(three.clone())
        .await
        .unwrap();
    let slow = hook
        .add("slow", json!({}))
        .options(bullmq::JobOptions {
            attempts: Some(1),
            ..Default::default()
        })
        .await
        .unwrap();
    let (state, job) = finished(&hook, reject.id()).await;
    assert_eq!(state, "failed");
    assert_eq!(job.attempts_made(), 1, "a 4xx is not retried");
    assert!(
        job.failed_reason().contains("404"),
        "{}",
        job.failed_reason()
    );
    let mut conn = crate::support::conn();
    let entries = stack(&mut conn, &prefix, "hook", reject.id());
    assert_eq!(entries.len(), 1);
    assert!(entries[0].contains("no such dossier"), "{entries:?}");
    assert!(entries[0].contains("not retried"), "{entries:?}");
    let (state, job) = finished(&hook, slow.id()).await;
    assert_eq!(state, "failed");
    assert!(
        job.failed_reason().contains("did not answer within 1 s"),
        "{}",
        job.failed_reason()
    );

    let mail = engine_queue(&prefix, "mail").await;
    let sent = mail
        .add("send-email", json!({"to": "ann@example.com"}))
        .options(three.clone())
        .await
        .unwrap();
    let bounced = mail
        .add("bounce", json!({}))
        .options(three.clone())
        .await
        .unwrap();
    let unknown = mail.add("fax", json!({})).options(three).await.unwrap();
    let (state, job) = finished(&mail, sent.id()).await;
    assert_eq!(state, "completed");
    let value: Value = serde_json::from_str(job.returnvalue()).unwrap();
    assert_eq!(value, json!({"sent_to": "ann@example.com", "attempt": 1}));
    let (state, job) = finished(&mail, bounced.id()).await;
    assert_eq!((state.as_str(), job.attempts_made()), ("failed", 1));
    assert_eq!(job.failed_reason(), "mailbox does not exist");
    let entries = stack(&mut conn, &prefix, "mail", bounced.id());
    assert!(entries[0].contains("550 5.1.1"), "{entries:?}");
    let (state, job) = finished(&mail, unknown.id()).await;
    assert_eq!(state, "failed");
    assert!(
        job.failed_reason()
            .contains("no handler is registered for job name \"fax\""),
        "{}",
        job.failed_reason()
    );
    runner.shutdown().await;
}

// ------------------------------------------------------------------------------------------
// bullring schedulers → a Node worker
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bullring_schedulers_feed_a_node_worker() {
    let prefix = unique_prefix("run-sched");
    let toml = r#"
[[queues]]
name = "ticks"
[queues.defaults]
remove_on_complete = 50
[[schedulers]]
id = "every-second"
queue = "ticks"
job_name = "tick"
every_ms = 1000
data = { source = "every" }
[[schedulers]]
id = "cron-seconds"
queue = "ticks"
job_name = "cron-tick"
cron = "*/1 * * * * *"
tz = "Europe/Paris"
[[schedulers]]
id = "legacy"
queue = "ticks"
cron = "0 3 * * *"
[runner]
managed_schedulers = true
"#;
    let first = Runner::builder(&config(&prefix, toml))
        .start()
        .await
        .unwrap();
    assert_eq!(first.schedulers().upserted.len(), 3);
    first.shutdown().await;

    let report = node_runner(
        [
            "consume",
            "--redis",
            &redis().url,
            "--prefix",
            &prefix,
            "--bullmq",
            "6",
            "--queue",
            "ticks",
            "--names",
            "tick,cron-tick",
            "--count",
            "2",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    assert!(report["processed"]["tick"].as_u64().unwrap() >= 2);
    assert!(report["processed"]["cron-tick"].as_u64().unwrap() >= 2);
    let schedulers: HashMap<String, Value> = report["schedulers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["key"].as_str().unwrap().to_string(), s.clone()))
        .collect();
    assert_eq!(schedulers.len(), 3, "{report}");
    assert_eq!(schedulers["every-second"]["every"], 1000);
    assert_eq!(schedulers["every-second"]["name"], "tick");
    assert_eq!(schedulers["cron-seconds"]["pattern"], "*/1 * * * * *");
    assert_eq!(schedulers["cron-seconds"]["tz"], "Europe/Paris");
    assert_eq!(schedulers["legacy"]["name"], "legacy");

    // Managed: an entry removed from the file is removed from Redis at the next start.
    let without_legacy = toml.replace(
        "[[schedulers]]\nid = \"legacy\"\nqueue = \"ticks\"\ncron = \"0 3 * * *\"\n",
        "",
    );
    let second = Runner::builder(&config(&prefix, &without_legacy))
        .start()
        .await
        .unwrap();
    assert_eq!(second.schedulers().removed, vec!["ticks/legacy"]);
    second.shutdown().await;
    let queue = engine_queue(&prefix, "ticks").await;
    let mut keys: Vec<String> = queue
        .get_job_schedulers(0, -1, true)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.key)
        .collect();
    keys.sort();
    assert_eq!(keys, vec!["cron-seconds", "every-second"]);
}

// ------------------------------------------------------------------------------------------
// The binary: CLI, kill -9, SIGTERM, bad config
// ------------------------------------------------------------------------------------------

pub(crate) fn bullring() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bullring"));
    cmd.env_remove("REDIS_URL")
        .env_remove("REDIS_HOST")
        .env_remove("BULLRING_CONFIG")
        .env("RUST_LOG", "info,bullmq=warn")
        .env("NO_COLOR", "1");
    cmd
}

fn config_file(dir: &Path, prefix: &str, toml: &str) -> PathBuf {
    let path = dir.join("bullring.toml");
    std::fs::write(
        &path,
        format!(
            "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n{toml}",
            redis().url
        ),
    )
    .unwrap();
    path
}

/// A config file with one `command` worker on `queue` running a script of `body`; `runner` and
/// `worker` are extra TOML lines for the `[runner]` table and the worker entry.
fn command_worker(
    dir: &Path,
    prefix: &str,
    queue: &str,
    body: &str,
    runner: &str,
    worker: &str,
) -> PathBuf {
    let program = script(dir, &format!("{queue}.sh"), body);
    config_file(
        dir,
        prefix,
        &format!(
            "[runner]\n{runner}[[queues]]\nname = \"{queue}\"\n[[workers]]\nqueue = \"{queue}\"\n{worker}handler = {{ type = \"command\", program = \"{}\", timeout_secs = 120 }}\n",
            program.display()
        ),
    )
}

pub(crate) fn cli(file: &Path, args: &[&str]) -> (bool, String, String) {
    let output = bullring()
        .args(args)
        .arg("--config")
        .arg(file)
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn cli_adds_with_dedup_and_lists_jobs_and_counts() {
    let prefix = unique_prefix("run-cli");
    let dir = scratch("cli");
    let file = config_file(
        &dir,
        &prefix,
        "[[queues]]\nname = \"jobs\"\n[queues.defaults]\nattempts = 4\n",
    );
    let add = |extra: &[&str]| {
        let mut args = vec!["add", "jobs", "sync-dossier", "--data", "{\"dossier\":7}"];
        args.extend_from_slice(extra);
        let (ok, out, err) = cli(&file, &args);
        assert!(ok, "{err}");
        out.trim().to_string()
    };
    let first = add(&["--dedup-id", "dossier-7", "--dedup-ttl-ms", "60000"]);
    let second = add(&["--dedup-id", "dossier-7", "--dedup-ttl-ms", "60000"]);
    assert_eq!(first, second, "the second add is deduplicated");
    assert_eq!(add(&["--job-id", "dossier-7-full"]), "dossier-7-full");
    assert_eq!(add(&["--job-id", "dossier-7-full"]), "dossier-7-full");
    add(&["--delay", "600000"]);
    add(&["--priority", "3", "--attempts", "1"]);

    let (ok, out, err) = cli(&file, &["stats", "jobs", "--json"]);
    assert!(ok, "{err}");
    let stats: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats[0]["counts"]["waiting"], 2, "{out}");
    assert_eq!(stats[0]["counts"]["delayed"], 1, "{out}");
    assert_eq!(stats[0]["counts"]["prioritized"], 1, "{out}");

    let (ok, out, err) = cli(&file, &["jobs", "jobs", "waiting", "--json"]);
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).unwrap();
    let jobs = listed["jobs"].as_array().unwrap();
    assert_eq!(jobs.len(), 2);
    assert!(jobs.iter().any(|j| j["id"] == "dossier-7-full"));
    let dedup = jobs.iter().find(|j| j["id"] == first.as_str()).unwrap();
    assert_eq!(dedup["opts"]["attempts"], 4, "queue defaults apply");
    assert_eq!(dedup["data"]["dossier"], 7);

    let (ok, out, _) = cli(&file, &["jobs", "jobs", "prioritized"]);
    assert!(ok);
    assert!(
        out.contains("sync-dossier") && out.contains("ATTEMPTS"),
        "{out}"
    );
    let (ok, out, _) = cli(&file, &["stats"]);
    assert!(ok);
    assert!(out.contains(&format!("{prefix}:jobs")), "{out}");

    let (ok, _, err) = cli(&file, &["add", "jobs", "x", "--data", "{nope"]);
    assert!(!ok);
    assert!(err.contains("--data is not JSON"), "{err}");
    let (ok, _, err) = cli(&file, &["jobs", "jobs", "finished"]);
    assert!(!ok);
    assert!(err.contains("unknown state"), "{err}");
}

#[test]
fn run_rejects_a_bad_config_naming_the_entry() {
    let prefix = unique_prefix("run-bad");
    let dir = scratch("bad");
    let file = config_file(
        &dir,
        &prefix,
        "[[queues]]\nname = \"a\"\n[[workers]]\nqueue = \"a\"\nconcurrency = 0\nhandler = { type = \"noop\" }\n",
    );
    let (ok, _, err) = cli(&file, &["run"]);
    assert!(!ok);
    let last = err.lines().last().unwrap_or("");
    assert_eq!(
        last,
        "bullring: invalid [[workers]] #1 (queue \"a\") concurrency: 0: must be at least 1"
    );
    let file = config_file(
        &dir,
        &prefix,
        "[[queues]]\nname = \"a\"\n[[schedulers]]\nid = \"s\"\nqueue = \"a\"\ncron = \"0 3 * * *\"\ntz = \"Mars/Olympus\"\n",
    );
    let (ok, _, err) = cli(&file, &["run"]);
    assert!(!ok);
    assert!(
        err.contains("[[schedulers]] #1 (id \"s\")") && err.contains("unknown time zone"),
        "{err}"
    );
}

/// A `bullring run` child whose log lines are collected.
pub(crate) struct RunProcess {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl RunProcess {
    pub(crate) fn start(file: &Path) -> RunProcess {
        RunProcess::start_command("run", file)
    }

    /// `bullring <command> --config <file>` (`run`, `start`, `demo`), its output collected.
    pub(crate) fn start_command(command: &str, file: &Path) -> RunProcess {
        let mut child = bullring()
            .arg(command)
            .arg("--config")
            .arg(file)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(String::new()));
        // Logs go to standard output, errors to standard error: collect both.
        let stdout = child.stdout.take().unwrap();
        let stderr = child.stderr.take().unwrap();
        for stream in [
            Box::new(stdout) as Box<dyn std::io::Read + Send>,
            Box::new(stderr),
        ] {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut text = sink.lock().unwrap();
                    text.push_str(&line);
                    text.push('\n');
                }
            });
        }
        RunProcess { child, log }
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything it logged so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    pub(crate) fn wait_for_log(&self, needle: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !self.log.lock().unwrap().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn signal(&self, signal: i32) {
        let pid = self.child.id() as i32;
        assert!(pid > 1);
        // SAFETY: kill only sends a signal to our own child process.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0);
    }

    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "bullring run did not exit:\n{}",
                self.log.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for RunProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + DEADLINE;
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn job_field(prefix: &str, queue: &str, id: &str, field: &str) -> Option<String> {
    let mut conn = crate::support::conn();
    redis::cmd("HGET")
        .arg(format!("{prefix}:{queue}:{id}"))
        .arg(field)
        .query(&mut conn)
        .unwrap()
}

fn wait_completed(prefix: &str, queue: &str, ids: &[String]) {
    let deadline = Instant::now() + DEADLINE;
    let mut conn = crate::support::conn();
    loop {
        let done: Vec<String> = redis::cmd("ZRANGE")
            .arg(format!("{prefix}:{queue}:completed"))
            .arg(0)
            .arg(-1)
            .query(&mut conn)
            .unwrap();
        if ids.iter().all(|id| done.contains(id)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "not all of {ids:?} completed (completed: {done:?})"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_job_held_by_a_killed_runner_completes_on_another() {
    let prefix = unique_prefix("run-kill");
    let dir = scratch("kill");
    // The first run of job "hold" marks that it started, records its pid and hangs; any later
    // run (on the second bullring) finishes at once.
    let file = command_worker(
        &dir,
        &prefix,
        "work",
        &format!(
            "cat >/dev/null\nif [ \"$BULLRING_JOB_NAME\" = hold ] && mkdir {dir}/first 2>/dev/null; then\n  echo $$ > {dir}/first/pid.tmp && mv {dir}/first/pid.tmp {dir}/first/pid\n  exec sleep 60\nfi\necho \"\\\"done by $$\\\"\"\n",
            dir = dir.display()
        ),
        "",
        "concurrency = 1\nlock_duration_ms = 1500\nstalled_interval_ms = 500\n",
    );
    let mut first = RunProcess::start(&file);
    first.wait_for_log("worker started");
    let (ok, held, err) = cli(&file, &["add", "work", "hold", "--job-id", "held-1"]);
    assert!(ok, "{err}");
    assert_eq!(held.trim(), "held-1");
    wait_for_file(&dir.join("first/pid"));
    let mut others = Vec::new();
    for n in 0..3 {
        let (ok, id, err) = cli(
            &file,
            &["add", "work", "other", "--data", &format!("{{\"n\":{n}}}")],
        );
        assert!(ok, "{err}");
        others.push(id.trim().to_string());
    }
    first.signal(libc::SIGKILL);
    let status = first.wait_exit();
    assert!(!status.success());
    // The orphaned command goes too, as it would with the machine. Only a real pid is
    // signalled: `kill -9 0` would hit this test's own process group.
    let pid: u32 = std::fs::read_to_string(dir.join("first/pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    assert!(pid > 1);
    // SAFETY: kill only sends a signal, to the orphaned `sleep` whose pid it wrote itself.
    unsafe {
        libc::kill(pid as i32, libc::SIGKILL);
    }

    let second = RunProcess::start(&file);
    let mut all = others.clone();
    all.push("held-1".into());
    wait_completed(&prefix, "work", &all);
    let value = job_field(&prefix, "work", "held-1", "returnvalue").unwrap();
    assert!(value.starts_with("\"done by"), "{value}");
    let mut conn = crate::support::conn();
    let failed: u64 = redis::cmd("ZCARD")
        .arg(format!("{prefix}:work:failed"))
        .query(&mut conn)
        .unwrap();
    assert_eq!(failed, 0, "no job lost:\n{}", second.log.lock().unwrap());
}

#[test]
fn sigterm_lets_running_jobs_finish_and_exits_0() {
    let prefix = unique_prefix("run-term");
    let dir = scratch("term");
    // Each job marks that it started, then waits for the test to release it.
    let file = command_worker(
        &dir,
        &prefix,
        "slow",
        &format!(
            "cat >/dev/null\ntouch {dir}/started-$BULLRING_JOB_ID\nwhile [ ! -e {dir}/release ]; do sleep 0.05; done\necho '{{\"finished\":true}}'\n",
            dir = dir.display()
        ),
        "shutdown_timeout_secs = 20\n",
        "concurrency = 2\n",
    );
    let mut run = RunProcess::start(&file);
    run.wait_for_log("worker started");
    let mut ids = Vec::new();
    for n in 0..2 {
        let (ok, id, err) = cli(
            &file,
            &["add", "slow", "job", "--data", &format!("{{\"n\":{n}}}")],
        );
        assert!(ok, "{err}");
        ids.push(id.trim().to_string());
    }
    for id in &ids {
        wait_for_file(&dir.join(format!("started-{id}")));
    }
    run.signal(libc::SIGTERM);
    run.wait_for_log("stopping workers");
    // The jobs are still running: let them finish now that the shutdown has begun.
    std::fs::write(dir.join("release"), "").unwrap();
    let status = run.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", run.log.lock().unwrap());
    wait_completed(&prefix, "slow", &ids);
    for id in &ids {
        assert_eq!(
            job_field(&prefix, "slow", id, "returnvalue").as_deref(),
            Some("{\"finished\":true}")
        );
    }
    let log = run.log.lock().unwrap();
    assert!(log.contains("running_jobs=2"), "{log}");
    assert!(log.contains("workers stopped"), "{log}");
}

/// Whether process `pid` still runs (a zombie waiting to be reaped does not).
fn running(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => !matches!(
            stat.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().chars().next()),
            Some(Some('Z' | 'X'))
        ),
        Err(_) => false,
    }
}

#[test]
fn shutdown_timeout_kills_a_command_and_what_it_started() {
    let prefix = unique_prefix("run-group");
    let dir = scratch("group");
    // The program starts a grandchild, records its pid (written whole, then renamed), and waits.
    let file = command_worker(
        &dir,
        &prefix,
        "stuck",
        &format!(
            "cat >/dev/null\nsleep 300 &\necho $! > {dir}/pid.tmp\nmv {dir}/pid.tmp {dir}/grandchild\nwait\n",
            dir = dir.display()
        ),
        "shutdown_timeout_secs = 1\n",
        "",
    );
    let mut run = RunProcess::start(&file);
    run.wait_for_log("worker started");
    let (ok, _, err) = cli(&file, &["add", "stuck", "job"]);
    assert!(ok, "{err}");
    let pid_file = dir.join("grandchild");
    wait_for_file(&pid_file);
    let pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .expect("a pid");
    assert!(pid > 1);
    assert!(running(pid), "the grandchild runs before the shutdown");

    run.signal(libc::SIGTERM);
    let status = run.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", run.log.lock().unwrap());
    assert!(run.log.lock().unwrap().contains("abandoned=1"));
    let deadline = Instant::now() + DEADLINE;
    while running(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left = running(pid);
    if left {
        // Do not leave it behind: signal exactly that pid, then fail.
        unsafe {
            libc::kill(pid as i32, libc::SIGKILL);
        }
    }
    assert!(!left, "the grandchild {pid} outlived the runner");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_workers_process_their_scheduled_jobs() {
    use bullring::demo::{LIVE, LIVE_CRON_SCHEDULER, LIVE_SCHEDULER, live_runner};
    let prefix = unique_prefix("run-demo");
    let settings = bullring::queue::connection::RedisSettings::url(&redis().url);
    let runner = live_runner(settings, &prefix).start().await.unwrap();
    let mut upserted = runner.schedulers().upserted.clone();
    upserted.sort();
    assert_eq!(
        upserted,
        vec![
            format!("{LIVE}/{LIVE_CRON_SCHEDULER}"),
            format!("{LIVE}/{LIVE_SCHEDULER}")
        ]
    );
    let mut conn = crate::support::conn();
    let completed_key = format!("{prefix}:{LIVE}:completed");
    let first: String = eventually("a demo job to complete", || {
        let done: Vec<String> = redis::cmd("ZRANGE")
            .arg(&completed_key)
            .arg(0)
            .arg(0)
            .query(&mut conn)
            .unwrap();
        async move { done.into_iter().next() }
    })
    .await;
    let value = job_field(&prefix, LIVE, &first, "returnvalue").unwrap();
    assert!(
        value.contains("thumbnail") || value.contains("removed"),
        "{value}"
    );
    runner.shutdown().await;
}
