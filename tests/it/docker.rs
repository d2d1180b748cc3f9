//! The container image and the compose file, checked without a Docker engine (none runs on the
//! development machines or in CI): the Dockerfile's stages, build command, user, port, health
//! check and entry point, as the README describes them; and `bullring healthcheck`, which the
//! image's HEALTHCHECK runs, against a real `bullring serve`.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use bullring::config::{Config, FileConfig, Settings};

use crate::support::{free_port, redis};

fn repo_file(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// The Dockerfile's instructions: continuation lines joined, comments and blanks dropped,
/// each as (INSTRUCTION, arguments).
fn instructions(text: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || (trimmed.is_empty() && current.is_empty()) {
            continue;
        }
        match trimmed.strip_suffix('\\') {
            Some(part) => {
                current.push_str(part);
                current.push(' ');
            }
            None => {
                current.push_str(trimmed);
                joined.push(std::mem::take(&mut current));
            }
        }
    }
    joined
        .into_iter()
        .filter(|line| !line.is_empty())
        .map(|line| {
            let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((&line, ""));
            (word.to_ascii_uppercase(), rest.trim().to_string())
        })
        .collect()
}

/// `["a", "b"]` → [a, b]: the exec form, which every CMD-like instruction here must use.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|e| panic!("not exec (JSON) form: {args}: {e}"))
}

#[test]
fn the_dockerfile_builds_as_the_readme_says_and_runs_safely() {
    let dockerfile = repo_file("Dockerfile");
    let readme = repo_file("README.md");
    let all = instructions(&dockerfile);

    // Two stages: a Rust build stage, then a slim Debian runtime.
    let froms: Vec<(usize, &String)> = all
        .iter()
        .enumerate()
        .filter(|(_, (word, _))| word == "FROM")
        .map(|(i, (_, args))| (i, args))
        .collect();
    assert_eq!(
        froms.len(),
        2,
        "a build stage and a runtime stage: {froms:?}"
    );
    let build_from: Vec<&str> = froms[0].1.split_whitespace().collect();
    assert!(build_from[0].starts_with("rust:"), "{build_from:?}");
    assert_eq!(&build_from[1..], ["AS", "build"], "{build_from:?}");
    let runtime_image = froms[1].1.split_whitespace().next().unwrap();
    assert!(
        runtime_image.starts_with("debian:") && runtime_image.ends_with("-slim")
            || runtime_image.starts_with("gcr.io/distroless/"),
        "{runtime_image}"
    );
    let (build, runtime) = all.split_at(froms[1].0);

    // The build stage builds exactly as CI and the README do.
    let build_command = "cargo build --release --locked";
    assert!(
        build
            .iter()
            .any(|(word, args)| word == "RUN" && args.contains(build_command)),
        "the build stage runs `{build_command}`"
    );

    // The build stage builds the dependencies first, from Cargo.toml and Cargo.lock alone, so
    // that a change to the sources reuses that layer; then it copies what the build reads.
    let build_copies: Vec<&String> = build
        .iter()
        .filter(|(word, _)| word == "COPY" || word == "ADD")
        .map(|(_, args)| args)
        .collect();
    assert_eq!(
        build_copies.first().map(|args| args.as_str()),
        Some("Cargo.toml Cargo.lock ./"),
        "{build_copies:?}"
    );
    assert_eq!(
        build_copies.get(1).map(|args| args.as_str()),
        Some(". ."),
        "then the build context: {build_copies:?}"
    );
    // ... which .dockerignore restricts to what the build reads.
    let ignore = repo_file(".dockerignore");
    let rules: Vec<&str> = ignore
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect();
    assert_eq!(
        rules,
        [
            "*",
            "!Cargo.toml",
            "!Cargo.lock",
            "!src",
            "!templates",
            "!locales",
            "!static"
        ],
        "the build context is the manifest, the lockfile, src, templates, locales and static"
    );

    // The runtime stage: Debian's CA bundle (for rediss://) and the binary, both from the build
    // stage, nothing else copied; a user that is not root.
    let copies: Vec<Vec<&str>> = runtime
        .iter()
        .filter(|(word, _)| word == "COPY" || word == "ADD")
        .map(|(_, args)| args.split_whitespace().collect())
        .collect();
    assert_eq!(
        copies.len(),
        2,
        "only the CA bundle and the binary: {copies:?}"
    );
    assert!(
        copies.iter().all(|copy| copy[0] == "--from=build"),
        "{copies:?}"
    );
    assert_eq!(
        copies[0][1..],
        [
            "/etc/ssl/certs/ca-certificates.crt",
            "/etc/ssl/certs/ca-certificates.crt"
        ],
        "CA certificates for rediss://"
    );
    assert!(copies[1][1].ends_with("/bullring"), "{copies:?}");
    let user = runtime
        .iter()
        .rev()
        .find(|(word, _)| word == "USER")
        .map(|(_, args)| args.clone())
        .expect("a USER instruction");
    let user_name = user.split(':').next().unwrap();
    assert!(
        user_name != "root" && user_name != "0",
        "runs as a non-root user: {user}"
    );
    assert!(
        runtime
            .iter()
            .any(|(word, args)| word == "RUN" && args.contains(&format!("--uid {user_name} "))),
        "the image creates the user {user_name}"
    );

    // Port, listen address and the health check agree with the defaults.
    let single = |name: &str| -> String {
        let found: Vec<&String> = runtime
            .iter()
            .filter(|(word, _)| word == name)
            .map(|(_, args)| args)
            .collect();
        assert_eq!(found.len(), 1, "one {name}: {found:?}");
        found[0].clone()
    };
    assert_eq!(single("EXPOSE"), "3000");
    let env = single("ENV");
    let listen = env
        .strip_prefix("BULLRING_LISTEN=")
        .unwrap_or_else(|| panic!("ENV sets BULLRING_LISTEN: {env}"));
    assert!(listen.ends_with(":3000"), "{listen}");
    let healthcheck = single("HEALTHCHECK");
    let (options, command) = healthcheck.split_once("CMD").expect("HEALTHCHECK ... CMD");
    assert!(options.contains("--interval="), "{options}");
    assert_eq!(exec_form(command.trim()), ["bullring", "healthcheck"]);
    // What `bullring healthcheck` asks for with the image's settings: the default base path's
    // health route, on the port the image exposes.
    let settings = Settings {
        listen: Some(listen.to_string()),
        allow_anonymous: Some("true".into()),
        ..Settings::default()
    };
    let config = Config::merge(&settings, FileConfig::default()).expect("image settings");
    assert_eq!(
        bullring::healthcheck::url(&config),
        format!(
            "http://127.0.0.1:3000{}/healthz",
            Config::default().base_path
        )
    );
    assert_eq!(exec_form(&single("ENTRYPOINT")), ["bullring"]);
    assert_eq!(exec_form(&single("CMD")), ["serve"]);

    // The README says the same: both images, the build command, how to run it.
    for needle in [
        build_from[0],
        runtime_image,
        build_command,
        "docker build -t bullring .",
        "BULLRING_ALLOW_ANONYMOUS=true",
    ] {
        assert!(readme.contains(needle), "README mentions {needle:?}");
    }
}

