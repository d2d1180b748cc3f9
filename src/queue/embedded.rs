//! A private `redis-server` child process, for `bullring serve` / `bullring demo` when no Redis is
//! configured.
//!
//! This module owns finding `redis-server` on `PATH`, starting it on a free loopback port with its
//! data (AOF on, no RDB snapshots) in a directory of ours, waiting until it answers, noticing a
//! server that an earlier bullring left running on the same directory, and stopping it again.
//!
//! Redis itself takes no lock on its data directory: two servers would happily append to the same
//! AOF. We therefore pass `--pidfile <dir>/redis.pid` (Redis removes it on a clean shutdown) and
//! refuse to start while the pid in that file is a live `redis-server`.
//!
//! The child runs in its own process group, so a Ctrl-C in the terminal reaches bullring only and
//! bullring decides when Redis goes down ([`EmbeddedRedis::stop`]). If bullring is killed hard the
//! server survives; the next start reports it with its pid and URL.

use std::collections::VecDeque;
use std::ffi::OsStr;
use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::time::Instant;
use tracing::{debug, info, warn};

/// Name of the server binary looked up on `PATH`.
pub const REDIS_SERVER: &str = "redis-server";
/// Log file of the server, inside the data directory.
pub const LOG_FILE: &str = "redis.log";
/// Pid file of the server, inside the data directory.
pub const PID_FILE: &str = "redis.pid";

/// How long a fresh server may take to answer PING.
const STARTUP_DEADLINE: Duration = Duration::from_secs(10);
/// How long a server that reports `LOADING` (a big AOF) may take in total.
const LOADING_DEADLINE: Duration = Duration::from_secs(300);
/// How long `stop` waits for the server to exit before killing it.
const STOP_DEADLINE: Duration = Duration::from_secs(10);
/// Bound on one PING attempt while waiting for the server.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);
/// Interval between two readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// How many ports to try when the one we picked was taken before Redis could bind it.
const PORT_ATTEMPTS: usize = 3;
/// Lines of `redis.log` / stderr quoted in an error.
const TAIL_LINES: usize = 15;

/// Why the private Redis could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmbeddedError {
    /// No `redis-server` executable on `PATH`.
    #[error(
        "redis-server was not found on PATH, and bullring needs it to run a private Redis.\n\
         Install it (Debian/Ubuntu: `sudo apt-get install redis-server`), or point bullring at \
         an existing Redis with `--redis-url redis://host:6379` (or REDIS_URL)."
    )]
    NotInstalled,
    /// The data directory could not be created or resolved.
    #[error("cannot use {} as the Redis data directory: {source}", path.display())]
    DataDir {
        /// The directory as given.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// A `redis-server` (most likely left by an earlier bullring) still runs on this directory.
    #[error(
        "a redis-server (pid {pid}) is already running on the data directory {}{}; two servers \
         must not share one AOF. Stop it (`kill {pid}`), or reuse it with `--redis-url {}`",
        data_dir.display(),
        url.as_deref().map(|u| format!(" at {u}")).unwrap_or_default(),
        url.as_deref().unwrap_or("redis://127.0.0.1:<its port>")
    )]
    AlreadyRunning {
        /// Pid of the running server, from its pid file.
        pid: u32,
        /// The data directory as given.
        data_dir: PathBuf,
        /// Its URL, when its port could be read.
        url: Option<String>,
    },
    /// No free loopback port could be found.
    #[error("cannot find a free port on 127.0.0.1: {0}")]
    NoFreePort(#[source] io::Error),
    /// The binary could not be executed.
    #[error("cannot run {}: {source}", binary.display())]
    Spawn {
        /// The executable we tried.
        binary: PathBuf,
        /// What the OS said.
        #[source]
        source: io::Error,
    },
    /// The server exited before it answered PING.
    #[error("redis-server exited during startup ({status}); last lines of {}:\n{tail}", log.display())]
    EarlyExit {
        /// Exit status as text.
        status: String,
        /// Its log file.
        log: PathBuf,
        /// Last lines of its log and stderr.
        tail: String,
    },
    /// The server did not answer PING in time.
    #[error(
        "redis-server did not answer PING within {}s; last lines of {}:\n{tail}",
        waited.as_secs(),
        log.display()
    )]
    Timeout {
        /// How long we waited.
        waited: Duration,
        /// Its log file.
        log: PathBuf,
        /// Last lines of its log and stderr.
        tail: String,
    },
}

