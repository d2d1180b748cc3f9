//! Hardening against a hostile browser (issue 14, the web half): the Host check against DNS
//! rebinding (421), the security headers on every response, bodies taken only in their own
//! type (415), proxy headers given twice, failed basic logins limited per address (429), user
//! names with control characters, and the flash cookie's attributes.
//!
//! The rebinding test talks to a real server over a real socket, writing the request by hand so
//! the `Host` header is exactly what a rebound page's browser would send.

use std::net::SocketAddr;
use std::sync::OnceLock;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{Method, Request, StatusCode};
use base64::Engine;
use bullring::web::security::{AuthMode, BasicUser, ProxyAuth, Role, Security, hash_password};
use bullring::web::{self, AppState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Dashboard, Reply, app_state, engine_queue, redis, serve, unique_prefix};

const BASE: &str = "/admin/queues";

/// A queue under a fresh prefix with one waiting job, and a state over that prefix.
async fn setup(tag: &str, security: Security) -> (bullmq::Queue, AppState) {
    let prefix = unique_prefix(tag);
    let queue = engine_queue(&prefix, "orders").await;
    queue
        .add("job", serde_json::json!({ "n": 1 }))
        .await
        .expect("add");
    let state = app_state(&redis().url, &[&prefix], BASE)
        .await
        .with_security(security);
    (queue, state)
}

async fn paused(queue: &bullmq::Queue) -> bool {
    queue.is_paused().await.expect("is_paused")
}

fn dashboard(state: &AppState, peer: Option<&str>) -> Dashboard {
    let router = web::app(state.clone());
    let router = match peer {
        Some(peer) => router.layer(MockConnectInfo(
            peer.parse::<SocketAddr>().expect("socket address"),
        )),
        None => router,
    };
    Dashboard {
        router,
        redis: state.reader().redis().clone(),
    }
}

fn request(method: Method, uri: &str, headers: &[(&str, &str)], body: &str) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_string())).expect("request")
}

async fn get(dash: &Dashboard, uri: &str, headers: &[(&str, &str)]) -> Reply {
    dash.send(request(Method::GET, uri, headers, "")).await
}

async fn post(dash: &Dashboard, uri: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    dash.send(request(Method::POST, uri, headers, body)).await
}

fn header_of<'r>(reply: &'r Reply, name: &str) -> &'r str {
    reply
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// One HTTP/1.1 request written by hand on a fresh connection: (status, whole answer).
async fn raw(port: u16, method: &str, path: &str, headers: &[(&str, &str)]) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connect");
    let mut text =
        format!("{method} {path} HTTP/1.1\r\nConnection: close\r\nContent-Length: 0\r\n");
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    stream.write_all(text.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(30),
        stream.read_to_end(&mut answer),
    )
    .await
    .expect("the answer ends")
    .expect("read");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {answer:?}"));
    (status, answer)
}

// --- the Host check -------------------------------------------------------------------------

