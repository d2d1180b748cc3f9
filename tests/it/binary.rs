//! The `bullring` binary as a newcomer runs it: bad settings fail with one line, a missing
//! redis-server is explained, and with no Redis configured it starts (and stops) its own.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::free_port;

fn bullring() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_bullring"));
    cmd.env_remove("REDIS_URL")
        .env_remove("REDIS_HOST")
        .env("RUST_LOG", "info");
    cmd
}

#[test]
fn a_wrong_setting_fails_with_one_line_naming_it() {
    let output = bullring()
        .args([
            "serve",
            "--listen",
            "nowhere",
            "--redis-url",
            "redis://127.0.0.1:1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    let last = stderr.lines().last().unwrap_or("");
    assert!(last.starts_with("bullring: invalid --listen"), "{stderr}");

    let dir = std::env::temp_dir().join(format!("bullring-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, "listen = \"127.0.0.1:3000\"\nbase_paht = \"/x\"\n").unwrap();
    let output = bullring()
        .args(["serve", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr.contains("line 2") && stderr.contains("base_paht"),
        "{stderr}"
    );
}

#[test]
fn without_redis_server_installed_it_says_what_to_do() {
    let dir = std::env::temp_dir().join(format!("bullring-nopath-{}", std::process::id()));
    let output = bullring()
        .args(["serve", "--data-dir"])
        .arg(&dir)
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("apt-get install redis-server"), "{stderr}");
    assert!(stderr.contains("--redis-url"), "{stderr}");
}

pub(crate) fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, text))
}

#[test]
fn serve_starts_a_private_redis_when_none_is_configured_and_stops_it() {
    let dir = std::env::temp_dir().join(format!("bullring-embedded-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let mut child = bullring()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Some((200, body)) = http_get(port, "/admin/queues/readyz") {
            break body;
        }
        assert!(Instant::now() < deadline, "bullring serve did not come up");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(body.contains("\"redis\":\"up\""), "{body}");
    assert_eq!(http_get(port, "/admin/queues").map(|r| r.0), Some(200));
    assert!(
        dir.join("redis.pid").exists(),
        "the private redis-server keeps its pid file"
    );
    assert!(
        dir.join("appendonlydir").exists() || dir.join("appendonly.aof").exists(),
        "AOF is on"
    );

    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert!(status.success(), "exit after SIGTERM: {status}");
    let log: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    let log = log.join("\n");
    assert!(log.contains("starting a private redis-server"), "{log}");
    assert!(log.contains("stopped private redis-server"), "{log}");
    assert!(!dir.join("redis.pid").exists(), "redis-server was stopped");
    let _ = std::fs::remove_dir_all(&dir);
}

/// `--metrics-listen`: a second listener answers `/metrics` without credentials, while the
/// dashboard itself refuses the same caller.
#[test]
fn metrics_listen_serves_prometheus_alone_and_without_credentials() {
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = bullring()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--metrics-listen", &format!("127.0.0.1:{metrics_port}")])
        .args(["--redis-url", &crate::support::redis().url])
        .args(["--auth", "proxy", "--trusted-proxy", "10.9.9.9"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let body = loop {
        if let Some((200, body)) = http_get(metrics_port, "/metrics") {
            break body;
        }
        assert!(
            Instant::now() < deadline,
            "the metrics listener did not come up"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        body.contains("bullring_redis_up{connection=\"default\"} 1"),
        "{body}"
    );
    assert_eq!(http_get(metrics_port, "/").map(|r| r.0), Some(404));
    // Not from the trusted proxy: the dashboard refuses, its own /metrics included.
    assert_eq!(
        http_get(port, "/admin/queues/metrics").map(|r| r.0),
        Some(403)
    );
    let _ = child.kill();
    let _ = child.wait();
}
