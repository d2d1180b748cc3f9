//! The live part of `bullring demo`: a runner on the `thumbnails` queue (`live.toml`,
//! compiled in), fed by two schedulers (every 2 s, and a cron with seconds), whose closures take
//! a moment, report progress, log, and about one time in eight fail once, so counts, metrics and
//! the completed and failed lists keep moving while the seeded queues keep their jobs.

use std::time::Duration;

use serde_json::json;

use crate::config::Config;
use crate::config::runner::RunnerConfig;
use crate::queue::connection::RedisSettings;
use crate::runner::job::{JobError, RunnerJob};
use crate::runner::lifecycle::{Runner, RunnerBuilder};

/// Queue the demo workers process, fed by the demo schedulers.
pub const LIVE: &str = "thumbnails";
/// Demo scheduler adding a thumbnail job every two seconds.
pub const LIVE_SCHEDULER: &str = "render-thumbnails";
/// Demo scheduler (cron with seconds) adding a clean-up job every ten seconds.
pub const LIVE_CRON_SCHEDULER: &str = "cleanup-thumbnails";

/// The runner settings, as written.
const LIVE_TOML: &str = include_str!("live.toml");

/// The runner settings of `bullring demo`: the live queue, its two schedulers and a worker
/// whose closures are registered by [`live_runner`].
pub fn live_config() -> RunnerConfig {
    Config::from_toml(LIVE_TOML)
        .expect("the demo runner configuration is valid")
        .runner
}

/// A runner for [`live_config`] on `settings` / `prefix`, with its closures: renders take a
/// moment, report progress and log, and about one in eight fails (then succeeds on retry).
pub fn live_runner(settings: RedisSettings, prefix: &str) -> RunnerBuilder {
    let config = Config {
        redis: Some(settings),
        prefixes: vec![prefix.to_string()],
        runner: live_config(),
        ..Config::default()
    };
    Runner::builder(&config)
        .handler("render-thumbnail", render_thumbnail)
        .handler("cleanup-thumbnails", |_job: RunnerJob| async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            Ok(json!({"removed": 0}))
        })
}

async fn render_thumbnail(job: RunnerJob) -> crate::runner::job::JobResult {
    let seed = job.timestamp() / 7 % 13;
    job.log(&format!("rendering {} at {}", job.id(), job.data()["size"]))
        .await?;
    tokio::time::sleep(Duration::from_millis(200 + seed * 60)).await;
    job.progress(json!(50)).await?;
    tokio::time::sleep(Duration::from_millis(100 + seed * 30)).await;
    if seed % 8 == 3 && job.attempts_made() == 0 {
        return Err(JobError::retry("image service answered 503")
            .with_detail("GET http://images.internal/render: 503 Service Unavailable"));
    }
    Ok(
        json!({"thumbnail": format!("s3://thumbnails/{}.webp", job.id()), "bytes": 18_000 + seed * 311}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_live_settings_use_the_named_queue_schedulers_and_worker() {
        let config = live_config();
        assert_eq!(config.queues[0].name, LIVE);
        let ids: Vec<&str> = config.schedulers.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(ids, [LIVE_SCHEDULER, LIVE_CRON_SCHEDULER]);
        assert_eq!(
            config.workers[0].name.as_deref(),
            Some(super::super::engine::WORKER_NAME)
        );
    }
}
