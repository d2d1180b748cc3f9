//! Search against queues written by the real npm `bullmq` (5 and 6): every query form finds the
//! ids, in the order, that `getJobs` and a filter in Node find; cursors resumed to `null` return
//! every match once, also while jobs come and go; a search costs a round trip per chunk; bad
//! queries and cursors are a 400 that names what is wrong.

use std::collections::HashSet;
use std::time::Duration;

use bullring::queue::connection::RedisSettings;
use bullring::queue::search::Budget;
use serde_json::Value;

use crate::interop::node;
use crate::support::{Dashboard, app_state_on, conn, redis, unique_prefix};

const BASE: &str = "/admin/queues";

/// A dashboard on `prefix` whose searches scan at most `jobs` jobs a request.
async fn dashboard(prefix: &str, jobs: usize) -> Dashboard {
    let budget = Budget {
        jobs,
        time: Duration::from_secs(120),
    };
    let settings = RedisSettings::url(&redis().url);
    let state = app_state_on(settings, &[prefix], BASE, |reader| {
        reader.with_search_budget(budget)
    })
    .await;
    assert!(state.discovery().snapshot().complete, "discovery");
    Dashboard::of(state)
}

fn uri(queue: &str, state: &str, q: &str, per_page: usize, cursor: Option<&str>) -> String {
    let mut uri = format!(
        "{BASE}/api/queues/{queue}/search?state={state}&per_page={per_page}&q={}",
        bullring::web::views::encode(q)
    );
    if let Some(c) = cursor {
        uri.push_str(&format!("&cursor={c}"));
    }
    uri
}

/// Every id a search finds, following its cursors until `null`; each request's answer is checked
/// for its shape. `between` runs between requests.
async fn search_all(
    dash: &Dashboard,
    queue: &str,
    state: &str,
    q: &str,
    per_page: usize,
    mut between: impl FnMut(usize),
) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for request in 0.. {
        assert!(request < 10_000, "the search of {q:?} never ends");
        let answer = dash
            .json(&uri(queue, state, q, per_page, cursor.as_deref()))
            .await;
        let jobs = answer["jobs"].as_array().expect("jobs");
        assert!(jobs.len() <= per_page);
        assert!(answer["scanned"].as_u64().is_some() && answer["total"].as_u64().is_some());
        ids.extend(
            jobs.iter()
                .map(|j| j["id"].as_str().expect("id").to_string()),
        );
        match &answer["cursor"] {
            Value::Null => break,
            Value::String(c) => cursor = Some(c.clone()),
            other => panic!("cursor is {other}"),
        }
        between(request);
    }
    ids
}

fn hget(key: &str, field: &str) -> String {
    redis::cmd("HGET")
        .arg(key)
        .arg(field)
        .query(&mut conn())
        .expect("HGET")
}

