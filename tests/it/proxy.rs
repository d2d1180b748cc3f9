//! Behind a real nginx (Debian's `nginx`, started here with its own config on a free port):
//! (a) `/admin/queues/` forwarded unchanged, (b) the prefix stripped and sent as
//! `X-Forwarded-Prefix` to a dashboard at `/`, (c) TLS terminated by nginx with a self-signed
//! certificate made by the test, `X-Forwarded-Proto: https`.
//!
//! In each: every page reachable from the overview and every static asset load through the
//! proxy, every URL a page writes keeps the public prefix, form posts redirect to a `Location`
//! that keeps the prefix and scheme (and carry their flash message there), every kind of post
//! form the pages offer is refused cross-site and accepted same-origin by the CSRF check, and a
//! server-sent event
//! stream delivers its first event through the proxy while it stays open.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::Method;
use bullring::demo;
use bullring::web::security::Security;
use http_body_util::BodyExt;

use crate::http::{Answer, Client, origin};
use crate::support::{app_state, engine_queue, free_port, redis, serve, unique_prefix};

/// Where users reach the dashboard through the proxy.
const PUBLIC_PREFIX: &str = "/admin/queues";

/// The stream URLs checked through the proxy, relative to the public base: the live counts,
/// which must send their first event through the proxy while the stream stays open.
///
/// (This nginx passes a first small event on even with `X-Accel-Buffering: yes`, so the check
/// shows that streams work through the proxy, not which header made them work.)
const STREAM_PATHS: &[&str] = &["/events"];

