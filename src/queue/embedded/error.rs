//! [`EmbeddedError`]: why the private Redis could not be started, with what the operating
//! system said as its source and, for a server that died, the last lines it logged.

use std::io;
use std::path::PathBuf;
use std::time::Duration;

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
    #[error("cannot use {} as the Redis data directory", path.display())]
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
        url.as_deref().unwrap_or("redis+unix://<its socket>")
    )]
    AlreadyRunning {
        /// Pid of the running server, from its pid file.
        pid: u32,
        /// The data directory as given.
        data_dir: PathBuf,
        /// Its URL, when its socket is where bullring puts it.
        url: Option<String>,
    },
    /// The private directory of the server's socket could not be made.
    #[error("cannot make {} the private (mode 0700) directory of the Redis socket", path.display())]
    SocketDir {
        /// The directory.
        path: PathBuf,
        /// What the file system said.
        #[source]
        source: io::Error,
    },
    /// The binary could not be executed.
    #[error("cannot run {}", binary.display())]
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
