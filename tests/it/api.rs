//! The JSON API: shapes and field names as Node BullMQ names them, paging, prefixes.

use redis::Commands;

use crate::support::{Dashboard, conn, engine_queue, unique_prefix};

#[tokio::test]
async fn counts_pages_and_jobs_have_node_field_names() {
    let prefix = unique_prefix("api");
    let q = engine_queue(&prefix, "basic").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(
            q.add("job", serde_json::json!({ "i": i }))
                .await
                .unwrap()
                .id()
                .to_string(),
        );
    }
    q.add("later", serde_json::json!({}))
        .delay(std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    let mut c = conn();
    let key = format!("{prefix}:basic:{}", ids[0]);
    let _: () = c
        .rpush(format!("{key}:logs"), &["one", "two", "three"])
        .unwrap();
    let _: () = c.hset(&key, "progress", r#"{"pct":40}"#).unwrap();

    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    let all = dash.json("/admin/queues/api/queues").await;
    let queue = &all["queues"][0];
    assert_eq!(queue["name"], "basic");
    assert_eq!(queue["prefix"], prefix.as_str());
    assert_eq!(queue["paused"], false);
    assert_eq!(queue["counts"]["waiting"], 5);
    assert_eq!(queue["counts"]["delayed"], 1);
    assert_eq!(queue["counts"]["waiting-children"], 0);

    let page = dash
        .json("/admin/queues/api/queues/basic/jobs?state=waiting&page=2&per_page=2")
        .await;
    assert_eq!(page["state"], "waiting");
    assert_eq!(page["page"], 2);
    assert_eq!(page["per_page"], 2);
    assert_eq!(page["total"], 5);
    let got: Vec<&str> = page["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| j["id"].as_str().unwrap())
        .collect();
    // Newest first: ids 5,4 | 3,2 | 1.
    assert_eq!(got, vec![ids[2].as_str(), ids[1].as_str()]);
    let oldest = dash
        .json("/admin/queues/api/queues/basic/jobs?state=waiting&per_page=2&order=oldest")
        .await;
    assert_eq!(oldest["jobs"][0]["id"], ids[0].as_str());
    assert!(oldest["jobs"][0]["timestamp"].is_i64());
    assert!(oldest["jobs"][0]["attemptsMade"].is_i64());

    let job = dash
        .json(&format!(
            "/admin/queues/api/queues/basic/jobs/{}?logs_per_page=2",
            ids[0]
        ))
        .await;
    assert_eq!(job["state"], "waiting");
    assert_eq!(job["data"]["i"], 0);
    assert_eq!(job["progress"]["pct"], 40);
    assert_eq!(job["logs"]["total"], 3);
    assert_eq!(job["logs"]["lines"], serde_json::json!(["one", "two"]));
    let page2 = dash
        .json(&format!(
            "/admin/queues/api/queues/basic/jobs/{}?logs_per_page=2&logs_page=2",
            ids[0]
        ))
        .await;
    assert_eq!(page2["logs"]["lines"], serde_json::json!(["three"]));
}

#[tokio::test]
async fn prefix_selects_between_queues_of_the_same_name() {
    let a = unique_prefix("pa");
    let b = unique_prefix("pb");
    engine_queue(&a, "same")
        .await
        .add("in-a", serde_json::json!({}))
        .await
        .unwrap();
    let qb = engine_queue(&b, "same").await;
    qb.add("in-b", serde_json::json!({})).await.unwrap();
    qb.add("in-b", serde_json::json!({})).await.unwrap();
    let dash = Dashboard::new(&[&a, &b], "/admin/queues").await;

    let all = dash.json("/admin/queues/api/queues").await;
    assert_eq!(all["queues"].as_array().unwrap().len(), 2);
    let only_b = dash
        .json(&format!("/admin/queues/api/queues/same/jobs?prefix={b}"))
        .await;
    assert_eq!(only_b["total"], 2);
    let only_a = dash
        .json(&format!("/admin/queues/api/queues/same/jobs?prefix={a}"))
        .await;
    assert_eq!(only_a["total"], 1);
    // With several prefixes configured, links carry ?prefix=.
    let overview = dash.get("/admin/queues").await.body;
    assert!(
        overview.contains(&format!("/admin/queues/queues/same?prefix={b}")),
        "{overview}"
    );
}

#[tokio::test]
async fn a_hash_tagged_prefix_works_like_any_other() {
    let prefix = format!("{{{}}}", unique_prefix("tag"));
    engine_queue(&prefix, "tagged")
        .await
        .add("x", serde_json::json!({}))
        .await
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    let all = dash.json("/admin/queues/api/queues").await;
    assert_eq!(all["queues"][0]["name"], "tagged");
    assert_eq!(all["queues"][0]["counts"]["waiting"], 1);
}
