//! Languages and time zones, over HTTP on the demo data: every page in French leaves no English
//! text of the catalog on it (asked by `Accept-Language`, then by the switch's cookie), the
//! switches keep their choice in cookies and refuse what they do not know, a time zone moves
//! the times shown, and the JSON API stays English.

use axum::body::Body;
use axum::http::{HeaderName, Method, Request, StatusCode, header};
use bullring::demo;
use bullring::queue::model::JobState;
use bullring::web::i18n::{Lang, catalog};

use bullring::web::security::{Role, Security};

use crate::support::{Dashboard, Reply, conn, engine_queue, redis, unique_prefix};

const BASE: &str = "/admin/queues";

async fn get_with(dash: &Dashboard, uri: &str, headers: &[(HeaderName, &str)]) -> Reply {
    let mut builder = Request::builder().uri(uri);
    for (name, value) in headers {
        builder = builder.header(name, *value);
    }
    dash.send(builder.body(Body::empty()).expect("request"))
        .await
}

/// The first member of a job-state sorted set of a demo queue.
fn first_of(prefix: &str, queue: &str, state: &str) -> String {
    let ids: Vec<String> = redis::cmd("ZRANGE")
        .arg(format!("{prefix}:{queue}:{state}"))
        .arg(0)
        .arg(0)
        .query(&mut conn())
        .expect("ZRANGE");
    ids.into_iter().next().expect("a job in that state")
}

/// Every page, by path below the base, over the demo data.
fn every_page(prefix: &str) -> Vec<String> {
    let queue = demo::ATTACHMENTS;
    let job = first_of(prefix, queue, "failed");
    let parent = first_of(prefix, demo::EMAILS, "waiting-children");
    let mut pages = vec![
        "/".to_string(),
        "/schedulers".into(),
        "/workers".into(),
        "/audit".into(),
        "/alerts".into(),
        "/redis".into(),
        "/theme".into(),
        "/lang".into(),
        "/tz".into(),
        "/search?state=failed&q=name%3Aprocess-*".into(),
        "/no/such/page".into(),
        format!("/queues/{queue}?state=latest"),
        format!("/queues/{queue}/jobs/{job}"),
        format!("/queues/{queue}/jobs/{job}/edit"),
        format!("/queues/{}/jobs/{parent}", demo::EMAILS),
        format!("/queues/{}/jobs/{parent}/flow", demo::EMAILS),
        format!("/queues/{queue}/metrics"),
        format!("/queues/{queue}/workers"),
        format!("/queues/{queue}/schedulers"),
        format!("/queues/{queue}/doctor"),
        format!("/queues/{queue}?state=failed&q=attempts%3E0"),
        format!("/queues/{}/doctor", demo::BULL_QUEUE),
        format!("/queues/{}", demo::BULL_QUEUE),
    ];
    for state in JobState::ALL.map(JobState::as_str) {
        pages.push(format!("/queues/{queue}?state={state}"));
    }
    for form in ["add", "clean", "drain", "obliterate"] {
        pages.push(format!("/queues/{queue}/actions/{form}"));
    }
    pages
}

/// `html` without the elements that show data (job data, reasons, logs, stack traces, audit
/// details: shown as they are), split at the tags.
fn visible_text(html: &str) -> String {
    let mut text = html.to_string();
    for (open, close) in [
        ("<script", "</script>"),
        ("<pre", "</pre>"),
        ("<code", "</code>"),
        ("<td class=\"reason\"", "</td>"),
        ("<td class=\"data\"", "</td>"),
        ("<td class=\"detail\"", "</td>"),
        ("<span class=\"detail\"", "</span>"),
        ("<ol class=\"logs\"", "</ol>"),
    ] {
        while let Some(start) = text.find(open) {
            let end = text[start..]
                .find(close)
                .map_or(text.len(), |e| start + e + close.len());
            text.replace_range(start..end, " ");
        }
    }
    // The texts of attributes people read (tooltips, labels, placeholders, questions).
    let mut shown = String::new();
    for attribute in [
        "title=\"",
        "aria-label=\"",
        "placeholder=\"",
        "hx-confirm=\"",
    ] {
        for part in text.split(attribute).skip(1) {
            shown.push_str(part.split('"').next().unwrap_or(""));
            shown.push('\n');
        }
    }
    let mut inside = false;
    for c in text.chars() {
        match c {
            '<' => inside = true,
            '>' => {
                inside = false;
                shown.push(' ');
            }
            c if !inside => shown.push(c),
            _ => {}
        }
    }
    shown
        .replace("&#39;", "'")
        .replace("&#34;", "\"")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&#60;", "<")
        .replace("&gt;", ">")
        .replace("&#62;", ">")
        .replace("&amp;", "&")
}

