//! Queue groups (`delimiter = "."`): the real BullMQ (tests/node/groups.js) seeds the groups
//! `billing` (billing.invoices, billing.reminders) and `mail` (mail.out), and `solo`, in no
//! group. The overview's group rows show the sums of Node's `getJobCounts`, in as many round
//! trips as without groups; pause / resume / retry-failed of a group change exactly its queues
//! as Node's `isPaused` and `getJobCounts` see them; a viewer is refused; each group action is
//! one audit entry naming the group and its queues.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use bullring::queue::model::JobState;
use bullring::web::security::{Role, Security};
use redis::Commands;
use serde_json::Value;

use crate::interop::node;
use crate::support::{Dashboard, Reply, conn, redis, unique_prefix};

const BASE: &str = "/admin/queues";
const QUEUES: [&str; 4] = ["billing.invoices", "billing.reminders", "mail.out", "solo"];

/// What BullMQ 6 says about the fixture's queues: `isPaused` and `getJobCounts` of each.
fn report(prefix: &str) -> Value {
    let url = redis().url.clone();
    let out = node(
        "actions.js",
        &[
            "--redis",
            &url,
            "--prefix",
            prefix,
            "--bullmq",
            "6",
            "--step",
            "report",
            "--queues",
            &QUEUES.join(","),
            "--jobs",
            "",
        ],
    );
    assert_eq!(out["ok"], true, "{out}");
    out
}

fn count(report: &Value, queue: &str, state: &str) -> u64 {
    report["queues"][queue]["counts"][state]
        .as_u64()
        .unwrap_or_else(|| panic!("no {state} count of {queue} in {report}"))
}

fn paused(report: &Value, queue: &str) -> bool {
    report["queues"][queue]["paused"]
        .as_bool()
        .unwrap_or_else(|| panic!("no isPaused of {queue} in {report}"))
}

async fn post(dash: &Dashboard, uri: &str, json: bool) -> Reply {
    let kind = if json {
        "application/json"
    } else {
        "application/x-www-form-urlencoded"
    };
    let request = Request::builder()
        .method(Method::POST)
        .uri(uri)
        .header(header::CONTENT_TYPE, kind)
        .body(Body::empty())
        .expect("request");
    dash.send(request).await
}

/// The `<details>` of the group `name` on the overview.
fn group_html<'p>(page: &'p str, name: &str) -> &'p str {
    let start = page
        .find(&format!("<details class=\"group\" data-group=\"{name}\">"))
        .unwrap_or_else(|| panic!("no group {name} on the overview: {page}"));
    let end = start + page[start..].find("</details>").expect("closed details");
    &page[start..end]
}

/// The group actions' entries of the audit stream: (action, outcome, detail).
fn group_audit(prefix: &str) -> Vec<(String, String, String)> {
    let entries: redis::streams::StreamRangeReply = conn()
        .xrange_all(format!("{prefix}:bullring:audit"))
        .expect("XRANGE");
    entries
        .ids
        .iter()
        .map(|e| {
            let field = |name: &str| e.get::<String>(name).unwrap_or_default();
            (field("action"), field("outcome"), field("detail"))
        })
        .filter(|(_, _, detail)| detail.starts_with("Group "))
        .collect()
}

