//! In a real browser: Debian's `chromium`, headless, driven through `chromedriver` (started here
//! on a free port) with the `fantoccini` WebDriver client. The dashboard is served on a real
//! port over demo data (what `bullring demo` seeds).
//!
//! Clicks through retry, remove, pause and resume with JavaScript on (htmx) and retry with it
//! off (plain forms); checks that no page logs a console error or a failed request; and that
//! job fields holding `<script>` / `<img onerror>` payloads execute nothing. Screenshots of
//! `bullring demo` (the binary) — the overview, a queue, a job and a flow parent — go to
//! `target/screenshots/`, or to the directory in `BULLRING_SCREENSHOTS` (`docs/` holds the
//! README's copies: `BULLRING_SCREENSHOTS=docs cargo test --test it browser::screenshots`).

use bullring::queue::model::JobState;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use bullring::demo;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::http::wait_for_port;
use crate::support::{app_state, conn, engine_queue, free_port, redis, serve, unique_prefix};

pub(crate) const BASE: &str = "/admin/queues";

/// One browser at a time: chromium is heavy, and the machines have two cores.
static ONE_BROWSER: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(1);

/// How long anything in the page may take to happen.
const DEADLINE: Duration = Duration::from_secs(30);

/// chromedriver, and the chromium it starts (found by its own profile directory).
struct Driver {
    child: Child,
    profile: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        // chromedriver by its own id; then, if a panic skipped closing the session, the chromium
        // processes started with this test's profile directory, each by its id.
        let _ = self.child.kill();
        let _ = self.child.wait();
        for pid in processes_using(&self.profile) {
            let _ = Command::new("kill")
                .args(["-s", "KILL", "--", &pid.to_string()])
                .status();
        }
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// Ids of the processes whose command line names `profile` (only chromium started here does).
fn processes_using(profile: &std::path::Path) -> Vec<u32> {
    let needle = profile.to_string_lossy().into_owned();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid > 1 && *pid != std::process::id())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|cmdline| String::from_utf8_lossy(&cmdline).contains(&needle))
        })
        .collect()
}

pub(crate) struct Browser {
    pub(crate) client: Client,
    _driver: Driver,
    _turn: tokio::sync::SemaphorePermit<'static>,
}

fn chromedriver_binary() -> &'static str {
    if std::path::Path::new("/usr/bin/chromedriver").exists() {
        "/usr/bin/chromedriver"
    } else {
        "chromedriver"
    }
}

impl Browser {
    /// A fresh headless chromium, JavaScript on or off.
    pub(crate) async fn start(javascript: bool) -> Browser {
        let turn = ONE_BROWSER.acquire().await.expect("semaphore");
        let port = free_port();
        let profile =
            std::env::temp_dir().join(format!("bullring-chromium-{}-{port}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        std::fs::create_dir_all(&profile).expect("profile dir");
        let child = Command::new(chromedriver_binary())
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver must be installed (apt-get install chromium chromium-driver)");
        let driver = Driver { child, profile };
        wait_for_port(port, "chromedriver").await;

        let mut args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--disable-dev-shm-usage".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", driver.profile.display()),
        ];
        if !javascript {
            args.push("--blink-settings=scriptEnabled=false".into());
        }
        let mut prefs = serde_json::Map::new();
        if !javascript {
            prefs.insert(
                "profile.managed_default_content_settings.javascript".into(),
                json!(2),
            );
        }
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium_binary(),
                "args": args,
                "prefs": prefs,
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = ClientBuilder::new(connector)
            .capabilities(capabilities)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("a chromium session");
        Browser {
            client,
            _driver: driver,
            _turn: turn,
        }
    }