#[tokio::test]
async fn every_query_form_finds_what_getjobs_and_a_filter_find() {
    for major in ["5", "6"] {
        let prefix = unique_prefix(&format!("search-forms{major}"));
        let url = &redis().url;
        let common = ["--redis", url, "--prefix", &prefix, "--bullmq", major];
        let seeded = node(
            "search.js",
            &[&common[..], &["--step", "seed", "--n", "120"]].concat(),
        );
        assert_eq!(seeded["ok"], true, "{seeded}");
        let key = format!("{prefix}:search:attachment-60");
        let added = hget(&key, "timestamp");
        let finished = hget(&key, "finishedOn");
        let queries: Vec<String> = [
            "name:send-email",
            "name:send-*",
            "id:attachment-8",
            "id:attachment-*",
            "data.user.id:3",
            "data.user.name:bob name:resize",
            r#"data:"@example.com""#,
            "reason:timeout",
            "reason:\"bad input 1\"",
            r#"result:"status\":500""#,
            "attempts>=2",
            "attempts<2 name:send-sms",
            &format!("added>={added}"),
            &format!("finished<{finished}"),
            &format!("processed<={finished} data.user.id:1"),
            "",
        ]
        .iter()
        .map(|q| q.to_string())
        .collect();
        let states = ["failed", "completed", "waiting", "delayed"];
        let expected = node(
            "search.js",
            &[
                &common[..],
                &[
                    "--step",
                    "find",
                    "--states",
                    &states.join(","),
                    "--queries",
                    &serde_json::to_string(&queries).unwrap(),
                ],
            ]
            .concat(),
        );
        assert_eq!(expected["ok"], true, "{expected}");
        let dash = dashboard(&prefix, 25).await;
        let mut nonempty = 0;
        for q in &queries {
            for state in states {
                let want: Vec<String> =
                    serde_json::from_value(expected["results"][q][state].clone()).unwrap();
                let got = search_all(&dash, "search", state, q, 7, |_| {}).await;
                assert_eq!(got, want, "bullmq {major}, {state}, query {q:?}");
                nonempty += usize::from(!want.is_empty());
            }
        }
        assert!(
            nonempty >= 25,
            "the fixture must give most queries matches: {nonempty}"
        );
        // Several states at once: each state's matches, in the order of the states named.
        let got = search_all(
            &dash,
            "search",
            "waiting",
            "state:failed,completed name:send-*",
            7,
            |_| {},
        )
        .await;
        let mut want: Vec<String> =
            serde_json::from_value(expected["results"]["name:send-*"]["failed"].clone()).unwrap();
        want.extend(
            serde_json::from_value::<Vec<String>>(
                expected["results"]["name:send-*"]["completed"].clone(),
            )
            .unwrap(),
        );
        assert_eq!(got, want);
    }
}

/// Write `n` failed jobs `f-<i>` straight into Redis, several finished in the same millisecond.
fn write_failed(prefix: &str, from: usize, n: usize, score_base: u64) {
    write_failed_in(prefix, "moving", from, n, score_base);
}

/// [`write_failed`] into queue `queue`.
fn write_failed_in(prefix: &str, queue: &str, from: usize, n: usize, score_base: u64) {
    let mut pipe = redis::pipe();
    for i in from..from + n {
        let id = format!("f-{i}");
        let name = if i % 2 == 0 { "x-even" } else { "y-odd" };
        pipe.cmd("HSET")
            .arg(format!("{prefix}:{queue}:{id}"))
            .arg("name")
            .arg(name)
            .arg("data")
            .arg(format!("{{\"i\":{i}}}"))
            .arg("timestamp")
            .arg(1)
            .ignore();
        pipe.cmd("ZADD")
            .arg(format!("{prefix}:{queue}:failed"))
            .arg(score_base + (i / 3) as u64)
            .arg(&id)
            .ignore();
        pipe.cmd("LPUSH")
            .arg(format!("{prefix}:{queue}:wait"))
            .arg(format!("w-{i}"))
            .ignore();
        pipe.cmd("HSET")
            .arg(format!("{prefix}:{queue}:w-{i}"))
            .arg("name")
            .arg(name)
            .ignore();
    }
    // So discovery finds the queue, as it finds one a producer used.
    pipe.cmd("HSET")
        .arg(format!("{prefix}:{queue}:meta"))
        .arg("opts.maxLenEvents")
        .arg(10_000)
        .ignore();
    let _: () = pipe.query(&mut conn()).expect("write jobs");
}

#[tokio::test]
async fn cursors_return_every_match_once_while_jobs_come_and_go() {
    let prefix = unique_prefix("search-moving");
    write_failed(&prefix, 0, 300, 1_000);
    let dash = dashboard(&prefix, 40).await;
    // Failed (a sorted set): between requests newer jobs fail and some jobs leave.
    let mut added = 300;
    let mut left: HashSet<String> = HashSet::new();
    let got = search_all(&dash, "moving", "failed", "name:x-*", 5, |request| {
        write_failed(&prefix, added, 3, 10_000);
        added += 3;
        let gone = format!("f-{}", (request * 7) % 300);
        let _: () = redis::cmd("ZREM")
            .arg(format!("{prefix}:moving:failed"))
            .arg(&gone)
            .query(&mut conn())
            .unwrap();
        left.insert(gone);
    })
    .await;
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "a job returned twice: {got:?}");
    for i in (0..300).step_by(2) {
        let id = format!("f-{i}");
        if !left.contains(&id) {
            assert!(
                unique.contains(&id),
                "{id} was there all along and was missed"
            );
        }
    }
    assert!(
        got.iter().all(|id| id[2..].parse::<usize>().unwrap() < 300),
        "newer jobs come before the cursor"
    );

    // Waiting (a list): between requests jobs are pushed at the head and taken from the tail.
    let mut taken: HashSet<String> = HashSet::new();
    let got = search_all(&dash, "moving", "waiting", "name:x-*", 5, |_| {
        write_failed(&prefix, added, 4, 20_000);
        added += 4;
        let popped: Vec<String> = redis::cmd("RPOP")
            .arg(format!("{prefix}:moving:wait"))
            .arg(2)
            .query(&mut conn())
            .unwrap();
        taken.extend(popped);
    })
    .await;
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "a job returned twice: {got:?}");
    for i in (0..300).step_by(2) {
        let id = format!("w-{i}");
        if !taken.contains(&id) {
            assert!(
                unique.contains(&id),
                "{id} was there all along and was missed"
            );
        }
    }
}

