//! Live updates over SSE: one sampler per process, so twenty open tabs cost Redis what one
//! costs; an outage is reported and the stream resumes; turned off, the route says so.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use bullring::web::AppState;
use http_body_util::BodyExt;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::support::{Dashboard, TestRedis, free_port, unique_prefix};

const BASE: &str = "/admin/queues";
const WAIT: Duration = Duration::from_secs(20);

/// One open SSE stream, read event by event.
struct Stream {
    body: Body,
    buffer: String,
}

impl Stream {
    async fn open(dash: &Dashboard) -> Stream {
        let request = Request::get(format!("{BASE}/events"))
            .body(Body::empty())
            .unwrap();
        let response = dash.router.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "text/event-stream");
        assert_eq!(headers["x-accel-buffering"], "no");
        Stream {
            body: response.into_body(),
            buffer: String::new(),
        }
    }

    /// The next event (name, data), skipping comments; panics after `WAIT`.
    async fn next(&mut self) -> (String, serde_json::Value) {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut name = String::new();
                let mut data = String::new();
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        name = v.trim().to_string();
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if name.is_empty() {
                    continue; // a keep-alive comment
                }
                return (name, serde_json::from_str(&data).expect("JSON data"));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.body.frame())
                .await
                .expect("no event before the deadline")
                .expect("the stream ended")
                .expect("a frame");
            if let Ok(bytes) = frame.into_data() {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
            }
        }
    }

    /// Events until one named `name`.
    async fn until(&mut self, name: &str) -> serde_json::Value {
        loop {
            let (event, data) = self.next().await;
            if event == name {
                return data;
            }
        }
    }
}

fn count_of(data: &serde_json::Value, queue: &str, state: &str) -> Option<u64> {
    data["queues"]
        .as_array()?
        .iter()
        .find(|q| q["name"] == queue)?["counts"][state]
        .as_u64()
}

/// Commands the server processed, but for `INFO` (the test's own way of asking).
fn commands_processed(conn: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    info.lines()
        .filter(|l| l.starts_with("cmdstat_") && !l.starts_with("cmdstat_info:"))
        .filter_map(|l| {
            l.split("calls=")
                .nth(1)?
                .split(',')
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum()
}

/// Wait until the sampler has finished a sample, then return its count: measurements are
/// taken in the pause between two samples, so a window holds whole samples only.
async fn after_a_sample(state: &AppState) -> u64 {
    let start = state.sampler().samples_taken();
    let deadline = Instant::now() + WAIT;
    loop {
        let now = state.sampler().samples_taken();
        if now > start {
            return now;
        }
        assert!(Instant::now() < deadline, "the sampler stopped sampling");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Redis commands and round trips per sample over `samples` samples.
async fn cost_per_sample(
    state: &AppState,
    dash: &Dashboard,
    conn: &mut redis::Connection,
    samples: u64,
) -> (u64, u64, u64) {
    let first = after_a_sample(state).await;
    let (commands, trips) = (commands_processed(conn), dash.redis.round_trips());
    let mut last = first;
    while last < first + samples {
        last = after_a_sample(state).await;
    }
    let commands = commands_processed(conn) - commands;
    let trips = dash.redis.round_trips() - trips;
    (last - first, commands, trips)
}

async fn live_dashboard(url: &str, prefix: &str, every: Duration) -> (Dashboard, AppState) {
    let cancel = CancellationToken::new();
    Dashboard::with_state(url, &[prefix], BASE, |state| {
        state.with_live_updates(Some(every), &cancel)
    })
    .await
}

#[tokio::test]
async fn twenty_tabs_cost_redis_what_one_costs() {
    // A Redis of its own, so its command statistics are this test's alone.
    let server = TestRedis::start_on(free_port());
    let prefix = unique_prefix("live");
    let mut conn = redis::Client::open(server.url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    for queue in ["mail", "sms", "push"] {
        let _: () = redis::pipe()
            .cmd("SET")
            .arg(format!("{prefix}:{queue}:id"))
            .arg(1)
            .cmd("RPUSH")
            .arg(format!("{prefix}:{queue}:wait"))
            .arg(1)
            .query(&mut conn)
            .unwrap();
    }
    let (dash, state) = live_dashboard(&server.url, &prefix, Duration::from_millis(200)).await;

    let mut one = Stream::open(&dash).await;
    let first = one.until("counts").await;
    assert_eq!(count_of(&first, "mail", "waiting"), Some(1));
    let (samples, commands, trips) = cost_per_sample(&state, &dash, &mut conn, 5).await;
    assert_eq!(trips, samples, "one round trip per sample");
    assert_eq!(
        commands % samples,
        0,
        "{commands} commands in {samples} samples"
    );
    let per_sample = commands / samples;
    assert!(per_sample > 0);

    let mut tabs = vec![one];
    for _ in 0..19 {
        tabs.push(Stream::open(&dash).await);
    }
    for tab in tabs.iter_mut().skip(1) {
        assert_eq!(
            count_of(&tab.until("counts").await, "sms", "waiting"),
            Some(1)
        );
    }
    let (samples, commands, trips) = cost_per_sample(&state, &dash, &mut conn, 5).await;
    assert_eq!(
        trips, samples,
        "still one round trip per sample with 20 tabs"
    );
    assert_eq!(
        commands,
        samples * per_sample,
        "20 tabs cost what one costs"
    );

    // A change reaches every tab.
    let _: () = redis::cmd("RPUSH")
        .arg(format!("{prefix}:push:wait"))
        .arg(2)
        .query(&mut conn)
        .unwrap();
    for tab in &mut tabs {
        loop {
            let data = tab.until("counts").await;
            if count_of(&data, "push", "waiting") == Some(2) {
                break;
            }
        }
    }
}

#[tokio::test]
async fn a_redis_outage_is_reported_and_the_stream_resumes() {
    let port = free_port();
    let server = TestRedis::start_on(port);
    let prefix = unique_prefix("outage");
    let mut conn = redis::Client::open(server.url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();
    let _: () = redis::pipe()
        .cmd("SET")
        .arg(format!("{prefix}:jobs:id"))
        .arg(1)
        .cmd("RPUSH")
        .arg(format!("{prefix}:jobs:wait"))
        .arg(1)
        .query(&mut conn)
        .unwrap();
    let (dash, _state) = live_dashboard(&server.url, &prefix, Duration::from_millis(100)).await;
    let mut stream = Stream::open(&dash).await;
    assert_eq!(
        count_of(&stream.until("counts").await, "jobs", "waiting"),
        Some(1)
    );

    server.shutdown();
    let down = stream.until("unavailable").await;
    assert!(
        down["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{down}"
    );

    let _back = TestRedis::start_on(port);
    // The new server is empty: the queue's counts come back as zero, on the same stream.
    let data = stream.until("counts").await;
    assert!(data["queues"].is_array(), "{data}");
}

#[tokio::test]
async fn turned_off_there_is_no_stream_and_pages_do_not_ask_for_one() {
    let prefix = unique_prefix("nolive");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let reply = dash.get(&format!("{BASE}/events")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert!(reply.body.contains("turned off"));
    let page = dash.get(&format!("{BASE}/")).await;
    assert!(!page.body.contains("data-events"));
    assert!(!page.body.contains("live-toggle"));

    let (live, _) = live_dashboard(
        &crate::support::redis().url,
        &prefix,
        Duration::from_secs(2),
    )
    .await;
    let page = live.get(&format!("{BASE}/")).await;
    assert!(
        page.body
            .contains(&format!("data-events=\"{BASE}/events\""))
    );
    assert!(page.body.contains("id=\"live-toggle\""));
}