    pub(crate) async fn close(self) {
        let Browser {
            client,
            _driver,
            _turn,
        } = self;
        let _ = client.close().await;
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub(crate) async fn url(&self) -> String {
        self.client.current_url().await.expect("url").to_string()
    }

    /// Wait until `css` matches an element, and return it.
    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(element) = self.client.find(Locator::Css(css)).await {
                return element;
            }
            assert!(
                Instant::now() < deadline,
                "no element {css} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub(crate) async fn click(&self, css: &str) {
        self.find(css)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Wait until the page's source satisfies `ready`.
    pub(crate) async fn wait_for_source(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let source = self.client.source().await.unwrap_or_default();
            if ready(&source) {
                return source;
            }
            assert!(
                Instant::now() < deadline,
                "waited for {what} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Wait until the address satisfies `ready` (htmx pushes boosted navigations to history).
    pub(crate) async fn wait_for_url(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let url = self.url().await;
            if ready(&url) {
                return url;
            }
            assert!(Instant::now() < deadline, "waited for {what}; at {url}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Accept the confirmation dialog a destructive form opens.
    pub(crate) async fn confirm(&self) -> String {
        let deadline = Instant::now() + DEADLINE;
        loop {
            if let Ok(text) = self.client.get_alert_text().await {
                self.client.accept_alert().await.expect("accept the dialog");
                return text;
            }
            assert!(Instant::now() < deadline, "no confirmation dialog opened");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// No dialog is open.
    pub(crate) async fn assert_no_dialog(&self, context: &str) {
        if let Ok(text) = self.client.get_alert_text().await {
            panic!("{context}: a dialog opened: {text:?}");
        }
    }

    /// The browser's console since the last call: everything at level SEVERE, which includes
    /// script errors and every request answered with an error status or not answered.
    pub(crate) async fn console_errors(&self) -> Vec<String> {
        let entries = self
            .client
            .issue_cmd(BrowserLog)
            .await
            .expect("browser log");
        entries
            .as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// No console error, and (with JavaScript) no resource of this document answered with an
    /// error status.
    pub(crate) async fn assert_clean(&self, context: &str, javascript: bool) {
        let errors = self.console_errors().await;
        assert!(errors.is_empty(), "{context}: console errors {errors:?}");
        if javascript {
            let failed = self
                .client
                .execute(
                    "return performance.getEntries()\
                       .filter(e => (e.responseStatus || 0) >= 400)\
                       .map(e => e.name + ' ' + e.responseStatus);",
                    vec![],
                )
                .await
                .expect("performance entries");
            assert_eq!(failed, json!([]), "{context}: failed requests");
        }
    }

    /// Save a PNG of the page, scrolled to its top.
    pub(crate) async fn screenshot(&self, name: &str) {
        self.client
            .execute("window.scrollTo(0, 0);", vec![])
            .await
            .expect("scroll");
        let png = self.client.screenshot().await.expect("screenshot");
        assert!(png.starts_with(b"\x89PNG"), "{name} is a PNG");
        let dir = std::env::var_os("BULLRING_SCREENSHOTS")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
            });
        std::fs::create_dir_all(&dir).expect("screenshot dir");
        std::fs::write(dir.join(format!("{name}.png")), png).expect("write screenshot");
    }

    /// Job ids listed in the page's job table.
    pub(crate) async fn listed_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let links = self
            .client
            .find_all(Locator::Css("table.jobs tbody td:nth-child(2) a"))
            .await
            .unwrap_or_default();
        for link in links {
            ids.push(link.text().await.expect("id text"));
        }
        ids
    }
}

fn chromium_binary() -> &'static str {
    if std::path::Path::new("/usr/bin/chromium").exists() {
        "/usr/bin/chromium"
    } else {
        "chromium"
    }
}

/// chromedriver's (pre-W3C, still served) log command: the console entries since last asked.
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/se/log",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({ "type": "browser" }).to_string()),
        )
    }
}

/// Demo data under a fresh prefix and the dashboard serving it: (origin, prefix, stop guard).
pub(crate) async fn demo_dashboard(tag: &str) -> (String, String, tokio_util::sync::DropGuard) {
    let prefix = unique_prefix(tag);
    demo::seed(&redis().url, &prefix).await.expect("demo seed");
    let state = app_state(&redis().url, &[&prefix], BASE).await;
    let (port, stop) = serve(bullring::web::app(state)).await;
    (
        format!("http://127.0.0.1:{port}"),
        prefix,
        stop.drop_guard(),
    )
}

fn job_exists(prefix: &str, queue: &str, id: &str) -> bool {
    redis::cmd("EXISTS")
        .arg(format!("{prefix}:{queue}:{id}"))
        .query::<i64>(&mut conn())
        .expect("EXISTS")
        == 1
}

#[tokio::test]
async fn retry_remove_pause_and_resume_by_clicking_with_no_console_error() {
    let (origin, prefix, _stop) = demo_dashboard("browser").await;
    let browser = Browser::start(true).await;
    let queue = demo::ATTACHMENTS;

    // Overview → the queue → its failed tab → a failed job.
    browser.goto(&format!("{origin}{BASE}/")).await;
    browser.find("table").await;
    browser.assert_clean("overview", true).await;
    browser
        .click(&format!("a[href=\"{BASE}/queues/{queue}\"]"))
        .await;
    browser
        .wait_for_url("the queue page", |url| {
            url.ends_with(&format!("/queues/{queue}"))
        })
        .await;
    browser.find("nav.tabs").await;
    browser.assert_clean("queue page", true).await;
    browser.click("nav.tabs a.state-failed").await;
    browser.find("nav.tabs a.state-failed.active").await;
    let failed = browser.listed_ids().await;
    assert!(
        failed.len() >= 2,
        "the demo has failed attachments: {failed:?}"
    );
    let job = failed[0].clone();
    browser
        .click(&format!("table.jobs a[href$=\"/jobs/{job}\"]"))
        .await;
    browser
        .wait_for_url("the job page", |url| url.ends_with(&format!("/jobs/{job}")))
        .await;
    browser.find("a.badge.state-failed").await;
    browser.assert_clean("job page", true).await;

    // Retry, confirm the outcome: the flash says so and the job is no longer failed.
    browser.click("form[action$=\"/retry\"] button").await;
    browser
        .wait_for_source("the retry's message", |html| {
            html.contains("class=\"flash\"") && !html.contains("badge state-failed")
        })
        .await;
    browser.assert_no_dialog("retry").await;
    browser.assert_clean("after retry", true).await;
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    browser.find("nav.tabs a.state-failed.active").await;
    let still_failed = browser.listed_ids().await;
    assert!(
        !still_failed.contains(&job),
        "{job} left the failed tab: {still_failed:?}"
    );

    // Remove another failed job from its row, through the confirmation dialog.
    let doomed = still_failed[0].clone();
    assert!(job_exists(&prefix, queue, &doomed));
    let row_remove = format!("table.jobs form[action$=\"/jobs/{doomed}/remove\"] button");
    browser.click(&row_remove).await;
    let question = browser.confirm().await;
    assert!(question.contains(&doomed), "{question}");
    browser
        .wait_for_source("the removal's message", |html| {
            html.contains("class=\"flash\"") && !html.contains(&format!("/jobs/{doomed}\""))
        })
        .await;
    assert!(!job_exists(&prefix, queue, &doomed), "{doomed} was removed");
    browser.assert_clean("after remove", true).await;

    // Pause, then resume, the queue.
    let engine = engine_queue(&prefix, queue).await;
    assert!(!engine.is_paused().await.expect("is_paused"));
    browser.click("form[action$=\"/pause\"] button").await;
    browser.find("form[action$=\"/resume\"] button").await;
    assert!(engine.is_paused().await.expect("is_paused"), "paused");
    browser.click("form[action$=\"/resume\"] button").await;
    browser.find("form[action$=\"/pause\"] button").await;
    assert!(!engine.is_paused().await.expect("is_paused"), "resumed");
    browser.assert_clean("after pause and resume", true).await;

    // The job page of a flow parent (the emails digest waiting for its children).
    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{}?state=waiting-children",
            demo::EMAILS
        ))
        .await;
    let parents = browser.listed_ids().await;
    assert_eq!(parents.len(), 1, "{parents:?}");
    browser
        .click(&format!("table.jobs a[href$=\"/jobs/{}\"]", parents[0]))
        .await;
    browser.find("a.badge.state-waiting-children").await;
    browser.assert_clean("flow parent", true).await;

