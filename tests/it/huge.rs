//! One huge job (issue 14, bounded memory for any page): a job page reads each field's size
//! first and leaves out the fields too big to show, saying how big they are; the raw view serves
//! a field up to its cap and refuses a bigger one with a 413 giving its size, without reading it.

use serde_json::Value;

use crate::support::{Dashboard, conn, engine_queue, unique_prefix};

const MIB: usize = 1024 * 1024;

/// A queue `huge` with job `1`, whose data, return value, stack trace and failed reason are set
/// by hand to the given sizes (JSON strings of that many bytes, quotes included); and a small
/// job `2`.
async fn huge_job(prefix: &str, data: usize, returnvalue: usize, stacktrace: usize) {
    let queue = engine_queue(prefix, "huge").await;
    let one = queue.add("big", serde_json::json!({})).await.expect("add");
    assert_eq!(one.id(), "1");
    queue
        .add("small", serde_json::json!({ "n": 7 }))
        .await
        .expect("add");
    let json_string = |bytes: usize| format!("\"{}\"", "x".repeat(bytes - 2));
    let stack = format!("[{}]", json_string(stacktrace - 2));
    let _: () = redis::cmd("HSET")
        .arg(format!("{prefix}:huge:1"))
        .arg("data")
        .arg(json_string(data))
        .arg("returnvalue")
        .arg(json_string(returnvalue))
        .arg("stacktrace")
        .arg(stack)
        .arg("failedReason")
        .arg("boom")
        .query(&mut conn())
        .expect("HSET");
}

#[tokio::test]
async fn a_huge_job_page_shows_the_sizes_of_fields_too_big_to_read() {
    let prefix = unique_prefix("huge");
    huge_job(&prefix, 3 * MIB, 9 * MIB, 3 * MIB).await;
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;

    let page = dash.get("/admin/queues/queues/huge/jobs/1").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.len() < 100_000,
        "the page holds none of the big fields: {} bytes",
        page.body.len()
    );
    assert!(!page.body.contains("xxxxxxxxxx"), "a big field was shown");
    assert!(
        page.body.contains("Too big to show here: 3.0 MiB"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Too big to show here: 9.0 MiB"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("href=\"/admin/queues/api/queues/huge/jobs/1/raw?field=data\""),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("raw?field=returnvalue"),
        "a field over the raw view's cap gets no link: {}",
        page.body
    );
    assert!(
        page.body.contains("Too big for the raw view as well"),
        "{}",
        page.body
    );
    // Small fields of the same job are shown as always.
    assert!(page.body.contains("boom"), "{}", page.body);

    // The JSON says what was left out, with its size, and where to read it when it can be.
    let job = dash.json("/admin/queues/api/queues/huge/jobs/1").await;
    assert!(job["data"].is_null(), "{job:.200}");
    assert_eq!(job["failedReason"], "boom");
    let cut: Vec<&Value> = job["truncated"]
        .as_array()
        .expect("truncated")
        .iter()
        .collect();
    let of = |field: &str| {
        *cut.iter()
            .find(|c| c["field"] == field)
            .unwrap_or_else(|| panic!("{field} not marked truncated: {job}"))
    };
    assert_eq!(of("data")["bytes"], 3 * MIB);
    assert_eq!(
        of("data")["raw"],
        "/admin/queues/api/queues/huge/jobs/1/raw?field=data"
    );
    assert_eq!(of("returnvalue")["bytes"], 9 * MIB);
    assert!(of("returnvalue").get("raw").is_none(), "{job}");
    assert_eq!(of("stacktrace")["bytes"], 3 * MIB);

    // The raw view serves a field under its cap whole, refuses one over it.
    let data = dash
        .get("/admin/queues/api/queues/huge/jobs/1/raw?field=data")
        .await;
    assert_eq!(data.status, 200);
    assert_eq!(data.body.len(), 3 * MIB);
    let refused = dash
        .get("/admin/queues/api/queues/huge/jobs/1/raw?field=returnvalue")
        .await;
    assert_eq!(refused.status, 413, "{}", refused.body);
    let error: Value = serde_json::from_str(&refused.body).expect("a JSON error");
    let message = error["error"].as_str().expect("error");
    assert!(message.contains(&(9 * MIB).to_string()), "{message}");
    assert!(message.contains("8.0 MiB"), "{message}");

    // Data too big to read cannot be edited (saving the form would replace it).
    let edit = dash.get("/admin/queues/queues/huge/jobs/1/edit").await;
    assert_eq!(edit.status, 413, "{}", edit.body);
    assert!(edit.body.contains("too big to edit"), "{}", edit.body);

    // A small job is shown whole, and a missing one is still a 404.
    let small = dash.json("/admin/queues/api/queues/huge/jobs/2").await;
    assert_eq!(small["data"]["n"], 7, "{small}");
    assert!(small.get("truncated").is_none(), "{small}");
    let missing = dash.get("/admin/queues/queues/huge/jobs/404").await;
    assert_eq!(missing.status, 404);
    let missing = dash
        .get("/admin/queues/api/queues/huge/jobs/404/raw?field=data")
        .await;
    assert_eq!(missing.status, 404);
}

/// A 1 MiB data is under the job page's bound: shown (cut to 64 KiB on the page), and editable.
#[tokio::test]
async fn a_big_job_under_the_bound_is_read_and_shown() {
    let prefix = unique_prefix("huge-ok");
    huge_job(&prefix, MIB, 1000, 1000).await;
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
    let page = dash.get("/admin/queues/queues/huge/jobs/1").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("xxxxxxxxxx"), "{:.2000}", page.body);
    assert!(page.body.contains("Shown truncated to 64 KiB"));
    assert!(!page.body.contains("Too big to show here"));
    let edit = dash.get("/admin/queues/queues/huge/jobs/1/edit").await;
    assert_eq!(edit.status, 200);
}
