//! Access control: basic and proxy authentication, roles, the CSRF check on actions, and
//! read-only mode proved under a Redis ACL user that may only read.

use bullring::queue::model::JobState;
use std::collections::{BTreeSet, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use bullring::web::security::{AuthMode, BasicUser, ProxyAuth, Role, Security, hash_password};

use crate::support::{Dashboard, Reply, anonymous_as, conn, engine_queue, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// The dashboard with these security settings over `prefix`, discovery run once. `peer` is the
/// address requests seem to come from (none: served without connect info).
async fn dashboard(
    url: &str,
    prefix: &str,
    security: Security,
    peer: Option<SocketAddr>,
) -> Dashboard {
    let (mut dash, state) =
        Dashboard::with_state(url, &[prefix], BASE, |state| state.with_security(security)).await;
    assert!(state.discovery().snapshot().complete, "discovery");
    if let Some(peer) = peer {
        dash.router = dash.router.layer(MockConnectInfo(peer));
    }
    dash
}

fn peer(text: &str) -> Option<SocketAddr> {
    Some(text.parse().expect("socket address"))
}

/// A request with these headers; a JSON body when given.
fn request(
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    json: Option<serde_json::Value>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    match json {
        Some(json) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(json.to_string())),
        None => builder.body(Body::empty()),
    }
    .expect("request")
}

async fn get(dash: &Dashboard, uri: &str, headers: &[(&str, &str)]) -> Reply {
    dash.send(request(Method::GET, uri, headers, None)).await
}

async fn post(dash: &Dashboard, uri: &str, headers: &[(&str, &str)]) -> Reply {
    dash.send(request(Method::POST, uri, headers, None)).await
}

/// A queue under `prefix` with one waiting job, and the engine handle to look at it.
async fn queue_with_a_job(prefix: &str, name: &str) -> bullmq::Queue {
    let queue = engine_queue(prefix, name).await;
    queue
        .add("job", serde_json::json!({ "n": 1 }))
        .await
        .expect("add");
    queue
}

async fn paused(queue: &bullmq::Queue) -> bool {
    queue.is_paused().await.expect("is_paused")
}

// --- basic authentication and roles ----------------------------------------------------------

/// Three users, one per role; hashed once (argon2 is slow, more so in a debug build).
fn basic_users() -> &'static [BasicUser] {
    static USERS: OnceLock<Vec<BasicUser>> = OnceLock::new();
    USERS.get_or_init(|| {
        [
            ("vera", Role::Viewer),
            ("otto", Role::Operator),
            ("ada", Role::Admin),
        ]
        .into_iter()
        .map(|(name, role)| BasicUser {
            name: name.into(),
            password_hash: hash_password(&format!("{name}-secret")).expect("hash"),
            role,
        })
        .collect()
    })
}