/// The English texts a French page must not show: the catalog's values that French says
/// otherwise, of letters only (4 or more).
fn english_phrases() -> Vec<&'static str> {
    let fr = catalog::of(Lang::Fr);
    let mut phrases: Vec<&'static str> = catalog::of(Lang::En)
        .iter()
        .filter(|(key, en)| fr.get(*key) != Some(*en))
        .map(|(_, en)| en.as_str())
        .filter(|en| en.len() >= 4 && en.chars().all(|c| c.is_ascii_alphabetic() || c == ' '))
        .collect();
    phrases.sort_unstable();
    phrases.dedup();
    phrases
}

/// Where `phrase` stands in `text` as whole words.
fn has_phrase(text: &str, phrase: &str) -> bool {
    text.match_indices(phrase).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + phrase.len()..].chars().next();
        !before.is_some_and(char::is_alphabetic) && !after.is_some_and(char::is_alphabetic)
    })
}

fn english_left(html: &str, phrases: &[&str]) -> Vec<String> {
    let text = visible_text(html);
    phrases
        .iter()
        .filter(|p| has_phrase(&text, p))
        .map(|p| p.to_string())
        .collect()
}

#[test]
fn the_check_finds_english_words_and_only_whole_ones() {
    let phrases = english_phrases();
    assert!(phrases.contains(&"Queues") && phrases.contains(&"Retry"));
    let html = r#"<h1 title="Failed reason">Files</h1><p>Queued Retrying</p><pre>Retry</pre>"#;
    assert_eq!(
        english_left(html, &phrases),
        vec!["Failed", "Failed reason"]
    );
    assert!(english_left("<p>Relancer les files</p>", &phrases).is_empty());
    assert!(!english_left("<p>3 Queues</p>", &phrases).is_empty());
}

