//! A private `redis-server` child process, for `bullring serve` / `bullring demo` when no Redis is
//! configured.
//!
//! This module owns finding `redis-server` on `PATH`, starting it with its data (AOF on, no RDB
//! snapshots) in a directory of ours, listening only on a unix socket in a directory only our user
//! can enter (no TCP port, so no password: see [`socket`]), waiting until it answers, noticing a
//! server that an earlier bullring left running on the same directory, and stopping it again.
//!
//! Redis itself takes no lock on its data directory: two servers would happily append to the same
//! AOF. We therefore pass `--pidfile <dir>/redis.pid` (Redis removes it on a clean shutdown) and
//! refuse to start while the pid in that file is a live `redis-server`.
//!
//! The child runs in its own process group, so a Ctrl-C in the terminal reaches bullring only and
//! bullring decides when Redis goes down ([`EmbeddedRedis::stop`]). If bullring is killed hard the
//! server survives; the next start reports it with its pid and URL.

//!
//! Its parts: [`binary`] (finding the executable), [`pidfile`] (a server already running on the
//! directory), [`socket`] (its private socket), [`launch`] (starting one and waiting for it),
//! [`shutdown`] (stopping it).

pub mod binary;
pub mod error;
pub mod launch;
pub mod pidfile;
pub mod shutdown;
pub mod socket;

use std::path::{Path, PathBuf};

use tokio::process::Child;
use tracing::{info, warn};

pub use self::binary::{REDIS_SERVER, find_in_path, find_redis_server};
pub use self::error::EmbeddedError;
pub use self::launch::LOG_FILE;
use self::launch::launch;
pub use self::pidfile::PID_FILE;
use self::pidfile::check_not_running;
use self::shutdown::{STOP_DEADLINE, kill_and_reap, send_shutdown};
use self::socket::SocketPlace;

/// A `redis-server` child process owned by bullring.
///
/// Stop it with [`EmbeddedRedis::stop`]; dropping it kills the process (a backstop that loses up
/// to a second of AOF writes).
#[derive(Debug)]
pub struct EmbeddedRedis {
    child: Option<Child>,
    pid: Option<u32>,
    url: String,
    /// Where it listens.
    socket: SocketPlace,
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

        let socket = socket::prepare(&abs_dir)?;
        let child = launch(binary, &abs_dir, &socket).await?;
        let pid = child.id();
        let url = socket.url();
        info!(
            "started private redis-server (pid {}) on {url} (no TCP port), data in {} (AOF on)",
            pid.map_or_else(|| "?".to_string(), |p| p.to_string()),
            data_dir.display()
        );
        Ok(EmbeddedRedis {
            child: Some(child),
            pid,
            url,
            socket,
            data_dir: abs_dir,
            shown_dir: data_dir.to_path_buf(),
        })
    }

    /// The URL clients connect to, `redis+unix:///<data dir>/run/redis.sock`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The private (mode 0700) directory of its socket.
    pub fn socket_dir(&self) -> &Path {
        &self.socket.dir
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

#[cfg(test)]
mod tests;
