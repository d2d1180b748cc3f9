//! The `bullring` binary: parse the command line, set up logging, run `serve`, `demo`, `run`,
//! `start`, `healthcheck` or one of the terminal commands (`add`, `jobs`, `stats`, `hash-password`).

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

use bullring::config::{Cli, Command, Config, Settings};
use bullring::runner::{AddOptions, Runner, cli};
use bullring::server;

/// mimalloc instead of glibc's malloc: the request and job paths allocate many small short-lived
/// values, and glibc's malloc took about 17 % of the server's CPU under load (perf; README,
/// Performance).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// What a long-running command serves.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Serve,
    Demo,
    Run,
    Start,
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,bullmq=warn")),
        )
        .init();
    let cli = Cli::parse();
    let result =
        match cli.command {
            Command::Serve(settings) => run(settings, Mode::Serve).await,
            Command::Demo(settings) => run(settings, Mode::Demo).await,
            Command::Run(settings) => run(settings, Mode::Run).await,
            Command::Start(settings) => run(settings, Mode::Start).await,
            Command::HashPassword => hash_password(),
            Command::Add(args) => {
                let connection = args.connection.clone();
                terminal(&args.settings.clone(), connection, |config| async move {
                    if let Some(from) = &args.from {
                        return bullring::runner::import::import(&config, &args.queue, from).await;
                    }
                    let job = cli::AddJob {
                        queue: args.queue,
                        name: args.name.unwrap_or_default(),
                        data: args.data,
                        options: AddOptions {
                            job_id: args.job_id,
                            delay_ms: args.delay,
                            priority: args.priority,
                            attempts: args.attempts,
                            dedup_id: args.dedup_id,
                            dedup_ttl_ms: args.dedup_ttl_ms,
                        },
                    };
                    cli::add(&config, &job).await.map(|id| format!("{id}\n"))
                })
                .await
            }
            Command::Jobs(args) => {
                terminal(
                    &args.settings.clone(),
                    args.connection.clone(),
                    |config| async move {
                        if let Some(query) = &args.query {
                            return cli::export(&config, &args.queue, &args.state, query).await;
                        }
                        cli::jobs(&config, &args.queue, &args.state, args.limit, args.json).await
                    },
                )
                .await
            }
            Command::Stats(args) => terminal(
                &args.settings.clone(),
                args.connection.clone(),
                |config| async move { cli::stats(&config, args.queue.as_deref(), args.json).await },
            )
            .await,
            Command::Healthcheck(args) => healthcheck(args).await,
        };
    if let Err(err) = result {
        eprintln!("bullring: {}", report(&err));
        std::process::exit(1);
    }
}

/// An error and its causes on one line, `outer: cause: root cause`, each said once: a cause
/// whose message (or, for a message of several lines, its last line) is already in the line is
/// left out, so an error that quotes its source is not repeated, and a TOML error's source
/// snippet does not spill over several lines.
fn report(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let text = text.trim();
        let last = text.lines().last().unwrap_or_default().trim();
        if !line.is_empty() && (last.is_empty() || line.contains(last)) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    line
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

/// A terminal command: load the config, run `f`, print what it returns.
async fn terminal<F, Fut>(
    settings: &Settings,
    connection: Option<String>,
    f: F,
) -> anyhow::Result<()>
where
    F: FnOnce(Config) -> Fut,
    Fut: std::future::Future<Output = Result<String, bullring::queue::error::QueueError>>,
{
    let mut config = Config::load(settings)?;
    if let Some(name) = connection {
        config = config.on_connection(&name)?;
    }
    let text = f(config).await?;
    print!("{text}");
    if !text.ends_with('\n') {
        println!();
    }
    Ok(())
}

async fn run(settings: Settings, mode: Mode) -> anyhow::Result<()> {
    let config = Config::load(&settings)?;
    if mode == Mode::Run && config.runner.workers.is_empty() && config.runner.schedulers.is_empty()
    {
        anyhow::bail!(
            "nothing to run: the config has no [[workers]] nor [[schedulers]] (see README, Runner)"
        );
    }
    let target = server::redis_target(&config).await?;
    if mode == Mode::Demo
        && let Some(refused) = bullring::demo::refusal(&target.settings)
    {
        return Err(refused.into());
    }
    let prefix = config.default_prefix().to_string();
    let runner = match mode {
        Mode::Run | Mode::Start => Some(
            Runner::builder(&config)
                .redis(target.settings.clone())
                .start()
                .await
                .context("starting the runner")?,
        ),
        Mode::Demo => Some(
            bullring::demo::live_runner(target.settings.clone(), &prefix)
                .start()
                .await
                .context("starting the demo workers")?,
        ),
        Mode::Serve => None,
    };
    let alerts_cancel = CancellationToken::new();
    server::spawn_alerts(&config, &target.settings, &alerts_cancel);
    if mode == Mode::Run {
        let runner = runner.expect("run has a runner");
        tracing::info!(workers = runner.worker_count(), "runner started");
        let probe_cancel = CancellationToken::new();
        if let Some(addr) = config.metrics_listen {
            server::serve_runner_probe(
                addr,
                runner.health(),
                config.limits.clone(),
                probe_cancel.clone(),
            )
            .await?;
        }
        server::shutdown_signal().await;
        tracing::info!("shutting down");
        alerts_cancel.cancel();
        probe_cancel.cancel();
        runner.shutdown().await;
        if let Some(embedded) = target.embedded {
            embedded.stop().await;
        }
        return Ok(());
    }
    if mode == Mode::Demo {
        let prefix = config.default_prefix();
        let summary = bullring::demo::seed_on(&target.settings, prefix)
            .await
            .context("seeding the demo queues")?;
        tracing::info!(queues = ?summary.queues, jobs = summary.jobs, "demo queues seeded");
    }
    let cancel = CancellationToken::new();
    let mut state = server::dashboard_state(&config, &target.settings, &cancel);
    if let Some(runner) = &runner {
        state = state.with_runner(runner.health());
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let base = if config.base_path.is_empty() {
        "/"
    } else {
        &config.base_path
    };
    tracing::info!("dashboard at http://{}{}", config.listen, base);

    if let Some(addr) = config.metrics_listen {
        server::serve_metrics(addr, state.clone(), config.limits.clone(), cancel.clone()).await?;
    }
    let dashboards = state.clone();
    let serving = tokio::spawn(server::serve(
        listener,
        state,
        config.limits.clone(),
        cancel.clone(),
    ));
    server::shutdown_signal().await;
    tracing::info!("shutting down");
    cancel.cancel();
    alerts_cancel.cancel();
    let (served, ()) = tokio::join!(
        tokio::time::timeout(server::SHUTDOWN_GRACE, serving),
        server::stop_tasks(&dashboards, server::TASKS_GRACE),
    );
    match served {
        Ok(joined) => joined??,
        Err(_) => tracing::warn!("open requests did not finish in time"),
    }
    if let Some(runner) = runner {
        runner.shutdown().await;
    }
    if let Some(embedded) = target.embedded {
        embedded.stop().await;
    }
    Ok(())
}
