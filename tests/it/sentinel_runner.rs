//! The runner on Redis Sentinel, all real: a redis-server master, its replica, a sentinel
//! (`redis-server --sentinel`), the `bullring run` binary configured with the sentinel only, and
//! Node's BullMQ adding jobs through the sentinel (ioredis asks it for the master). A job is
//! processed; the master is killed (`kill -9`); after the promotion a job Node adds to the new
//! master is processed by the same `bullring run` process, whose `/healthz` and `/metrics`
//! (`--metrics-listen`) say which master it moved from and to. The terminal commands (`add`,
//! `add --from`, `jobs`, `stats`) reach the master through the sentinel too, at the top level
//! and with `--connection`, before and after a failover. With `requirepass` on the master and
//! on the sentinel, the same holds, and no password shows in the log, the health or the metrics.

use serde_json::Value;

use crate::binary::http_get;
use crate::runner::{RunProcess, bullring, cli, scratch, script};
use crate::sentinel::Watched;
use crate::support::{free_port, unique_prefix};

/// Add job `id` through the sentinel with Node's BullMQ and wait until it is finished.
async fn node_add(sentinel_port: u16, prefix: &str, id: &str, auth: &[&str]) -> Value {
    let mut args: Vec<String> = [
        "add",
        "--sentinels",
        &format!("127.0.0.1:{sentinel_port}"),
        "--master",
        "mymaster",
        "--prefix",
        prefix,
        "--bullmq",
        "6",
        "--queue",
        "work",
        "--name",
        "task",
        "--id",
        id,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(auth.iter().map(|s| s.to_string()));
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        crate::interop::node("sentinel.js", &args)
    })
    .await
    .expect("node task")
}

/// The body of a GET on the runner's probe listener.
fn probe(port: u16, path: &str) -> String {
    let (status, text) = http_get(port, path).unwrap_or_else(|| panic!("GET {path}: no answer"));
    assert_eq!(status, 200, "GET {path}: {text}");
    let (_, body) = text.split_once("\r\n\r\n").expect("a body");
    body.to_string()
}

fn health(port: u16) -> Value {
    serde_json::from_str(&probe(port, "/healthz")).expect("JSON health")
}

/// A `bullring run` on the sentinel of `watched` with one command worker on `work` answering
/// `{"pid": <bullring's pid>}`, and `extra` TOML lines (passwords) in the `sentinel` table.
fn start_runner(watched: &Watched, prefix: &str, tag: &str, extra: &str) -> (RunProcess, u16) {
    let dir = scratch(tag);
    // The program's parent is the bullring process that runs it.
    let program = script(
        &dir,
        "work.sh",
        "cat >/dev/null\necho \"{\\\"pid\\\": $PPID}\"\n",
    );
    let probe_port = free_port();
    let file = dir.join("bullring.toml");
    std::fs::write(
        &file,
        format!(
            "prefixes = [\"{prefix}\"]\n\
             metrics_listen = \"127.0.0.1:{probe_port}\"\n\
             sentinel = {{ master = \"mymaster\", nodes = [\"127.0.0.1:{sentinel}\"]{extra} }}\n\
             [[queues]]\nname = \"work\"\n\
             [[workers]]\nqueue = \"work\"\n\
             handler = {{ type = \"command\", program = \"{program}\", timeout_secs = 30 }}\n",
            sentinel = watched.sentinel.port,
            program = program.display(),
        ),
    )
    .expect("write the config");
    let run = RunProcess::start(&file);
    run.wait_for_log("runner started");
    (run, probe_port)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bullring_run_follows_a_sentinel_failover() {
    let mut watched = Watched::start();
    let prefix = unique_prefix("sentinel-run");
    let (run, probe_port) = start_runner(&watched, &prefix, "sentinel-run", "");
    let master = format!("127.0.0.1:{}", watched.master.port);
    let replica = format!("127.0.0.1:{}", watched.replica.port);

    let before = node_add(watched.sentinel.port, &prefix, "before", &[]).await;
    assert_eq!(before["state"], "completed", "{before}");
    assert_eq!(before["returnvalue"]["pid"], run.pid(), "{before}");
    let report = health(probe_port);
    assert_eq!(report["runner"]["master"], master, "{report}");
    assert_eq!(report["runner"]["sentinel"], true, "{report}");
    assert_eq!(report["runner"]["failovers"], 0, "{report}");
    assert_eq!(report["runner"]["workers"], 1, "{report}");

    watched.fail_over().await;

    // Node adds to the new master; the same bullring process runs the job there.
    let after = node_add(watched.sentinel.port, &prefix, "after", &[]).await;
    assert_eq!(after["state"], "completed", "{after}");
    assert_eq!(after["returnvalue"]["pid"], run.pid(), "{after}");
    run.wait_for_log("workers restarted on the new master");

    let report = health(probe_port);
    let runner = &report["runner"];
    assert_eq!(runner["master"], replica, "{report}");
    assert_eq!(runner["failovers"], 1, "{report}");
    assert_eq!(runner["workers"], 1, "{report}");
    assert_eq!(runner["last_failover"]["from"], master, "{report}");
    assert_eq!(runner["last_failover"]["to"], replica, "{report}");
    assert!(
        runner["last_failover"]["at_ms"].as_u64().unwrap() > 0,
        "{report}"
    );
    let metrics = probe(probe_port, "/metrics");
    assert!(
        metrics.contains("bullring_runner_failovers_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains(&format!(
            "bullring_runner_master{{address=\"{replica}\"}} 1\n"
        )),
        "{metrics}"
    );
    assert!(metrics.contains("bullring_runner_workers 1\n"), "{metrics}");
}

