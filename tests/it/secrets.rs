//! Secrets stay secret: webhook URLs lose their user information, query and fragment (and, for
//! alert webhooks, their path) wherever they are stored or logged; command handlers get a cleared
//! environment; webhook deliveries are signed with a timestamp and a delivery id, checked by the
//! README's Node and Python snippets as written; Slack text from job data is escaped; the private
//! redis-server listens only on a unix socket in a private directory.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode, Uri};
use bullring::alerts::notify::Notifier;
use bullring::alerts::rules::{Format, WebhookTarget};
use bullring::config::Config;
use bullring::queue::alerts::{AlertRecord, AlertStore};
use bullring::queue::connection::{Redis, RedisSettings};
use bullring::runner::Runner;
use serde_json::{Value, json};

use crate::runner::eventually;
use crate::support::{engine_queue, free_port, redis, unique_prefix};

const DEADLINE: Duration = Duration::from_secs(30);

/// One request a [`receiver`] got.
#[derive(Clone, Debug)]
struct Delivery {
    uri: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A real HTTP receiver on a free loopback port: answers each request with the next status of
/// `statuses` (200 once they run out) and a body quoting the request's path and query; keeps every
/// request.
async fn receiver(statuses: Vec<u16>) -> (u16, Arc<Mutex<Vec<Delivery>>>) {
    let got: Arc<Mutex<Vec<Delivery>>> = Arc::default();
    let queue = Arc::new(Mutex::new(statuses));
    let kept = got.clone();
    let app = axum::Router::new().fallback(move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let (kept, queue) = (kept.clone(), queue.clone());
        async move {
            kept.lock().unwrap().push(Delivery {
                uri: uri.to_string(),
                headers,
                body,
            });
            let mut queue = queue.lock().unwrap();
            let status = if queue.is_empty() {
                200
            } else {
                queue.remove(0)
            };
            (
                StatusCode::from_u16(status).unwrap(),
                format!("you asked for {uri}"),
            )
        }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, got)
}

/// A configuration on the test Redis under `prefix`, from the runner's TOML keys.
fn config(prefix: &str, toml: &str) -> Config {
    let text = format!(
        "redis_url = \"{}\"\nprefixes = [\"{prefix}\"]\n{toml}",
        redis().url
    );
    Config::from_toml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A job's hash field, once the job has it.
async fn job_field(prefix: &str, queue: &str, id: &str, field: &str) -> String {
    let client = redis::Client::open(redis().url.as_str()).unwrap();
    let conn = client.get_multiplexed_async_connection().await.unwrap();
    let key = format!("{prefix}:{queue}:{id}");
    eventually(&format!("{field} of {key}"), || {
        let mut conn = conn.clone();
        let key = key.clone();
        async move {
            redis::cmd("HGET")
                .arg(&key)
                .arg(field)
                .query_async::<Option<String>>(&mut conn)
                .await
                .ok()
                .flatten()
        }
    })
    .await
}

// ------------------------------------------------------------------------------------------
// Runner webhook URLs
// ------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runner_webhook_urls_are_stored_without_userinfo_query_or_fragment() {
    let prefix = unique_prefix("sec-url");
    let (port, got) = receiver(vec![404]).await;
    let closed = free_port();
    let config = config(
        &prefix,
        &format!(
            r#"
[[queues]]
name = "answers"
[[queues]]
name = "unreachable"
[[workers]]
queue = "answers"
handler = {{ type = "webhook", url = "http://127.0.0.1:{port}/hook?token=QUERYSECRET" }}
[[workers]]
queue = "unreachable"
handler = {{ type = "webhook", url = "http://robot:PASSSECRET@127.0.0.1:{closed}/down?key=KEYSECRET#FRAGSECRET", timeout_secs = 5 }}
"#
        ),
    );
    let runner = Runner::builder(&config).start().await.unwrap();
    let one = bullmq::JobOptions {
        attempts: Some(1),
        ..Default::default()
    };
    let answers = engine_queue(&prefix, "answers").await;
    let refused = answers
        .add("refused", json!({}))
        .options(one.clone())
        .await
        .unwrap();
    let unreachable = engine_queue(&prefix, "unreachable").await;
    let down = unreachable
        .add("down", json!({}))
        .options(one)
        .await
        .unwrap();

    let reason = job_field(&prefix, "answers", refused.id(), "failedReason").await;
    let stack = job_field(&prefix, "answers", refused.id(), "stacktrace").await;
    assert_eq!(
        reason,
        format!("webhook http://127.0.0.1:{port}/hook answered 404 Not Found")
    );
    // The receiver quoted the query back in its body: the stack trace entry keeps the body,
    // scrubbed.
    assert!(stack.contains("you asked for /hook?***"), "{stack}");
    assert_eq!(
        got.lock().unwrap()[0].uri,
        "/hook?token=QUERYSECRET",
        "the request itself still carries the token"
    );

    let reason = job_field(&prefix, "unreachable", down.id(), "failedReason").await;
    let stack = job_field(&prefix, "unreachable", down.id(), "stacktrace").await;
    assert!(
        reason.starts_with(&format!("webhook http://127.0.0.1:{closed}/down ")),
        "{reason}"
    );
    for text in [&reason, &stack] {
        for secret in [
            "QUERYSECRET",
            "PASSSECRET",
            "robot",
            "KEYSECRET",
            "FRAGSECRET",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }
    runner.shutdown().await;
}

#[test]
fn shown_urls_keep_scheme_host_and_path_only() {
    use bullring::http::{WebhookUrl, shown_url};
    assert_eq!(
        shown_url("https://u:p@hooks.example.com:8443/a/b?t=1#f"),
        "https://hooks.example.com:8443/a/b"
    );
    assert_eq!(shown_url("http://h/p#only?frag"), "http://h/p");
    assert_eq!(shown_url("http://h?x=1"), "http://h");
    assert_eq!(shown_url("hooks.slack.com/services/T/B/X"), "(not a URL)");
    let url = WebhookUrl::new("https://hooks.slack.com/services/T0/B0/PATHSECRET?q=QSECRET")
        .path_is_secret();
    assert_eq!(url.shown(), "https://hooks.slack.com");
    assert_eq!(
        url.scrub("POST https://hooks.slack.com/services/T0/B0/PATHSECRET?q=QSECRET failed"),
        "POST https://hooks.slack.com failed"
    );
    assert_eq!(format!("{url:?}"), "\"https://hooks.slack.com\"");
}

// ------------------------------------------------------------------------------------------
// Alert webhooks: logs and Slack text
// ------------------------------------------------------------------------------------------

/// A `std::io::Write` into a shared buffer, for a tracing subscriber.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

fn record(prefix: &str, text: &str) -> AlertRecord {
    AlertRecord {
        id: String::new(),
        status: "firing".into(),
        rule: "gave-up".into(),
        kind: "final-failure".into(),
        connection: "default".into(),
        prefix: prefix.into(),
        queue: "mail<&>".into(),
        title: "Job failed in mail<&>".into(),
        text: text.into(),
        url: "http://dash.example/admin/queues/queue/mail?a=1&b=2".into(),
        at_ms: 1,
    }
}

// The default (current-thread) runtime: the notifier's background task runs on this thread, under
// the subscriber set here.
#[tokio::test]
async fn alert_webhook_urls_are_never_logged_and_slack_text_is_escaped() {
    let logs = LogBuffer::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let prefix = unique_prefix("sec-alert");
    let store = AlertStore::new(Redis::new(RedisSettings::url(&redis().url)), &prefix);
    let notifier = Notifier::new(store);

    // Refused once (500), then taken.
    let (port, got) = receiver(vec![500]).await;
    let slack = WebhookTarget {
        url: format!("http://127.0.0.1:{port}/services/T0/B0/PATHSECRET?q=QSECRET"),
        format: Format::Slack,
        headers: Default::default(),
    };
    let text = "Error: <!channel> ping @here & @all <https://evil.example|click>";
    notifier.send(&slack, record(&prefix, text)).await;
    let body = eventually("the second delivery", || async {
        got.lock().unwrap().get(1).map(|d| d.body.clone())
    })
    .await;
    let message: Value = serde_json::from_slice(&body).unwrap();
    let message = message["text"].as_str().unwrap();
    assert_eq!(
        message,
        "🚨 *Job failed in mail&lt;&amp;&gt;* <http://dash.example/admin/queues/queue/mail?a=1&amp;b=2|open>\n\
         Error: &lt;!channel&gt; ping @\u{2060}here &amp; @\u{2060}all &lt;https://evil.example|click&gt;"
    );
    assert!(!message.contains("<!channel>"));

    // Never reached: logged with the rule and the URL's scheme and host.
    let closed = free_port();
    let down = WebhookTarget {
        url: format!("http://hook:USERSECRET@127.0.0.1:{closed}/hooks/PATHSECRET2?q=QSECRET2"),
        format: Format::Json,
        headers: Default::default(),
    };
    notifier.send(&down, record(&prefix, "plain")).await;
    let log = eventually("the failed delivery in the log", || async {
        let text = logs.text();
        text.contains("webhook not reached").then_some(text)
    })
    .await;
    assert!(log.contains("webhook refused the message"), "{log}");
    assert!(
        log.contains(&format!("webhook=http://127.0.0.1:{closed} ")),
        "{log}"
    );
    assert!(
        log.contains(&format!("webhook=http://127.0.0.1:{port} ")),
        "{log}"
    );
    for secret in ["PATHSECRET", "QSECRET", "USERSECRET", "/services", "/hooks"] {
        assert!(!log.contains(secret), "{secret} in {log}");
    }
}

// ------------------------------------------------------------------------------------------
// Command handlers' environment
// ------------------------------------------------------------------------------------------

/// The variables a command printed with `env -0`.
async fn command_env(prefix: &str, queue: &str) -> Vec<(String, String)> {
    let engine = engine_queue(prefix, queue).await;
    let job = engine.add("env", json!({})).await.unwrap();
    let value = job_field(prefix, queue, job.id(), "returnvalue").await;
    let printed: Value = serde_json::from_str(&value).unwrap();
    printed
        .as_str()
        .unwrap()
        .split('\0')
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let (name, value) = entry.split_once('=').unwrap();
            (name.to_string(), value.to_string())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_handlers_get_a_cleared_environment() {
    let defaults = ["PATH", "HOME", "LANG", "TZ"];
    // A variable of this process that the default list does not pass on (cargo sets several):
    // without the cleared environment, it would reach the program.
    let (extra, extra_value) = std::env::vars()
        .find(|(name, value)| {
            !defaults.contains(&name.as_str())
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !value.contains(['"', '\\', '\n'])
        })
        .expect("the test process has a variable outside the default list");
    let prefix = unique_prefix("sec-env");
    let config = config(
        &prefix,
        &format!(
            r#"
[[queues]]
name = "plain"
[[queues]]
name = "listed"
[[workers]]
queue = "plain"
handler = {{ type = "command", program = "/usr/bin/env", args = ["-0"], env = {{ GREETING = "hi" }} }}
[[workers]]
queue = "listed"
handler = {{ type = "command", program = "/usr/bin/env", args = ["-0"], inherit_env = ["{extra}", "BULLRING_TEST_NEVER_SET"] }}
"#
        ),
    );
    let runner = Runner::builder(&config).start().await.unwrap();

    let job_vars = [
        "BULLRING_JOB_ID",
        "BULLRING_JOB_NAME",
        "BULLRING_QUEUE",
        "BULLRING_ATTEMPT",
    ];
    let mut expected: Vec<String> = defaults
        .iter()
        .filter(|name| std::env::var_os(name).is_some())
        .map(|name| name.to_string())
        .chain(["GREETING".to_string()])
        .chain(job_vars.iter().map(|name| name.to_string()))
        .collect();
    expected.sort();
    let plain = command_env(&prefix, "plain").await;
    let mut names: Vec<String> = plain.iter().map(|(name, _)| name.clone()).collect();
    names.sort();
    assert_eq!(names, expected, "{plain:?}");
    let value = |vars: &[(String, String)], name: &str| {
        vars.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    };
    assert_eq!(value(&plain, "GREETING").as_deref(), Some("hi"));
    assert_eq!(value(&plain, "PATH"), std::env::var("PATH").ok());

    let listed = command_env(&prefix, "listed").await;
    let mut names: Vec<String> = listed.iter().map(|(name, _)| name.clone()).collect();
    names.sort();
    let mut expected: Vec<String> = std::iter::once(extra.clone())
        .chain(job_vars.iter().map(|name| name.to_string()))
        .collect();
    expected.sort();
    assert_eq!(names, expected, "{listed:?}");
    assert_eq!(value(&listed, &extra), Some(extra_value));
    runner.shutdown().await;

    // A name that cannot be a variable is refused at load.
    let text = format!(
        "redis_url = \"{}\"\n[[queues]]\nname = \"q\"\n[[workers]]\nqueue = \"q\"\nhandler = {{ type = \"command\", program = \"/bin/true\", inherit_env = [\"A=B\"] }}\n",
        redis().url
    );
    let err = Config::from_toml(&text).unwrap_err().to_string();
    assert!(
        err.contains("\"A=B\" is not an environment variable name"),
        "{err}"
    );
}

// ------------------------------------------------------------------------------------------
// Signed deliveries, checked by the README's snippets
// ------------------------------------------------------------------------------------------

/// The code block that follows `marker` in the README.
fn readme_snippet(marker: &str) -> String {
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let after = &readme[readme.find(marker).expect(marker)..];
    let start = after.find("```").unwrap();
    let code = &after[start..];
    let code = &code[code.find('\n').unwrap() + 1..];
    code[..code.find("\n```").unwrap()].to_string()
}

/// Run `program` on `source` with `cases` (JSON) on standard input; its printed JSON answer.
fn run_snippet(program: &str, args: &[&str], source: &str, cases: &Value) -> Value {
    let dir = std::env::temp_dir().join(unique_prefix("sec-snippet"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(if program == "node" {
        "verify.js"
    } else {
        "verify.py"
    });
    std::fs::write(&file, source).unwrap();
    let mut child = Command::new(program)
        .args(args)
        .arg(&file)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
    child
        .stdin
        .take()
        .unwrap()
        .write_all(cases.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

const NODE_HARNESS: &str = r#"
const input = JSON.parse(require("node:fs").readFileSync(0, "utf8"));
const results = input.cases.map((c) =>
  verifyDelivery(input.secret, c.headers, Buffer.from(c.body, "base64"), c.now * 1000));
console.log(JSON.stringify(results));
"#;

const PYTHON_HARNESS: &str = r#"
import base64, json, sys
_input = json.load(sys.stdin)
print(json.dumps([
    verify_delivery(_input["secret"].encode(), c["headers"], base64.b64decode(c["body"]), c["now"])
    for c in _input["cases"]
]))
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_with_timestamp_and_id_and_the_readme_snippets_check_them() {
    use base64::Engine as _;
    let prefix = unique_prefix("sec-sign");
    // The first attempt is refused, the second taken: two deliveries of one job.
    let (port, got) = receiver(vec![503]).await;
    let config = config(
        &prefix,
        &format!(
            r#"
[[queues]]
name = "signed"
[[workers]]
queue = "signed"
handler = {{ type = "webhook", url = "http://127.0.0.1:{port}/jobs", secret = "whsec-test" }}
"#
        ),
    );
    let runner = Runner::builder(&config).start().await.unwrap();
    let queue = engine_queue(&prefix, "signed").await;
    let job = queue
        .add("signed", json!({"to": "ops@example.com"}))
        .options(bullmq::JobOptions {
            attempts: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    let value = job_field(&prefix, "signed", job.id(), "returnvalue").await;
    assert!(value.contains("you asked for /jobs"), "{value}");
    runner.shutdown().await;
    let deliveries = got.lock().unwrap().clone();
    assert_eq!(deliveries.len(), 2);

    let header = |d: &Delivery, name: &str| {
        d.headers
            .get(name)
            .unwrap_or_else(|| panic!("no {name}"))
            .to_str()
            .unwrap()
            .to_string()
    };
    let (first, second) = (&deliveries[0], &deliveries[1]);
    assert_ne!(
        header(first, "x-bullring-delivery"),
        header(second, "x-bullring-delivery"),
        "every attempt is a new delivery"
    );
    let received_at: u64 = header(first, "x-bullring-timestamp").parse().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(received_at <= now && received_at + 60 > now);

    let case = |d: &Delivery, now: u64| {
        let headers: serde_json::Map<String, Value> = [
            "x-bullring-timestamp",
            "x-bullring-delivery",
            "x-bullring-signature",
        ]
        .iter()
        .map(|name| (name.to_string(), Value::String(header(d, name))))
        .collect();
        json!({
            "headers": headers,
            "body": base64::engine::general_purpose::STANDARD.encode(&d.body),
            "now": now,
        })
    };
    let first_at: u64 = header(first, "x-bullring-timestamp").parse().unwrap();
    let second_at: u64 = header(second, "x-bullring-timestamp").parse().unwrap();
    let mut changed_body = case(first, first_at);
    changed_body["body"] = json!(
        base64::engine::general_purpose::STANDARD
            .encode(String::from_utf8_lossy(&first.body).replace("ops@", "evil@"))
    );
    let mut changed_time = case(first, first_at);
    changed_time["headers"]["x-bullring-timestamp"] = json!((first_at + 1).to_string());
    let cases = json!({
        "secret": "whsec-test",
        "cases": [
            case(first, first_at + 301),  // too old (and not recorded as seen)
            changed_body,                 // signature does not match
            changed_time,                 // neither
            case(first, first_at),        // as sent
            case(first, first_at + 1),    // replayed
            case(second, second_at),      // the retry, a delivery of its own
        ],
    });
    let expected = json!([false, false, false, true, false, true]);

    let node = readme_snippet("<!-- verify-delivery-node -->") + NODE_HARNESS;
    assert_eq!(run_snippet("node", &[], &node, &cases), expected, "Node");
    let python = readme_snippet("<!-- verify-delivery-python -->") + PYTHON_HARNESS;
    assert_eq!(
        run_snippet("python3", &[], &python, &cases),
        expected,
        "Python"
    );
}

// ------------------------------------------------------------------------------------------
// The private redis-server
// ------------------------------------------------------------------------------------------

fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::Read;
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    stream.read_to_string(&mut text).ok()?;
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n")?.1.to_string();
    Some((status, body))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_private_redis_listens_only_on_a_socket_in_a_private_directory() {
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(unique_prefix("sec-embedded"));
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_bullring"))
        .env_remove("REDIS_URL")
        .env_remove("REDIS_HOST")
        .env_remove("BULLRING_CONFIG")
        .env("RUST_LOG", "info,bullmq=warn")
        .env("NO_COLOR", "1")
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some((200, body)) = http_get(port, "/admin/queues/readyz")
            && body.contains("\"redis\":\"up\"")
        {
            break;
        }
        assert!(Instant::now() < deadline, "bullring demo did not come up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let socket_dir = dir.join("run");
    let mode = std::fs::metadata(&socket_dir).unwrap().permissions().mode();
    assert_eq!(
        mode & 0o777,
        0o700,
        "only its user can enter the socket's directory"
    );
    let socket = socket_dir.join("redis.sock");
    let url = format!("redis+unix://{}", socket.display());
    let client = redis::Client::open(url.as_str()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let port_setting: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("port")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(port_setting, ["port", "0"], "no TCP port");

    // The demo's runner works on it: a job added now completes.
    let queue = bullmq::Queue::with_options(
        bullring::demo::live::LIVE,
        bullmq::QueueOptions {
            connection: RedisSettings::url(&url).engine_options(),
            prefix: "bull".into(),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    // The demo's handler fails about one first attempt in eight, and succeeds on the next.
    let job = queue
        .add("render-thumbnail", json!({"size": 64}))
        .options(bullmq::JobOptions {
            attempts: Some(2),
            ..Default::default()
        })
        .await
        .unwrap();
    eventually("the demo runner to complete a job", || async {
        let job = queue.get_job(job.id()).await.ok().flatten()?;
        let state = format!("{:?}", job.get_state().await.ok()?).to_lowercase();
        (state == "completed").then_some(())
    })
    .await;

    // The dashboard and `bullring healthcheck` work on it.
    assert_eq!(http_get(port, "/admin/queues").map(|r| r.0), Some(200));
    let health = Command::new(env!("CARGO_BIN_EXE_bullring"))
        .args(["healthcheck", "--listen", &format!("127.0.0.1:{port}")])
        .env_remove("REDIS_URL")
        .output()
        .unwrap();
    assert!(
        health.status.success(),
        "{}",
        String::from_utf8_lossy(&health.stderr)
    );

    Command::new("kill")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(child.wait().unwrap().success());
    let log: Vec<String> = BufReader::new(child.stdout.take().unwrap())
        .lines()
        .map_while(Result::ok)
        .collect();
    let log = log.join("\n");
    assert!(log.contains("(no TCP port)"), "{log}");
    assert!(log.contains("stopped private redis-server"), "{log}");
    let _ = std::fs::remove_dir_all(&dir);
}