#[tokio::test]
async fn a_search_costs_a_round_trip_per_chunk_on_100000_jobs() {
    let prefix = unique_prefix("search-cost");
    let mut c = conn();
    for batch in 0..10 {
        let mut pipe = redis::pipe();
        for i in batch * 10_000..(batch + 1) * 10_000 {
            pipe.cmd("HSET")
                .arg(format!("{prefix}:big:{i}"))
                .arg("name")
                .arg("work")
                .arg("data")
                .arg("{}")
                .ignore();
            pipe.cmd("ZADD")
                .arg(format!("{prefix}:big:completed"))
                .arg(i)
                .arg(i)
                .ignore();
        }
        let _: () = pipe.query(&mut c).expect("write jobs");
    }
    let dash = dashboard(&prefix, 20_000).await;
    for q in ["name:nothing", "id:nothing-*"] {
        let (trips, reply) = dash
            .round_trips(dash.get(&uri("big", "completed", q, 50, None)))
            .await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        let answer: Value = serde_json::from_str(&reply.body).unwrap();
        assert_eq!(answer["scanned"], 20_000);
        assert_eq!(answer["total"], 100_000);
        assert!(answer["cursor"].is_string());
        assert!(trips <= 21, "{q}: 20 chunks cost {trips} round trips");
    }
    // The whole set, resumed to the end: one round trip per chunk and one per request.
    let mut cursor: Option<String> = None;
    let (mut trips, mut requests, mut scanned) = (0, 0, 0);
    loop {
        let (n, reply) = dash
            .round_trips(dash.get(&uri(
                "big",
                "completed",
                "name:nothing",
                50,
                cursor.as_deref(),
            )))
            .await;
        let answer: Value = serde_json::from_str(&reply.body).unwrap();
        trips += n;
        requests += 1;
        scanned += answer["scanned"].as_u64().unwrap();
        match answer["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    assert_eq!(scanned, 100_000);
    assert!(
        trips <= 100 + requests + 1,
        "{trips} round trips for 100 chunks in {requests} requests"
    );
    // An exact id: one round trip.
    let (trips, reply) = dash
        .round_trips(dash.get(&uri("big", "completed", "id:77777", 50, None)))
        .await;
    let answer: Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(answer["jobs"][0]["id"], "77777");
    assert_eq!(answer["cursor"], Value::Null);
    assert_eq!(trips, 1);
}

#[tokio::test]
async fn bad_queries_and_cursors_are_a_400_naming_them() {
    let prefix = unique_prefix("search-bad");
    write_failed(&prefix, 0, 30, 1_000);
    let dash = dashboard(&prefix, 10).await;
    for (q, named) in [
        ("colour:red", "colour:red"),
        ("name:a added>yesterday", "added>yesterday"),
        ("state:sleeping", "state:sleeping"),
        ("data:\"open", "data:\"open"),
    ] {
        let reply = dash.get(&uri("moving", "failed", q, 5, None)).await;
        assert_eq!(reply.status, 400, "{q}: {}", reply.body);
        assert!(
            reply.body.contains(&named.replace('"', "\\\"")),
            "{q}: {}",
            reply.body
        );
        let page = dash
            .get(&format!(
                "{BASE}/queues/moving?state=failed&q={}",
                bullring::web::views::encode(q)
            ))
            .await;
        assert_eq!(page.status, 400, "{}", page.body);
    }
    let failed = dash
        .json(&uri("moving", "failed", "name:x-*", 2, None))
        .await;
    let cursor = failed["cursor"].as_str().expect("a cursor").to_string();
    for (state, bad) in [
        ("failed", "nonsense!"),
        ("failed", "MQ"),
        ("completed", cursor.as_str()),
    ] {
        let reply = dash
            .get(&uri("moving", state, "name:x-*", 2, Some(bad)))
            .await;
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert!(reply.body.contains("cursor"), "{}", reply.body);
    }
    // Nothing was changed by any of it.
    let count: u64 = redis::cmd("ZCARD")
        .arg(format!("{prefix}:moving:failed"))
        .query(&mut conn())
        .unwrap();
    assert_eq!(count, 30);
}

#[tokio::test]
async fn the_queue_page_shows_the_matches_and_builds_queries_without_javascript() {
    let prefix = unique_prefix("search-page");
    write_failed(&prefix, 0, 30, 1_000);
    let dash = dashboard(&prefix, 10).await;
    let page = dash
        .get(&format!(
            "{BASE}/queues/moving?state=failed&q=name%3Ax-*&per_page=50"
        ))
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("Scanned 10 of 30 failed"),
        "{}",
        page.body
    );
    assert!(
        page.body.contains("rel=\"next\">Continue</a>"),
        "{}",
        page.body
    );
    let rows = page.body.matches("name=\"ids\" value=\"f-").count();
    assert_eq!(rows, 5, "the even jobs of the first 10 scanned");
    assert!(
        page.body.contains("/retry\""),
        "row actions of the failed tab"
    );
    let built = dash
        .get(&format!(
            "{BASE}/queues/moving?state=failed&q=&b_name=x-*&b_data=%22i%22&b_attempts="
        ))
        .await;
    assert_eq!(built.status, 303, "{}", built.body);
    let to = built.headers.get("location").unwrap().to_str().unwrap();
    assert!(
        to.contains("q=name%3Ax-%2A%20data%3A%22%5C%22i%5C%22%22"),
        "{to}"
    );
}

/// The (name, data, opts) of each line of an NDJSON export, ordered by `data.n`.
fn exported(ndjson: &str) -> Vec<(String, Value, Value)> {
    let mut jobs: Vec<(String, Value, Value)> = ndjson
        .lines()
        .map(|line| {
            let job: Value = serde_json::from_str(line).expect("a JSON line");
            (
                job["name"].as_str().expect("name").to_string(),
                job["data"].clone(),
                job["opts"].clone(),
            )
        })
        .collect();
    jobs.sort_by_key(|(_, data, _)| data["n"].as_u64());
    jobs
}

#[tokio::test]
async fn export_obliterate_import_export_round_trips_names_data_and_options() {
    let prefix = unique_prefix("search-export");
    let url = &redis().url;
    let common = ["--redis", url, "--prefix", &prefix, "--bullmq", "6"];
    let seeded = node(
        "search.js",
        &[&common[..], &["--step", "seed", "--n", "60"]].concat(),
    );
    assert_eq!(seeded["ok"], true, "{seeded}");
    let dash = dashboard(&prefix, 20_000).await;
    // The export of a query: the matches Node finds, in the same order.
    let reply = dash
        .get(&format!(
            "{BASE}/api/queues/search/export?state=failed&q=name%3Asend-*"
        ))
        .await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.headers["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    assert!(
        reply.headers["content-disposition"]
            .to_str()
            .unwrap()
            .contains("search-failed.ndjson")
    );
    let ids: Vec<String> = reply
        .body
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected = node(
        "search.js",
        &[
            &common[..],
            &[
                "--step",
                "find",
                "--states",
                "failed",
                "--queries",
                "[\"name:send-*\"]",
            ],
        ]
        .concat(),
    );
    let want: Vec<String> =
        serde_json::from_value(expected["results"]["name:send-*"]["failed"].clone()).unwrap();
    assert_eq!(ids, want);
    assert!(!ids.is_empty());

    // Every failed job: export, obliterate, import, export again.
    let first = dash
        .get(&format!("{BASE}/api/queues/search/export?state=failed"))
        .await;
    assert_eq!(first.status, 200);
    let before = exported(&first.body);
    assert_eq!(before.len(), 30);
    let file = std::env::temp_dir().join(format!("{prefix}.ndjson"));
    std::fs::write(&file, &first.body).unwrap();
    let queue = crate::support::engine_queue(&prefix, "search").await;
    queue.pause().await.expect("pause");
    queue.obliterate(true, 1000).await.expect("obliterate");
    let config = bullring::config::Config {
        redis: Some(RedisSettings::url(url)),
        prefixes: vec![prefix.clone()],
        ..Default::default()
    };
    // A file with a bad line adds nothing, and says which line.
    let bad = std::env::temp_dir().join(format!("{prefix}-bad.ndjson"));
    std::fs::write(
        &bad,
        format!(
            "{}\n{{\"data\":{{}}}}\n",
            first.body.lines().next().unwrap()
        ),
    )
    .unwrap();
    let err = bullring::runner::import::import(&config, "search", &bad)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("line 2: no name"), "{err}");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:search:*"))
        .query(&mut conn())
        .unwrap();
    assert!(keys.is_empty(), "nothing added: {keys:?}");
    let said = bullring::runner::import::import(&config, "search", &file)
        .await
        .expect("import");
    assert!(said.contains("added 30 job(s)"), "{said}");
    let again = dash
        .get(&format!("{BASE}/api/queues/search/export?state=waiting"))
        .await;
    assert_eq!(again.status, 200);
    assert_eq!(exported(&again.body), before);
    // Node reads the imported jobs as it wrote the originals.
    let node_view = node(
        "search.js",
        &[&common[..], &["--step", "export", "--states", "waiting"]].concat(),
    );
    let mut node_jobs: Vec<(String, Value)> = node_view["jobs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|j| (j["name"].as_str().unwrap().to_string(), j["data"].clone()))
        .collect();
    node_jobs.sort_by_key(|(_, data)| data["n"].as_u64());
    let ours: Vec<(String, Value)> = before.into_iter().map(|(n, d, _)| (n, d)).collect();
    assert_eq!(node_jobs, ours);
    let _ = std::fs::remove_file(file);
    let _ = std::fs::remove_file(bad);
}

#[tokio::test]
async fn the_overview_searches_every_queue_of_the_prefix() {
    let prefix = unique_prefix("search-all");
    write_failed_in(&prefix, "first", 0, 12, 1_000);
    write_failed_in(&prefix, "second", 0, 9, 1_000);
    let dash = dashboard(&prefix, 8).await;
    let overview = dash.get(&format!("{BASE}/")).await;
    assert!(
        overview.body.contains(&format!("action=\"{BASE}/search\"")),
        "the overview has the box"
    );
    let mut next = Some(format!(
        "{BASE}/search?state=failed&q=name%3Ax-*&per_page=4"
    ));
    let mut found = Vec::new();
    let mut pages = 0;
    while let Some(uri) = next.take() {
        pages += 1;
        assert!(pages < 50, "the search never ends");
        let page = dash.get(&uri.replace("&#38;", "&")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for queue in ["first", "second"] {
            let link = format!("href=\"{BASE}/queues/{queue}/jobs/");
            for part in page.body.split(&link).skip(1) {
                found.push(format!("{queue}/{}", &part[..part.find('"').unwrap()]));
            }
        }
        next = page
            .body
            .split("rel=\"next\"")
            .next()
            .and_then(|before| before.rsplit("href=\"").next())
            .filter(|_| page.body.contains("rel=\"next\""))
            .map(|href| href[..href.find('"').unwrap()].to_string());
    }
    let mut want: Vec<String> = (0..12).step_by(2).map(|i| format!("first/f-{i}")).collect();
    want.extend((0..9).step_by(2).map(|i| format!("second/f-{i}")));
    let mut got = found.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "every match of both queues, once: {found:?}");
    assert!(pages >= 3);
}
