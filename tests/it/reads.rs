//! The read path's edges: page offsets past what Redis takes are a 400 naming the parameter, and
//! a waiting tab that straddles BullMQ 5's `wait` and `paused` lists reads both in order.

use crate::support::{Dashboard, conn, engine_queue, unique_prefix};

/// The first page whose offset no longer fits an i64 with 512 per page (2^54 + 1), and the last
/// one that still does.
const TOO_FAR: u64 = 18_014_398_509_481_985;
const LAST_THAT_FITS: u64 = TOO_FAR - 1;

async fn one_job_queue(tag: &str) -> (String, String, Dashboard) {
    let prefix = unique_prefix(tag);
    let q = engine_queue(&prefix, "far").await;
    let id = q
        .add("x", serde_json::json!({}))
        .await
        .unwrap()
        .id()
        .to_string();
    let _: () = redis::cmd("RPUSH")
        .arg(format!("{prefix}:far:{id}:logs"))
        .arg("a log line")
        .query(&mut conn())
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    (prefix, id, dash)
}

/// `?query` is refused with a 400 whose message names `param`, on the HTML page at
/// `queues/{paths.0}` and in the JSON API at `api/queues/{paths.1}`.
async fn refused(dash: &Dashboard, paths: (&str, &str), query: &str, param: &str) {
    let page = format!("/admin/queues/queues/{}?{query}", paths.0);
    let api = format!("/admin/queues/api/queues/{}?{query}", paths.1);
    let reply = dash.get(&page).await;
    assert_eq!(reply.status, 400, "{page}: {}", reply.body);
    assert!(reply.body.contains("Bad request"), "{page}");
    let named = format!("{param} {TOO_FAR} is too large");
    assert!(reply.body.contains(&named), "{page}: {}", reply.body);
    let reply = dash.get(&api).await;
    assert_eq!(reply.status, 400, "{api}: {}", reply.body);
    let body: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with(&named), "{api}: {error}");
}

#[tokio::test]
async fn a_page_past_the_last_redis_offset_is_a_400_naming_the_page() {
    let (_prefix, _id, dash) = one_job_queue("reads-far").await;
    for state in ["waiting", "failed"] {
        for order in ["newest", "oldest"] {
            let query = format!("state={state}&order={order}&page={TOO_FAR}&per_page=512");
            refused(&dash, ("far", "far/jobs"), &query, "page").await;

            // The page before is still a page: empty, with the right total.
            let query = format!("state={state}&order={order}&page={LAST_THAT_FITS}&per_page=512");
            let page = dash
                .json(&format!("/admin/queues/api/queues/far/jobs?{query}"))
                .await;
            assert_eq!(page["jobs"], serde_json::json!([]), "{query}");
            let total = if state == "waiting" { 1 } else { 0 };
            assert_eq!(page["total"], total, "{query}");
            let reply = dash.get(&format!("/admin/queues/queues/far?{query}")).await;
            assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        }
    }
}

#[tokio::test]
async fn a_log_page_past_the_last_redis_offset_is_a_400_naming_logs_page() {
    let (_prefix, id, dash) = one_job_queue("reads-logs").await;
    let query = format!("logs_page={TOO_FAR}&logs_per_page=512");
    let job = format!("far/jobs/{id}");
    refused(&dash, (&job, &job), &query, "logs_page").await;

    let query = format!("logs_page={LAST_THAT_FITS}&logs_per_page=512");
    let job = dash
        .json(&format!("/admin/queues/api/queues/far/jobs/{id}?{query}"))
        .await;
    assert_eq!(job["logs"]["total"], 1);
    assert_eq!(job["logs"]["lines"], serde_json::json!([]));
}

/// BullMQ 5 keeps a paused queue's jobs in `paused`; the waiting tab lists `wait` then `paused`
/// (newest first), like Node's getJobs(['waiting']). A page across both costs one more round
/// trip for the rest of the second list.
#[tokio::test]
async fn the_waiting_tab_reads_across_wait_and_paused() {
    let prefix = unique_prefix("reads-straddle");
    let base = format!("{prefix}:split");
    let mut pipe = redis::pipe();
    pipe.cmd("SET").arg(format!("{base}:id")).arg(6);
    for (list, ids) in [("wait", ["w1", "w2", "w3"]), ("paused", ["p1", "p2", "p3"])] {
        for (i, id) in ids.iter().enumerate() {
            pipe.cmd("LPUSH").arg(format!("{base}:{list}")).arg(*id);
            pipe.cmd("HSET")
                .arg(format!("{base}:{id}"))
                .arg("name")
                .arg("x")
                .arg("data")
                .arg("{}")
                .arg("timestamp")
                .arg(1_700_000_000_000u64 + i as u64);
        }
    }
    let _: () = pipe.query(&mut conn()).unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;

    let ids = |page: &serde_json::Value| -> Vec<String> {
        assert_eq!(page["total"], 6);
        page["jobs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|j| j["id"].as_str().unwrap().to_string())
            .collect()
    };
    let cases = [
        ("newest", 1, 4, vec!["w3", "w2", "w1", "p3"], 4),
        ("newest", 2, 4, vec!["p2", "p1"], 4),
        ("newest", 1, 3, vec!["w3", "w2", "w1"], 3),
        ("newest", 2, 3, vec!["p3", "p2", "p1"], 4),
        ("oldest", 1, 4, vec!["p1", "p2", "p3", "w1"], 4),
        ("oldest", 2, 4, vec!["w2", "w3"], 4),
        ("oldest", 3, 2, vec!["w2", "w3"], 4),
        ("oldest", 1, 3, vec!["p1", "p2", "p3"], 3),
    ];
    for (order, page, per_page, want, trips) in cases {
        let uri = format!(
            "/admin/queues/api/queues/split/jobs?state=waiting&order={order}&page={page}&per_page={per_page}"
        );
        let (spent, reply) = dash.round_trips(dash.get(&uri)).await;
        assert_eq!(reply.status, 200, "{uri}: {}", reply.body);
        let got = ids(&serde_json::from_str(&reply.body).unwrap());
        assert_eq!(got, want, "{uri}");
        assert_eq!(spent, trips, "{uri}");
    }
    let job = dash.json("/admin/queues/api/queues/split/jobs/p2").await;
    assert_eq!(job["state"], "waiting");
}