#[tokio::test]
async fn a_rebound_host_name_is_refused_before_anything_happens() {
    let (queue, state) = setup("rebind", Security::default()).await;
    let (port, stop) = serve(web::app(state)).await;
    let _stop = stop.drop_guard();
    let rebound = format!("rebind.example.test:{port}");
    let origin = format!("http://{rebound}");
    let (status, answer) = raw(
        port,
        "POST",
        &format!("{BASE}/api/pause-all"),
        &[
            ("Host", &rebound),
            ("Origin", &origin),
            ("Sec-Fetch-Site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(status, 421, "{answer}");
    assert!(
        answer.contains("does not answer to the host rebind.example.test"),
        "{answer}"
    );
    assert!(!paused(&queue).await, "nothing was paused");
    let (status, answer) = raw(port, "GET", &format!("{BASE}/"), &[("Host", &rebound)]).await;
    assert_eq!(status, 421);
    assert!(!answer.contains("orders"), "no queue is shown: {answer}");
    let (status, answer) = raw(
        port,
        "GET",
        &format!("{BASE}/api/queues"),
        &[("Host", &rebound)],
    )
    .await;
    assert_eq!(status, 421);
    assert!(!answer.contains("orders"), "no queue is listed: {answer}");
    // Two Host headers: which one the browser meant cannot be told.
    let (status, _) = raw(
        port,
        "GET",
        &format!("{BASE}/"),
        &[("Host", "127.0.0.1"), ("Host", &rebound)],
    )
    .await;
    assert_eq!(status, 421);

    // Loopback names and addresses are this dashboard.
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let (status, answer) = raw(
            port,
            "GET",
            &format!("{BASE}/api/queues"),
            &[("Host", &host)],
        )
        .await;
        assert_eq!(status, 200, "{host}: {answer}");
        assert!(answer.contains("orders"), "{host}");
    }
    let (status, _) = raw(
        port,
        "POST",
        &format!("{BASE}/api/pause-all"),
        &[("Host", &format!("127.0.0.1:{port}"))],
    )
    .await;
    assert_eq!(status, 200);
    assert!(paused(&queue).await, "the loopback request paused it");
}

#[tokio::test]
async fn allowed_hosts_public_url_and_a_trusted_proxys_forwarded_host_are_checked() {
    let security = Security {
        allowed_hosts: vec!["dash.internal".into()],
        public_url: Some("https://ops.example.com".into()),
        trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        listen: Some("192.168.7.7:3000".parse().unwrap()),
        ..Security::default()
    };
    let (_queue, state) = setup("hosts", security).await;
    let direct = dashboard(&state, Some("10.0.0.9:5000"));
    let uri = format!("{BASE}/api/queues");
    for host in [
        "dash.internal:3000",
        "ops.example.com",
        "192.168.7.7:3000",
        "localhost",
    ] {
        let reply = get(&direct, &uri, &[("host", host)]).await;
        assert_eq!(reply.status, StatusCode::OK, "{host}: {}", reply.body);
    }
    let refused = get(&direct, &uri, &[("host", "evil.example")]).await;
    assert_eq!(refused.status, StatusCode::MISDIRECTED_REQUEST);
    let error: serde_json::Value = serde_json::from_str(&refused.body).expect("JSON");
    assert_eq!(error["status"], 421);
    assert!(
        error["error"].as_str().unwrap().contains("allowed_hosts"),
        "{error}"
    );
    // A page too, through the one error mapping.
    let page = get(&direct, &format!("{BASE}/"), &[("host", "evil.example")]).await;
    assert_eq!(page.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(page.body.contains("Wrong address"), "{}", page.body);
    // Not from a trusted proxy, X-Forwarded-Host means nothing.
    let ignored = get(
        &direct,
        &uri,
        &[("host", "localhost"), ("x-forwarded-host", "evil.example")],
    )
    .await;
    assert_eq!(ignored.status, StatusCode::OK);

    // From the trusted proxy, the host the browser used is checked instead of Host.
    let proxied = dashboard(&state, Some("10.0.0.1:5000"));
    let via = |forwarded: &'static str| {
        let proxied = &proxied;
        let uri = uri.clone();
        async move {
            get(
                proxied,
                &uri,
                &[("host", "127.0.0.1:3000"), ("x-forwarded-host", forwarded)],
            )
            .await
            .status
        }
    };
    assert_eq!(via("ops.example.com").await, StatusCode::OK);
    assert_eq!(via("evil.example").await, StatusCode::MISDIRECTED_REQUEST);
    assert_eq!(
        via("evil.example, ops.example.com").await,
        StatusCode::MISDIRECTED_REQUEST,
        "the first of a chain is what the browser used"
    );
    assert_eq!(via("not a host").await, StatusCode::MISDIRECTED_REQUEST);

    // Without any Host (an app or test calling the router with `oneshot`), it is served.
    let bare = get(&direct, &uri, &[]).await;
    assert_eq!(bare.status, StatusCode::OK);
}

// --- the security headers -------------------------------------------------------------------

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let (_queue, state) = setup("headers", Security::default()).await;
    let dash = dashboard(&state, None);
    for uri in [
        format!("{BASE}/"),
        format!("{BASE}/queues/orders"),
        format!("{BASE}/api/queues"),
        format!("{BASE}/api/queues/orders/jobs"),
        format!("{BASE}/no-such-page"),
    ] {
        let reply = get(&dash, &uri, &[]).await;
        let policy = header_of(&reply, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
            "base-uri 'none'",
        ] {
            assert!(policy.contains(directive), "{uri}: {policy}");
        }
        assert!(!policy.contains("unsafe"), "{uri}: {policy}");
        assert_eq!(header_of(&reply, "x-frame-options"), "DENY", "{uri}");
        assert_eq!(
            header_of(&reply, "x-content-type-options"),
            "nosniff",
            "{uri}"
        );
        assert_eq!(header_of(&reply, "referrer-policy"), "same-origin", "{uri}");
        assert_eq!(header_of(&reply, "cache-control"), "no-store", "{uri}");
        // Nothing inline that the policy would block.
        if header_of(&reply, "content-type").starts_with("text/html") {
            let body = &reply.body;
            assert!(!body.contains("style="), "{uri} has a style attribute");
            assert!(!body.contains("<style"), "{uri} has a <style> element");
            assert_eq!(
                body.matches("<script").count(),
                body.matches("<script src=").count(),
                "{uri} has an inline script"
            );
            let handler = body
                .match_indices(" on")
                .any(|(at, _)| is_event_attribute(&body[at + 1..]));
            assert!(!handler, "{uri} has an event handler attribute");
        }
    }
    // The static files keep their caching, and get nosniff too.
    let css = get(&dash, &format!("{BASE}/static/app.css"), &[]).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(header_of(&css, "cache-control").contains("max-age"));
    assert_eq!(header_of(&css, "x-content-type-options"), "nosniff");

    // An embedding app may name who frames it.
    let framed_security = Security {
        frame_ancestors: vec!["https://app.example.com".into()],
        ..Security::default()
    };
    let framed = dashboard(&state.clone().with_security(framed_security), None);
    let reply = get(&framed, &format!("{BASE}/"), &[]).await;
    assert!(
        header_of(&reply, "content-security-policy")
            .contains("frame-ancestors https://app.example.com"),
        "{:?}",
        reply.headers
    );
    assert!(reply.headers.get("x-frame-options").is_none());
}

/// `onclick=`, `onerror=` ... at the start of `text`.
fn is_event_attribute(text: &str) -> bool {
    let name: String = text
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    name.len() > 2 && name.starts_with("on") && text[name.len()..].starts_with('=')
}

// --- body types -----------------------------------------------------------------------------

#[tokio::test]
async fn the_api_takes_only_json_and_forms_only_form_encoding() {
    let (queue, state) = setup("types", Security::default()).await;
    let dash = dashboard(&state, None);
    let pause = format!("{BASE}/api/queues/orders/pause");
    let plain = [("content-type", "text/plain")];
    let refused = post(&dash, &pause, &plain, "{}").await;
    assert_eq!(
        refused.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("application/json"),
        "{}",
        refused.body
    );
    let form = [("content-type", "application/x-www-form-urlencoded")];
    assert_eq!(
        post(&dash, &pause, &form, "").await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE
    );
    assert_eq!(
        post(&dash, &pause, &[], "{}").await.status,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "a body needs its type"
    );
    assert!(!paused(&queue).await, "nothing was paused");
    // No body and no type: as before (`curl -X POST .../pause`).
    assert_eq!(post(&dash, &pause, &[], "").await.status, StatusCode::OK);
    assert!(paused(&queue).await);
    let json = [("content-type", "application/json; charset=utf-8")];
    let resume = format!("{BASE}/api/queues/orders/resume");
    assert_eq!(
        post(&dash, &resume, &json, "{}").await.status,
        StatusCode::OK
    );
    assert!(!paused(&queue).await);

    // The HTML forms: form encoding only.
    let page_pause = format!("{BASE}/queues/orders/pause");
    for wrong in [
        "text/plain",
        "application/json",
        "multipart/form-data; boundary=x",
    ] {
        let reply = post(&dash, &page_pause, &[("content-type", wrong)], "back=x").await;
        assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{wrong}");
    }
    assert!(!paused(&queue).await);
    let reply = post(&dash, &page_pause, &form, "").await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert!(paused(&queue).await);
}

// --- proxy and basic authentication ---------------------------------------------------------

#[tokio::test]
async fn proxy_auth_refuses_a_second_user_or_groups_header_and_control_characters() {
    let mut proxy = ProxyAuth {
        groups_header: Some("X-Forwarded-Groups".into()),
        ..ProxyAuth::default()
    };
    proxy.group_roles.insert("ops".into(), Role::Admin);
    let security = Security {
        mode: AuthMode::Proxy,
        trusted_proxies: vec!["10.0.0.1".parse().unwrap()],
        proxy,
        ..Security::default()
    };
    let (queue, state) = setup("proxy-twice", security).await;
    let dash = dashboard(&state, Some("10.0.0.1:4000"));
    let pause = format!("{BASE}/api/queues/orders/pause");
    let twice = [
        ("x-forwarded-user", "viewer-vic"),
        ("x-forwarded-user", "ann"),
        ("x-forwarded-groups", "ops"),
    ];
    let reply = post(&dash, &pause, &twice, "").await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    let groups_twice = [
        ("x-forwarded-user", "ann"),
        ("x-forwarded-groups", "dev"),
        ("x-forwarded-groups", "ops"),
    ];
    assert_eq!(
        post(&dash, &pause, &groups_twice, "").await.status,
        StatusCode::BAD_REQUEST
    );
    let tab = [
        ("x-forwarded-user", "ann\tadmin"),
        ("x-forwarded-groups", "ops"),
    ];
    assert_eq!(
        post(&dash, &pause, &tab, "").await.status,
        StatusCode::BAD_REQUEST
    );
    assert!(!paused(&queue).await);
    let once = [
        ("x-forwarded-user", "ann"),
        ("x-forwarded-groups", "dev, ops"),
    ];
    assert_eq!(post(&dash, &pause, &once, "").await.status, StatusCode::OK);
    assert!(paused(&queue).await);
}

/// One user; hashed once (argon2 is slow in a debug build).
fn ann() -> &'static BasicUser {
    static ANN: OnceLock<BasicUser> = OnceLock::new();
    ANN.get_or_init(|| BasicUser {
        name: "ann".into(),
        password_hash: hash_password("right").expect("hash"),
        role: Role::Admin,
    })
}

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

