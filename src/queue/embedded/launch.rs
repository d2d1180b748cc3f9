//! Starting one `redis-server` on its private unix socket, TCP off (`port 0`), with its data (AOF
//! on, no RDB snapshots) in our directory, in its own process group, and waiting until it answers
//! PING as itself (or reports loading a large AOF); when it dies first, the last lines it logged.

use std::collections::VecDeque;
use std::io;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tracing::{debug, warn};

use super::error::EmbeddedError;
use super::pidfile::PID_FILE;
use super::shutdown::kill_and_reap;
use super::socket::SocketPlace;

/// Log file of the server, inside the data directory.
pub const LOG_FILE: &str = "redis.log";
/// How long a fresh server may take to answer PING.
const STARTUP_DEADLINE: Duration = Duration::from_secs(10);
/// How long a server that reports `LOADING` (a big AOF) may take in total.
const LOADING_DEADLINE: Duration = Duration::from_secs(300);
/// Bound on one PING attempt while waiting for the server.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// Interval between two readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// Lines of `redis.log` / stderr quoted in an error.
const TAIL_LINES: usize = 15;

/// Spawn one server on `socket` and wait until it answers.
pub(super) async fn launch(
    binary: &Path,
    dir: &Path,
    socket: &SocketPlace,
) -> Result<Child, EmbeddedError> {
    let log = dir.join(LOG_FILE);
    // Quote only what this run writes, not earlier runs' lines.
    let log_offset = tokio::fs::metadata(&log).await.map_or(0, |m| m.len());

    let mut command = Command::new(binary);
    command
        .arg("--port")
        .arg("0")
        .arg("--unixsocket")
        .arg(&socket.path)
        .arg("--unixsocketperm")
        .arg("700")
        .arg("--dir")
        .arg(dir)
        .arg("--appendonly")
        .arg("yes")
        .arg("--save")
        .arg("")
        .arg("--daemonize")
        .arg("no")
        .arg("--logfile")
        .arg(&log)
        .arg("--pidfile")
        .arg(dir.join(PID_FILE))
        .arg("--protected-mode")
        .arg("yes")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);

    let mut child = command.spawn().map_err(|source| EmbeddedError::Spawn {
        binary: binary.to_path_buf(),
        source,
    })?;
    let stderr_tail = Arc::new(Mutex::new(VecDeque::new()));
    if let Some(stderr) = child.stderr.take() {
        tokio::spawn(forward_stderr(stderr, stderr_tail.clone()));
    }

    let url = socket.url();
    let started = Instant::now();
    let mut loading = false;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let tail = startup_tail(&log, log_offset, &stderr_tail).await;
                return Err(EmbeddedError::EarlyExit {
                    status: status.to_string(),
                    log,
                    tail,
                });
            }
            Ok(None) => {}
            Err(err) => debug!("cannot poll redis-server: {err}"),
        }

        match probe(&url).await {
            Probe::Ready(server_pid) if server_pid == child.id() => return Ok(child),
            Probe::Ready(other) => debug!(
                "the socket answers, but as pid {other:?}, not ours; waiting for ours to exit"
            ),
            Probe::Loading => loading = true,
            Probe::NotYet => {}
        }

        let waited = started.elapsed();
        let limit = if loading {
            LOADING_DEADLINE
        } else {
            STARTUP_DEADLINE
        };
        if waited >= limit {
            let pid = child.id().unwrap_or_default();
            kill_and_reap(&mut child, pid).await;
            let tail = startup_tail(&log, log_offset, &stderr_tail).await;
            return Err(EmbeddedError::Timeout { waited, log, tail });
        }
        tokio::time::sleep(PROBE_INTERVAL).await;
    }
}

enum Probe {
    /// Answered PING; the server's `process_id` from `INFO server`.
    Ready(Option<u32>),
    /// Up, but still loading its AOF.
    Loading,
    NotYet,
}

async fn probe(url: &str) -> Probe {
    let attempt = async {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("PING").query_async::<String>(&mut conn).await?;
        let info: String = redis::cmd("INFO")
            .arg("server")
            .query_async(&mut conn)
            .await?;
        Ok::<_, redis::RedisError>(parse_process_id(&info))
    };
    match tokio::time::timeout(PROBE_TIMEOUT, attempt).await {
        Ok(Ok(pid)) => Probe::Ready(pid),
        Ok(Err(err)) if err.code() == Some("LOADING") => Probe::Loading,
        Ok(Err(err)) => {
            debug!("redis-server not ready yet: {err}");
            Probe::NotYet
        }
        Err(_) => Probe::NotYet,
    }
}

pub(super) fn parse_process_id(info: &str) -> Option<u32> {
    info.lines()
        .find_map(|line| line.strip_prefix("process_id:"))
        .and_then(|pid| pid.trim().parse().ok())
}

/// Relay the server's stderr to the log and keep its last lines for error messages.
async fn forward_stderr(stderr: tokio::process::ChildStderr, tail: Arc<Mutex<VecDeque<String>>>) {
    let mut lines = BufReader::new(stderr).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        warn!(target: "redis-server", "{line}");
        if let Ok(mut tail) = tail.lock() {
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    }
}

/// The last lines this run wrote to `redis.log`, then to stderr.
async fn startup_tail(log: &Path, offset: u64, stderr: &Mutex<VecDeque<String>>) -> String {
    let mut lines: Vec<String> = match tokio::fs::read(log).await {
        Ok(bytes) => {
            let start = usize::try_from(offset).unwrap_or(0).min(bytes.len());
            let text = String::from_utf8_lossy(&bytes[start..]).into_owned();
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(TAIL_LINES)..]
                .iter()
                .map(|line| line.to_string())
                .collect()
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(err) => vec![format!("(cannot read {}: {err})", log.display())],
    };
    if let Ok(stderr) = stderr.lock() {
        lines.extend(stderr.iter().map(|line| format!("stderr: {line}")));
    }
    if lines.is_empty() {
        "(nothing logged)".to_string()
    } else {
        lines.join("\n")
    }
}
