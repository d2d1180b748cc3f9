//! Redis Sentinel, all real: a redis-server master, a replica of it, and a sentinel
//! (`redis-server --sentinel`) watching them with a short down-after time. The dashboard is
//! configured with the sentinel only; its pages answer, the master is killed (`kill -9`), the
//! sentinel promotes the replica, and without a restart the pages answer again and a pause
//! lands on the new master, as the engine reads it there.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::config::Config;
use bullring::queue::connection::RedisSettings;
use tokio_util::sync::CancellationToken;

use crate::support::{Dashboard, free_port, unique_prefix};

const BASE: &str = "/admin/queues";

/// A redis-server (or sentinel) process of this test, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
    /// What a client sends with `AUTH` (`requirepass`), if anything.
    password: Option<String>,
}

impl Server {
    fn start(args: &[String], port: u16, password: Option<&str>) -> Server {
        let child = Command::new("redis-server")
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("redis-server must be installed");
        let server = Server {
            child,
            port,
            password: password.map(str::to_string),
        };
        server.wait_for_ping();
        server
    }

    fn data(port: u16, extra: &[&str]) -> Server {
        let mut args: Vec<String> = [
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--loglevel",
            "warning",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        args.extend(extra.iter().map(|s| s.to_string()));
        let password = extra
            .iter()
            .position(|a| *a == "--requirepass")
            .map(|i| extra[i + 1]);
        Server::start(&args, port, password)
    }

    /// Its URL, with its password.
    pub(crate) fn url(&self) -> String {
        match &self.password {
            Some(password) => format!(
                "redis://:{}@127.0.0.1:{}",
                url::form_urlencoded::byte_serialize(password.as_bytes()).collect::<String>(),
                self.port
            ),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    fn wait_for_ping(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        let url = self.url();
        loop {
            let ok = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| redis::cmd("PING").query::<String>(&mut c))
                .is_ok();
            if ok {
                return;
            }
            assert!(Instant::now() < deadline, "{url} did not answer in time");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> T {
        let mut conn = redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(1)))
            .expect("connect");
        cmd.query(&mut conn).expect("query")
    }

    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Poll `check` until it holds, within a deadline.
pub(crate) async fn until<F, Fut>(what: &str, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check().await {
        assert!(Instant::now() < deadline, "never happened: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sentinel_master(sentinel: &Server) -> Option<(String, String)> {
    let mut cmd = redis::cmd("SENTINEL");
    cmd.arg("get-master-addr-by-name").arg("mymaster");
    sentinel.query(&cmd)
}

/// A master, its replica and a sentinel watching them as `mymaster` (down after 1 s).
pub(crate) struct Watched {
    pub(crate) master: Server,
    pub(crate) replica: Server,
    pub(crate) sentinel: Server,
    dir: std::path::PathBuf,
}

impl Watched {
    /// Without passwords.
    pub(crate) fn start() -> Watched {
        Watched::with_passwords(None, None)
    }

    /// With `requirepass` on the master and replica (`password`) and on the sentinel
    /// (`sentinel_password`).
    pub(crate) fn with_passwords(
        password: Option<&str>,
        sentinel_password: Option<&str>,
    ) -> Watched {
        let (master_port, replica_port, sentinel_port) = (free_port(), free_port(), free_port());
        let mut auth: Vec<&str> = Vec::new();
        if let Some(password) = password {
            auth.extend(["--requirepass", password, "--masterauth", password]);
        }
        let master = Server::data(master_port, &auth);
        let master_port_text = master_port.to_string();
        let mut replica_args = vec!["--replicaof", "127.0.0.1", &master_port_text];
        replica_args.extend(auth.iter().copied());
        let replica = Server::data(replica_port, &replica_args);
        let dir = std::env::temp_dir().join(unique_prefix("sentinel-conf"));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let conf = dir.join("sentinel.conf");
        let mut text = format!(
            "port {sentinel_port}\nbind 127.0.0.1\ndir {dir}\n\
             sentinel monitor mymaster 127.0.0.1 {master_port} 1\n\
             sentinel down-after-milliseconds mymaster 1000\n\
             sentinel failover-timeout mymaster 3000\n\
             sentinel parallel-syncs mymaster 1\n",
            dir = dir.display()
        );
        if let Some(password) = password {
            text.push_str(&format!("sentinel auth-pass mymaster {password}\n"));
        }
        if let Some(password) = sentinel_password {
            text.push_str(&format!("requirepass {password}\n"));
        }
        std::fs::write(&conf, text).expect("write sentinel.conf");
        let sentinel = Server::start(
            &[conf.display().to_string(), "--sentinel".to_string()],
            sentinel_port,
            sentinel_password,
        );
        assert_eq!(
            sentinel_master(&sentinel),
            Some(("127.0.0.1".into(), master_port.to_string()))
        );
        // A failover needs a replica the sentinel knows (it learns them from the master's INFO).
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let mut cmd = redis::cmd("SENTINEL");
            cmd.arg("REPLICAS").arg("mymaster");
            let replicas: Vec<redis::Value> = sentinel.query(&cmd);
            if !replicas.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the sentinel never saw the replica"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Watched {
            master,
            replica,
            sentinel,
            dir,
        }
    }

    /// Kill the master (`kill -9`) once the replica has every write, and wait until the sentinel
    /// has promoted the replica and it takes writes.
    pub(crate) async fn fail_over(&mut self) {
        // Everything written so far is on the replica first (replication is asynchronous).
        let mut wait = redis::cmd("WAIT");
        wait.arg(1).arg(5000);
        let synced: i64 = self.master.query(&wait);
        assert_eq!(synced, 1, "the replica has every write");
        self.master.kill();
        let replica_port = self.replica.port.to_string();
        until("the sentinel promotes the replica", || async {
            sentinel_master(&self.sentinel).map(|(_, port)| port) == Some(replica_port.clone())
        })
        .await;
        until("the replica takes writes", || async {
            let role: Vec<redis::Value> = self.replica.query(&redis::cmd("ROLE"));
            matches!(role.first(), Some(redis::Value::BulkString(b)) if b == b"master")
        })
        .await;
    }
}

impl Drop for Watched {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sentinel_failover_is_followed_without_a_restart() {
    let mut watched = Watched::start();
    let (master_port, replica_port, sentinel_port) = (
        watched.master.port,
        watched.replica.port,
        watched.sentinel.port,
    );

    // A queue with a job, written to the master and replicated.
    let prefix = unique_prefix("sentinel");
    let producer = bullmq::Queue::with_options(
        "mail",
        bullmq::QueueOptions {
            connection: RedisSettings::url(watched.master.url()).engine_options(),
            prefix: prefix.clone(),
            ..Default::default()
        },
    )
    .await
    .expect("engine queue");
    producer
        .add("send", serde_json::json!({"to": "a"}))
        .await
        .expect("add");
    let mut wait = redis::cmd("WAIT");
    wait.arg(1).arg(5000);
    let replicas: i64 = watched.master.query(&wait);
    assert_eq!(replicas, 1, "the replica has the job");

    let config = Config::from_toml(&format!(
        "prefixes = [\"{prefix}\"]\n\
         sentinel = {{ master = \"mymaster\", nodes = [\"127.0.0.1:1\", \"127.0.0.1:{sentinel_port}\"] }}\n"
    ))
    .expect("config");
    let cancel = CancellationToken::new();
    let settings = config.redis.clone().expect("a Redis");
    let state = bullring::server::dashboard_state(&config, &settings, &cancel);
    let dash = Dashboard {
        redis: state.reader().redis().clone(),
        router: bullring::web::app(state),
    };
    let page = format!("{BASE}/queues/mail?prefix={prefix}");
    until("discovery finds the queue and its page answers", || async {
        dash.get(&page).await.status == StatusCode::OK
    })
    .await;
    assert_eq!(
        dash.redis.master_address().as_deref(),
        Some(format!("127.0.0.1:{master_port}").as_str())
    );

    // The master dies; the sentinel promotes the replica.
    watched.fail_over().await;

    // Same dashboard, no restart: the page answers from the new master.
    until("the queue page answers again", || async {
        dash.get(&page).await.status == StatusCode::OK
    })
    .await;
    assert!(dash.get(&page).await.body.contains("mail"));
    assert_eq!(
        dash.redis.master_address().as_deref(),
        Some(format!("127.0.0.1:{replica_port}").as_str())
    );

    // The Redis page names the mode, the master and where it is now.
    let info = dash.json(&format!("{BASE}/api/redis")).await;
    assert_eq!(info["info"]["mode"], "sentinel", "{info}");
    assert_eq!(info["info"]["sentinel_master"], "mymaster", "{info}");
    assert_eq!(
        info["info"]["master_address"],
        format!("127.0.0.1:{replica_port}"),
        "{info}"
    );
    let page = dash.get(&format!("{BASE}/redis")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(&format!(
            "sentinel: master &quot;mymaster&quot; at 127.0.0.1:{replica_port}"
        )) || page.body.contains(&format!(
            "sentinel: master &#34;mymaster&#34; at 127.0.0.1:{replica_port}"
        )),
        "{}",
        page.body
    );

    // An action goes to the new master, as the engine there sees it.
    let uri = format!("{BASE}/api/queues/mail/pause?prefix={prefix}");
    let request = Request::builder()
        .method(Method::POST)
        .uri(&uri)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::empty())
        .expect("request");
    let reply = dash.send(request).await;
    assert_eq!(reply.status, StatusCode::OK, "POST {uri}: {}", reply.body);
    let on_new_master = bullmq::Queue::with_options(
        "mail",
        bullmq::QueueOptions {
            connection: RedisSettings::url(watched.replica.url()).engine_options(),
            prefix: prefix.clone(),
            ..Default::default()
        },
    )
    .await
    .expect("engine queue on the new master");
    assert!(on_new_master.is_paused().await.expect("is_paused"));
    cancel.cancel();
}
