//! What a person sees and touches, in the real Chromium (the WebDriver setup of `browser`): the
//! colour theme (the cookie's choice drawn by the server, the system's followed), pages at a
//! phone's 390 px width, and live job tables.

use std::time::{Duration, Instant};

use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

use crate::browser::{BASE, Browser, demo_dashboard, every_page};

/// How long anything in the page may take to happen.
const DEADLINE: Duration = Duration::from_secs(30);

/// A Chrome DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _url: &url::Url) -> (axum::http::Method, Option<String>) {
        (
            axum::http::Method::POST,
            Some(json!({ "cmd": self.cmd, "params": self.params }).to_string()),
        )
    }
}

async fn cdp(browser: &Browser, cmd: &'static str, params: Value) {
    browser
        .client
        .issue_cmd(Cdp { cmd, params })
        .await
        .unwrap_or_else(|e| panic!("{cmd}: {e}"));
}

/// Emulate the system's colour scheme (`prefers-color-scheme`).
async fn prefer(browser: &Browser, scheme: &str) {
    cdp(
        browser,
        "Emulation.setEmulatedMedia",
        json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
    )
    .await;
}

async fn eval(browser: &Browser, script: &str) -> Value {
    browser
        .client
        .execute(script, vec![])
        .await
        .unwrap_or_else(|e| panic!("{script}: {e}"))
}

/// The `data-theme` of `<html>` and the page's background colour.
async fn theme_and_background(browser: &Browser) -> (String, String) {
    let value = eval(
        browser,
        "return [document.documentElement.getAttribute('data-theme'), \
                 getComputedStyle(document.body).backgroundColor];",
    )
    .await;
    (
        value[0].as_str().unwrap_or_default().to_string(),
        value[1].as_str().unwrap_or_default().to_string(),
    )
}

const LIGHT_BG: &str = "rgb(246, 247, 249)";
const DARK_BG: &str = "rgb(20, 23, 29)";

