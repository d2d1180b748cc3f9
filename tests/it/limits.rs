//! Limits against a slow client, too many clients and huge jobs (issue 14, items 4 and 5): the
//! real accept loop (`bullring::server::serve`) on a free port, spoken to over raw TCP sockets.

use std::time::Duration;

use bullring::config::limits::Limits;
use bullring::web::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::{Instant, timeout};
use tokio_util::sync::CancellationToken;

use crate::support::{TestRedis, app_state, free_port, redis, unique_prefix};

/// Far longer than any limit set here: a socket still open after this was never closed.
const PATIENCE: Duration = Duration::from_secs(30);

/// Serve `state` through the real accept loop within `limits`; returns the port.
async fn serve(state: AppState, limits: Limits) -> (u16, CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    tokio::spawn(async move { bullring::server::serve(listener, state, limits, stop).await });
    (port, cancel)
}

/// Limits so long that only the one a test sets can act.
fn lenient() -> Limits {
    Limits {
        header_timeout: Duration::from_secs(3600),
        idle_timeout: Duration::from_secs(3600),
        max_connections: 1000,
        max_event_streams: 1000,
        request_timeout: Duration::from_secs(3600),
    }
}

async fn connect(port: u16) -> TcpStream {
    TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect")
}

fn get(path: &str, port: u16) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n")
}

/// Read one answer's head (up to the blank line) and, with a Content-Length, its body.
async fn read_answer(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = String::from_utf8_lossy(&seen).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("content-length")
                        .then(|| value.trim().parse::<usize>().ok())?
                })
                .unwrap_or(0);
            if seen.len() >= end + 4 + length {
                return text;
            }
        }
        let n = timeout(deadline - Instant::now(), stream.read(&mut buf))
            .await
            .expect("an answer in time")
            .expect("read");
        assert!(n > 0, "closed before a whole answer: {text}");
        seen.extend_from_slice(&buf[..n]);
    }
}

/// Whether the server closes `stream` (EOF or reset) within [`PATIENCE`], reading what it sends.
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 8192];
    let deadline = Instant::now() + PATIENCE;
    loop {
        match timeout(deadline - Instant::now(), stream.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

async fn state() -> AppState {
    let prefix = unique_prefix("limits");
    app_state(&redis().url, &[&prefix], "/admin/queues").await
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..lenient()
    };
    let (port, _cancel) = serve(state().await, limits).await;
    let mut slow = connect(port).await;
    slow.write_all(b"GET /admin/queues HT")
        .await
        .expect("write");
    assert!(
        closed_by_server(&mut slow).await,
        "a half-sent request line must not keep the connection open"
    );
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(300),
        ..lenient()
    };
    let (port, _cancel) = serve(state().await, limits).await;
    let mut client = connect(port).await;
    let path = "/admin/queues/api/queues";
    client.write_all(get(path, port).as_bytes()).await.unwrap();
    let answer = read_answer(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        closed_by_server(&mut client).await,
        "an idle keep-alive connection must be closed"
    );
}

#[tokio::test]
async fn one_connection_over_the_cap_is_answered_503_with_retry_after() {
    let limits = Limits {
        max_connections: 2,
        ..lenient()
    };
    let (port, _cancel) = serve(state().await, limits).await;
    let path = "/admin/queues/api/queues";
    let mut held = Vec::new();
    for _ in 0..2 {
        let mut client = connect(port).await;
        client.write_all(get(path, port).as_bytes()).await.unwrap();
        let answer = read_answer(&mut client).await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        held.push(client);
    }
    let mut extra = connect(port).await;
    extra.write_all(get(path, port).as_bytes()).await.unwrap();
    let answer = read_answer(&mut extra).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: "), "{answer}");
    assert!(answer.contains("max_connections"), "{answer}");
    assert_json_error(&answer);

    // A connection that closes frees its place.
    drop(held.pop());
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut again = connect(port).await;
        again.write_all(get(path, port).as_bytes()).await.unwrap();
        if read_answer(&mut again).await.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(Instant::now() < deadline, "the place was never freed");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn one_event_stream_over_the_cap_is_answered_503_with_retry_after() {
    let cancel = CancellationToken::new();
    let state = state()
        .await
        .with_live_updates(Some(Duration::from_millis(200)), &cancel);
    let limits = Limits {
        max_event_streams: 1,
        ..lenient()
    };
    let (port, _stop) = serve(state, limits).await;
    let path = "/admin/queues/events";
    let mut first = connect(port).await;
    first.write_all(get(path, port).as_bytes()).await.unwrap();
    let head = read_head(&mut first).await;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");

    let mut second = connect(port).await;
    second.write_all(get(path, port).as_bytes()).await.unwrap();
    let answer = read_answer(&mut second).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: "), "{answer}");
    assert!(answer.contains("max_event_streams"), "{answer}");
    // Rendered by the one error mapping: a page (the stream is not under /api), with the headers.
    assert!(
        answer.contains("<!doctype html>") || answer.contains("<!DOCTYPE html>"),
        "{answer}"
    );
    assert!(answer.contains("text/html"), "{answer}");
    assert!(
        answer.to_lowercase().contains("content-security-policy: "),
        "{answer}"
    );
    // Other requests are not affected by the stream cap.
    second
        .write_all(get("/admin/queues/api/queues", port).as_bytes())
        .await
        .unwrap();
    let answer = read_answer(&mut second).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A closed stream frees its place.
    drop(first);
    let deadline = Instant::now() + PATIENCE;
    loop {
        let mut again = connect(port).await;
        again.write_all(get(path, port).as_bytes()).await.unwrap();
        if read_head(&mut again).await.starts_with("HTTP/1.1 200") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the stream's place was never freed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
}

/// Read an answer's head only (an event stream's body does not end).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !String::from_utf8_lossy(&seen).contains("\r\n\r\n") {
        let n = timeout(PATIENCE, stream.read(&mut buf))
            .await
            .expect("a head in time")
            .expect("read");
        assert!(n > 0, "closed before a head");
        seen.extend_from_slice(&buf[..n]);
    }
    String::from_utf8_lossy(&seen).to_string()
}

