//! Tests of the private Redis: finding the binary, reading its pid, starting, restarting and
//! stopping a real server, a deep data directory, an early exit.

use std::ffi::OsStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::time::Instant;

use super::launch::parse_process_id;
use super::pidfile::redis_process_alive;
use super::*;

fn scratch_dir(tag: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    std::env::temp_dir().join(format!(
        "bullring-embedded-{tag}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ))
}

#[test]
fn path_lookup_finds_only_executables() {
    let dir = scratch_dir("path");
    let empty = dir.join("empty");
    let bin = dir.join("bin");
    let plain = dir.join("plain");
    for d in [&empty, &bin, &plain] {
        std::fs::create_dir_all(d).unwrap();
    }
    let exe = bin.join(REDIS_SERVER);
    std::fs::write(&exe, "#!/bin/sh\n").unwrap();
    std::fs::write(plain.join(REDIS_SERVER), "not executable").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(
            plain.join(REDIS_SERVER),
            std::fs::Permissions::from_mode(0o644),
        )
        .unwrap();
    }

    let path = std::env::join_paths([&empty, &plain, &bin]).unwrap();
    assert_eq!(find_redis_server(&path).unwrap(), exe);

    let path = std::env::join_paths([&empty, &plain]).unwrap();
    let err = find_redis_server(&path).unwrap_err();
    assert!(matches!(err, EmbeddedError::NotInstalled));
    let text = err.to_string();
    assert!(
        text.contains("redis-server was not found on PATH"),
        "{text}"
    );
    assert!(text.contains("sudo apt-get install redis-server"), "{text}");
    assert!(text.contains("--redis-url redis://host:6379"), "{text}");
    assert!(text.contains("REDIS_URL"), "{text}");
    assert!(text.lines().count() <= 2, "{text}");

    assert!(find_in_path(REDIS_SERVER, OsStr::new("")).is_none());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn process_id_is_read_from_info() {
    let info = "# Server\r\nredis_version:7.0.15\r\nprocess_id:4242\r\ntcp_port:7000\r\n";
    assert_eq!(parse_process_id(info), Some(4242));
    assert_eq!(parse_process_id("# Server\r\n"), None);
}

#[tokio::test]
async fn start_persists_across_restart_and_stop_ends_the_process() {
    let dir = scratch_dir("aof");
    let data_dir = dir.join("data");

    let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
    assert!(redis.url().starts_with("redis+unix:///"), "{}", redis.url());
    assert!(redis.data_dir().is_absolute());
    let pid = redis.pid().unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    let () = redis::cmd("SET")
        .arg("bullring:test")
        .arg("kept")
        .query_async(&mut conn)
        .await
        .unwrap();

    // A second server on the same directory is refused, naming the first.
    let err = EmbeddedRedis::start(&data_dir).await.unwrap_err();
    match &err {
        EmbeddedError::AlreadyRunning {
            pid: other, url, ..
        } => {
            assert_eq!(*other, pid);
            assert_eq!(url.as_deref(), Some(redis.url()));
        }
        other => panic!("expected AlreadyRunning, got {other}"),
    }

    let old_url = redis.url().to_string();
    redis.stop().await;
    assert!(!redis_process_alive(pid), "redis-server still running");
    assert!(!data_dir.join(PID_FILE).exists());
    assert!(
        redis::Client::open(old_url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .is_err()
    );

    let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let kept: Option<String> = redis::cmd("GET")
        .arg("bullring:test")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("kept"));
    redis.stop().await;

    // Dropping without stop kills the process; a stale pid file does not block the next start.
    let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
    let pid = redis.pid().unwrap();
    drop(redis);
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis_process_alive(pid) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!redis_process_alive(pid));
    let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
    redis.stop().await;

    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn a_data_directory_too_deep_for_a_socket_path_uses_a_private_temporary_one() {
    let dir = scratch_dir("deep");
    let data_dir = dir.join("d".repeat(60)).join("e".repeat(60));
    let redis = EmbeddedRedis::start(&data_dir).await.unwrap();
    let socket_dir = redis.socket.dir.clone();
    assert!(redis.socket.temporary);
    assert!(socket_dir.starts_with(std::env::temp_dir()));
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&socket_dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    redis.stop().await;
    assert!(
        !socket_dir.exists(),
        "the temporary socket directory is removed"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn early_exit_quotes_the_log() {
    let dir = scratch_dir("fail");
    std::fs::create_dir_all(&dir).unwrap();
    // `false` exits at once with status 1, like a server that cannot start.
    let Some(false_bin) = find_in_path("false", &std::env::var_os("PATH").unwrap_or_default())
    else {
        return;
    };
    let err = EmbeddedRedis::start_with_binary(&false_bin, &dir)
        .await
        .unwrap_err();
    assert!(matches!(err, EmbeddedError::EarlyExit { .. }), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
