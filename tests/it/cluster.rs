//! The read side on a real Redis Cluster: three primaries on free loopback ports, jobs added by
//! the engine under two hash-tagged prefixes whose slots live on different nodes, and the
//! dashboard asked for the overview, a queue page and a job page.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use bullring::queue::connection::{Redis, RedisSettings};
use bullring::queue::discovery::Discovery;
use tokio_util::sync::CancellationToken;

use crate::support::{Dashboard, app_state_on, free_port};

/// Nothing here may take longer: a cluster that is not up by then is not coming.
const DEADLINE: Duration = Duration::from_secs(15);

/// A throwaway three-primary cluster. Dropping it shuts the nodes down (also when a test
/// panics); each node also has a watchdog shell that kills it when the test process exits, in
/// case the process dies without unwinding.
struct TestCluster {
    ports: Vec<u16>,
    dir: PathBuf,
    _watchdogs: Vec<Child>,
}

impl TestCluster {
    fn start() -> TestCluster {
        // Client and bus ports all distinct: the bus port is given explicitly (`cluster-port`)
        // because the default, port + 10000, can fall outside the port range.
        let mut taken = BTreeSet::new();
        let mut pick = || loop {
            let port = free_port();
            if port != 6379 && taken.insert(port) {
                return port;
            }
        };
        let ports: Vec<u16> = (0..3).map(|_| pick()).collect();
        let bus_ports: Vec<u16> = (0..3).map(|_| pick()).collect();
        let dir = std::env::temp_dir().join(format!(
            "bullring-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).expect("create the cluster's directory");

        let watchdogs = ports
            .iter()
            .zip(&bus_ports)
            .map(|(port, bus)| {
                let script = format!(
                    "redis-server --port {port} --cluster-port {bus} --cluster-enabled yes \
                     --cluster-config-file '{dir}/nodes-{port}.conf' --dir '{dir}' --save '' \
                     --appendonly no --bind 127.0.0.1 --daemonize no --loglevel warning & r=$!; \
                     while kill -0 {pid} 2>/dev/null && kill -0 $r 2>/dev/null; do sleep 0.5; \
                     done; kill $r 2>/dev/null",
                    dir = dir.display(),
                    pid = std::process::id()
                );
                Command::new("sh")
                    .arg("-c")
                    .arg(script)
                    .stdout(Stdio::null())
                    .stderr(Stdio::inherit())
                    .spawn()
                    .expect("redis-server must be installed")
            })
            .collect();
        let cluster = TestCluster {
            ports,
            dir,
            _watchdogs: watchdogs,
        };
        for port in &cluster.ports {
            cluster.wait_for(*port, "PING", |reply| reply == "PONG");
        }

        let status = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .status()
            .expect("redis-cli must be installed");
        assert!(status.success(), "redis-cli --cluster create failed");
        // Every node must see the whole cluster, or a client seeded from it gets a partial map.
        for port in &cluster.ports {
            cluster.wait_for(*port, "CLUSTER INFO", |info| {
                info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
            });
        }
        cluster
    }

    fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    /// Poll `command` on one node until `ready` accepts its reply, or fail at the deadline.
    fn wait_for(&self, port: u16, command: &str, ready: impl Fn(&str) -> bool) {
        let deadline = Instant::now() + DEADLINE;
        let url = format!("redis://127.0.0.1:{port}");
        let mut words = command.split(' ');
        let mut cmd = redis::cmd(words.next().expect("a command"));
        cmd.arg(words.collect::<Vec<_>>());
        loop {
            let reply = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut c| cmd.query::<String>(&mut c));
            if reply.as_deref().is_ok_and(&ready) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "node {port} not ready for {command}: {reply:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The port of the primary that owns the slot of `key`.
    fn owner_of(&self, key: &str) -> u16 {
        let mut conn = redis::Client::open(self.urls()[0].as_str())
            .and_then(|c| c.get_connection())
            .expect("connect to a node");
        let slot: i64 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(key)
            .query(&mut conn)
            .expect("CLUSTER KEYSLOT");
        let ranges: Vec<redis::Value> = redis::cmd("CLUSTER")
            .arg("SLOTS")
            .query(&mut conn)
            .expect("CLUSTER SLOTS");
        for range in ranges {
            let redis::Value::Array(items) = range else {
                continue;
            };
            let (Some(redis::Value::Int(start)), Some(redis::Value::Int(end))) =
                (items.first(), items.get(1))
            else {
                continue;
            };
            if (*start..=*end).contains(&slot)
                && let Some(redis::Value::Array(node)) = items.get(2)
                && let Some(redis::Value::Int(port)) = node.get(1)
            {
                return *port as u16;
            }
        }
        panic!("no node owns slot {slot}");
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for url in self.urls() {
            if let Ok(mut conn) = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection_with_timeout(Duration::from_millis(500)))
            {
                let _: redis::RedisResult<()> =
                    redis::cmd("SHUTDOWN").arg("NOSAVE").query(&mut conn);
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// An engine queue on the cluster, the way a BullMQ producer would open it.
async fn cluster_queue(nodes: &[String], prefix: &str, name: &str) -> bullmq::Queue {
    let opts = bullmq::QueueOptions {
        connection: bullmq::options::RedisConnectionOptions {
            cluster_nodes: nodes.to_vec(),
            ..Default::default()
        },
        prefix: prefix.to_string(),
        ..Default::default()
    };
    bullmq::Queue::with_options(name, opts)
        .await
        .expect("engine queue on the cluster")
}

/// The dashboard on the cluster, built as `support::Dashboard` builds it for one server.
async fn cluster_dashboard(nodes: &[String], prefixes: &[&str]) -> Dashboard {
    let state = app_state_on(settings(nodes), prefixes, "/admin/queues", |reader| reader).await;
    assert!(
        state.discovery().snapshot().complete,
        "discovery on the cluster"
    );
    Dashboard::of(state)
}

/// The settings of a connection to the cluster of `nodes`.
fn settings(nodes: &[String]) -> RedisSettings {
    RedisSettings {
        url: nodes[0].clone(),
        cluster_nodes: nodes.to_vec(),
        sentinel: None,
    }
}

#[tokio::test]
async fn dashboard_reads_queues_of_two_prefixes_across_cluster_nodes() {
    let started = Instant::now();
    let cluster = TestCluster::start();
    let nodes = cluster.urls();
    let booted = started.elapsed();
    // The two prefixes must live on different primaries, or this proves nothing about routing.
    assert_ne!(
        cluster.owner_of("{bull-test}"),
        cluster.owner_of("{other}"),
        "pick hash tags on different nodes"
    );

    let alpha = cluster_queue(&nodes, "{bull-test}", "alpha").await;
    let mut alpha_ids = Vec::new();
    for i in 0..3 {
        let job = alpha
            .add(
                "mail",
                serde_json::json!({ "to": format!("user{i}@example.com") }),
            )
            .await
            .expect("add to alpha");
        alpha_ids.push(job.id().to_string());
    }
    alpha
        .add("later", serde_json::json!({}))
        .delay(Duration::from_secs(3600))
        .await
        .expect("add a delayed job");
    let beta = cluster_queue(&nodes, "{bull-test}", "beta").await;
    for i in 0..2 {
        beta.add("b", serde_json::json!({ "i": i }))
            .await
            .expect("add to beta");
    }
    let gamma = cluster_queue(&nodes, "{other}", "gamma").await;
    for i in 0..4 {
        gamma
            .add("g", serde_json::json!({ "i": i }))
            .await
            .expect("add to gamma");
    }

    let dash = cluster_dashboard(&nodes, &["{bull-test}", "{other}"]).await;

    // Overview: every queue of both prefixes, with its counts.
    let (trips, reply) = dash.round_trips(dash.get("/admin/queues/api/queues")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let all: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
    let mut seen: Vec<(String, String, u64, u64)> = all["queues"]
        .as_array()
        .expect("a list of queues")
        .iter()
        .map(|q| {
            (
                q["prefix"].as_str().unwrap_or_default().to_string(),
                q["name"].as_str().unwrap_or_default().to_string(),
                q["counts"]["waiting"].as_u64().unwrap_or(u64::MAX),
                q["counts"]["delayed"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    seen.sort();
    let expect = |p: &str, n: &str, w: u64, d: u64| (p.to_string(), n.to_string(), w, d);
    assert_eq!(
        seen,
        vec![
            expect("{bull-test}", "alpha", 3, 1),
            expect("{bull-test}", "beta", 2, 0),
            expect("{other}", "gamma", 4, 0),
        ]
    );
    // One batch per hash slot, sent together: two prefixes, two slots.
    assert_eq!(trips, 2, "overview round trips on the cluster");

    // A queue page on the second prefix: the ids with the counts, the sizes of the rows' fields,
    // then the fields, each in one slot, so the same three round trips as on one server.
    let (trips, reply) = dash
        .round_trips(dash.get("/admin/queues/queues/gamma?state=waiting&per_page=20"))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(trips, 3, "queue page round trips on the cluster");
    assert_eq!(
        reply
            .body
            .matches("href=\"/admin/queues/queues/gamma/jobs/")
            .count(),
        4
    );
    let page = dash
        .json("/admin/queues/api/queues/alpha/jobs?state=waiting&order=oldest")
        .await;
    assert_eq!(page["total"], 3);
    let listed: Vec<&str> = page["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .filter_map(|j| j["id"].as_str())
        .collect();
    assert_eq!(
        listed,
        alpha_ids.iter().map(String::as_str).collect::<Vec<_>>()
    );

    // A job page, as HTML and as JSON.
    let (trips, reply) = dash
        .round_trips(dash.get(&format!("/admin/queues/queues/alpha/jobs/{}", alpha_ids[1])))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(
        trips, 2,
        "a waiting job's page on the cluster: one pipeline, then LPOS over wait"
    );
    assert!(reply.body.contains("user1@example.com"), "{}", reply.body);
    let job = dash
        .json(&format!(
            "/admin/queues/api/queues/alpha/jobs/{}",
            alpha_ids[1]
        ))
        .await;
    assert_eq!(job["state"], "waiting");
    assert_eq!(job["name"], "mail");
    assert_eq!(job["data"]["to"], "user1@example.com");

    // The background scanner, tick by tick, finds the same queues on every primary.
    let discovery = Discovery::new(
        vec!["{bull-test}".into(), "{other}".into()],
        Vec::new(),
        true,
    );
    let cancel = CancellationToken::new();
    discovery.spawn(
        Redis::new(settings(&nodes)),
        Duration::from_millis(50),
        cancel.clone(),
    );
    let deadline = Instant::now() + DEADLINE;
    while !discovery.snapshot().complete {
        assert!(
            Instant::now() < deadline,
            "background discovery never completed a pass"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    cancel.cancel();
    let names: Vec<(String, String)> = discovery
        .snapshot()
        .queues
        .into_iter()
        .map(|q| (q.prefix, q.name))
        .collect();
    assert_eq!(
        names,
        vec![
            ("{bull-test}".to_string(), "alpha".to_string()),
            ("{bull-test}".to_string(), "beta".to_string()),
            ("{other}".to_string(), "gamma".to_string()),
        ]
    );

    let elapsed = started.elapsed();
    eprintln!("cluster test: cluster up in {booted:?}, whole test {elapsed:?}");
    drop(cluster);
}

/// Bull's actions run bullring's Lua scripts by their SHA. On a cluster a node that lacks a
/// script (the first call there, or after `SCRIPT FLUSH`) answers `NOSCRIPT`, and the script
/// must be loaded where the call's keys live: adding a job to Bull queues on two nodes works
/// every time, round after round of flushed scripts, and the job is written on the owner node.
#[tokio::test]
async fn bull_actions_load_their_scripts_on_the_node_that_owns_the_keys() {
    let cluster = TestCluster::start();
    let nodes = cluster.urls();
    let prefixes = ["{bull-test}", "{other}"];
    assert_ne!(
        cluster.owner_of(prefixes[0]),
        cluster.owner_of(prefixes[1]),
        "pick hash tags on different nodes"
    );
    let node = |prefix: &str| {
        redis::Client::open(format!("redis://127.0.0.1:{}", cluster.owner_of(prefix)))
            .and_then(|c| c.get_connection())
            .expect("connect to the owner node")
    };
    // A Bull queue is told by its `id` counter and no BullMQ key.
    for prefix in prefixes {
        let _: () = redis::cmd("SET")
            .arg(format!("{prefix}:mail:id"))
            .arg(0)
            .query(&mut node(prefix))
            .expect("SET id");
    }
    let dash = cluster_dashboard(&nodes, &prefixes).await;
    for round in 1..=3 {
        for url in &nodes {
            let mut conn = redis::Client::open(url.as_str())
                .and_then(|c| c.get_connection())
                .expect("connect to a node");
            let _: () = redis::cmd("SCRIPT")
                .arg("FLUSH")
                .query(&mut conn)
                .expect("SCRIPT FLUSH");
        }
        for prefix in prefixes {
            let request = axum::http::Request::builder()
                .method("POST")
                .uri(format!(
                    "/admin/queues/api/queues/mail/jobs?prefix={}",
                    urlencoding_of(prefix)
                ))
                .header("content-type", "application/json")
                .header("sec-fetch-site", "same-origin")
                .body(axum::body::Body::from(
                    serde_json::json!({ "name": "n", "data": { "round": round } }).to_string(),
                ))
                .expect("request");
            let reply = dash.send(request).await;
            assert_eq!(
                reply.status,
                StatusCode::OK,
                "{prefix} round {round}: {}",
                reply.body
            );
            let outcome: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
            let id = outcome["jobs"][0]
                .as_str()
                .expect("the new job's id")
                .to_string();
            let data: Option<String> = redis::cmd("HGET")
                .arg(format!("{prefix}:mail:{id}"))
                .arg("data")
                .query(&mut node(prefix))
                .expect("HGET");
            assert_eq!(
                data.as_deref(),
                Some(format!("{{\"round\":{round}}}").as_str())
            );
        }
    }
}

/// `prefix` as a query-string value (`{` and `}` escaped).
fn urlencoding_of(prefix: &str) -> String {
    form_urlencoded::byte_serialize(prefix.as_bytes()).collect()
}