fn basic_security() -> Security {
    Security {
        mode: AuthMode::Basic,
        users: basic_users().to_vec(),
        ..Security::default()
    }
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[tokio::test]
async fn basic_auth_asks_for_credentials_and_checks_them() {
    let prefix = unique_prefix("basic");
    queue_with_a_job(&prefix, "mail").await;
    let dash = dashboard(&redis().url, &prefix, basic_security(), None).await;

    for uri in [
        BASE.to_string(),
        format!("{BASE}/"),
        format!("{BASE}/queues/mail"),
        format!("{BASE}/api/queues"),
    ] {
        let reply = get(&dash, &uri, &[]).await;
        assert_eq!(
            reply.status,
            StatusCode::UNAUTHORIZED,
            "{uri}: {}",
            reply.body
        );
        let challenge = reply.headers[header::WWW_AUTHENTICATE].to_str().unwrap();
        assert!(
            challenge.starts_with("Basic realm=\"bullring\""),
            "{challenge}"
        );
    }
    // The API answers its errors in JSON, the pages with a page.
    let reply = get(&dash, &format!("{BASE}/api/queues"), &[]).await;
    let json: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON 401");
    assert_eq!(json["status"], 401);
    let reply = get(&dash, BASE, &[]).await;
    assert!(reply.body.contains("<html") || reply.body.contains("<!DOCTYPE"));

    let wrong = [
        basic("ada", "wrong"),
        basic("ada", ""),
        basic("nobody", "ada-secret"),
        basic("ADA", "ada-secret"),
        "Bearer ada-secret".to_string(),
        "Basic not-base64!".to_string(),
    ];
    for value in &wrong {
        let reply = get(&dash, BASE, &[("authorization", value)]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{value}");
    }

    let ada = basic("ada", "ada-secret");
    for uri in [
        BASE.to_string(),
        format!("{BASE}/"),
        format!("{BASE}/queues/mail"),
        format!("{BASE}/api/queues"),
    ] {
        let reply = get(&dash, &uri, &[("authorization", &ada)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{uri}: {}", reply.body);
    }
    // Remembered logins still need the right password: a second, wrong one fails.
    let reply = get(
        &dash,
        BASE,
        &[("authorization", &basic("ada", "ada-secreT"))],
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Health checks and the stylesheet of the sign-in page need no credentials.
    assert_eq!(
        get(&dash, &format!("{BASE}/healthz"), &[]).await.status,
        200
    );
    let css = get(&dash, &format!("{BASE}/static/app.css"), &[]).await;
    assert_eq!(css.status, 200, "{}", css.body);
    // ... but only exactly those paths.
    let reply = get(&dash, &format!("{BASE}/healthz/"), &[]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_remembered_login_counts_only_where_the_same_user_and_hash_exist() {
    let prefix = unique_prefix("basic-cache");
    queue_with_a_job(&prefix, "mail").await;
    let first = dashboard(&redis().url, &prefix, basic_security(), None).await;
    let ada = basic("ada", "ada-secret");
    assert_eq!(
        get(&first, BASE, &[("authorization", &ada)]).await.status,
        200
    );

    // Another dashboard where `ada` has another password: the header verified by the first
    // one must not let her in.
    let other = Security {
        users: vec![BasicUser {
            name: "ada".into(),
            password_hash: hash_password("another").expect("hash"),
            role: Role::Admin,
        }],
        ..basic_security()
    };
    let second = dashboard(&redis().url, &prefix, other, None).await;
    let reply = get(&second, BASE, &[("authorization", &ada)]).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);

    // Same hash, another role: the role comes from the dashboard's own settings.
    let demoted = Security {
        users: vec![BasicUser {
            role: Role::Viewer,
            ..basic_users()[2].clone()
        }],
        ..basic_security()
    };
    let third = dashboard(&redis().url, &prefix, demoted, None).await;
    let headers = [("authorization", ada.as_str())];
    assert_eq!(get(&third, BASE, &headers).await.status, 200);
    let reply = post(&third, &format!("{BASE}/api/queues/mail/pause"), &headers).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
}

#[tokio::test]
async fn roles_decide_which_actions_a_basic_user_may_take() {
    let prefix = unique_prefix("roles");
    let queue = queue_with_a_job(&prefix, "work").await;
    let dash = dashboard(&redis().url, &prefix, basic_security(), None).await;
    let vera = basic("vera", "vera-secret");
    let otto = basic("otto", "otto-secret");
    let ada = basic("ada", "ada-secret");
    let pause = format!("{BASE}/api/queues/work/pause");
    let resume = format!("{BASE}/api/queues/work/resume");
    let clean = format!("{BASE}/api/queues/work/clean");
    let clean_body =
        || Some(serde_json::json!({"state": "completed", "grace_ms": 0, "limit": 1000}));

    // Without credentials: 401 before anything else.
    assert_eq!(post(&dash, &pause, &[]).await.status, 401);
    assert!(!paused(&queue).await);

    // A viewer browses but may not act.
    assert_eq!(
        get(&dash, BASE, &[("authorization", &vera)]).await.status,
        200
    );
    let reply = post(&dash, &pause, &[("authorization", &vera)]).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
    assert!(!paused(&queue).await);

    // An operator may pause and resume (JSON and HTML form), not clean.
    let reply = post(&dash, &pause, &[("authorization", &otto)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(paused(&queue).await);
    let reply = post(&dash, &resume, &[("authorization", &otto)]).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert!(!paused(&queue).await);
    let form = request(
        Method::POST,
        &format!("{BASE}/queues/work/pause"),
        &[
            ("authorization", &otto),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        None,
    );
    let reply = dash.send(form).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(paused(&queue).await);
    let reply = dash
        .send(request(
            Method::POST,
            &clean,
            &[("authorization", &otto)],
            clean_body(),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);

    // An admin may clean.
    let reply = dash
        .send(request(
            Method::POST,
            &clean,
            &[("authorization", &ada)],
            clean_body(),
        ))
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

// --- proxy authentication --------------------------------------------------------------------

fn proxy_security() -> Security {
    Security {
        mode: AuthMode::Proxy,
        trusted_proxies: vec!["10.1.2.3".parse().unwrap(), "::1".parse().unwrap()],
        proxy: ProxyAuth {
            groups_header: Some("X-Forwarded-Groups".into()),
            group_roles: [
                ("ops".to_string(), Role::Operator),
                ("platform".to_string(), Role::Admin),
            ]
            .into_iter()
            .collect(),
            ..ProxyAuth::default()
        },
        ..Security::default()
    }
}

#[tokio::test]
async fn proxy_auth_trusts_the_user_header_only_from_the_proxy() {
    let prefix = unique_prefix("proxy");
    let queue = queue_with_a_job(&prefix, "jobs").await;
    let through_proxy = dashboard(
        &redis().url,
        &prefix,
        proxy_security(),
        peer("10.1.2.3:50000"),
    )
    .await;
    let pause = format!("{BASE}/api/queues/jobs/pause");
    let resume = format!("{BASE}/api/queues/jobs/resume");
    let clean = format!("{BASE}/api/queues/jobs/clean");
    let clean_body = || Some(serde_json::json!({"state": "completed", "grace_ms": 0, "limit": 10}));

    // A user with no mapped group is a viewer (the default role).
    let viewer = [("x-forwarded-user", "pat"), ("x-forwarded-groups", "staff")];
    let r = get(&through_proxy, BASE, &viewer).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(post(&through_proxy, &pause, &viewer).await.status, 403);
    assert!(!paused(&queue).await);

    // `ops` among the groups: operator; may pause, may not clean.
    let operator = [
        ("x-forwarded-user", "pat"),
        ("x-forwarded-groups", "staff, ops"),
    ];
    let reply = post(&through_proxy, &pause, &operator).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(paused(&queue).await);
    assert_eq!(post(&through_proxy, &resume, &operator).await.status, 200);
    assert!(!paused(&queue).await);
    let reply = through_proxy
        .send(request(Method::POST, &clean, &operator, clean_body()))
        .await;
    assert_eq!(reply.status, 403, "{}", reply.body);

    // The highest role of the groups wins.
    let admin = [
        ("x-forwarded-user", "pat"),
        ("x-forwarded-groups", "ops,platform"),
    ];
    let reply = through_proxy
        .send(request(Method::POST, &clean, &admin, clean_body()))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);

    // From the proxy without the user header: sign in through the proxy (no basic challenge).
    for headers in [&[][..], &[("x-forwarded-user", "  ")][..]] {
        let reply = get(&through_proxy, BASE, headers).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.body);
        assert!(reply.body.contains("proxy"), "{}", reply.body);
        assert!(!reply.headers.contains_key(header::WWW_AUTHENTICATE));
    }

    // An IPv6 proxy address, and an IPv4 proxy seen through a dual-stack socket, are trusted.
    let v6 = dashboard(&redis().url, &prefix, proxy_security(), peer("[::1]:4000")).await;
    assert_eq!(get(&v6, BASE, &viewer).await.status, 200);
    let mapped = dashboard(
        &redis().url,
        &prefix,
        proxy_security(),
        peer("[::ffff:10.1.2.3]:4000"),
    )
    .await;
    assert_eq!(get(&mapped, BASE, &viewer).await.status, 200);

    // From anywhere else the header means nothing: 403, whatever it says.
    let direct = dashboard(
        &redis().url,
        &prefix,
        proxy_security(),
        peer("10.1.2.4:50000"),
    )
    .await;
    let admin_claim = [
        ("x-forwarded-user", "root"),
        ("x-forwarded-groups", "platform"),
    ];
    for (method, uri) in [
        (Method::GET, BASE.to_string()),
        (Method::POST, pause.clone()),
    ] {
        let reply = direct.send(request(method, &uri, &admin_claim, None)).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{}", reply.body);
        assert!(reply.body.contains("proxy"), "{}", reply.body);
    }
    let json = get(&direct, &format!("{BASE}/api/queues"), &admin_claim).await;
    assert_eq!(json.status, 403);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&json.body).unwrap()["status"],
        403
    );
    assert!(!paused(&queue).await);
    // Served without connect info, nobody is a trusted proxy.
    let unknown = dashboard(&redis().url, &prefix, proxy_security(), None).await;
    assert_eq!(get(&unknown, BASE, &admin_claim).await.status, 403);
    // Docker's health check comes from wherever it likes.
    assert_eq!(
        get(&direct, &format!("{BASE}/healthz"), &[]).await.status,
        200
    );
}

// --- CSRF ------------------------------------------------------------------------------------

const HOST: &str = "dash.local:3000";

/// Pause through the JSON API with these headers; the status, and whether the queue paused.
/// Resumes it again (directly) so the next case starts from the same place.
async fn try_pause(
    dash: &Dashboard,
    queue: &bullmq::Queue,
    headers: &[(&str, &str)],
) -> (u16, bool) {
    let uri = format!("{BASE}/api/queues/{}/pause", queue.name());
    let reply = post(dash, &uri, headers).await;
    let was_paused = paused(queue).await;
    if was_paused {
        queue.resume().await.expect("resume");
    }
    (reply.status.as_u16(), was_paused)
}

#[tokio::test]
async fn cross_site_posts_are_refused_and_change_nothing() {
    let prefix = unique_prefix("csrf");
    let queue = queue_with_a_job(&prefix, "csrf-q").await;
    // The dashboard answers to the name this test gives it (the Host check).
    let answering = Security {
        allowed_hosts: vec!["dash.local".into()],
        ..Security::default()
    };
    let dash = dashboard(&redis().url, &prefix, answering, peer("127.0.0.1:40000")).await;

    let refused: &[&[(&str, &str)]] = &[
        &[("host", HOST), ("sec-fetch-site", "cross-site")],
        &[("host", HOST), ("sec-fetch-site", "same-site")],
        // Sec-Fetch-Site wins over a matching Origin.
        &[
            ("host", HOST),
            ("sec-fetch-site", "cross-site"),
            ("origin", "http://dash.local:3000"),
        ],
        &[("host", HOST), ("origin", "http://evil.example")],
        &[("host", HOST), ("origin", "https://dash.local:3000")],
        &[("host", HOST), ("origin", "http://dash.local:3001")],
        &[("host", HOST), ("origin", "null")],
        &[
            ("host", HOST),
            ("referer", "http://evil.example/dash.local:3000/"),
        ],
        // Forwarded headers from an untrusted peer are ignored.
        &[
            ("host", HOST),
            ("x-forwarded-host", "evil.example"),
            ("origin", "http://evil.example"),
        ],
    ];
    for headers in refused {
        let (status, changed) = try_pause(&dash, &queue, headers).await;
        assert_eq!(status, 403, "{headers:?}");
        assert!(!changed, "{headers:?} paused the queue");
    }

    let accepted: &[&[(&str, &str)]] = &[
        &[("host", HOST), ("sec-fetch-site", "same-origin")],
        &[("host", HOST), ("sec-fetch-site", "none")],
        &[("host", HOST), ("origin", "http://dash.local:3000")],
        &[("host", HOST), ("origin", "HTTP://Dash.Local:3000")],
        &[("host", "dash.local"), ("origin", "http://dash.local:80")],
        &[
            ("host", HOST),
            (
                "referer",
                "http://dash.local:3000/admin/queues/queues/csrf-q",
            ),
        ],
        // curl and scripts send neither Origin nor Referer.
        &[("host", HOST)],
        &[],
    ];
    for headers in accepted {
        let (status, changed) = try_pause(&dash, &queue, headers).await;
        assert_eq!(status, 200, "{headers:?}");
        assert!(changed, "{headers:?} did not pause the queue");
    }

    // A cross-site HTML form post is refused with a page, and changes nothing.
    let reply = post(
        &dash,
        &format!("{BASE}/queues/csrf-q/pause"),
        &[("host", HOST), ("sec-fetch-site", "cross-site")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        reply.body.contains("cross-site request refused"),
        "{}",
        reply.body
    );
    assert!(!paused(&queue).await);
    let reply = post(
        &dash,
        &format!("{BASE}/queues/csrf-q/pause"),
        &[("host", HOST), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(paused(&queue).await);
    queue.resume().await.unwrap();

    // Reads are not affected; other methods than POST do not change anything.
    let reply = get(&dash, BASE, &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(reply.status, 200);
    for method in [Method::PUT, Method::DELETE, Method::PATCH] {
        let uri = format!("{BASE}/api/queues/csrf-q/pause");
        let reply = dash.send(request(method.clone(), &uri, &[], None)).await;
        assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
    }
    assert!(!paused(&queue).await);
}

#[tokio::test]
async fn behind_a_proxy_the_forwarded_or_public_origin_counts() {
    let prefix = unique_prefix("csrf-proxy");
    let queue = queue_with_a_job(&prefix, "behind").await;
    let trusting = Security {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        // The public name the proxy forwards (the Host check).
        allowed_hosts: vec!["ops.example.com".into()],
        ..Security::default()
    };
    let forwarded = [
        ("host", "127.0.0.1:3000"),
        ("x-forwarded-host", "ops.example.com"),
        ("x-forwarded-proto", "https"),
    ];
    let with_origin = |origin: &'static str| {
        let mut headers = forwarded.to_vec();
        headers.push(("origin", origin));
        headers
    };

    // From the trusted proxy, the forwarded host and scheme are the origin.
    let via_proxy = dashboard(
        &redis().url,
        &prefix,
        trusting.clone(),
        peer("127.0.0.1:5000"),
    )
    .await;
    let (status, changed) =
        try_pause(&via_proxy, &queue, &with_origin("https://ops.example.com")).await;
    assert_eq!((status, changed), (200, true));
    let (status, changed) = try_pause(
        &via_proxy,
        &queue,
        &with_origin("https://ops.example.com:443"),
    )
    .await;
    assert_eq!((status, changed), (200, true));
    let (status, changed) =
        try_pause(&via_proxy, &queue, &with_origin("http://127.0.0.1:3000")).await;
    assert_eq!((status, changed), (403, false));
    // A chain of proxies: the first value is what the browser used.
    let chained = [
        ("host", "127.0.0.1:3000"),
        ("x-forwarded-host", "ops.example.com, inner.lan"),
        ("x-forwarded-proto", "https,http"),
        ("origin", "https://ops.example.com"),
    ];
    assert_eq!(try_pause(&via_proxy, &queue, &chained).await, (200, true));

    // The same headers from elsewhere are ignored: the origin is then http://<Host>.
    let direct = dashboard(
        &redis().url,
        &prefix,
        trusting.clone(),
        peer("192.0.2.7:5000"),
    )
    .await;
    let (status, changed) =
        try_pause(&direct, &queue, &with_origin("https://ops.example.com")).await;
    assert_eq!((status, changed), (403, false));
    let (status, changed) = try_pause(&direct, &queue, &with_origin("http://127.0.0.1:3000")).await;
    assert_eq!((status, changed), (200, true));

    // A configured public URL is the only origin that counts.
    let public = Security {
        public_url: Some("https://Dash.Example.com".into()),
        ..trusting
    };
    let public = dashboard(&redis().url, &prefix, public, peer("127.0.0.1:5000")).await;
    let cases = [
        ("https://dash.example.com", 200),
        ("https://dash.example.com:443", 200),
        ("http://dash.example.com", 403),
        ("https://ops.example.com", 403),
        ("http://127.0.0.1:3000", 403),
    ];
    for (origin, expected) in cases {
        let headers = [("host", "127.0.0.1:3000"), ("origin", origin)];
        let (status, changed) = try_pause(&public, &queue, &headers).await;
        assert_eq!((status, changed), (expected, expected == 200), "{origin}");
    }
    let referer = [(
        "referer",
        "https://dash.example.com/admin/queues/queues/behind",
    )];
    assert_eq!(try_pause(&public, &queue, &referer).await, (200, true));
    assert_eq!(try_pause(&public, &queue, &[]).await, (200, true));
}

// --- read-only mode under a read-only Redis user ---------------------------------------------

/// A Redis ACL user that may read and nothing else; deleted when dropped.
struct ReadOnlyRedisUser {
    name: String,
    url: String,
}

impl ReadOnlyRedisUser {
    fn create() -> ReadOnlyRedisUser {
        let name = unique_prefix("reader");
        let password = format!("{name}-pw");
        // +@connection covers what redis-rs sends on connect (AUTH, CLIENT SETINFO); +info and
        // +ping are what health checks use. Nothing else is granted beyond @read.
        let _: () = redis::cmd("ACL")
            .arg("SETUSER")
            .arg(&name)
            .arg("reset")
            .arg("on")
            .arg(format!(">{password}"))
            .arg("~*")
            .arg("&*")
            .arg("+@read")
            .arg("-@write")
            .arg("+@connection")
            .arg("+info")
            .arg("+ping")
            .query(&mut conn())
            .expect("ACL SETUSER");
        let url = redis()
            .url
            .replacen("redis://", &format!("redis://{name}:{password}@"), 1);
        ReadOnlyRedisUser { name, url }
    }

    /// Commands Redis refused this user, from `ACL LOG` (it lists every denied command).
    fn denied(&self) -> Vec<String> {
        let log: Vec<HashMap<String, redis::Value>> = redis::cmd("ACL")
            .arg("LOG")
            .arg(1000)
            .query(&mut conn())
            .expect("ACL LOG");
        let text = |value: Option<&redis::Value>| match value {
            Some(redis::Value::BulkString(bytes)) => String::from_utf8_lossy(bytes).into_owned(),
            Some(redis::Value::SimpleString(s)) => s.clone(),
            Some(other) => format!("{other:?}"),
            None => String::new(),
        };
        log.iter()
            .filter(|entry| text(entry.get("username")) == self.name)
            .map(|entry| {
                format!(
                    "{} {} ({})",
                    text(entry.get("context")),
                    text(entry.get("object")),
                    text(entry.get("reason"))
                )
            })
            .collect()
    }
}

impl Drop for ReadOnlyRedisUser {
    fn drop(&mut self) {
        let _: redis::RedisResult<()> = redis::cmd("ACL")
            .arg("DELUSER")
            .arg(&self.name)
            .query(&mut conn());
    }
}

/// `href`s and post-form `action`s of a page, with HTML entities undone.
fn links_and_post_forms(html: &str) -> (Vec<String>, Vec<String>) {
    let unescape = |s: &str| {
        s.replace("&amp;", "&")
            .replace("&#x27;", "'")
            .replace("&#39;", "'")
            .replace("&quot;", "\"")
    };
    let attribute = |tag: &str, name: &str| -> Option<String> {
        let start = tag.find(&format!("{name}=\""))? + name.len() + 2;
        let end = tag[start..].find('"')? + start;
        Some(unescape(&tag[start..end]))
    };
    let mut links = Vec::new();
    let mut forms = Vec::new();
    for (i, _) in html.match_indices('<') {
        let Some(end) = html[i..].find('>') else {
            break;
        };
        let tag = &html[i..i + end];
        let lower = tag.to_ascii_lowercase();
        if let Some(href) = attribute(tag, "href") {
            links.push(href);
        }
        if lower.starts_with("<form") && lower.contains("method=\"post\"") {
            forms.push(attribute(tag, "action").unwrap_or_default());
        }
        for hx in ["hx-post", "hx-put", "hx-delete", "hx-patch"] {
            if let Some(target) = attribute(tag, hx) {
                forms.push(target);
            }
        }
    }
    (links, forms)
}

/// Every page reachable by links from the overview (under the base path, static files aside),
/// each with its status and the post forms it shows.
async fn crawl(dash: &Dashboard, start: &[String]) -> Vec<(String, Reply, Vec<String>)> {
    let mut seen: BTreeSet<String> = start.iter().cloned().collect();
    let mut todo: VecDeque<String> = start.iter().cloned().collect();
    let mut pages = Vec::new();
    while let Some(uri) = todo.pop_front() {
        assert!(pages.len() < 2000, "the crawl does not end: {uri}");
        let reply = get(dash, &uri, &[]).await;
        let (links, forms) = links_and_post_forms(&reply.body);
        for link in links {
            let link = link.split('#').next().unwrap_or_default().to_string();
            let inside = link.starts_with(&format!("{BASE}/")) || link == BASE;
            if inside && !link.starts_with(&format!("{BASE}/static/")) && seen.insert(link.clone())
            {
                todo.push_back(link);
            }
        }
        pages.push((uri, reply, forms));
    }
    pages
}

#[tokio::test]
async fn read_only_browses_everything_and_sends_no_write_to_redis() {
    let prefix = unique_prefix("ro");
    // Jobs in every state, schedulers, a flow and a paused queue, written as an app would.
    bullring::demo::seed(&redis().url, &prefix)
        .await
        .expect("demo seed");
    let admin = dashboard(&redis().url, &prefix, Security::default(), None).await;
    let counts_before = get(&admin, &format!("{BASE}/api/queues"), &[]).await.body;

    // Every page the admin can reach, and every action form those pages offer.
    let start = vec![BASE.to_string()];
    let admin_pages = crawl(&admin, &start).await;
    let mut actions: BTreeSet<String> = BTreeSet::new();
    for (uri, reply, forms) in &admin_pages {
        assert_eq!(reply.status, 200, "admin GET {uri}");
        actions.extend(forms.iter().cloned());
    }
    assert!(
        !actions.is_empty(),
        "an admin sees action forms somewhere (pause, retry ...)"
    );

    let user = ReadOnlyRedisUser::create();
    let read_only = anonymous_as(Role::Admin, true);
    let dash = dashboard(&user.url, &prefix, read_only, None).await;

    // Every page: 200, and not one form that would post.
    let job = bullring::demo::ACTIVE_JOB_ID;
    let queue = bullring::demo::ATTACHMENTS;
    let mut start = vec![
        BASE.to_string(),
        format!("{BASE}/"),
        format!("{BASE}/?q=att"),
        format!("{BASE}/queues/{queue}?order=oldest&per_page=1"),
    ];
    for state in JobState::ALL.map(JobState::as_str) {
        start.push(format!("{BASE}/queues/{queue}?state={state}"));
    }
    let pages = crawl(&dash, &start).await;
    // Every page the admin reached is reached read-only too, but for the pages that exist only
    // to confirm or fill in an action (`/actions/...`, `/edit`).
    let reached: BTreeSet<&str> = pages.iter().map(|(uri, _, _)| uri.as_str()).collect();
    let missed: Vec<&str> = admin_pages
        .iter()
        .map(|(uri, _, _)| uri.as_str())
        .filter(|uri| !uri.contains("/actions/") && !uri.ends_with("/edit"))
        .filter(|uri| !reached.contains(uri))
        .collect();
    assert!(missed.is_empty(), "read-only does not reach {missed:?}");
    let mut job_pages = 0;
    for (uri, reply, forms) in &pages {
        assert_eq!(reply.status, 200, "GET {uri}: {}", reply.body);
        assert!(forms.is_empty(), "GET {uri} offers actions: {forms:?}");
        assert!(
            !reply.body.to_ascii_lowercase().contains("method=\"post\""),
            "GET {uri} has a post form"
        );
        if uri.contains("/jobs/") {
            job_pages += 1;
        }
    }
    assert!(
        job_pages > 10,
        "the crawl reached only {job_pages} job pages"
    );

    // Every GET of the JSON API.
    let mut api = vec![
        format!("{BASE}/api/queues"),
        format!("{BASE}/api/queues?prefix={prefix}"),
        format!("{BASE}/api/queues/{queue}/jobs/{job}"),
        format!("{BASE}/api/queues/{queue}/jobs/{job}?logs_page=1&logs_per_page=1"),
        format!("{BASE}/healthz"),
    ];
    for q in bullring::demo::QUEUES {
        for state in [
            "waiting",
            "active",
            "delayed",
            "prioritized",
            "waiting-children",
            "completed",
            "failed",
            "paused",
        ] {
            api.push(format!("{BASE}/api/queues/{q}/jobs?state={state}"));
        }
    }
    for field in ["data", "returnvalue", "opts", "progress", "stacktrace"] {
        api.push(format!(
            "{BASE}/api/queues/{queue}/jobs/{job}/raw?field={field}"
        ));
    }
    for uri in &api {
        let reply = get(&dash, uri, &[]).await;
        assert_eq!(reply.status, 200, "GET {uri}: {}", reply.body);
    }
    // The jump box answers with a redirect, not an error.
    let reply = get(&dash, &format!("{BASE}/queues/{queue}?job={job}"), &[]).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER);

    // Every action answers 403: each API route of the issue, and every form the admin saw.
    let q = format!("{BASE}/api/queues/{queue}");
    let mut posts: Vec<String> = [
        "pause",
        "resume",
        "retry-failed",
        "promote-delayed",
        "drain",
        "obliterate",
        "clean",
        "jobs",
    ]
    .iter()
    .map(|action| format!("{q}/{action}"))
    .collect();
    for action in ["retry", "promote", "remove", "duplicate", "data"] {
        posts.push(format!("{q}/jobs/{job}/{action}"));
    }
    for uri in &posts {
        // The route exists (a GET is not a 404) ...
        let reply = get(&dash, uri, &[]).await;
        assert_ne!(reply.status, StatusCode::NOT_FOUND, "no route {uri}");
    }
    posts.extend(actions.iter().cloned());
    for uri in &posts {
        // ... and refuses, however friendly the request looks.
        let headers = [("sec-fetch-site", "same-origin")];
        let body = serde_json::json!({"state": "completed", "grace_ms": 0, "limit": 1000});
        let reply = dash
            .send(request(Method::POST, uri, &headers, Some(body)))
            .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "POST {uri}: {}",
            reply.body
        );
        assert!(
            reply.body.contains("read-only"),
            "POST {uri}: {}",
            reply.body
        );
    }

    // Redis refused nothing: the dashboard never tried to write.
    assert_eq!(user.denied(), Vec::<String>::new());
    let counts_after = get(&admin, &format!("{BASE}/api/queues"), &[]).await.body;
    assert_eq!(counts_before, counts_after);
}

#[tokio::test]
async fn the_acl_log_check_sees_a_refused_write() {
    // The read-only test relies on ACL LOG naming the user's refused commands; make sure it does.
    let user = ReadOnlyRedisUser::create();
    let mut as_user = redis::Client::open(user.url.as_str())
        .and_then(|c| c.get_connection())
        .expect("connect as the read-only user");
    let written: redis::RedisResult<()> = redis::cmd("SET")
        .arg(format!("{}:k", user.name))
        .arg(1)
        .query(&mut as_user);
    assert!(written.is_err());
    let read: redis::RedisResult<Option<String>> = redis::cmd("GET")
        .arg(format!("{}:k", user.name))
        .query(&mut as_user);
    assert_eq!(read.expect("GET is allowed"), None);
    let denied = user.denied();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert!(denied[0].contains("set"), "{denied:?}");
}

// --- X-Forwarded-Prefix ----------------------------------------------------------------------

#[tokio::test]
async fn a_forwarded_prefix_counts_only_from_a_trusted_proxy_with_the_setting_on() {
    let prefix = unique_prefix("fwd-prefix");
    let queue = queue_with_a_job(&prefix, "prefixed").await;
    let trusting = Security {
        trusted_proxies: vec!["127.0.0.1".parse().unwrap()],
        trust_forwarded_prefix: true,
        ..Security::default()
    };
    let from_proxy = dashboard(
        &redis().url,
        &prefix,
        trusting.clone(),
        peer("127.0.0.1:5000"),
    )
    .await;
    let header = [("x-forwarded-prefix", "/ops/")];

    // Pages, assets and error pages write the public base: prefix + configured base.
    let page = get(&from_proxy, &format!("{BASE}/"), &header).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body
            .contains("href=\"/ops/admin/queues/static/app.css"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("href=\"/ops/admin/queues/queues/prefixed\""),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("\"/admin/queues/"),
        "an unprefixed URL is left"
    );
    let missing = get(&from_proxy, &format!("{BASE}/queues/nope"), &header).await;
    assert_eq!(missing.status, 404);
    assert!(
        missing.body.contains("/ops/admin/queues/static/app.css"),
        "{}",
        missing.body
    );

    // Redirects and the flash cookie carry it too.
    let paused = post(
        &from_proxy,
        &format!("{BASE}/queues/prefixed/pause"),
        &header,
    )
    .await;
    assert_eq!(paused.status, 303, "{}", paused.body);
    let location = paused.headers.get("location").unwrap().to_str().unwrap();
    assert_eq!(location, "/ops/admin/queues/queues/prefixed");
    let cookie = paused.headers.get("set-cookie").unwrap().to_str().unwrap();
    assert!(cookie.contains("Path=/ops/admin/queues"), "{cookie}");
    assert!(queue.is_paused().await.unwrap());

    // From anyone but the proxy, or with the setting off, the header means nothing.
    let direct = dashboard(
        &redis().url,
        &prefix,
        trusting.clone(),
        peer("10.9.9.9:5000"),
    )
    .await;
    let not_trusted = Security {
        trust_forwarded_prefix: false,
        ..trusting.clone()
    };
    let setting_off = dashboard(&redis().url, &prefix, not_trusted, peer("127.0.0.1:5000")).await;
    for router in [&direct, &setting_off] {
        let page = get(router, &format!("{BASE}/"), &header).await;
        assert_eq!(page.status, 200);
        assert!(
            page.body.contains("href=\"/admin/queues/static/app.css"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("/ops/"), "the header was not ignored");
    }

    // A header that is not a plain path is refused with a message, not used.
    let long = format!("/{}", "a".repeat(300));
    for bad in [
        "ops",
        "//evil.example",
        "/a\"onmouseover=alert(1)",
        "/a<b",
        "/x/../y",
        long.as_str(),
    ] {
        let refused = get(
            &from_proxy,
            &format!("{BASE}/"),
            &[("x-forwarded-prefix", bad)],
        )
        .await;
        assert_eq!(refused.status, 400, "{bad:?}");
        assert!(
            refused.body.contains("X-Forwarded-Prefix"),
            "{}",
            refused.body
        );
        let kind = refused
            .headers
            .get("content-type")
            .unwrap()
            .to_str()
            .unwrap();
        assert!(kind.starts_with("text/plain"), "{kind}");
        assert!(
            !refused.body.contains("evil") && !refused.body.contains("alert"),
            "not echoed"
        );
    }
}