/// Wait until the page's theme and background are `expected`.
async fn wait_for_theme(browser: &Browser, expected: (&str, &str), context: &str) {
    let deadline = Instant::now() + DEADLINE;
    loop {
        let (theme, background) = theme_and_background(browser).await;
        if (theme.as_str(), background.as_str()) == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{context}: theme {theme:?} on {background}, expected {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_theme_follows_the_system_until_chosen_and_the_server_draws_the_choice() {
    let (origin, _prefix, _stop) = demo_dashboard("ux-theme").await;
    let overview = format!("{origin}{BASE}/");
    for javascript in [true, false] {
        let browser = Browser::start(javascript).await;
        browser.goto(&overview).await;
        browser.find("form.theme").await;
        // No choice yet: the system's scheme, whichever it is.
        prefer(&browser, "dark").await;
        wait_for_theme(&browser, ("system", DARK_BG), "system, dark").await;
        prefer(&browser, "light").await;
        wait_for_theme(&browser, ("system", LIGHT_BG), "system, light").await;

        // Choose dark on a light system: the page turns dark, and stays dark on the next page
        // load because the server draws it (the first byte of the page already says so).
        browser.click("form.theme button[value=\"dark\"]").await;
        wait_for_theme(&browser, ("dark", DARK_BG), "chose dark").await;
        let queue = format!("{origin}{BASE}/queues/{}", bullring::demo::ATTACHMENTS);
        let source = {
            let deadline = Instant::now() + DEADLINE;
            loop {
                browser.goto(&queue).await;
                let source = browser.client.source().await.expect("source");
                if source.contains("data-theme=\"dark\"") {
                    break source;
                }
                // With JavaScript the cookie is set by a background request: wait for it.
                assert!(Instant::now() < deadline, "the choice was not kept");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        assert!(
            source.contains("value=\"dark\" aria-pressed=\"true\""),
            "the dark button is marked as the current choice"
        );
        wait_for_theme(&browser, ("dark", DARK_BG), "dark, next page").await;

        // Light on a dark system, then back to following the system.
        prefer(&browser, "dark").await;
        browser.click("form.theme button[value=\"light\"]").await;
        wait_for_theme(&browser, ("light", LIGHT_BG), "chose light").await;
        browser.click("form.theme button[value=\"system\"]").await;
        wait_for_theme(&browser, ("system", DARK_BG), "back to the system's").await;
        browser
            .assert_clean(&format!("themes (javascript {javascript})"), javascript)
            .await;
        browser.close().await;
    }
}

#[tokio::test]
async fn an_unknown_theme_is_a_clear_400_and_sets_nothing() {
    let (origin, _prefix, _stop) = demo_dashboard("ux-theme-400").await;
    let client = crate::http::Client::plain();
    let response = client
        .get(&format!("{origin}{BASE}/theme?theme=pink"), &[])
        .await;
    assert_eq!(response.status, 400);
    assert!(response.body.contains("light, dark or system"));
    assert_eq!(
        response.header("set-cookie"),
        "",
        "no cookie for a bad choice"
    );
    let chosen = client
        .get(
            &format!("{origin}{BASE}/theme?theme=dark"),
            &[("referer", &format!("{origin}{BASE}/workers"))],
        )
        .await;
    assert_eq!(chosen.status, 303);
    assert_eq!(chosen.header("location"), format!("{BASE}/workers"));
    let cookie = chosen.header("set-cookie");
    assert!(cookie.starts_with("bullring_theme=dark;"), "{cookie}");
    let page = client
        .get(
            &format!("{origin}{BASE}/"),
            &[("cookie", "bullring_theme=dark")],
        )
        .await;
    assert!(page.body.contains("<html lang=\"en\" data-theme=\"dark\">"));
    // The switch's address alone is a page offering the three choices.
    let choices = client
        .get(
            &format!("{origin}{BASE}/theme"),
            &[("cookie", "bullring_theme=light")],
        )
        .await;
    assert_eq!(choices.status, 200);
    assert!(choices.body.contains("<h1>Colour theme</h1>"));
    assert!(
        choices
            .body
            .contains("value=\"light\" aria-pressed=\"true\"")
    );
}

/// At a phone's width the page does not scroll sideways, and every button and form link of the
/// page is either on screen or inside a box that scrolls by itself.
const NARROW_CHECK: &str = "
  const width = window.innerWidth;
  const wide = document.documentElement.scrollWidth;
  const cut = [...document.querySelectorAll('main button, main a.button, header a, header button')]
    .filter(e => e.offsetParent !== null && !e.closest('.scroll'))
    .filter(e => { const r = e.getBoundingClientRect(); return r.right > width + 1 || r.left < -1; })
    .map(e => e.outerHTML.slice(0, 120));
  return [width, wide, cut];";

#[tokio::test]
async fn no_page_scrolls_sideways_at_390_px_and_every_action_stays_in_reach() {
    let (origin, _prefix, _stop) = demo_dashboard("ux-phone").await;
    let browser = Browser::start(true).await;
    let pages = every_page(&browser, &origin).await;
    cdp(
        &browser,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 390, "height": 844, "deviceScaleFactor": 1, "mobile": true }),
    )
    .await;
    for theme in ["light", "dark"] {
        browser
            .goto(&format!("{origin}{BASE}/theme?theme={theme}"))
            .await;
        for path in &pages {
            browser.goto(&format!("{origin}{BASE}{path}")).await;
            browser.find("main").await;
            let value = eval(&browser, NARROW_CHECK).await;
            assert_eq!(value[0], json!(390), "{path}: the viewport is a phone's");
            assert!(
                value[1].as_i64() <= value[0].as_i64(),
                "{path} ({theme}) is {} px wide at 390 px",
                value[1]
            );
            assert_eq!(value[2], json!([]), "{path}: actions out of reach");
        }
    }
    // The jobs table scrolls in its own box, with the id column kept in view.
    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{}?state=failed",
            bullring::demo::ATTACHMENTS
        ))
        .await;
    let sticky = eval(
        &browser,
        "const box = document.querySelector('.scroll');
         const id = box.querySelector('tbody tr td:nth-child(2)');
         const before = id.getBoundingClientRect().left;
         box.scrollLeft = 400;
         return [box.scrollWidth > box.clientWidth, box.scrollLeft > 0,
                 Math.round(id.getBoundingClientRect().left - before)];",
    )
    .await;
    assert_eq!(
        sticky,
        json!([true, true, 0]),
        "the table scrolls and the id stays"
    );
    browser.assert_clean("phone pages", true).await;
    browser.close().await;
}

/// The README's pictures of the dark theme, of the overview in French and of a phone, next to `browser`'s
/// (`BULLRING_SCREENSHOTS=docs cargo test --test it ux::screenshots`).
#[tokio::test]
async fn screenshots_of_the_dark_theme_french_and_a_phone() {
    // The demo's queues under a prefix of their own (`bullring demo` uses `bull`), titled as
    // bullring titles itself.
    let prefix = "app";
    let url = &crate::support::redis().url;
    bullring::demo::seed(url, prefix).await.expect("demo seed");
    let settings = bullring::queue::connection::RedisSettings::url(url);
    let discovery =
        bullring::queue::discovery::Discovery::new(vec![prefix.into()], Vec::new(), true);
    discovery
        .refresh(&bullring::queue::connection::Redis::new(settings.clone()))
        .await
        .expect("discovery");
    let state = bullring::web::AppState::new(
        bullring::queue::read::Reader::new(
            bullring::queue::connection::Redis::new(settings),
            vec![prefix.into()],
        ),
        discovery,
        BASE,
        "bullring",
    );
    let (port, stop) = crate::support::serve(bullring::web::app(state)).await;
    let _stop = stop.drop_guard();
    let origin = format!("http://127.0.0.1:{port}");
    let browser = Browser::start(true).await;
    let queue = bullring::demo::ATTACHMENTS;
    browser
        .client
        .set_window_size(1280, 1000)
        .await
        .expect("window size");
    browser
        .goto(&format!("{origin}{BASE}/theme?theme=dark"))
        .await;
    browser.goto(&format!("{origin}{BASE}/")).await;
    browser.find("table.counts").await;
    wait_for_theme(&browser, ("dark", DARK_BG), "dark overview").await;
    browser.screenshot("dark-overview").await;
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    browser.find("table.jobs").await;
    browser.screenshot("dark-queue").await;

    // The overview in French, in the light theme.
    browser
        .goto(&format!("{origin}{BASE}/theme?theme=light"))
        .await;
    browser.goto(&format!("{origin}{BASE}/lang?lang=fr")).await;
    browser.goto(&format!("{origin}{BASE}/")).await;
    browser.find("html[lang=fr] table.counts").await;
    wait_for_theme(&browser, ("light", LIGHT_BG), "French overview").await;
    browser.screenshot("fr-overview").await;
    browser.goto(&format!("{origin}{BASE}/lang?lang=en")).await;

    browser
        .goto(&format!("{origin}{BASE}/theme?theme=light"))
        .await;
    cdp(
        &browser,
        "Emulation.setDeviceMetricsOverride",
        json!({ "width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true }),
    )
    .await;
    browser.goto(&format!("{origin}{BASE}/")).await;
    browser.find("table.counts").await;
    browser.screenshot("phone-overview").await;
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=failed"))
        .await;
    browser.find("table.jobs").await;
    browser.screenshot("phone-queue").await;
    browser.assert_clean("screenshots", true).await;
    browser.close().await;
}

/// Demo data and a dashboard with live updates on (the sampler reading every 100 ms).
async fn live_demo(tag: &str) -> (String, String, tokio_util::sync::DropGuard) {
    let prefix = crate::support::unique_prefix(tag);
    bullring::demo::seed(&crate::support::redis().url, &prefix)
        .await
        .expect("demo seed");
    let stop = tokio_util::sync::CancellationToken::new();
    let state = crate::support::app_state(&crate::support::redis().url, &[&prefix], BASE)
        .await
        .with_live_updates(Some(Duration::from_millis(100)), &stop);
    let (port, serving) = crate::support::serve(bullring::web::app(state)).await;
    // Stopping the server stops the sampler with it.
    let both = tokio_util::sync::CancellationToken::new();
    let guard = both.clone();
    tokio::spawn(async move {
        guard.cancelled().await;
        serving.cancel();
        stop.cancel();
    });
    (
        format!("http://127.0.0.1:{port}"),
        prefix,
        both.drop_guard(),
    )
}

/// The ids in the page's job table, read in one go (the table may be swapped at any time).
async fn ids(browser: &Browser) -> Vec<String> {
    let value = eval(
        browser,
        "return [...document.querySelectorAll('table.jobs tbody tr')].map(r => r.getAttribute('data-id'));",
    )
    .await;
    serde_json::from_value(value).expect("ids")
}

/// A Node producer adds a job to `queue`; its id.
fn node_adds(prefix: &str, queue: &str, name: &str) -> String {
    let added = crate::interop::node(
        "ux.js",
        &[
            "add",
            "--redis",
            &crate::support::redis().url,
            "--prefix",
            prefix,
            "--bullmq",
            "6",
            "--queue",
            queue,
            "--name",
            name,
        ],
    );
    added["id"].as_str().expect("the new job's id").to_string()
}

#[tokio::test]
async fn a_job_added_by_a_node_producer_appears_in_the_open_table_without_a_reload() {
    let (origin, prefix, _stop) = live_demo("ux-live").await;
    let queue = bullring::demo::ATTACHMENTS;
    let browser = Browser::start(true).await;
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=waiting"))
        .await;
    browser.find("#job-list table.jobs").await;
    let before = ids(&browser).await;
    assert!(!before.is_empty(), "the demo has waiting jobs");
    // A mark that a reload would lose, a ticked box, and the table box scrolled sideways.
    eval(
        &browser,
        "window.__kept = 1; document.querySelector('table.jobs tbody input[type=checkbox]').click();",
    )
    .await;
    let ticked = before[0].clone();

    let id = node_adds(&prefix, queue, "live-from-node");
    let deadline = Instant::now() + DEADLINE;
    loop {
        if ids(&browser).await.contains(&id) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never showed in the open table"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let kept = eval(
        &browser,
        &format!(
            "return [window.__kept === 1, \
                     document.querySelector('tr[data-id=\"{ticked}\"] input[type=checkbox]').checked, \
                     document.querySelector('#job-list').getAttribute('data-count')];"
        ),
    )
    .await;
    assert_eq!(
        kept,
        json!([true, true, (before.len() + 1).to_string()]),
        "no reload, the ticked box kept, the list's count moved on"
    );

    // Page 2 does not move under the reader: it says what came.
    browser
        .goto(&format!(
            "{origin}{BASE}/queues/{queue}?state=waiting&per_page=1&page=2"
        ))
        .await;
    let page_two = ids(&browser).await;
    node_adds(&prefix, queue, "another-from-node");
    let news = browser.find("#job-list .news:not([hidden])").await;
    assert_eq!(
        news.text().await.expect("text"),
        "1 new job Show them",
        "page 2 offers the new job"
    );
    assert_eq!(ids(&browser).await, page_two, "page 2 stayed as it was");
    browser.assert_clean("live table", true).await;
    browser.close().await;
}

#[tokio::test]
async fn every_job_table_previews_the_data_escaped_and_cut() {
    let prefix = crate::support::unique_prefix("ux-preview");
    let engine = crate::support::engine_queue(&prefix, "preview").await;
    let long = "x".repeat(500);
    engine
        .add(
            "tagged",
            json!({ "html": "<b onmouseover=alert(1)>hi</b>", "long": long }),
        )
        .await
        .expect("add");
    engine.add("empty", json!({})).await.expect("add");
    let dash = crate::support::Dashboard::new(&[&prefix], BASE).await;
    for tab in ["waiting", "latest"] {
        let page = dash
            .get(&format!("{BASE}/queues/preview?state={tab}"))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(
            page.body.contains(
                "<code>{&#34;html&#34;:&#34;&#60;b onmouseover=alert(1)&#62;hi&#60;/b&#62;"
            ),
            "{tab}: the data is shown escaped:\n{}",
            page.body
        );
        assert!(
            !page.body.contains("<b onmouseover"),
            "{tab}: nothing unescaped"
        );
        assert!(!page.body.contains(&long), "{tab}: the preview is cut");
        assert!(page.body.contains("…</code>"), "{tab}: and says so");
    }
}

#[tokio::test]
async fn the_latest_tab_merges_the_states_by_time_in_a_constant_number_of_round_trips() {
    let prefix = crate::support::unique_prefix("ux-latest");
    bullring::demo::seed(&crate::support::redis().url, &prefix)
        .await
        .expect("demo seed");
    let queue = bullring::demo::ATTACHMENTS;
    let dash = crate::support::Dashboard::new(&[&prefix], BASE).await;
    let (trips, page) = dash
        .round_trips(dash.get(&format!("{BASE}/queues/{queue}?state=latest")))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(trips <= 4, "the latest tab took {trips} round trips");
    assert!(page.body.contains("class=\"tab tab-latest active\""));
    // Its rows, with their states, as the API lists every state.
    let rows: Vec<(String, String)> = page
        .body
        .split("<tr data-id=\"")
        .skip(1)
        .map(|row| {
            let id = row[..row.find('"').expect("id end")].to_string();
            let state = row
                .split("badge state-")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .expect("a state badge")
                .to_string();
            (id, state)
        })
        .collect();
    let states: std::collections::HashSet<_> = rows.iter().map(|(_, s)| s.clone()).collect();
    assert!(states.len() >= 4, "several states merged: {rows:?}");
    let mut added = Vec::new();
    for (id, state) in &rows {
        let job = dash
            .json(&format!("{BASE}/api/queues/{queue}/jobs/{id}"))
            .await;
        assert_eq!(job["state"].as_str(), Some(state.as_str()), "{id}");
        added.push(job["timestamp"].as_i64().expect("timestamp"));
    }
    assert!(
        added.windows(2).all(|w| w[0] >= w[1]),
        "newest added first: {added:?}"
    );
    // Bounded: per_page of each state, and no more shown.
    let one = dash
        .get(&format!("{BASE}/queues/{queue}?state=latest&per_page=1"))
        .await;
    assert_eq!(one.body.matches("<tr data-id=").count(), 1);
    let bad = dash
        .get(&format!("{BASE}/queues/{queue}?state=latest&per_page=0"))
        .await;
    assert_eq!(bad.status, 400);
}

/// Type `keys` into the page as a person would (key down, key up, one after the other).
async fn keys(browser: &Browser, keys: &str) {
    use fantoccini::actions::{InputSource, KeyAction, KeyActions};
    let mut actions = KeyActions::new("keyboard".into());
    for key in keys.chars() {
        actions = actions
            .then(KeyAction::Down { value: key })
            .then(KeyAction::Up { value: key });
    }
    browser
        .client
        .perform_actions(actions)
        .await
        .unwrap_or_else(|e| panic!("type {keys:?}: {e}"));
}

/// What has the focus: its tag, and its text or name.
async fn focused(browser: &Browser) -> String {
    eval(
        browser,
        "const e = document.activeElement; return e.tagName + ' ' + (e.getAttribute('name') || e.textContent.trim());",
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_string()
}

#[tokio::test]
async fn the_keyboard_alone_retries_removes_opens_and_goes_places() {
    let (origin, prefix, _stop) = demo_dashboard("ux-keys").await;
    let queue = bullring::demo::ATTACHMENTS;
    let engine = crate::support::engine_queue(&prefix, queue).await;
    let browser = Browser::start(true).await;
    let failed_tab = format!("{origin}{BASE}/queues/{queue}?state=failed");
    browser.goto(&failed_tab).await;
    browser.find("table.jobs").await;
    let listed = ids(&browser).await;
    assert!(listed.len() >= 2, "the demo has failed jobs: {listed:?}");

    // j: the first row, its link focused; x ticks it; r retries it.
    keys(&browser, "j").await;
    assert_eq!(focused(&browser).await, format!("A {}", listed[0]));
    keys(&browser, "x").await;
    let ticked = eval(
        &browser,
        "return document.querySelector('tr.kb-current input[type=checkbox]').checked;",
    )
    .await;
    assert_eq!(ticked, json!(true), "x ticks the current row");
    keys(&browser, "r").await;
    let deadline = Instant::now() + DEADLINE;
    loop {
        let state = engine.get_job_state(&listed[0]).await.expect("state");
        if state.to_string() != "failed" {
            break;
        }
        assert!(Instant::now() < deadline, "r did not retry {}", listed[0]);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    browser.assert_no_dialog("retry asks nothing").await;

    // d removes the current row's job, after its confirmation.
    browser.goto(&failed_tab).await;
    browser.find("table.jobs").await;
    let doomed = ids(&browser).await[0].clone();
    keys(&browser, "jd").await;
    let question = browser.confirm().await;
    assert!(question.contains(&doomed), "{question}");
    let deadline = Instant::now() + DEADLINE;
    while engine.get_job(&doomed).await.expect("get job").is_some() {
        assert!(Instant::now() < deadline, "d did not remove {doomed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Enter opens the current row's job.
    browser
        .goto(&format!("{origin}{BASE}/queues/{queue}?state=completed"))
        .await;
    browser.find("table.jobs").await;
    let first = ids(&browser).await[0].clone();
    keys(&browser, "j\u{e007}").await;
    browser
        .wait_for_url("the job's page", |url| {
            url.ends_with(&format!("/jobs/{first}"))
        })
        .await;

    // ? shows the keys; Escape closes them.
    keys(&browser, "?").await;
    browser.find("dialog#keys[open]").await;
    keys(&browser, "\u{e00c}").await;
    let open = eval(&browser, "return document.getElementById('keys').open;").await;
    assert_eq!(open, json!(false));

    // g s, g w, g q: schedulers, workers, queues; / puts the cursor in the filter.
    for (key, path) in [("s", "/schedulers"), ("w", "/workers"), ("q", "/")] {
        keys(&browser, &format!("g{key}")).await;
        browser
            .wait_for_url(path, |url| url.ends_with(&format!("{BASE}{path}")))
            .await;
        browser.find("main h1").await;
    }
    keys(&browser, "/").await;
    assert_eq!(focused(&browser).await, "INPUT q");
    browser.assert_clean("keyboard", true).await;
    browser.close().await;
}

/// axe-core's script, from the npm registry (tests/node's lockfile).
fn axe_source() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/node/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run `npm ci` in tests/node, as tests/run does)",
            path.display()
        )
    })
}

/// axe's serious and critical violations on the page shown: "rule: target, ...".
async fn serious_violations(browser: &Browser, axe: &str) -> Vec<String> {
    browser
        .client
        .execute(&format!("{axe}\n;return true;"), vec![])
        .await
        .expect("load axe-core");
    let found = browser
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             axe.run(document).then(r => done(r.violations
               .filter(v => v.impact === 'serious' || v.impact === 'critical')
               .map(v => v.id + ' (' + v.impact + '): ' +
                    v.nodes.map(n => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\\s+/g, ' ')).join(' | '))))
               .catch(e => done(['axe failed: ' + e]));",
            vec![],
        )
        .await
        .expect("run axe-core");
    serde_json::from_value(found).expect("violations")
}

