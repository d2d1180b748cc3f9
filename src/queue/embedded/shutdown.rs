//! Stopping the server: `SHUTDOWN` (the AOF is flushed), or a kill when it does not go.

use std::time::Duration;

use tokio::process::Child;
use tracing::warn;

/// How long `stop` waits for the server to exit before killing it.
pub(super) const STOP_DEADLINE: Duration = Duration::from_secs(10);

/// Ask the server to shut down. Success is the connection closing under us.
pub(super) async fn send_shutdown(url: &str) -> Result<(), redis::RedisError> {
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

/// Kill the server and reap it.
pub(super) async fn kill_and_reap(child: &mut Child, pid: u32) {
    if let Err(err) = child.kill().await {
        warn!("cannot kill private redis-server (pid {pid}): {err}");
    }
}