/// A `redis-server` child process owned by bullring.
///
/// Stop it with [`EmbeddedRedis::stop`]; dropping it kills the process (a backstop that loses up
/// to a second of AOF writes).
#[derive(Debug)]
pub struct EmbeddedRedis {
    child: Option<Child>,
    pid: Option<u32>,
    url: String,
    /// Absolute path, handed to Redis as `--dir`.
    data_dir: PathBuf,
    /// The directory as the user gave it, for log lines.
    shown_dir: PathBuf,
}

impl EmbeddedRedis {
    /// Start a private `redis-server` found on `PATH`, with its data in `data_dir` (created if
    /// needed), and wait until it answers PING.
    pub async fn start(data_dir: &Path) -> Result<EmbeddedRedis, EmbeddedError> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let binary = find_redis_server(&path)?;
        Self::start_with_binary(&binary, data_dir).await
    }

    /// Like [`EmbeddedRedis::start`], with an explicit `redis-server` executable.
    pub async fn start_with_binary(
        binary: &Path,
        data_dir: &Path,
    ) -> Result<EmbeddedRedis, EmbeddedError> {
        let data_dir_error = |source| EmbeddedError::DataDir {
            path: data_dir.to_path_buf(),
            source,
        };
        tokio::fs::create_dir_all(data_dir)
            .await
            .map_err(data_dir_error)?;
        let abs_dir = tokio::fs::canonicalize(data_dir)
            .await
            .map_err(data_dir_error)?;
        check_not_running(&abs_dir, data_dir).await?;

        let mut attempt = 1;
        loop {
            let port = free_port().map_err(EmbeddedError::NoFreePort)?;
            match launch(binary, &abs_dir, port).await? {
                Launch::Ready(child) => {
                    let pid = child.id();
                    let url = format!("redis://127.0.0.1:{port}");
                    info!(
                        "started private redis-server (pid {}) on {url}, data in {} (AOF on)",
                        pid.map_or_else(|| "?".to_string(), |p| p.to_string()),
                        data_dir.display()
                    );
                    return Ok(EmbeddedRedis {
                        child: Some(child),
                        pid,
                        url,
                        data_dir: abs_dir,
                        shown_dir: data_dir.to_path_buf(),
                    });
                }
                Launch::PortTaken(err) if attempt < PORT_ATTEMPTS => {
                    warn!(
                        "port {port} was taken before redis-server could bind it; trying another"
                    );
                    debug!("{err}");
                    attempt += 1;
                }
                Launch::PortTaken(err) => return Err(err),
            }
        }
    }

    /// The URL clients connect to, `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The (absolute) data directory.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The server's process id, if still known.
    pub fn pid(&self) -> Option<u32> {
        self.pid
    }

    /// Shut the server down cleanly (`SHUTDOWN`: the AOF is flushed), wait for it to exit, and kill
    /// it if it has not exited within 10 s.
    pub async fn stop(mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let pid = self.pid.unwrap_or_default();
        if let Ok(Some(status)) = child.try_wait() {
            warn!("private redis-server (pid {pid}) had already exited ({status})");
            return;
        }
        match send_shutdown(&self.url).await {
            Ok(()) => {}
            Err(err) => {
                warn!("private redis-server (pid {pid}) refused SHUTDOWN ({err}); killing it");
                kill_and_reap(&mut child, pid).await;
                return;
            }
        }
        match tokio::time::timeout(STOP_DEADLINE, child.wait()).await {
            Ok(Ok(status)) if status.success() => info!(
                "stopped private redis-server (pid {pid}), data kept in {}",
                self.shown_dir.display()
            ),
            Ok(Ok(status)) => warn!("private redis-server (pid {pid}) exited with {status}"),
            Ok(Err(err)) => warn!("cannot wait for private redis-server (pid {pid}): {err}"),
            Err(_) => {
                warn!(
                    "private redis-server (pid {pid}) did not exit within {}s; killing it",
                    STOP_DEADLINE.as_secs()
                );
                kill_and_reap(&mut child, pid).await;
            }
        }
    }
}