#[tokio::test]
async fn failed_basic_logins_are_limited_per_client_address() {
    let security = Security {
        mode: AuthMode::Basic,
        users: vec![ann().clone()],
        ..Security::default()
    };
    let (_queue, state) = setup("basic-limit", security).await;
    let from_a = dashboard(&state, Some("192.0.2.1:4000"));
    let from_b = dashboard(&state, Some("192.0.2.2:4000"));
    let uri = format!("{BASE}/api/queues");
    let wrong = basic("ann", "wrong");
    let right = basic("ann", "right");
    let limit = bullring::web::security::throttle::MAX_FAILURES;
    for attempt in 1..=limit {
        let reply = get(&from_a, &uri, &[("authorization", &wrong)]).await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    let limited = get(&from_a, &uri, &[("authorization", &wrong)]).await;
    assert_eq!(
        limited.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{}",
        limited.body
    );
    let wait: u64 = header_of(&limited, "retry-after")
        .parse()
        .expect("Retry-After");
    assert!((1..=60).contains(&wait), "{wait}");
    // Even the right password waits: guessing goes no faster.
    let locked = get(&from_a, &uri, &[("authorization", &right)]).await;
    assert_eq!(locked.status, StatusCode::TOO_MANY_REQUESTS);
    // Another address is not held up.
    let other = get(&from_b, &uri, &[("authorization", &right)]).await;
    assert_eq!(other.status, StatusCode::OK, "{}", other.body);
}

#[tokio::test]
async fn user_names_with_control_characters_are_refused() {
    let security = Security {
        mode: AuthMode::Basic,
        users: vec![ann().clone()],
        ..Security::default()
    };
    let (_queue, state) = setup("basic-newline", security).await;
    let dash = dashboard(&state, Some("192.0.2.3:4000"));
    let forged = basic("ann\nINFO basic authentication succeeded user=admin", "x");
    let reply = get(
        &dash,
        &format!("{BASE}/api/queues"),
        &[("authorization", &forged)],
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("control characters"), "{}", reply.body);
}

// --- the flash cookie -----------------------------------------------------------------------

#[tokio::test]
async fn the_flash_cookie_is_http_only_strict_and_secure_over_https() {
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let https = Security {
        public_url: Some("https://ops.example.com".into()),
        ..Security::default()
    };
    for (security, secure) in [(Security::default(), false), (https, true)] {
        let (_queue, state) = setup("flash", security).await;
        let dash = dashboard(&state, None);
        let reply = post(&dash, &format!("{BASE}/queues/orders/pause"), &form, "").await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
        let cookie = header_of(&reply, "set-cookie");
        assert!(cookie.starts_with("bullring_flash="), "{cookie}");
        let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
        assert!(attributes.contains(&"HttpOnly"), "{cookie}");
        assert!(attributes.contains(&"SameSite=Strict"), "{cookie}");
        assert_eq!(attributes.contains(&"Secure"), secure, "{cookie}");
    }
}
