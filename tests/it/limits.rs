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
}