#[tokio::test]
async fn axe_finds_nothing_serious_on_any_page_in_either_theme_and_either_language() {
    let (origin, _prefix, _stop) = demo_dashboard("ux-axe").await;
    let axe = axe_source();
    let browser = Browser::start(true).await;
    let mut pages = every_page(&browser, &origin).await;
    pages.push(format!(
        "/queues/{}?state=latest",
        bullring::demo::ATTACHMENTS
    ));
    pages.push("/queues/nowhere".into());
    pages.push("/theme".into());
    pages.push("/lang".into());
    let mut found = Vec::new();
    for (theme, lang) in [
        ("light", "en"),
        ("dark", "en"),
        ("light", "fr"),
        ("dark", "fr"),
    ] {
        browser
            .goto(&format!("{origin}{BASE}/theme?theme={theme}"))
            .await;
        browser
            .goto(&format!("{origin}{BASE}/lang?lang={lang}"))
            .await;
        for path in &pages {
            browser.goto(&format!("{origin}{BASE}{path}")).await;
            browser.find(&format!("html[lang={lang}] main")).await;
            for violation in serious_violations(&browser, &axe).await {
                found.push(format!("{path} ({theme}, {lang}): {violation}"));
            }
        }
        // The list of keys, open.
        browser.goto(&format!("{origin}{BASE}/")).await;
        keys(&browser, "?").await;
        browser.find("dialog#keys[open]").await;
        for violation in serious_violations(&browser, &axe).await {
            found.push(format!("keys dialog ({theme}, {lang}): {violation}"));
        }
    }
    assert!(found.is_empty(), "axe:\n{}", found.join("\n"));
    browser.close().await;
}