#[tokio::test]
async fn groups_roll_up_counts_and_act_on_exactly_their_queues() {
    let prefix = unique_prefix("groups");
    let url = redis().url.clone();
    let seeded = node(
        "groups.js",
        &["--redis", &url, "--prefix", &prefix, "--bullmq", "6"],
    );
    assert_eq!(seeded["ok"], true, "{seeded}");
    let grouped = |state: bullring::web::AppState| state.with_delimiter(Some(".".into()));
    let (dash, _) = Dashboard::with_state(&url, &[&prefix], BASE, grouped).await;
    let plain = Dashboard::new(&[&prefix], BASE).await;
    let viewer = |state: bullring::web::AppState| {
        state
            .with_delimiter(Some(".".into()))
            .with_security(Security {
                anonymous_role: Role::Viewer,
                ..Security::default()
            })
    };
    let (as_viewer, _) = Dashboard::with_state(&url, &[&prefix], BASE, viewer).await;
    let before = report(&prefix);

    // The overview: one row per group with the sums of Node's counts, its queues inside;
    // grouping costs no round trip.
    let (trips, page) = dash.round_trips(dash.get(&format!("{BASE}/"))).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let (plain_trips, _) = plain.round_trips(plain.get(&format!("{BASE}/"))).await;
    assert_eq!(trips, plain_trips, "grouping must not cost a round trip");
    for (group, members) in [
        ("billing", &["billing.invoices", "billing.reminders"][..]),
        ("mail", &["mail.out"][..]),
    ] {
        let html = group_html(&page.body, group);
        for state in JobState::ALL.map(JobState::as_str) {
            let sum: u64 = members.iter().map(|q| count(&before, q, state)).sum();
            let shown = format!("data-state=\"{state}\">{state} <strong>{sum}</strong>");
            assert!(html.contains(&shown), "{group} lacks {shown}: {html}");
        }
        for queue in QUEUES {
            let row = format!("<tr data-name=\"{queue}\"");
            assert_eq!(
                html.contains(&row),
                members.contains(&queue),
                "{queue} in {group}"
            );
        }
    }
    assert!(!page.body.contains("data-group=\"solo\""));
    assert!(page.body.contains("<tr data-name=\"solo\""));

    // The JSON list names each queue's group.
    let listed = dash.json(&format!("{BASE}/api/queues")).await;
    for queue in listed["queues"].as_array().expect("queues") {
        let expected = match queue["name"].as_str().expect("name") {
            "billing.invoices" | "billing.reminders" => Value::from("billing"),
            "mail.out" => Value::from("mail"),
            _ => Value::Null,
        };
        assert_eq!(queue["group"], expected, "{queue}");
    }
    assert!(
        plain.json(&format!("{BASE}/api/queues")).await["queues"][0]
            .get("group")
            .is_none()
    );

    // A viewer is refused, and nothing changes.
    let refused = post(
        &as_viewer,
        &format!("{BASE}/api/groups/billing/pause"),
        true,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let after = report(&prefix);
    assert!(QUEUES.iter().all(|q| !paused(&after, q)), "{after}");

    // Pause of a group pauses exactly its queues.
    let reply = post(&dash, &format!("{BASE}/api/groups/billing/pause"), true).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome: Value = serde_json::from_str(&reply.body).expect("JSON");
    assert_eq!(outcome["group"], "billing");
    assert_eq!(
        outcome["queues"],
        serde_json::json!(["billing.invoices", "billing.reminders"])
    );
    let after = report(&prefix);
    for queue in QUEUES {
        assert_eq!(
            paused(&after, queue),
            queue.starts_with("billing."),
            "{queue}"
        );
    }

    // The form resumes them, back to the overview.
    let reply = post(&dash, &format!("{BASE}/groups/billing/resume"), false).await;
    assert_eq!(reply.status, StatusCode::SEE_OTHER, "{}", reply.body);
    assert_eq!(reply.headers[header::LOCATION], format!("{BASE}/"));
    let after = report(&prefix);
    assert!(QUEUES.iter().all(|q| !paused(&after, q)), "{after}");

    // Retry-failed of a group retries every failed job of its queues, and no other.
    let reply = post(
        &dash,
        &format!("{BASE}/api/groups/billing/retry-failed"),
        true,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let outcome: Value = serde_json::from_str(&reply.body).expect("JSON");
    let failed_before: u64 = ["billing.invoices", "billing.reminders"]
        .iter()
        .map(|q| count(&before, q, "failed"))
        .sum();
    assert_eq!(outcome["count"], failed_before, "{outcome}");
    let after = report(&prefix);
    for queue in QUEUES {
        let (failed, waiting) = (
            count(&after, queue, "failed"),
            count(&after, queue, "waiting"),
        );
        if queue.starts_with("billing.") {
            assert_eq!(failed, 0, "{queue}: {after}");
            let expected = count(&before, queue, "waiting") + count(&before, queue, "failed");
            assert_eq!(waiting, expected, "{queue}: {after}");
        } else {
            assert_eq!(failed, count(&before, queue, "failed"), "{queue}: {after}");
            assert_eq!(
                waiting,
                count(&before, queue, "waiting"),
                "{queue}: {after}"
            );
        }
    }

    // Unknown groups and actions are 404s; groups are unknown without a delimiter.
    for (board, uri) in [
        (&dash, format!("{BASE}/api/groups/nope/pause")),
        (&dash, format!("{BASE}/api/groups/billing/drain")),
        (&plain, format!("{BASE}/api/groups/billing/pause")),
    ] {
        let reply = post(board, &uri, true).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{uri}: {}", reply.body);
    }

    // One audit entry per group action (the refusal included), naming the group and queues.
    let audit = group_audit(&prefix);
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .map(|(a, o, _)| (a.as_str(), o.as_str()))
        .collect();
    assert_eq!(
        actions[..4],
        [
            ("pause", "refused"),
            ("pause", "ok"),
            ("resume", "ok"),
            ("retry-failed", "ok")
        ],
        "{audit:?}"
    );
    for (_, outcome, detail) in &audit[1..4] {
        assert_eq!(outcome, "ok");
        assert!(
            detail.starts_with("Group billing: ")
                && detail.contains("billing.invoices, billing.reminders"),
            "{detail}"
        );
    }
}