/// An nginx started for one test, stopped (and its files removed) when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Nginx {
    /// Start nginx with `server` (the body of a `server {}` block, `{listen}` replaced by the
    /// listen directive's address) and wait until it listens.
    async fn start(tag: &str, tls: bool, server: &str) -> Nginx {
        let dir = std::env::temp_dir().join(format!(
            "bullring-nginx-{}-{tag}-{}",
            std::process::id(),
            free_port()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("nginx dir");
        let port = free_port();
        let d = dir.display();
        let tls_lines = if tls {
            make_certificate(&dir);
            format!(
                "ssl_certificate {d}/cert.pem;\n    ssl_certificate_key {d}/key.pem;\n    ssl_protocols TLSv1.2 TLSv1.3;"
            )
        } else {
            String::new()
        };
        let listen = format!(
            "listen 127.0.0.1:{port}{};\n    {tls_lines}",
            if tls { " ssl" } else { "" }
        );
        let conf = format!(
            "daemon off;\nmaster_process off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log {d}/access.log;\n  client_body_temp_path {d}/client_body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             server {{\n    {listen}\n    absolute_redirect off;\n{server}\n  }}\n}}\n",
            server = server
        );
        let conf_path = dir.join("nginx.conf");
        std::fs::write(&conf_path, conf).expect("write nginx.conf");
        let child = Command::new(nginx_binary())
            .arg("-c")
            .arg(&conf_path)
            .arg("-p")
            .arg(&dir)
            .arg("-e")
            .arg(dir.join("error.log"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("nginx must be installed (apt-get install nginx)");
        let mut nginx = Nginx { child, dir, port };
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            let exited = nginx.child.try_wait().expect("nginx status");
            assert!(
                exited.is_none() && std::time::Instant::now() < deadline,
                "nginx did not start ({exited:?}):\n{}",
                nginx.error_log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        nginx
    }

    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn nginx_binary() -> &'static str {
    // Debian puts it in /usr/sbin, which is not on every user's PATH.
    if std::path::Path::new("/usr/sbin/nginx").exists() {
        "/usr/sbin/nginx"
    } else {
        "nginx"
    }
}

/// A self-signed certificate for localhost / 127.0.0.1: `cert.pem`, `key.pem`, `cert.der`.
fn make_certificate(dir: &std::path::Path) {
    let status = Command::new("openssl")
        .current_dir(dir)
        .args([
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "key.pem",
            "-out",
            "cert.pem",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl must be installed (apt-get install openssl)");
    assert!(status.success(), "openssl req failed");
    let status = Command::new("openssl")
        .current_dir(dir)
        .args([
            "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.der",
        ])
        .status()
        .expect("openssl x509");
    assert!(status.success(), "openssl x509 failed");
}

/// The proxy settings every location uses (README, "Behind a reverse proxy", shows the same).
fn proxy_headers() -> &'static str {
    "      proxy_http_version 1.1;\n\
     \x20     proxy_set_header Connection \"\";\n\
     \x20     proxy_set_header X-Forwarded-Host $http_host;\n\
     \x20     proxy_set_header X-Forwarded-Proto $scheme;\n\
     \x20     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n\
     \x20     proxy_read_timeout 1h;\n"
}

/// Serve the dashboard at `base` with `security` and live updates on a free port.
async fn start_dashboard(
    prefix: &str,
    base: &str,
    security: Security,
) -> (u16, tokio_util::sync::CancellationToken) {
    let live = tokio_util::sync::CancellationToken::new();
    let state = app_state(&redis().url, &[prefix], base)
        .await
        .with_security(security)
        .with_live_updates(Some(std::time::Duration::from_millis(500)), &live);
    let (port, stop) = serve(bullring::web::app(state)).await;
    // Stopping the server also stops the sampler (and ends open streams).
    let stopped = stop.clone();
    tokio::spawn(async move {
        stopped.cancelled().await;
        live.cancel();
    });
    (port, stop)
}

/// Seeded queues, a dashboard and nginx in front of it, as one of the three setups.
struct Setup {
    prefix: String,
    nginx: Nginx,
    client: Client,
    /// `http(s)://127.0.0.1:<nginx>/admin/queues`
    public: String,
    _stop: tokio_util::sync::DropGuard,
}

impl Setup {
    async fn start(tag: &str, base: &str, security: Security, tls: bool, locations: &str) -> Setup {
        let prefix = unique_prefix(tag);
        demo::seed(&redis().url, &prefix).await.expect("demo seed");
        let (upstream, stop) = start_dashboard(&prefix, base, security).await;
        let locations = locations
            .replace("{upstream}", &upstream.to_string())
            .replace("{headers}", proxy_headers());
        let nginx = Nginx::start(tag, tls, &locations).await;
        let client = if tls {
            Client::pinned(std::fs::read(nginx.dir.join("cert.der")).expect("cert.der"))
        } else {
            Client::plain()
        };
        let scheme = if tls { "https" } else { "http" };
        let public = format!("{scheme}://127.0.0.1:{}{PUBLIC_PREFIX}", nginx.port);
        Setup {
            prefix,
            nginx,
            client,
            public,
            _stop: stop.drop_guard(),
        }
    }

    /// An absolute URL for a path or URL found in a page or a `Location`.
    fn absolute(&self, link: &str) -> String {
        if link.starts_with('/') {
            format!("{}{link}", origin(&self.public))
        } else {
            link.to_string()
        }
    }

    /// Everything the issue asks of a proxied dashboard.
    async fn check_everything(&self) {
        let pages = self.check_pages().await;
        self.check_forms(&pages).await;
        self.check_streams().await;
        self.check_every_form(&pages).await;
        let log = self.nginx.error_log();
        assert!(
            !log.contains("[error]") && !log.contains("[crit]"),
            "nginx logged errors:\n{log}"
        );
    }

    /// Crawl from the overview through the proxy; every page 200, every URL it writes under
    /// the public prefix, every asset it loads 200. Returns the pages with their post forms.
    async fn check_pages(&self) -> Vec<(String, Vec<String>)> {
        let bare = self.client.get(&self.public, &[]).await;
        match bare.status.as_u16() {
            200 => {}
            301 | 302 | 307 | 308 => assert_eq!(
                self.absolute(bare.header("location")),
                format!("{}/", self.public),
                "{} redirects to the overview",
                self.public
            ),
            other => panic!("GET {}: {other}", self.public),
        }
        let start = format!("{}/", self.public);
        let mut seen: BTreeSet<String> = [start.clone()].into();
        let mut todo: VecDeque<String> = [start].into();
        let mut assets: BTreeSet<String> = BTreeSet::new();
        let mut pages = Vec::new();
        while let Some(url) = todo.pop_front() {
            assert!(pages.len() < 1500, "the crawl does not end: {url}");
            let page = self.client.get(&url, &[]).await;
            assert_eq!(page.status, 200, "GET {url} through nginx: {}", page.body);
            let urls = page_urls(&page.body);
            let mut forms = Vec::new();
            for found in &urls {
                self.assert_public(&url, &found.value);
                let link = self.absolute(found.value.split('#').next().unwrap_or_default());
                match found.kind {
                    Kind::Asset => {
                        assets.insert(link);
                    }
                    Kind::Post => forms.push(link),
                    Kind::Link if link.contains(&format!("{PUBLIC_PREFIX}/static/")) => {
                        assets.insert(link);
                    }
                    Kind::Link => {
                        if link.starts_with(&self.public) && seen.insert(link.clone()) {
                            todo.push_back(link);
                        }
                    }
                }
            }
            pages.push((url, forms));
        }
        assert!(
            pages.len() > 20,
            "the crawl reached every queue and job page"
        );
        assert!(
            assets.len() >= 3,
            "pages load a stylesheet and scripts: {assets:?}"
        );
        for asset in &assets {
            let answer = self.client.get(asset, &[]).await;
            assert_eq!(answer.status, 200, "GET {asset} through nginx");
            assert!(!answer.body.is_empty(), "{asset} is empty");
            let kind = answer.header("content-type");
            assert!(
                kind.contains("css") || kind.contains("javascript") || kind.contains("svg"),
                "{asset}: content-type {kind}"
            );
        }
        pages
    }

    /// A URL a page wrote must stay under the public prefix (or be a fragment or external).
    fn assert_public(&self, page: &str, value: &str) {
        if value.starts_with('#') || value.is_empty() {
            return;
        }
        let inside = value.starts_with(&format!("{PUBLIC_PREFIX}/"))
            || value == PUBLIC_PREFIX
            || value.starts_with(&format!("{}/", self.public));
        assert!(
            inside,
            "{page} writes {value:?}, which leaves {PUBLIC_PREFIX} (or the public origin)"
        );
    }

    /// Same-origin form posts act and redirect inside the prefix, with the scheme kept;
    /// cross-site ones are refused and change nothing.
    async fn check_forms(&self, pages: &[(String, Vec<String>)]) {
        let reports = engine_queue(&self.prefix, demo::REPORTS).await;
        assert!(
            reports.is_paused().await.expect("is_paused"),
            "seeded paused"
        );
        let own = origin(&self.public);
        let resume = format!("{}/queues/{}/resume", self.public, demo::REPORTS);
        let pause = format!("{}/queues/{}/pause", self.public, demo::REPORTS);

        // Cross-site: refused by both kinds of browser signal, nothing changes.
        for headers in [
            vec![("origin", "http://evil.example")],
            vec![
                ("sec-fetch-site", "cross-site"),
                ("origin", "http://evil.example"),
            ],
            vec![("referer", "https://evil.example/page")],
        ] {
            let refused = self.client.post_form(&resume, &headers, "").await;
            assert_eq!(refused.status, 403, "{headers:?}: {}", refused.body);
        }
        assert!(reports.is_paused().await.expect("is_paused"));

        // Same-origin, told only by Origin (older browsers): the proxy's forwarded host and
        // scheme make it match.
        let back = format!("{PUBLIC_PREFIX}/queues/{}", demo::REPORTS);
        let answer = self
            .client
            .post_form(&resume, &[("origin", &own)], &form_body(&back))
            .await;
        self.assert_redirect_with_flash(&answer, &back).await;
        assert!(!reports.is_paused().await.expect("is_paused"), "resumed");

        // Same-origin, told by Sec-Fetch-Site as current browsers do.
        let answer = self
            .client
            .post_form(
                &pause,
                &[("sec-fetch-site", "same-origin"), ("origin", &own)],
                &form_body(&back),
            )
            .await;
        self.assert_redirect_with_flash(&answer, &back).await;
        assert!(
            reports.is_paused().await.expect("is_paused"),
            "paused again"
        );

        // A job form the pages offer: retry a failed job, redirected to its page.
        let retry = pages
            .iter()
            .flat_map(|(_, forms)| forms)
            .find(|action| {
                action
                    .split('?')
                    .next()
                    .unwrap_or_default()
                    .ends_with("/retry")
            })
            .expect("a failed job offers a retry form");
        assert!(retry.contains("/jobs/"), "{retry}");
        let answer = self.client.post_form(retry, &[("origin", &own)], "").await;
        let job_page = retry
            .strip_prefix(&origin(&self.public))
            .unwrap_or(retry)
            .trim_end_matches("/retry")
            .to_string();
        self.assert_redirect_with_flash(&answer, &job_page).await;
    }

    /// Every kind of post form the pages offer (one per route shape), posted through the proxy:
    /// refused cross-site (403); same-origin, accepted by the CSRF check and answered with a
    /// redirect inside the public prefix, or with a 4xx message for the fields an empty post
    /// lacks (obliterate's confirmation ...). Destructive, so it runs last.
    async fn check_every_form(&self, pages: &[(String, Vec<String>)]) {
        let mut shapes = BTreeSet::new();
        let mut forms = Vec::new();
        for action in pages.iter().flat_map(|(_, forms)| forms) {
            // `.../jobs/<id>/retry` and `.../jobs/<other id>/retry` are one shape.
            let path = action.split('?').next().unwrap_or_default();
            let segments: Vec<&str> = path.split('/').collect();
            let shape: Vec<&str> = segments
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if i > 0 && segments[i - 1] == "jobs" {
                        "{id}"
                    } else {
                        s
                    }
                })
                .collect();
            if shapes.insert(shape.join("/")) {
                forms.push(action.clone());
            }
        }
        assert!(
            forms.len() >= 8,
            "the pages offer many kinds of actions: {forms:?}"
        );
        let own = origin(&self.public);
        for action in &forms {
            let refused = self
                .client
                .post_form(action, &[("origin", "https://evil.example")], "")
                .await;
            assert_eq!(refused.status, 403, "cross-site POST {action}");
        }
        for action in &forms {
            let answer = self
                .client
                .post_form(
                    action,
                    &[("origin", &own), ("sec-fetch-site", "same-origin")],
                    "",
                )
                .await;
            match answer.status.as_u16() {
                303 => {
                    let target = self.absolute(answer.header("location"));
                    assert!(
                        target.starts_with(&format!("{}/", self.public)),
                        "POST {action} redirects to {target}, outside {}",
                        self.public
                    );
                }
                400 | 404 | 409 => assert!(!answer.body.is_empty(), "POST {action}: no message"),
                other => panic!("POST {action}: {other} {}", answer.body),
            }
        }
    }

    /// A 303 whose `Location` is `expected` (a public path) on the public origin, whose flash
    /// cookie is scoped to the prefix and shows its message on the page it leads to.
    async fn assert_redirect_with_flash(&self, answer: &Answer, expected: &str) {
        assert_eq!(answer.status, 303, "{}", answer.body);
        let location = answer.header("location");
        let target = self.absolute(location);
        assert_eq!(
            target,
            format!("{}{expected}", origin(&self.public)),
            "Location {location:?} keeps the prefix and the scheme"
        );
        let cookie = answer.header("set-cookie");
        assert!(
            cookie.contains(&format!("Path={PUBLIC_PREFIX}")),
            "the flash cookie is scoped to the public prefix: {cookie}"
        );
        let pair = cookie.split(';').next().unwrap_or_default();
        let page = self.client.get(&target, &[("cookie", pair)]).await;
        assert_eq!(page.status, 200, "GET {target}");
        assert!(
            page.body.contains("class=\"flash\""),
            "{target} shows the action's message"
        );
    }

    /// Each stream sends its first event through the proxy while it is still open (the wait
    /// has a deadline; a stream held back by the proxy never shows its event).
    async fn check_streams(&self) {
        for path in STREAM_PATHS {
            let url = format!("{}{path}", self.public);
            let response = self
                .client
                .open(Method::GET, &url, &[("accept", "text/event-stream")], "")
                .await;
            assert_eq!(response.status(), 200, "GET {url}");
            let kind = response
                .headers()
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            assert!(kind.starts_with("text/event-stream"), "{url}: {kind}");
            let mut body = response.into_body();
            let mut text = String::new();
            let first = tokio::time::timeout(Duration::from_secs(20), async {
                while !text.contains("\n\n") {
                    match body.frame().await {
                        Some(Ok(frame)) => {
                            if let Ok(data) = frame.into_data() {
                                text.push_str(&String::from_utf8_lossy(&data));
                            }
                        }
                        _ => break,
                    }
                }
            })
            .await;
            assert!(
                first.is_ok() && text.contains("data:"),
                "{url}: no event arrived through nginx while the stream is open (buffered?): {text:?}"
            );
        }
    }
}

/// `back=<path>` form-encoded.
fn form_body(back: &str) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("back", back)
        .finish()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// `href`
    Link,
    /// `src`, `<link rel=stylesheet href>`
    Asset,
    /// a post form's `action`, `hx-post`
    Post,
}

#[derive(Debug)]
struct Found {
    kind: Kind,
    value: String,
}

/// Every URL a page writes in an attribute, entities undone.
fn page_urls(html: &str) -> Vec<Found> {
    let unescape = |s: &str| {
        s.replace("&amp;", "&")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
    };
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let mut found = Vec::new();
    for (i, _) in html.match_indices('<') {
        let Some(end) = html[i..].find('>') else {
            break;
        };
        let tag = &html[i..i + end];
        let lower = tag.to_ascii_lowercase();
        if let Some(href) = attribute(tag, "href") {
            let kind = if lower.starts_with("<link") {
                Kind::Asset
            } else {
                Kind::Link
            };
            found.push(Found { kind, value: href });
        }
        if let Some(src) = attribute(tag, "src") {
            found.push(Found {
                kind: Kind::Asset,
                value: src,
            });
        }
        if lower.starts_with("<form") {
            let action = attribute(tag, "action").unwrap_or_default();
            let kind = if lower.contains("method=\"post\"") {
                Kind::Post
            } else {
                Kind::Link
            };
            if !action.is_empty() {
                found.push(Found {
                    kind,
                    value: action,
                });
            }
        }
        for hx in ["hx-get", "hx-post"] {
            if let Some(target) = attribute(tag, hx) {
                let kind = if hx == "hx-post" {
                    Kind::Post
                } else {
                    Kind::Link
                };
                found.push(Found {
                    kind,
                    value: target,
                });
            }
        }
    }
    found
}

fn trusting_the_proxy() -> Security {
    Security {
        trusted_proxies: vec!["127.0.0.1".parse().expect("ip")],
        ..Security::default()
    }
}

/// (a) The same path on both sides: nginx forwards `/admin/queues` unchanged.
#[tokio::test]
async fn behind_nginx_at_the_same_path() {
    let locations = "    location /admin/queues {\n      proxy_pass http://127.0.0.1:{upstream};\n{headers}    }\n";
    let setup = Setup::start(
        "same-path",
        PUBLIC_PREFIX,
        trusting_the_proxy(),
        false,
        locations,
    )
    .await;
    setup.check_everything().await;
}

/// (b) nginx strips `/admin/queues` and says so in `X-Forwarded-Prefix`; bullring is at `/`.
#[tokio::test]
async fn behind_nginx_stripping_the_prefix() {
    let locations = "    location = /admin/queues { return 301 /admin/queues/; }\n    \
                     location /admin/queues/ {\n      proxy_pass http://127.0.0.1:{upstream}/;\n      \
                     proxy_set_header X-Forwarded-Prefix /admin/queues;\n{headers}    }\n";
    let security = Security {
        trust_forwarded_prefix: true,
        ..trusting_the_proxy()
    };
    let setup = Setup::start("strip", "", security, false, locations).await;
    setup.check_everything().await;
}

/// (c) nginx terminates TLS (a self-signed certificate) and sends `X-Forwarded-Proto: https`.
#[tokio::test]
async fn behind_nginx_terminating_tls() {
    let locations = "    location /admin/queues {\n      proxy_pass http://127.0.0.1:{upstream};\n{headers}    }\n";
    let setup = Setup::start("tls", PUBLIC_PREFIX, trusting_the_proxy(), true, locations).await;
    assert!(setup.public.starts_with("https://"));
    setup.check_everything().await;
}