#[tokio::test]
async fn every_page_in_french_leaves_no_english_text_of_the_catalog() {
    let prefix = unique_prefix("lang-fr");
    demo::seed(&redis().url, &prefix).await.expect("demo seed");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let phrases = english_phrases();

    // A flash message: retry a failed job by its form, in French.
    let job = first_of(&prefix, demo::ATTACHMENTS, "failed");
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!(
            "{BASE}/queues/{}/jobs/{job}/retry",
            demo::ATTACHMENTS
        ))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::ACCEPT_LANGUAGE, "fr-FR,fr;q=0.9,en;q=0.5")
        .body(Body::empty())
        .expect("request");
    let posted = dash.send(request).await;
    assert_eq!(posted.status, StatusCode::SEE_OTHER, "{}", posted.body);
    let flash = posted.headers[header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("flash cookie")
        .to_string();
    let location = posted.headers[header::LOCATION].to_str().expect("location");
    let page = get_with(
        &dash,
        location,
        &[(header::COOKIE, &flash), (header::ACCEPT_LANGUAGE, "fr")],
    )
    .await;
    assert!(
        page.body.contains("job(s) relancé(s) dans"),
        "the flash is French: {}",
        page.body
    );
    assert_eq!(english_left(&page.body, &phrases), Vec::<String>::new());

    // A refused form says why in French: no job ticked.
    let request = Request::builder()
        .method(Method::POST)
        .uri(format!("{BASE}/queues/{}/bulk", demo::ATTACHMENTS))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header("sec-fetch-site", "same-origin")
        .header(header::COOKIE, "bullring_lang=fr")
        .body(Body::from("action=retry"))
        .expect("request");
    let refused = dash.send(request).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("ids: cochez au moins un job"),
        "{}",
        refused.body
    );
    assert_eq!(english_left(&refused.body, &phrases), Vec::<String>::new());

    // "Apply to every match": its confirmation page and a task's page (a task that ended).
    let task = crate::search_task::started(
        &dash,
        demo::ATTACHMENTS,
        serde_json::json!({"state": "failed", "q": "name:no-such-name", "action": "retry"}),
    )
    .await;
    let id = task["id"].as_str().expect("task id").to_string();
    crate::search_task::wait_task(&dash, &id, |t| t["status"] != "running").await;
    let mut pages = every_page(&prefix);
    pages.push(format!("/tasks/{id}"));
    pages.push(format!(
        "/queues/{}/search/apply?state=failed&q=name%3Ano-such-name&action=retry",
        demo::ATTACHMENTS
    ));

    let mut left = Vec::new();
    for (how, header_name, value) in [
        (
            "Accept-Language",
            header::ACCEPT_LANGUAGE,
            "fr-CA, en;q=0.3",
        ),
        ("cookie", header::COOKIE, "bullring_lang=fr"),
    ] {
        for path in &pages {
            let uri = format!("{BASE}{path}");
            let reply = get_with(
                &dash,
                &uri,
                &[
                    (header_name.clone(), value),
                    (header::ACCEPT_LANGUAGE.clone(), "en"),
                ][..if how == "cookie" { 2 } else { 1 }],
            )
            .await;
            assert!(
                reply.status == StatusCode::OK || path == "/no/such/page",
                "{uri}: {} {}",
                reply.status,
                reply.body
            );
            assert!(reply.body.contains("<html lang=\"fr\""), "{uri} ({how})");
            for phrase in english_left(&reply.body, &phrases) {
                left.push(format!("{path} ({how}): {phrase:?}"));
            }
        }
    }
    assert!(left.is_empty(), "English left:\n{}", left.join("\n"));

    // The same pages in English (no header) are in English.
    let english = dash.get(&format!("{BASE}/")).await;
    assert!(english.body.contains("<html lang=\"en\"") && english.body.contains(">Queues<"));
}

#[tokio::test]
async fn the_switches_keep_the_choice_in_cookies_and_refuse_what_they_do_not_know() {
    let prefix = unique_prefix("lang-switch");
    engine_queue(&prefix, "neutral")
        .await
        .add("n1", serde_json::json!({"k": 1}))
        .await
        .expect("add");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let back = format!("http://localhost{BASE}/queues/neutral");
    for (uri, cookie) in [
        (format!("{BASE}/lang?lang=fr"), "bullring_lang=fr;"),
        (
            format!("{BASE}/tz?tz=Europe/Paris"),
            "bullring_tz=Europe/Paris;",
        ),
        (
            format!("{BASE}/tz?tz=Asia%2FTokyo"),
            "bullring_tz=Asia/Tokyo;",
        ),
    ] {
        let reply = get_with(&dash, &uri, &[(header::REFERER, &back)]).await;
        assert_eq!(reply.status, StatusCode::SEE_OTHER, "{uri}: {}", reply.body);
        assert_eq!(
            reply.headers[header::LOCATION],
            &back["http://localhost".len()..]
        );
        let set = reply.headers[header::SET_COOKIE].to_str().expect("cookie");
        assert!(set.starts_with(cookie), "{uri}: {set}");
        assert!(
            set.contains(&format!("Path={BASE}")) && set.contains("HttpOnly"),
            "{set}"
        );
    }
    for uri in [
        format!("{BASE}/lang?lang=xx"),
        format!("{BASE}/lang?lang=fr-CA"),
        format!("{BASE}/tz?tz=Mars/Olympus"),
        format!("{BASE}/tz?tz=Europe/Paris%0d%0aX:1"),
    ] {
        let reply = dash.get(&uri).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(!reply.headers.contains_key(header::SET_COOKIE), "{uri}");
    }
    // The refusal is said in the reader's language.
    let refused = get_with(
        &dash,
        &format!("{BASE}/tz?tz=Mars"),
        &[(header::COOKIE, "bullring_lang=fr")],
    )
    .await;
    assert!(
        refused.body.contains("Il n’y a pas de fuseau horaire"),
        "{}",
        refused.body
    );
}

