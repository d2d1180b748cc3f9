//! Shared test fixture: a private `redis-server` on a free loopback port (one per test binary,
//! never 6379), a unique key prefix per test, and helpers to build the dashboard and call it.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use bullring::queue::connection::{Redis, RedisSettings};
use bullring::queue::discovery::Discovery;
use bullring::queue::read::Reader;
use bullring::web::{self, AppState};
use http_body_util::BodyExt;
use tower::ServiceExt;

/// A redis-server started for tests. It is stopped by a watchdog shell when the test process
/// exits (statics are never dropped), so no server outlives the run.
pub struct TestRedis {
    pub url: String,
    /// The watchdog shell (it reaps redis-server itself).
    _watchdog: std::process::Child,
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl TestRedis {
    /// Start a redis-server on `port` and wait until it answers PING.
    pub fn start_on(port: u16) -> TestRedis {
        let script = format!(
            "redis-server --port {port} --bind 127.0.0.1 --save '' --appendonly no --daemonize no \
             --loglevel warning & r=$!; while kill -0 {pid} 2>/dev/null && kill -0 $r 2>/dev/null; \
             do sleep 0.5; done; kill $r 2>/dev/null",
            pid = std::process::id()
        );
        let watchdog = Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server must be installed (apt-get install redis-server)");
        let url = format!("redis://127.0.0.1:{port}");
        wait_for_ping(&url);
        TestRedis {
            url,
            _watchdog: watchdog,
        }
    }

    /// `SHUTDOWN NOSAVE`: the server goes away (the watchdog then exits too).
    pub fn shutdown(&self) {
        let mut conn = redis::Client::open(self.url.as_str())
            .and_then(|c| c.get_connection())
            .expect("connect for shutdown");
        let _: redis::RedisResult<()> = redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut conn);
    }
}

fn wait_for_ping(url: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let ok = redis::Client::open(url)
            .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
            .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
            .is_ok();
        if ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "redis-server at {url} did not answer in time"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The redis-server shared by every test of this run.
pub fn redis() -> &'static TestRedis {
    static SHARED: OnceLock<TestRedis> = OnceLock::new();
    SHARED.get_or_init(|| TestRedis::start_on(free_port()))
}

