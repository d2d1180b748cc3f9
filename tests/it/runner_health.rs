//! The runner's health on the dashboard (`bullring start`): `{base}/healthz` carries the
//! runner's state under `"runner"` and `{base}/metrics` its series, next to the queues'; without
//! a runner neither is there.

use bullring::config::Config;
use bullring::runner::Runner;
use tokio_util::sync::CancellationToken;

use crate::support::{Dashboard, redis, unique_prefix};

const BASE: &str = "/admin/queues";

#[tokio::test]
async fn healthz_and_metrics_say_how_the_runner_is() {
    let prefix = unique_prefix("runner-health");
    let config = Config::from_toml(&format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\nbase_path = \"{BASE}\"\n\
         [[queues]]\nname = \"work\"\n\
         [[workers]]\nqueue = \"work\"\nhandler = {{ type = \"noop\" }}\n",
        redis().url
    ))
    .expect("config");
    let runner = Runner::builder(&config).start().await.expect("runner");
    let cancel = CancellationToken::new();
    let settings = config.redis.clone().expect("a Redis");
    let plain = bullring::server::dashboard_state(&config, &settings, &cancel);
    let with_runner = plain.clone().with_runner(runner.health());
    let dash = Dashboard {
        redis: with_runner.reader().redis().clone(),
        router: bullring::web::app(with_runner),
    };

    let health = dash.json(&format!("{BASE}/healthz")).await;
    assert_eq!(health["status"], "ok", "{health}");
    let runner_state = &health["runner"];
    assert_eq!(runner_state["workers"], 1, "{health}");
    assert_eq!(runner_state["sentinel"], false, "{health}");
    assert!(runner_state["master"].is_null(), "{health}");
    assert_eq!(runner_state["failovers"], 0, "{health}");
    let metrics = dash.get(&format!("{BASE}/metrics")).await;
    assert!(
        metrics.body.contains("bullring_runner_workers 1\n"),
        "{}",
        metrics.body
    );
    assert!(metrics.body.contains("bullring_runner_failovers_total 0\n"));
    assert!(!metrics.body.contains("bullring_runner_master"));

    let without = Dashboard {
        redis: plain.reader().redis().clone(),
        router: bullring::web::app(plain),
    };
    let health = without.json(&format!("{BASE}/healthz")).await;
    assert!(health.get("runner").is_none(), "{health}");
    let metrics = without.get(&format!("{BASE}/metrics")).await;
    assert!(
        !metrics.body.contains("bullring_runner_"),
        "{}",
        metrics.body
    );

    let report = runner.shutdown().await;
    assert_eq!(report.abandoned, 0);
    cancel.cancel();
}