/// A request that outlives the limit is a 503 saying so, not a hang: here Redis is paused
/// (`CLIENT PAUSE`, on a server of this test's own, left paused: it goes with the test process),
/// so the read waits.
#[tokio::test]
async fn a_request_over_the_time_limit_is_a_503_that_says_so() {
    let own = TestRedis::start_on(free_port());
    let mut control = redis::Client::open(own.url.as_str())
        .and_then(|c| c.get_connection())
        .expect("connect");
    let _: () = redis::cmd("HSET")
        .arg("bull:slow:meta")
        .arg("opts.maxLenEvents")
        .arg(10)
        .query(&mut control)
        .expect("a queue");
    let state = app_state(&own.url, &["bull"], "/admin/queues").await;
    let limits = Limits {
        request_timeout: Duration::from_millis(300),
        ..lenient()
    };
    let (port, _cancel) = serve(state, limits).await;
    let path = "/admin/queues/api/queues";
    let mut client = connect(port).await;
    client.write_all(get(path, port).as_bytes()).await.unwrap();
    let answer = read_answer(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let _: () = redis::cmd("CLIENT")
        .arg("PAUSE")
        .arg(20_000)
        .arg("ALL")
        .query(&mut control)
        .expect("pause");
    client.write_all(get(path, port).as_bytes()).await.unwrap();
    let answer = read_answer(&mut client).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: "), "{answer}");
    assert!(answer.contains("request_timeout_ms"), "{answer}");
    assert_json_error(&answer);
}

/// A refusal under `/api/` is the API's JSON error (`{"error", "status": 503}`), with the
/// security headers, as `web::error` renders every error.
fn assert_json_error(answer: &str) {
    let (head, body) = answer.split_once("\r\n\r\n").expect("a head");
    let head = head.to_lowercase();
    assert!(head.contains("content-type: application/json"), "{answer}");
    assert!(head.contains("content-security-policy: "), "{answer}");
    let error: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(error["status"], 503, "{answer}");
    assert!(
        error["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{answer}"
    );
}

/// Add `count` waiting jobs whose `data` is a JSON string of `bytes` bytes, and one small job.
async fn big_jobs(prefix: &str, queue: &str, count: usize, bytes: usize) {
    let q = crate::support::engine_queue(prefix, queue).await;
    let big = "x".repeat(bytes);
    for _ in 0..count {
        q.add("big", serde_json::json!(big)).await.expect("add");
    }
    q.add("small", serde_json::json!({ "n": 1 }))
        .await
        .expect("add");
}

/// A list of 2 MB jobs reads each row's small fields only: big fields are `null` and marked
/// truncated with their size and a link to read them whole; the page answers, it is no 503.
#[tokio::test]
async fn a_list_of_big_jobs_marks_the_big_fields_truncated_and_links_to_them() {
    let prefix = unique_prefix("limits-big");
    big_jobs(&prefix, "big", 6, 2 * 1024 * 1024).await;
    let dash = crate::support::Dashboard::new(&[&prefix], "/admin/queues").await;
    let list = dash
        .json("/admin/queues/api/queues/big/jobs?state=waiting&per_page=1000")
        .await;
    let jobs = list["jobs"].as_array().expect("jobs");
    assert_eq!(jobs.len(), 7, "{list}");
    for job in jobs {
        if job["name"] == "small" {
            assert_eq!(job["data"]["n"], 1, "{job}");
            assert!(job.get("truncated").is_none(), "{job}");
            continue;
        }
        assert_eq!(job["name"], "big");
        assert!(job["data"].is_null(), "a 2 MB data is not in a list: {job}");
        assert!(job["timestamp"].as_i64().is_some(), "{job}");
        assert!(
            job.get("notes").is_none(),
            "a cut field is not a problem: {job}"
        );
        let cut = &job["truncated"][0];
        assert_eq!(cut["field"], "data", "{job}");
        let bytes = cut["bytes"].as_u64().expect("bytes");
        assert!(bytes > 2 * 1024 * 1024, "{job}");
        let raw = cut["raw"].as_str().expect("a raw link");
        let id = job["id"].as_str().expect("id");
        assert_eq!(
            raw,
            format!("/admin/queues/api/queues/big/jobs/{id}/raw?field=data")
        );
        let whole = dash.get(raw).await;
        assert_eq!(whole.status, 200);
        assert_eq!(whole.body.len() as u64, bytes);
    }
    let page = dash
        .get("/admin/queues/queues/big?state=waiting&per_page=1000")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let rows = page
        .body
        .matches("href=\"/admin/queues/queues/big/jobs/")
        .count();
    assert_eq!(rows, 7, "{}", page.body);
}

/// A big failed reason is not read for a list either; the page says how big it is.
#[tokio::test]
async fn a_big_failure_reason_is_cut_in_the_list() {
    let prefix = unique_prefix("limits-reason");
    big_jobs(&prefix, "q", 0, 0).await;
    let mut conn = crate::support::conn();
    let key = format!("{prefix}:q");
    let reason = "boom ".repeat(100_000);
    let _: () = redis::pipe()
        .cmd("HSET")
        .arg(format!("{key}:f1"))
        .arg("name")
        .arg("fails")
        .arg("data")
        .arg("{}")
        .arg("timestamp")
        .arg(1_700_000_000_000u64)
        .arg("failedReason")
        .arg(&reason)
        .ignore()
        .cmd("ZADD")
        .arg(format!("{key}:failed"))
        .arg(1_700_000_000_000u64)
        .arg("f1")
        .ignore()
        .query(&mut conn)
        .expect("a failed job");
    let dash = crate::support::Dashboard::new(&[&prefix], "/admin/queues").await;
    let list = dash
        .json("/admin/queues/api/queues/q/jobs?state=failed")
        .await;
    let job = &list["jobs"][0];
    assert!(job.get("failedReason").is_none(), "{job}");
    assert_eq!(job["truncated"][0]["field"], "failedReason");
    assert_eq!(job["truncated"][0]["bytes"], reason.len() as u64);
    let page = dash.get("/admin/queues/queues/q?state=failed").await;
    assert_eq!(page.status, 200);
    // 500,000 bytes, written with the page's thousands separator.
    assert_eq!(reason.len(), 500_000);
    assert!(
        page.body.contains("a reason of 500,000 bytes"),
        "{}",
        page.body
    );
}

/// A read that takes long because of its size, from a Redis that answers, is a 504 saying so,
/// never a 503 "Redis is unreachable". The call timeout is made tiny so that a 7 MiB field (under
/// the raw view's 8 MiB cap) is a read too slow for it.
#[tokio::test]
async fn a_read_slow_for_its_size_is_not_reported_as_unreachable() {
    use bullring::queue::connection::{Redis, RedisSettings};
    use bullring::queue::discovery::Discovery;
    use bullring::queue::read::Reader;

    let prefix = unique_prefix("limits-slow");
    big_jobs(&prefix, "huge", 1, 7 * 1024 * 1024).await;
    let settings = RedisSettings::url(redis().url.as_str());
    let slow = Redis::with_call_timeout(settings.clone(), Duration::from_millis(1));
    let discovery = Discovery::new(vec![prefix.clone()], Vec::new(), true);
    discovery
        .refresh(&Redis::new(settings))
        .await
        .expect("discover");
    let state = AppState::new(
        Reader::new(slow.clone(), vec![prefix.clone()]),
        discovery,
        "/admin/queues",
        "bullring test",
    );
    let dash = crate::support::Dashboard {
        router: bullring::web::app(state),
        redis: slow,
    };
    let reply = dash
        .get("/admin/queues/api/queues/huge/jobs/1/raw?field=data")
        .await;
    assert_ne!(reply.status, 503, "{}", reply.body);
    assert_eq!(reply.status, 504, "{}", reply.body);
    assert!(
        reply.body.contains("reachable but did not finish"),
        "{}",
        reply.body
    );
}