/// A key prefix no other test uses.
pub fn unique_prefix(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    format!(
        "t{}-{}-{}",
        std::process::id(),
        tag,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// A synchronous connection for arranging test data with plain commands.
pub fn conn() -> redis::Connection {
    redis::Client::open(redis().url.as_str())
        .and_then(|c| c.get_connection())
        .expect("connect to the test redis")
}

/// An engine connection, to add jobs the way a BullMQ producer does.
pub async fn engine_queue(prefix: &str, name: &str) -> bullmq::Queue {
    let opts = bullmq::QueueOptions {
        connection: RedisSettings::url(&redis().url).engine_options(),
        prefix: prefix.to_string(),
        ..Default::default()
    };
    bullmq::Queue::with_options(name, opts)
        .await
        .expect("engine queue")
}

/// The dashboard under test, with discovery already run once.
pub struct Dashboard {
    pub router: Router,
    pub redis: Redis,
}

impl Dashboard {
    pub async fn new(prefixes: &[&str], base: &str) -> Dashboard {
        Dashboard::with_url(&redis().url, prefixes, base).await
    }

    pub async fn with_url(url: &str, prefixes: &[&str], base: &str) -> Dashboard {
        Dashboard::with_state(url, prefixes, base, |state| state)
            .await
            .0
    }

    /// A dashboard whose state `tweak` adjusts (live updates, security ...); also returns the state.
    pub async fn with_state(
        url: &str,
        prefixes: &[&str],
        base: &str,
        tweak: impl FnOnce(AppState) -> AppState,
    ) -> (Dashboard, AppState) {
        let state = tweak(app_state(url, prefixes, base).await);
        (Dashboard::of(state.clone()), state)
    }

    /// The dashboard serving `state` (built by [`app_state_on`] for a cluster, a search budget ...).
    pub fn of(state: AppState) -> Dashboard {
        Dashboard {
            redis: state.reader().redis().clone(),
            router: web::app(state),
        }
    }

    pub async fn get(&self, uri: &str) -> Reply {
        self.send(Request::get(uri).body(Body::empty()).expect("request"))
            .await
    }

    /// Send any request to the dashboard and read the whole answer.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("response");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Reply {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    /// GET a JSON endpoint, asserting a 200.
    pub async fn json(&self, uri: &str) -> serde_json::Value {
        let reply = self.get(uri).await;
        assert_eq!(reply.status, StatusCode::OK, "GET {uri}: {}", reply.body);
        serde_json::from_str(&reply.body).expect("JSON body")
    }

    /// Round trips sent by the read connection while `f` ran.
    pub async fn round_trips<F: std::future::Future<Output = Reply>>(&self, f: F) -> (u64, Reply) {
        let before = self.redis.round_trips();
        let reply = f.await;
        (self.redis.round_trips() - before, reply)
    }
}

/// The dashboard's state for these prefixes, with discovery already run once.
pub async fn app_state(url: &str, prefixes: &[&str], base: &str) -> AppState {
    app_state_on(RedisSettings::url(url), prefixes, base, |reader| reader).await
}

/// The dashboard's state on the Redis of `settings` (one server, a cluster ...) for these
/// prefixes, its reader adjusted by `reader` (a search budget ...), with discovery already run
/// once: `state.discovery().snapshot().complete` says whether that pass succeeded.
pub async fn app_state_on(
    settings: RedisSettings,
    prefixes: &[&str],
    base: &str,
    reader: impl FnOnce(Reader) -> Reader,
) -> AppState {
    let prefixes: Vec<String> = prefixes.iter().map(|p| p.to_string()).collect();
    let redis = Redis::new(settings.clone());
    let discovery = Discovery::new(prefixes.clone(), Vec::new(), true);
    // Best effort: a test of an unreachable Redis builds a dashboard that cannot scan.
    let _ = discovery.refresh(&Redis::new(settings)).await;
    AppState::new(
        reader(Reader::new(redis, prefixes)),
        discovery,
        base,
        "bullring test",
    )
}

/// Serve `app` on a free loopback port, with peer addresses (for the trusted-proxy checks),
/// until the returned token is cancelled.
pub async fn serve(app: Router) -> (u16, tokio_util::sync::CancellationToken) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a free port");
    let port = listener.local_addr().expect("local addr").port();
    let cancel = tokio_util::sync::CancellationToken::new();
    let stop = cancel.clone();
    let service = app.into_make_service_with_connect_info::<std::net::SocketAddr>();
    tokio::spawn(async move {
        axum::serve(listener, service)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await
            .expect("serve");
    });
    (port, cancel)
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

/// A key's value as a test compares it: its `DUMP`, except that a hash is taken field by field
/// (a hash's `DUMP` follows the order of its table, which a mere read may rehash).
pub fn stored(conn: &mut redis::Connection, key: &str) -> Vec<u8> {
    let kind: String = redis::cmd("TYPE").arg(key).query(conn).expect("TYPE");
    if kind == "hash" {
        let fields: std::collections::BTreeMap<Vec<u8>, Vec<u8>> =
            redis::cmd("HGETALL").arg(key).query(conn).expect("HGETALL");
        format!("hash {fields:?}").into_bytes()
    } else {
        redis::cmd("DUMP").arg(key).query(conn).expect("DUMP")
    }
}

/// Every key under `prefix` with its value ([`stored`]), except bullring's own audit stream: what
/// a test compares to show that a refused request wrote nothing.
pub fn snapshot(prefix: &str) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut conn = conn();
    let keys: Vec<String> =
        redis::Commands::scan_match::<_, String>(&mut conn, format!("{prefix}:*"))
            .expect("SCAN")
            .collect::<Result<_, _>>()
            .expect("SCAN keys");
    keys.into_iter()
        .filter(|k| !k.ends_with(":bullring:audit"))
        .map(|k| {
            let value = stored(&mut conn, &k);
            (k, value)
        })
        .collect()
}

/// Security settings where anonymous users have `role` (and read-only mode is `read_only`).
pub fn anonymous_as(
    role: bullring::web::security::Role,
    read_only: bool,
) -> bullring::web::security::Security {
    bullring::web::security::Security {
        anonymous_role: role,
        read_only,
        ..Default::default()
    }
}