#[test]
fn the_compose_file_runs_redis_with_aof_the_dashboard_and_the_runner() {
    let compose = repo_file("docker-compose.yml");
    for needle in [
        "image: redis:",
        "\"--appendonly\", \"yes\"",
        "redis-data:/data",
        "command: [\"serve\"]",
        "REDIS_URL: redis://redis:6379",
        "command: [\"run\", \"--config\", \"/etc/bullring/bullring.toml\"]",
        "./deploy/bullring.toml:/etc/bullring/bullring.toml:ro",
    ] {
        assert!(
            compose.contains(needle),
            "docker-compose.yml has {needle:?}"
        );
    }
    // The example runner config: the keys `bullring run` reads.
    let example: toml::Table = toml::from_str(&repo_file("deploy/bullring.toml")).expect("TOML");
    let tables = |key: &str| -> Vec<toml::Table> {
        example[key]
            .as_array()
            .unwrap_or_else(|| panic!("[[{key}]]"))
            .iter()
            .map(|v| v.as_table().expect("table").clone())
            .collect()
    };
    let queues: Vec<String> = tables("queues")
        .iter()
        .map(|q| q["name"].as_str().unwrap().to_string())
        .collect();
    for worker in tables("workers") {
        assert!(queues.contains(&worker["queue"].as_str().unwrap().to_string()));
        assert!(worker["concurrency"].as_integer().unwrap() > 0);
        let handler = worker["handler"].as_table().unwrap();
        assert_eq!(handler["type"].as_str(), Some("webhook"));
        assert!(handler["url"].as_str().unwrap().starts_with("http"));
        assert!(handler["timeout_secs"].as_integer().unwrap() > 0);
    }
    for scheduler in tables("schedulers") {
        for key in ["id", "queue", "job_name", "cron", "tz"] {
            assert!(scheduler[key].is_str(), "scheduler {key}");
        }
        assert!(scheduler.contains_key("data"));
    }
}

fn bullring() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bullring"));
    for var in [
        "REDIS_URL",
        "REDIS_HOST",
        "BULLRING_LISTEN",
        "BULLRING_BASE_PATH",
        "BULLRING_CONFIG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `bullring healthcheck` with these environment variables: (exit code, stdout + stderr).
fn healthcheck(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let output = bullring()
        .arg("healthcheck")
        .envs(env.iter().copied())
        .output()
        .expect("run bullring healthcheck");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.code(), text)
}

#[test]
fn the_healthcheck_subcommand_asks_the_serving_dashboard() {
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");

    // Nothing listens yet: unhealthy, and it says where it looked.
    let (code, text) = healthcheck(&[("BULLRING_LISTEN", &listen)]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("cannot reach"), "{text}");
    assert!(
        text.contains(&format!("http://{listen}/admin/queues/healthz")),
        "{text}"
    );

    let mut serve = bullring()
        .args(["serve", "--listen", &listen, "--redis-url", &redis().url])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("bullring serve");
    let deadline = Instant::now() + Duration::from_secs(30);
    let (code, text) = loop {
        let (code, text) = healthcheck(&[("BULLRING_LISTEN", &listen)]);
        if code == Some(0) || Instant::now() > deadline {
            break (code, text);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("ok: "), "{text}");

    // A base path the server does not use: the 404 is reported, exit 1.
    let (code, text) = healthcheck(&[
        ("BULLRING_LISTEN", &listen),
        ("BULLRING_BASE_PATH", "/other"),
    ]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("answered 404"), "{text}");
    // An explicit URL wins over the settings.
    let url = format!("http://{listen}/admin/queues/healthz");
    let output = bullring()
        .args(["healthcheck", "--url", &url])
        .output()
        .expect("healthcheck --url");
    assert!(output.status.success(), "{output:?}");

    let _ = Command::new("kill").arg(serve.id().to_string()).status();
    let status = serve.wait().expect("wait for serve");
    assert!(status.success(), "serve exits cleanly on SIGTERM: {status}");
}