#[tokio::test]
async fn a_time_zone_moves_every_time_shown_and_the_json_api_stays_english() {
    let prefix = unique_prefix("lang-tz");
    let job = engine_queue(&prefix, "neutral")
        .await
        .add("n1", serde_json::json!({"k": 1}))
        .await
        .expect("add");
    // 2026-11-22 14:05:03 UTC: 15:05:03 in Paris (CET), 23:05:03 in Tokyo (JST).
    let _: () = redis::cmd("HSET")
        .arg(format!("{prefix}:neutral:{}", job.id()))
        .arg("timestamp")
        .arg("1795356303000")
        .query(&mut conn())
        .expect("HSET");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let page = format!("{BASE}/queues/neutral/jobs/{}", job.id());
    let shown = |cookie: &'static str| {
        let dash = &dash;
        let page = page.clone();
        async move {
            get_with(dash, &page, &[(header::COOKIE, cookie)])
                .await
                .body
        }
    };
    let utc = shown("a=b").await;
    assert!(utc.contains("2026-11-22 14:05:03 UTC"), "{utc}");
    let paris = shown("bullring_tz=Europe/Paris").await;
    assert!(paris.contains("2026-11-22 15:05:03 CET"), "{paris}");
    assert!(!paris.contains("14:05:03"), "{paris}");
    let french = shown("bullring_tz=Europe%2FParis; bullring_lang=fr").await;
    assert!(french.contains("22/11/2026 15:05:03 CET"), "{french}");
    let tokyo = shown("bullring_tz=Asia/Tokyo").await;
    assert!(tokyo.contains("2026-11-22 23:05:03 JST"), "{tokyo}");
    // The switch shows the zone chosen.
    assert!(
        tokyo.contains("<option selected>Asia/Tokyo</option>"),
        "{tokyo}"
    );

    // The JSON API answers alike in every language: English, untouched by either cookie.
    let api = |headers: &'static [(HeaderName, &'static str)]| {
        let dash = &dash;
        async move {
            get_with(
                dash,
                &format!("{BASE}/api/queues/neutral/jobs/nope"),
                headers,
            )
            .await
            .body
        }
    };
    let english = api(&[]).await;
    let french = api(&[
        (header::ACCEPT_LANGUAGE, "fr"),
        (header::COOKIE, "bullring_lang=fr; bullring_tz=Europe/Paris"),
    ])
    .await;
    assert_eq!(english, french);
    assert!(english.contains("has no job with id"), "{english}");
    // The same error on a page is in the reader's language.
    let page = get_with(
        &dash,
        &format!("{BASE}/queues/neutral/jobs/nope"),
        &[(header::COOKIE, "bullring_lang=fr")],
    )
    .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("n’a pas de job d’id"), "{}", page.body);
    assert!(page.body.contains("404 · Introuvable"), "{}", page.body);
}