impl Drop for EmbeddedRedis {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut()
            && matches!(child.try_wait(), Ok(None))
        {
            warn!(
                "private redis-server (pid {}) was not stopped; killing it",
                self.pid.unwrap_or_default()
            );
            if let Err(err) = child.start_kill() {
                warn!("cannot kill private redis-server: {err}");
            }
        }
    }
}

/// Look for an executable `program` in the directories of a `PATH`-style list. Empty entries
/// (which would mean the current directory) are skipped.
pub fn find_in_path(program: &str, path: &OsStr) -> Option<PathBuf> {
    let file_name = format!("{program}{}", std::env::consts::EXE_SUFFIX);
    std::env::split_paths(path)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(&file_name))
        .find(|candidate| is_executable(candidate))
}

/// Find `redis-server` in a `PATH`-style list, or say how to get it.
pub fn find_redis_server(path: &OsStr) -> Result<PathBuf, EmbeddedError> {
    find_in_path(REDIS_SERVER, path).ok_or(EmbeddedError::NotInstalled)
}

fn is_executable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

/// A port on 127.0.0.1 that was free a moment ago.
fn free_port() -> io::Result<u16> {
    let listener = TcpListener::bind(("127.0.0.1", 0))?;
    Ok(listener.local_addr()?.port())
}

/// Refuse to start when the pid file of the directory names a live `redis-server`; remove a stale
/// pid file.
async fn check_not_running(abs_dir: &Path, shown_dir: &Path) -> Result<(), EmbeddedError> {
    let pid_file = abs_dir.join(PID_FILE);
    let Ok(text) = tokio::fs::read_to_string(&pid_file).await else {
        return Ok(());
    };
    let Ok(pid) = text.trim().parse::<u32>() else {
        debug!("ignoring unreadable pid file {}", pid_file.display());
        return Ok(());
    };
    if redis_process_alive(pid) {
        return Err(EmbeddedError::AlreadyRunning {
            pid,
            data_dir: shown_dir.to_path_buf(),
            url: running_port(pid).map(|port| format!("redis://127.0.0.1:{port}")),
        });
    }
    debug!("removing stale pid file {} (pid {pid})", pid_file.display());
    if let Err(err) = tokio::fs::remove_file(&pid_file).await {
        debug!("cannot remove stale pid file: {err}");
    }
    Ok(())
}

/// Whether `pid` is a running `redis-server`.
#[cfg(target_os = "linux")]
fn redis_process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim() == REDIS_SERVER)
        .unwrap_or(false)
}

/// Whether `pid` is a running process (the name cannot be checked without /proc).
#[cfg(all(unix, not(target_os = "linux")))]
fn redis_process_alive(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false)
}

#[cfg(not(unix))]
fn redis_process_alive(_pid: u32) -> bool {
    false
}

/// The port of a running `redis-server`: it renames itself `redis-server 127.0.0.1:<port>`.
#[cfg(target_os = "linux")]
fn running_port(pid: u32) -> Option<u16> {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let cmdline = String::from_utf8_lossy(&cmdline);
    let title = cmdline.split(['\0', ' ']).find(|part| part.contains(':'))?;
    title.rsplit(':').next()?.trim().parse().ok()
}