    // Every other kind of page: the audit page, every tab of every queue, the action forms and
    // a job's data editor.
    let mut paths = vec!["/audit".to_string()];
    for q in demo::QUEUES {
        for state in JobState::ALL.map(JobState::as_str) {
            paths.push(format!("/queues/{q}?state={state}"));
        }
    }
    for action in ["clean", "drain", "obliterate", "add"] {
        paths.push(format!("/queues/{queue}/actions/{action}"));
    }
    paths.push(format!("/queues/{queue}/jobs/{job}/edit"));
    for path in paths {
        browser.goto(&format!("{origin}{BASE}{path}")).await;
        browser.find("main").await;
        browser.assert_clean(&path, true).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn without_javascript_retry_works_through_the_plain_form() {
    let (origin, prefix, _stop) = demo_dashboard("nojs").await;
    let browser = Browser::start(false).await;
    let queue = demo::ATTACHMENTS;

    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    browser.find("nav.tabs a.state-failed.active").await;
    // JavaScript is really off: scripts do not run, so htmx never loaded.
    let ran = browser
        .client
        .execute("return typeof window.htmx;", vec![])
        .await;
    assert!(
        !matches!(&ran, Ok(v) if v == "object"),
        "htmx ran with JavaScript off: {ran:?}"
    );
    let failed = browser.listed_ids().await;
    let job = failed.first().expect("a failed job").clone();
    browser
        .click(&format!("table.jobs a[href$=\"/jobs/{job}\"]"))
        .await;
    browser.find("a.badge.state-failed").await;
    browser.click("form[action$=\"/retry\"] button").await;
    // A full page load after the 303: the job page with the message, the job no longer failed.
    browser
        .wait_for_source("the retry's message", |html| {
            html.contains("class=\"flash\"") && !html.contains("badge state-failed")
        })
        .await;
    browser.assert_no_dialog("plain retry").await;
    assert!(browser.url().await.ends_with(&format!("/jobs/{job}")));
    let engine = engine_queue(&prefix, queue).await;
    let state = engine.get_job_state(&job).await.expect("state");
    assert_ne!(state.to_string(), "failed", "{job} was retried");
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    browser.find("nav.tabs a.state-failed.active").await;
    assert!(!browser.listed_ids().await.contains(&job));
    browser.assert_clean("no-JS pages", false).await;
    browser.close().await;
}

/// A failed job whose name, data, failed reason and logs are script payloads, written the way a
/// worker would (the engine's manual fetch, log, move to failed).
async fn failed_job_with_payloads(prefix: &str, queue: &str) -> String {
    let engine = engine_queue(prefix, queue).await;
    let name = "<script>window.__xss='name';alert('name')</script>";
    let data = json!({
        "html": "<img src=x onerror=\"window.__xss='data';alert('data')\">",
        "script": "</script><script>window.__xss='data2'</script>",
    });
    engine.add(name, data).await.expect("add");
    let options = bullmq::WorkerOptions {
        connection: bullring::queue::connection::RedisSettings::url(&redis().url).engine_options(),
        prefix: prefix.to_string(),
        ..Default::default()
    }
    .manual_start()
    .lock_duration(Duration::from_secs(30));
    let idle =
        |_job: bullmq::Job, _token: bullmq::worker::CancellationToken| async { Ok(Value::Null) };
    let worker = bullmq::Worker::with_options(queue, idle, options)
        .await
        .expect("worker");
    let token = format!("xss:{}", worker.id());
    let mut job = worker
        .get_next_job_nonblocking(&token)
        .await
        .expect("fetch")
        .expect("the job");
    job.log("<script>window.__xss='log'</script>")
        .await
        .expect("log");
    job.log("<img src=x onerror=\"window.__xss='log2';alert('log')\">")
        .await
        .expect("log");
    job.move_to_failed(
        "<img src=x onerror=\"alert('reason')\"><script>window.__xss='reason'</script>",
    )
    .await
    .expect("fail");
    worker.close(2_000).await.expect("close");
    job.id().to_string()
}

#[tokio::test]
async fn script_payloads_in_job_fields_execute_nothing() {
    let prefix = unique_prefix("xss-browser");
    let queue = "payloads";
    let id = failed_job_with_payloads(&prefix, queue).await;
    let state = app_state(&redis().url, &[&prefix], BASE).await;
    let (port, stop) = serve(bullring::web::app(state)).await;
    let _stop = stop.drop_guard();
    let origin = format!("http://127.0.0.1:{port}");
    let browser = Browser::start(true).await;

    for path in [
        "/".to_string(),
        format!("/queues/{queue}?state=failed"),
        format!("/queues/{queue}/jobs/{id}"),
    ] {
        browser.goto(&format!("{origin}{BASE}{path}")).await;
        browser.find("main").await;
        browser.assert_no_dialog(&path).await;
        let set = browser
            .client
            .execute(
                "return window.__xss === undefined ? null : window.__xss;",
                vec![],
            )
            .await
            .expect("read the global");
        assert_eq!(set, Value::Null, "{path}: a payload ran");
        // The payloads are shown as text.
        let text = browser.find("main").await.text().await.expect("text");
        if path.contains("/jobs/") {
            for shown in [
                "<script>window.__xss='name'",
                "<img src=x onerror",
                "window.__xss='log'",
            ] {
                assert!(
                    text.contains(shown),
                    "{path} shows {shown} as text:\n{text}"
                );
            }
        }
        browser.assert_clean(&path, true).await;
    }
    browser.close().await;
}

#[tokio::test]
async fn screenshots_of_bullring_demo() {
    // The default prefix, as a user's `bullring demo` shows it; no other test uses it.
    let prefix = "bull";
    let port = free_port();
    let mut demo = Command::new(env!("CARGO_BIN_EXE_bullring"))
        .args(["demo", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--redis-url", &redis().url, "--prefix", prefix])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("bullring demo");
    let origin = format!("http://127.0.0.1:{port}");
    // The demo seeds its queues before it listens.
    let client = crate::http::Client::plain();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
            && client
                .get(&format!("{origin}{BASE}/healthz"), &[])
                .await
                .status
                == 200
        {
            break;
        }
        assert!(Instant::now() < deadline, "bullring demo did not come up");
        assert!(
            demo.try_wait().expect("demo").is_none(),
            "bullring demo exited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let browser = Browser::start(true).await;
    browser
        .client
        .set_window_size(1280, 1200)
        .await
        .expect("window size");
    browser.goto(&format!("{origin}{BASE}/")).await;
    // Discovery's first pass runs in the background: reload until every demo queue is listed.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let source = browser.client.source().await.unwrap_or_default();
        if demo::QUEUES
            .iter()
            .all(|q| source.contains(&format!("/queues/{q}\"")))
        {
            break;
        }
        assert!(Instant::now() < deadline, "the demo queues never showed");
        tokio::time::sleep(Duration::from_millis(100)).await;
        browser.client.refresh().await.expect("reload");
    }
    browser.assert_clean("demo overview", true).await;
    browser.screenshot("overview").await;

    let queue = demo::ATTACHMENTS;
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}"))
        .await;
    browser.find("nav.tabs").await;
    browser.screenshot("queue").await;

    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    let failed = browser.listed_ids().await;
    let job = failed.first().expect("a failed job");
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}/jobs/{job}"))
        .await;
    browser.find("a.badge.state-failed").await;
    browser.screenshot("job").await;

    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{}?state=waiting-children",
            demo::EMAILS
        ))
        .await;
    let parents = browser.listed_ids().await;
    let parent = parents.first().expect("the flow parent");
    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{}/jobs/{parent}",
            demo::EMAILS
        ))
        .await;
    browser.find("a.badge.state-waiting-children").await;
    browser.screenshot("flow-parent").await;

    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{}/jobs/{parent}/flow",
            demo::EMAILS
        ))
        .await;
    browser.find("ul.flow").await;
    browser.screenshot("flow").await;

    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}/metrics"))
        .await;
    browser.find("svg.chart").await;
    browser.screenshot("metrics").await;
    browser.assert_clean("demo pages", true).await;
    browser.close().await;

    let _ = Command::new("kill")
        .args(["-s", "TERM", "--", &demo.id().to_string()])
        .status();
    let status = demo.wait().expect("wait for the demo");
    assert!(status.success(), "bullring demo stops cleanly: {status}");
}