/// `POST uri` from the dashboard's own page (a form; the JSON API's address: JSON), with
/// `headers`.
/// The refusals of the core and of the security layer are French on French pages (a job in
/// the wrong state, a viewer's action, a request for another host, read-only mode), and the
/// JSON API keeps their English words.
#[tokio::test]
async fn refusals_are_french_on_french_pages_and_english_in_the_api() {
    let prefix = unique_prefix("lang-refusals");
    demo::seed(&redis().url, &prefix).await.expect("demo seed");
    let queue = demo::ATTACHMENTS;
    let active = "attachment-1008";
    let dash = Dashboard::new(&[&prefix], BASE).await;

    // Retrying the active job by its form: a 409 page that says why in French.
    let refused = send_body(
        &dash,
        Method::POST,
        &format!("{BASE}/queues/{queue}/jobs/{active}/retry"),
        String::new(),
        true,
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains(&format!(
            "job {active} (état : en cours) : seuls les jobs échoués ou terminés peuvent être relancés"
        )),
        "{}",
        refused.body
    );
    assert!(!refused.body.contains("only failed"), "{}", refused.body);
    // The JSON API says it in the core's English words, whatever the language cookie.
    let api = send_body(
        &dash,
        Method::POST,
        &format!("{BASE}/api/queues/{queue}/jobs/{active}/retry"),
        String::new(),
        true,
    )
    .await;
    assert_eq!(api.status, StatusCode::CONFLICT, "{}", api.body);
    let error: serde_json::Value = serde_json::from_str(&api.body).expect("JSON");
    assert_eq!(
        error["error"],
        format!("job {active} is active: only failed or completed jobs can be retried")
    );

    // A request for another host: a 421 page in French.
    let misdirected = get_with(
        &dash,
        &format!("{BASE}/"),
        &[
            (header::HOST, "evil.example"),
            (header::COOKIE, "bullring_lang=fr"),
        ],
    )
    .await;
    assert_eq!(misdirected.status, StatusCode::MISDIRECTED_REQUEST);
    assert!(
        misdirected
            .body
            .contains("ce tableau de bord ne répond pas à l’hôte evil.example (Host)"),
        "{}",
        misdirected.body
    );
    assert!(!misdirected.body.contains("does not answer"));

    // A viewer's retry: a 403 page in French, the API's in English.
    let failed = first_of(&prefix, queue, "failed");
    for (role, read_only, french_text, english_text) in [
        (
            Role::Viewer,
            false,
            "Interdit : « Relancer » demande le rôle operator ; le vôtre est viewer.",
            "Not allowed: retry needs the operator role; you are viewer.",
        ),
        (
            Role::Admin,
            true,
            "Le tableau de bord est en lecture seule : aucune action n’est possible.",
            "The dashboard is in read-only mode: no action can be taken.",
        ),
    ] {
        let (dash, _) = Dashboard::with_state(&redis().url, &[&prefix], BASE, |state| {
            state.with_security(Security {
                anonymous_role: role,
                read_only,
                ..Security::default()
            })
        })
        .await;
        let page = send_body(
            &dash,
            Method::POST,
            &format!("{BASE}/queues/{queue}/jobs/{failed}/retry"),
            String::new(),
            true,
        )
        .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{}", page.body);
        assert!(page.body.contains(french_text), "{}", page.body);
        assert!(!page.body.contains("Not allowed"), "{}", page.body);
        let api = send_body(
            &dash,
            Method::POST,
            &format!("{BASE}/api/queues/{queue}/jobs/{failed}/retry"),
            String::new(),
            true,
        )
        .await;
        assert_eq!(api.status, StatusCode::FORBIDDEN, "{}", api.body);
        let error: serde_json::Value = serde_json::from_str(&api.body).expect("JSON");
        assert_eq!(error["error"], english_text);
    }
    // Nothing was retried: the failed job is still failed.
    assert_eq!(first_of(&prefix, queue, "failed"), failed);
}

/// `method` on `uri` with `body` (JSON under the API, a form elsewhere), as from the page itself;
/// in French when `french`.
async fn send_body(
    dash: &Dashboard,
    method: Method,
    uri: &str,
    body: String,
    french: bool,
) -> Reply {
    let content_type = if uri.contains("/api/") {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let mut builder = Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, content_type)
        .header("sec-fetch-site", "same-origin");
    if french {
        builder = builder.header(header::COOKIE, "bullring_lang=fr");
    }
    dash.send(builder.body(Body::from(body)).expect("request"))
        .await
}

fn form(fields: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish()
}