#[cfg(not(target_os = "linux"))]
fn running_port(_pid: u32) -> Option<u16> {
    None
}

enum Launch {
    Ready(Child),
    /// The port was taken between our pick and Redis binding it; the error to report if we give up.
    PortTaken(EmbeddedError),
}

/// Spawn one server on `port` and wait until it answers.
async fn launch(binary: &Path, dir: &Path, port: u16) -> Result<Launch, EmbeddedError> {
    let log = dir.join(LOG_FILE);
    // Quote only what this run writes, not earlier runs' lines.
    let log_offset = tokio::fs::metadata(&log).await.map_or(0, |m| m.len());

    let mut command = Command::new(binary);
    command
        .arg("--bind")
        .arg("127.0.0.1")
        .arg("--port")
        .arg(port.to_string())
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

    let url = format!("redis://127.0.0.1:{port}");
    let started = Instant::now();
    let mut loading = false;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let tail = startup_tail(&log, log_offset, &stderr_tail).await;
                let err = EmbeddedError::EarlyExit {
                    status: status.to_string(),
                    log,
                    tail: tail.clone(),
                };
                return if tail.contains("Address already in use") {
                    Ok(Launch::PortTaken(err))
                } else {
                    Err(err)
                };
            }
            Ok(None) => {}
            Err(err) => debug!("cannot poll redis-server: {err}"),
        }

        match probe(&url).await {
            Probe::Ready(server_pid) if server_pid == child.id() => {
                return Ok(Launch::Ready(child));
            }
            Probe::Ready(other) => debug!(
                "port {port} answers, but as pid {other:?}, not ours; waiting for ours to exit"
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

fn parse_process_id(info: &str) -> Option<u32> {
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

/// Ask the server to shut down. Success is the connection closing under us.
async fn send_shutdown(url: &str) -> Result<(), redis::RedisError> {
    let attempt = async {
        let client = redis::Client::open(url)?;
        let mut conn = client.get_multiplexed_async_connection().await?;
        redis::cmd("SHUTDOWN").query_async::<()>(&mut conn).await
    };
    match tokio::time::timeout(STOP_DEADLINE, attempt).await {
        // The server answered with an error (e.g. "Errors trying to SHUTDOWN").
        Ok(Err(err)) if err.code().is_some() => Err(err),
        // Dropped connection (the normal outcome), an OK, or no answer: wait for the exit.
        _ => Ok(()),
    }
}

async fn kill_and_reap(child: &mut Child, pid: u32) {
    if let Err(err) = child.kill().await {
        warn!("cannot kill private redis-server (pid {pid}): {err}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn scratch_dir(tag: &str) -> PathBuf {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        std::env::temp_dir().join(format!(
            "bullring-embedded-{tag}-{}-{nanos}-{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }

    #[test]
    fn path_lookup_finds_only_executables() {
        let dir = scratch_dir("path");
        let empty = dir.join("empty");
        let bin = dir.join("bin");
        let plain = dir.join("plain");
        for d in [&empty, &bin, &plain] {
            std::fs::create_dir_all(d).unwrap();
        }
        let exe = bin.join(REDIS_SERVER);
        std::fs::write(&exe, "#!/bin/sh\n").unwrap();
        std::fs::write(plain.join(REDIS_SERVER), "not executable").unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
            std::fs::set_permissions(
                plain.join(REDIS_SERVER),
                std::fs::Permissions::from_mode(0o644),
            )
            .unwrap();
        }

        let path = std::env::join_paths([&empty, &plain, &bin]).unwrap();
        assert_eq!(find_redis_server(&path).unwrap(), exe);

        let path = std::env::join_paths([&empty, &plain]).unwrap();
        let err = find_redis_server(&path).unwrap_err();
        assert!(matches!(err, EmbeddedError::NotInstalled));
        let text = err.to_string();
        assert!(
            text.contains("redis-server was not found on PATH"),
            "{text}"
        );
        assert!(text.contains("sudo apt-get install redis-server"), "{text}");
        assert!(text.contains("--redis-url redis://host:6379"), "{text}");
        assert!(text.contains("REDIS_URL"), "{text}");
        assert!(text.lines().count() <= 2, "{text}");

        assert!(find_in_path(REDIS_SERVER, OsStr::new("")).is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn process_id_is_read_from_info() {
        let info = "# Server\r\nredis_version:7.0.15\r\nprocess_id:4242\r\ntcp_port:7000\r\n";
        assert_eq!(parse_process_id(info), Some(4242));
        assert_eq!(parse_process_id("# Server\r\n"), None);
    }

    #[tokio::test]
    async fn start_persists_across_restart_and_stop_ends_the_process() {
        let dir = scratch_dir("aof");
        let data_dir = dir.join("data");

        let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
        assert!(redis.url().starts_with("redis://127.0.0.1:"));
        assert!(redis.data_dir().is_absolute());
        let pid = redis.pid().unwrap();
        let client = redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
        assert_eq!(pong, "PONG");
        let () = redis::cmd("SET")
            .arg("bullring:test")
            .arg("kept")
            .query_async(&mut conn)
            .await
            .unwrap();

        // A second server on the same directory is refused, naming the first.
        let err = EmbeddedRedis::start(&data_dir).await.unwrap_err();
        match &err {
            EmbeddedError::AlreadyRunning {
                pid: other, url, ..
            } => {
                assert_eq!(*other, pid);
                assert_eq!(url.as_deref(), Some(redis.url()));
            }
            other => panic!("expected AlreadyRunning, got {other}"),
        }

        let old_url = redis.url().to_string();
        redis.stop().await;
        assert!(!redis_process_alive(pid), "redis-server still running");
        assert!(!data_dir.join(PID_FILE).exists());
        assert!(
            redis::Client::open(old_url.as_str())
                .unwrap()
                .get_multiplexed_async_connection()
                .await
                .is_err()
        );

        let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
        let client = redis::Client::open(redis.url()).unwrap();
        let mut conn = client.get_multiplexed_async_connection().await.unwrap();
        let kept: Option<String> = redis::cmd("GET")
            .arg("bullring:test")
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(kept.as_deref(), Some("kept"));
        redis.stop().await;

        // Dropping without stop kills the process; a stale pid file does not block the next start.
        let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
        let pid = redis.pid().unwrap();
        drop(redis);
        let deadline = Instant::now() + Duration::from_secs(5);
        while redis_process_alive(pid) && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(!redis_process_alive(pid));
        let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
        redis.stop().await;

        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn a_taken_port_is_recognised() {
        let dir = scratch_dir("port");
        std::fs::create_dir_all(&dir).unwrap();
        let dir_abs = std::fs::canonicalize(&dir).unwrap();
        let binary = find_redis_server(&std::env::var_os("PATH").unwrap_or_default()).unwrap();
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let port = listener.local_addr().unwrap().port();
        match launch(&binary, &dir_abs, port).await.unwrap() {
            Launch::PortTaken(err) => {
                assert!(err.to_string().contains("Address already in use"), "{err}")
            }
            Launch::Ready(_) => panic!("redis-server started on a taken port"),
        }
        drop(listener);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[tokio::test]
    async fn early_exit_quotes_the_log() {
        let dir = scratch_dir("fail");
        std::fs::create_dir_all(&dir).unwrap();
        // `false` exits at once with status 1, like a server that cannot start.
        let Some(false_bin) = find_in_path("false", &std::env::var_os("PATH").unwrap_or_default())
        else {
            return;
        };
        let err = EmbeddedRedis::start_with_binary(&false_bin, &dir)
            .await
            .unwrap_err();
        assert!(matches!(err, EmbeddedError::EarlyExit { .. }), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