#[tokio::test]
async fn a_failed_job_s_page_tells_its_attempts_in_a_timeline() {
    let prefix = crate::support::unique_prefix("ux-timeline");
    bullring::demo::seed(&crate::support::redis().url, &prefix)
        .await
        .expect("demo seed");
    let queue = bullring::demo::ATTACHMENTS;
    let dash = crate::support::Dashboard::new(&[&prefix], BASE).await;
    let failed = dash
        .json(&format!("{BASE}/api/queues/{queue}/jobs?state=failed"))
        .await;
    let job = failed["jobs"]
        .as_array()
        .expect("jobs")
        .iter()
        .find(|j| j["attemptsMade"].as_i64() > Some(1))
        .expect("a job that failed more than once")
        .clone();
    let id = job["id"].as_str().expect("id");
    let attempts = job["attemptsMade"].as_i64().expect("attempts");
    let reason = job["failedReason"].as_str().expect("reason");
    let page = dash.get(&format!("{BASE}/queues/{queue}/jobs/{id}")).await;
    assert_eq!(page.status, 200);
    let start = page
        .body
        .find("<ol class=\"timeline\">")
        .expect("a timeline");
    let end = start + page.body[start..].find("</ol>").expect("its end");
    let timeline = &page.body[start..end];
    assert!(
        timeline.contains("<span class=\"what\">Added</span>"),
        "{timeline}"
    );
    for attempt in 1..=attempts {
        assert!(
            timeline.contains(&format!("Attempt {attempt} failed")),
            "attempt {attempt}: {timeline}"
        );
    }
    assert!(timeline.contains(&format!("Attempt {attempts} started")));
    let last = timeline
        .rfind(&format!("Attempt {attempts} failed"))
        .expect("the last failure");
    assert!(
        timeline[last..].contains(reason),
        "the last failure with its reason {reason:?}: {timeline}"
    );
}
