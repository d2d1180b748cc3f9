//! What a page costs in Redis round trips: constant, whatever the number of queues or jobs.

use crate::support::{Dashboard, engine_queue, unique_prefix};

async fn add_jobs(prefix: &str, queue: &str, n: usize) {
    let q = engine_queue(prefix, queue).await;
    let jobs = (0..n)
        .map(|i| bullmq::BulkJob::new("work", serde_json::json!({ "i": i })))
        .collect();
    q.add_bulk(jobs).await.expect("add_bulk");
}

#[tokio::test]
async fn overview_costs_one_round_trip_whatever_the_number_of_queues() {
    for queues in [2usize, 40] {
        let prefix = unique_prefix("cost-overview");
        for i in 0..queues {
            add_jobs(&prefix, &format!("q{i}"), 1).await;
        }
        let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
        let (trips, reply) = dash.round_trips(dash.get("/admin/queues")).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(trips, 1, "overview with {queues} queues");
        assert_eq!(reply.body.matches("<tr data-name=").count(), queues);
        let (trips, _) = dash.round_trips(dash.get("/admin/queues/api/queues")).await;
        assert_eq!(trips, 1);
    }
}

#[tokio::test]
async fn queue_and_job_pages_cost_the_same_for_short_and_long_queues() {
    let mut costs = Vec::new();
    for jobs in [3usize, 3000] {
        let prefix = unique_prefix("cost-pages");
        add_jobs(&prefix, "long", jobs).await;
        let dash = Dashboard::new(&[&prefix], "/admin/queues").await;
        let (page_trips, reply) = dash
            .round_trips(dash.get("/admin/queues/queues/long?state=waiting&per_page=20"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert_eq!(
            reply
                .body
                .matches("href=\"/admin/queues/queues/long/jobs/")
                .count(),
            jobs.min(20)
        );
        // The oldest job is at the far end of the list: its page must cost no more.
        let (job_trips, reply) = dash
            .round_trips(dash.get("/admin/queues/queues/long/jobs/1"))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        costs.push((page_trips, job_trips));
    }
    assert_eq!(costs[0], costs[1], "cost must not grow with the queue");
    assert_eq!(
        costs[0],
        (3, 2),
        "queue page: range, the sizes of the rows' fields, the fields within bounds; a waiting \
         job's page: one pipeline with its fields' sizes, then the fields within bounds with LPOS \
         over wait"
    );
}

/// A finished job's page never scans `wait` (LPOS is O(length)): two round trips next to 3,000
/// waiting jobs, and its state is still told apart from a waiting job's.
#[tokio::test]
async fn a_finished_job_page_does_not_scan_the_wait_list() {
    let prefix = unique_prefix("cost-state");
    add_jobs(&prefix, "long", 3000).await;
    // Job 1 is the oldest: at the far end of `wait`. Move it to `failed` as a worker would.
    let mut conn = crate::support::conn();
    let key = format!("{prefix}:long");
    let _: () = redis::pipe()
        .cmd("LREM")
        .arg(format!("{key}:wait"))
        .arg(0)
        .arg("1")
        .cmd("ZADD")
        .arg(format!("{key}:failed"))
        .arg(1_700_000_000_000u64)
        .arg("1")
        .cmd("HSET")
        .arg(format!("{key}:1"))
        .arg("finishedOn")
        .arg(1_700_000_000_000u64)
        .arg("failedReason")
        .arg("boom")
        .query(&mut conn)
        .unwrap();
    let dash = Dashboard::new(&[&prefix], "/admin/queues").await;

    let (trips, reply) = dash
        .round_trips(dash.get("/admin/queues/queues/long/jobs/1"))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        trips, 2,
        "a failed job's page: one pipeline with its fields' sizes, then the fields"
    );
    let failed = dash.json("/admin/queues/api/queues/long/jobs/1").await;
    assert_eq!(failed["state"], "failed");
    let waiting = dash.json("/admin/queues/api/queues/long/jobs/2").await;
    assert_eq!(waiting["state"], "waiting");
}