/// A job hash's field on one server.
fn field(server: &crate::sentinel::Server, key: &str, field: &str) -> Option<String> {
    let mut cmd = redis::cmd("HGET");
    cmd.arg(key).arg(field);
    server.query(&cmd)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminal_commands_reach_the_master_through_the_sentinel() {
    let mut watched = Watched::start();
    let (top, eu) = (
        unique_prefix("sentinel-cli"),
        unique_prefix("sentinel-cli-eu"),
    );
    let dir = scratch("sentinel-cli");
    let sentinel = format!(
        "sentinel = {{ master = \"mymaster\", nodes = [\"127.0.0.1:{}\"] }}",
        watched.sentinel.port
    );
    let file = dir.join("bullring.toml");
    std::fs::write(
        &file,
        format!(
            "prefixes = [\"{top}\"]\n{sentinel}\n\
             [[queues]]\nname = \"work\"\n[queues.defaults]\nattempts = 3\n\
             [[connections]]\nname = \"eu\"\nprefixes = [\"{eu}\"]\n{sentinel}\n"
        ),
    )
    .expect("write the config");

    let (ok, out, err) = cli(
        &file,
        &[
            "add",
            "work",
            "task",
            "--data",
            "{\"n\":1}",
            "--job-id",
            "a1",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "a1");
    let a1 = format!("{top}:work:a1");
    assert_eq!(field(&watched.master, &a1, "name").as_deref(), Some("task"));
    assert!(
        field(&watched.master, &a1, "opts")
            .unwrap()
            .contains("\"attempts\":3")
    );

    let lines = dir.join("jobs.ndjson");
    std::fs::write(
        &lines,
        "{\"name\":\"imported\",\"data\":{\"n\":2},\"opts\":{\"jobId\":\"i1\"}}\n\
         {\"name\":\"imported\",\"data\":{\"n\":3},\"opts\":{\"jobId\":\"i2\"}}\n",
    )
    .expect("write the NDJSON");
    let from = lines.display().to_string();
    let (ok, out, err) = cli(
        &file,
        &["add", "work", "--from", &from, "--connection", "eu"],
    );
    assert!(ok, "{err}");
    assert!(out.contains("added 2 job(s)"), "{out}");
    assert_eq!(
        field(&watched.master, &format!("{eu}:work:i2"), "data").as_deref(),
        Some("{\"n\":3}")
    );

    let (ok, out, err) = cli(
        &file,
        &["jobs", "work", "waiting", "--json", "--connection", "eu"],
    );
    assert!(ok, "{err}");
    let listed: Value = serde_json::from_str(&out).expect("JSON");
    let mut ids: Vec<&str> = listed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    ids.sort();
    assert_eq!(ids, ["i1", "i2"], "{out}");
    let (ok, out, err) = cli(&file, &["stats", "work", "--json"]);
    assert!(ok, "{err}");
    let stats: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(stats[0]["counts"]["waiting"], 1, "{out}");

    // After a failover the same commands find the new master.
    watched.fail_over().await;
    let (ok, out, err) = cli(
        &file,
        &[
            "add",
            "work",
            "task",
            "--job-id",
            "a2",
            "--connection",
            "default",
        ],
    );
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "a2");
    assert_eq!(
        field(&watched.replica, &format!("{top}:work:a2"), "name").as_deref(),
        Some("task")
    );
    let (ok, out, err) = cli(&file, &["stats", "work", "--json", "--connection", "eu"]);
    assert!(ok, "{err}");
    let stats: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(stats[0]["counts"]["waiting"], 2, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passwords_on_the_master_and_the_sentinel() {
    const MASTER_PW: &str = "m@ster-pw:1";
    const SENTINEL_PW: &str = "sentinel/pw-2";
    let mut watched = Watched::with_passwords(Some(MASTER_PW), Some(SENTINEL_PW));
    let prefix = unique_prefix("sentinel-auth");
    let auth = format!(", password = \"{MASTER_PW}\", sentinel_password = \"{SENTINEL_PW}\"");
    let (run, probe_port) = start_runner(&watched, &prefix, "sentinel-auth", &auth);
    let node_auth = ["--password", MASTER_PW, "--sentinel-password", SENTINEL_PW];

    let before = node_add(watched.sentinel.port, &prefix, "before", &node_auth).await;
    assert_eq!(before["state"], "completed", "{before}");
    assert_eq!(before["returnvalue"]["pid"], run.pid(), "{before}");
    watched.fail_over().await;
    let after = node_add(watched.sentinel.port, &prefix, "after", &node_auth).await;
    assert_eq!(after["state"], "completed", "{after}");
    assert_eq!(after["returnvalue"]["pid"], run.pid(), "{after}");
    run.wait_for_log("workers restarted on the new master");
    let report = health(probe_port);
    assert_eq!(report["runner"]["failovers"], 1, "{report}");

    // The flags' form: the master's password in REDIS_PASSWORD, the sentinels' in
    // BULLRING_REDIS_SENTINEL_PASSWORD.
    let output = bullring()
        .args(["stats", "work", "--json", "--prefix", &prefix])
        .args(["--redis-sentinel-master", "mymaster"])
        .args([
            "--redis-sentinel-nodes",
            &format!("127.0.0.1:{}", watched.sentinel.port),
        ])
        .env("REDIS_PASSWORD", MASTER_PW)
        .env("BULLRING_REDIS_SENTINEL_PASSWORD", SENTINEL_PW)
        .output()
        .expect("bullring stats");
    let out = String::from_utf8_lossy(&output.stdout);
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{err}");
    let stats: Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(stats[0]["counts"]["completed"], 2, "{out}");

    // A wrong sentinel password is refused with the sentinel's reason, and not shown.
    let output = bullring()
        .args(["stats", "--prefix", &prefix])
        .args(["--redis-sentinel-master", "mymaster"])
        .args([
            "--redis-sentinel-nodes",
            &format!("127.0.0.1:{}", watched.sentinel.port),
        ])
        .env("BULLRING_REDIS_SENTINEL_PASSWORD", "not-the-password")
        .output()
        .expect("bullring stats");
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(err.contains("no sentinel named the master"), "{err}");
    assert!(!err.contains("not-the-password"), "{err}");

    let shown = format!(
        "{}{}{}",
        run.log(),
        probe(probe_port, "/healthz"),
        probe(probe_port, "/metrics")
    );
    for secret in [MASTER_PW, SENTINEL_PW, "m%40ster-pw%3A1", "sentinel%2Fpw-2"] {
        assert!(!shown.contains(secret), "{secret} shown:\n{shown}");
    }
}