/// Every page of the dashboard, by path below the base, over the demo data: the overview, a queue
/// and its tabs, a job and its edit form, a flow, the per-queue and global pages, the forms.
pub(crate) async fn every_page(browser: &Browser, origin: &str) -> Vec<String> {
    let queue = demo::ATTACHMENTS;
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    browser.find("nav.tabs a.state-failed.active").await;
    let job = browser
        .listed_ids()
        .await
        .first()
        .cloned()
        .expect("a failed job");
    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{}?state=waiting-children",
            demo::EMAILS
        ))
        .await;
    browser.find("nav.tabs").await;
    let parent = browser
        .listed_ids()
        .await
        .first()
        .cloned()
        .expect("a flow parent");
    let mut pages = vec![
        "/".to_string(),
        "/schedulers".into(),
        "/workers".into(),
        "/audit".into(),
        format!("/queues/{queue}"),
        format!("/queues/{queue}?state=failed"),
        format!("/queues/{queue}?state=completed"),
        format!("/queues/{queue}/jobs/{job}"),
        format!("/queues/{queue}/jobs/{job}/edit"),
        format!("/queues/{}/jobs/{parent}", demo::EMAILS),
        format!("/queues/{}/jobs/{parent}/flow", demo::EMAILS),
        format!("/queues/{queue}/metrics"),
        format!("/queues/{queue}/workers"),
        format!("/queues/{queue}/schedulers"),
    ];
    for form in ["add", "clean", "drain", "obliterate"] {
        pages.push(format!("/queues/{queue}/actions/{form}"));
    }
    pages
}

#[tokio::test]
async fn no_page_breaks_the_content_security_policy_with_or_without_javascript() {
    let (origin, _prefix, _stop) = demo_dashboard("csp").await;
    for javascript in [true, false] {
        let browser = Browser::start(javascript).await;
        let pages = every_page(&browser, &origin).await;
        // What the listing above logged is checked too.
        browser.assert_clean("listing the pages", javascript).await;
        for path in &pages {
            browser.goto(&format!("{origin}{BASE}{path}")).await;
            browser.find("main").await;
            browser
                .assert_clean(&format!("{path} (javascript {javascript})"), javascript)
                .await;
        }
        if javascript {
            // A violation is caught: an inline style added to the page is refused and logged.
            browser
                .client
                .execute(
                    "document.body.insertAdjacentHTML('beforeend', '<p style=\"color: red\">inline</p>');",
                    vec![],
                )
                .await
                .expect("add an inline style");
            let deadline = Instant::now() + DEADLINE;
            loop {
                let errors = browser.console_errors().await;
                if errors.iter().any(|e| e.contains("Content Security Policy")) {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "the inline style was not reported: {errors:?}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        browser.close().await;
    }
}
