//! The `bullring` binary: parse the command line, set up logging, run `serve`, `demo`,
//! `hash-password` or `healthcheck`.

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use bullring::config::{Cli, Command, Config, Settings};
use bullring::server;

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,bullmq=warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(settings) => run(settings, false).await,
        Command::Demo(settings) => run(settings, true).await,
        Command::HashPassword => hash_password(),
        Command::Healthcheck(args) => healthcheck(args).await,
    };
    if let Err(err) = result {
        eprintln!("bullring: {err:#}");
        std::process::exit(1);
    }
}

/// `bullring hash-password`: read one line from standard input, print its argon2 hash.
fn hash_password() -> anyhow::Result<()> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    let password = line.trim_end_matches(['\r', '\n']);
    anyhow::ensure!(!password.is_empty(), "no password on standard input");
    let hash = bullring::web::security::hash_password(password).map_err(anyhow::Error::msg)?;
    println!("{hash}");
    Ok(())
}

/// `bullring healthcheck`: GET the health URL, exit 0 on a 200.
async fn healthcheck(args: bullring::config::HealthcheckArgs) -> anyhow::Result<()> {
    let url = match args.url {
        Some(url) => url,
        None => bullring::healthcheck::url(&Config::load(&args.settings)?),
    };
    bullring::healthcheck::check(&url).await?;
    println!("ok: {url}");
    Ok(())
}

async fn run(settings: Settings, demo: bool) -> anyhow::Result<()> {
    let config = Config::load(&settings)?;
    let target = server::redis_target(&config).await?;
    if demo {
        let prefix = config
            .prefixes
            .first()
            .map(String::as_str)
            .unwrap_or("bull");
        let summary = bullring::demo::seed(&target.settings.url, prefix)
            .await
            .context("seeding the demo queues")?;
        tracing::info!(queues = ?summary.queues, jobs = summary.jobs, "demo queues seeded");
    }
    let cancel = CancellationToken::new();
    let state = server::dashboard_state(&config, &target.settings, &cancel);
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let base = if config.base_path.is_empty() {
        "/"
    } else {
        &config.base_path
    };
    tracing::info!("dashboard at http://{}{}", config.listen, base);

    let serving = tokio::spawn(server::serve(listener, state, cancel.clone()));
    server::shutdown_signal().await;
    tracing::info!("shutting down");
    cancel.cancel();
    match tokio::time::timeout(server::SHUTDOWN_GRACE, serving).await {
        Ok(joined) => joined??,
        Err(_) => tracing::warn!("open requests did not finish in time"),
    }
    if let Some(embedded) = target.embedded {
        embedded.stop().await;
    }
    Ok(())
}
