//! The data directory's pid file: Redis takes no lock on its directory, so a live
//! `redis-server` named by `<dir>/redis.pid` (one an earlier bullring left running) makes a new
//! start refuse, and a stale pid file is removed.

use std::path::Path;
#[cfg(all(unix, not(target_os = "linux")))]
use std::process::Stdio;

use tracing::debug;

#[cfg(target_os = "linux")]
use super::binary::REDIS_SERVER;
use super::error::EmbeddedError;

/// Pid file of the server, inside the data directory.
pub const PID_FILE: &str = "redis.pid";

/// Refuse to start when the pid file of the directory names a live `redis-server`; remove a stale
/// pid file.
pub(super) async fn check_not_running(
    abs_dir: &Path,
    shown_dir: &Path,
) -> Result<(), EmbeddedError> {
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
            url: super::socket::existing_url(abs_dir),
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
pub(super) fn redis_process_alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .map(|comm| comm.trim() == REDIS_SERVER)
        .unwrap_or(false)
}

/// Whether `pid` is a running process (the name cannot be checked without /proc).
#[cfg(all(unix, not(target_os = "linux")))]
pub(super) fn redis_process_alive(pid: u32) -> bool {
    std::process::Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false)
}

#[cfg(not(unix))]
pub(super) fn redis_process_alive(_pid: u32) -> bool {
    false
}