/// The core's checks of input (job options, Bull's options, an NDJSON import, a state, a search
/// term) and the web layer's rarer refusals (a method, a static file) are French on French pages,
/// with no English text of the catalog left, and the JSON API keeps its English words, even with
/// the French cookie. Nothing refused is written.
#[tokio::test]
async fn input_checks_are_french_on_french_pages_and_english_in_the_api() {
    let prefix = unique_prefix("lang-checks");
    demo::seed(&redis().url, &prefix).await.expect("demo seed");
    let dash = Dashboard::new(&[&prefix], BASE).await;
    let phrases = english_phrases();
    let (queue, bull) = (demo::ATTACHMENTS, demo::BULL_QUEUE);
    let before = crate::support::snapshot(&prefix);

    // (method, page path, page body, API path, API body, French words, the API's English)
    let cases: Vec<(Method, String, String, String, String, &str, String)> = vec![
        (
            Method::POST,
            format!("/queues/{queue}/jobs"),
            form(&[("name", "n"), ("opts", r#"{"priority": 9999999}"#)]),
            format!("/api/queues/{queue}/jobs"),
            r#"{"name": "n", "opts": {"priority": 9999999}}"#.into(),
            "priority: au plus 2097152",
            "priority: at most 2097152".into(),
        ),
        (
            Method::POST,
            format!("/queues/{bull}/jobs"),
            form(&[("name", "n"), ("opts", r#"{"parent": {"id": "1"}}"#)]),
            format!("/api/queues/{bull}/jobs"),
            r#"{"name": "n", "opts": {"parent": {"id": "1"}}}"#.into(),
            "opts.parent: les files Bull n’ont pas de flux parent-enfant (une option BullMQ)",
            "opts.parent: Bull queues have no flows (a BullMQ option); it cannot be set on a job \
             of a Bull queue"
                .into(),
        ),
        (
            Method::POST,
            format!("/queues/{queue}/import"),
            form(&[("ndjson", "{\"name\": \"ok\"}\n[1]\n{\"data\": 1}")]),
            format!("/api/queues/{queue}/import"),
            serde_json::json!({"ndjson": "{\"name\": \"ok\"}\n[1]\n{\"data\": 1}"}).to_string(),
            "2 ligne(s) invalide(s), rien n’a été ajouté : ligne 2 : pas un objet JSON; ligne 3 : \
             pas de nom",
            "2 bad line(s), nothing was added: line 2: not a JSON object; line 3: no name".into(),
        ),
        (
            Method::GET,
            format!("/queues/{queue}?state=nope"),
            String::new(),
            format!("/api/queues/{queue}/search?state=nope&q=name%3Ax"),
            String::new(),
            "état inconnu \"nope\" ; les états sont :",
            "unknown state \"nope\"; expected one of: waiting, active, delayed, prioritized, \
             waiting-children, completed, failed, paused"
                .into(),
        ),
        (
            Method::GET,
            format!("/queues/{queue}?state=failed&q=attempts%3Emany"),
            String::new(),
            format!("/api/queues/{queue}/search?state=failed&q=attempts%3Emany"),
            String::new(),
            "terme de recherche invalide `attempts>many` : attempts se compare à un nombre entier",
            "bad search term `attempts>many`: attempts compares with a whole number".into(),
        ),
        (
            Method::PUT,
            "/".into(),
            String::new(),
            "/api/queues".into(),
            String::new(),
            "PUT n’est pas accepté ici ; les actions sont des requêtes POST.",
            "PUT is not accepted here; actions are POST requests.".into(),
        ),
    ];
    for (method, page, page_body, api, api_body, french, english) in cases {
        let reply = send_body(
            &dash,
            method.clone(),
            &format!("{BASE}{page}"),
            page_body,
            true,
        )
        .await;
        assert!(reply.status.is_client_error(), "{page}: {}", reply.status);
        let shown = visible_text(&reply.body).replace('\u{202f}', " ");
        assert!(
            shown.contains(french),
            "{page}: {french:?} in {}",
            reply.body
        );
        assert!(reply.body.contains("<html lang=\"fr\""), "{page}: a page");
        // The accepted values of `state=` are identifiers, listed as they are typed.
        let left: Vec<String> = english_left(&reply.body, &phrases)
            .into_iter()
            .filter(|word| !(page.contains("state=nope") && word.parse::<JobState>().is_ok()))
            .collect();
        assert_eq!(left, Vec::<String>::new(), "{page}");
        let reply = send_body(&dash, method, &format!("{BASE}{api}"), api_body, true).await;
        assert!(reply.status.is_client_error(), "{api}: {}", reply.status);
        let error: serde_json::Value = serde_json::from_str(&reply.body).expect("JSON");
        assert_eq!(error["error"], english, "{api}");
    }

    // The 405 says which methods are taken, on the page and in the API.
    let put = send_body(&dash, Method::PUT, &format!("{BASE}/"), String::new(), true).await;
    assert_eq!(put.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(put.headers[header::ALLOW], "GET, HEAD, POST");
    // A static file that is not there.
    let missing = get_with(
        &dash,
        &format!("{BASE}/static/nope.css"),
        &[(header::COOKIE, "bullring_lang=fr")],
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(
        missing.body.contains("pas de fichier statique"),
        "{}",
        missing.body
    );

    // Nothing refused was written.
    assert_eq!(crate::support::snapshot(&prefix), before);
}
