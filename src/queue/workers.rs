//! Connected workers, from Redis' `CLIENT LIST`, as BullMQ names its worker connections:
//! `<prefix>:<base64(queue)>` or `<prefix>:<base64(queue)>:w:<worker name>` (Node and the Rust
//! engine name them alike, so both are found).

use std::collections::HashMap;

use serde::Serialize;

use super::batch::{Batch, Slot, cmd};
use super::connection::Redis;
use super::error::Result;
use super::model::QueueRef;

/// One worker connection.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WorkerClient {
    pub queue: String,
    pub prefix: String,
    /// The worker's name (`name` option), empty when it has none.
    pub name: String,
    /// `ip:port` as Redis sees the client.
    pub addr: String,
    /// Seconds since the connection was opened.
    pub age: u64,
    /// Seconds since its last command.
    pub idle: u64,
}

/// Node's `Buffer.from(s).toString('base64')`.
pub fn base64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
}

/// Push `CLIENT LIST` (so it can share a round trip) and match its clients to `queues`. `None`
/// when the command was refused (some managed Redis and ACL users do not allow it): workers are
/// then unknown, not zero.
pub(crate) fn push(batch: &mut Batch, queues: &[QueueRef]) -> Slot<Option<Vec<WorkerClient>>> {
    let queues = queues.to_vec();
    batch
        .value::<String>(cmd("CLIENT", "LIST"))
        .map(move |list| list.map(|list| workers_of(&list, &queues)))
}

/// Match the clients of a `CLIENT LIST` reply to queues.
fn workers_of(list: &str, queues: &[QueueRef]) -> Vec<WorkerClient> {
    let names: HashMap<String, &QueueRef> = queues
        .iter()
        .map(|q| (format!("{}:{}", q.prefix, base64(&q.name)), q))
        .collect();
    let mut found = Vec::new();
    for line in list.lines().filter(|l| !l.is_empty()) {
        let fields: HashMap<&str, &str> = line
            .split(' ')
            .filter_map(|pair| pair.split_once('='))
            .collect();
        let Some(name) = fields.get("name").filter(|n| !n.is_empty()) else {
            continue;
        };
        let (base, worker) = match name.split_once(":w:") {
            Some((base, worker)) => (base, worker),
            None => (*name, ""),
        };
        let Some(queue) = names.get(base) else {
            continue;
        };
        let number = |key: &str| fields.get(key).and_then(|v| v.parse().ok()).unwrap_or(0);
        found.push(WorkerClient {
            queue: queue.name.clone(),
            prefix: queue.prefix.clone(),
            name: worker.to_string(),
            addr: fields
                .get("addr")
                .map(|s| s.to_string())
                .unwrap_or_default(),
            age: number("age"),
            idle: number("idle"),
        });
    }
    found
}

/// The workers connected to `queues`, in one round trip.
pub async fn list(redis: &Redis, queues: &[QueueRef]) -> Result<Option<Vec<WorkerClient>>> {
    let mut batch = Batch::new();
    let workers = push(&mut batch, queues);
    batch.send(redis).await?.take(workers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_named_and_unnamed_worker_connections() {
        let queues = vec![QueueRef::new("bull", "mail"), QueueRef::new("{b}", "sms")];
        let list = format!(
            "id=1 addr=127.0.0.1:5000 name=bull:{} age=10 idle=2 cmd=bzpopmin\n\
             id=2 addr=127.0.0.1:5001 name={{b}}:{}:w:box-1 age=3 idle=0\n\
             id=3 addr=127.0.0.1:5002 name= age=1 idle=1\n\
             id=4 addr=127.0.0.1:5003 name=bull:other age=1 idle=1\n",
            base64("mail"),
            base64("sms")
        );
        let found = workers_of(&list, &queues);
        let mut batch = Batch::new();
        let refused = push(&mut batch, &queues);
        let replies = batch.answer(vec![redis::Value::Nil]).unwrap();
        assert!(replies.take(refused).unwrap().is_none());
        assert_eq!(found.len(), 2);
        assert_eq!(
            (found[0].queue.as_str(), found[0].age, found[0].idle),
            ("mail", 10, 2)
        );
        assert_eq!(
            (found[1].queue.as_str(), found[1].name.as_str()),
            ("sms", "box-1")
        );
    }
}
