#!/usr/bin/env bash
# "Apply to every match" benchmark (issue 15): 2*N failed jobs (default N=100,000) in a private
# redis-server, every other one named sync-user; then one task retries every failed job matching
# `name:sync-user` (N of them) through `POST /api/queues/bench/search/apply`, polled with
# `GET /api/tasks/{id}` until it is done: the time it took, jobs retried per second, bullring's
# RSS over idle at the end, and the counts Redis has afterwards (N waiting, N failed).
# Not a test, not part of tests/run.
#
#   bash bench/apply.sh                                # N=100000, release build
#   N=10000 BIN=target/debug/bullring bash bench/apply.sh   # a quick try on the debug build
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup bench/apply.sh
start_redis

echo "seeding $((2 * N)) failed jobs ($N matching) ..."
# Failed jobs as BullMQ 6 leaves them (one attempt made, a reason and a stack), written directly.
python3 - "$N" <<'PY' | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
import sys
sys.path.insert(0, "bench")
from resp import cmd
n = 2 * int(sys.argv[1])
cmd("HSET", "bull:bench:meta", "opts.maxLenEvents", 10000, "version", "bullmq:6.7.0")
base = 1_790_000_000_000
for i in range(1, n + 1):
    t = base + i * 10
    cmd("HSET", f"bull:bench:{i}", "name", "sync-user" if i % 2 else "send-email",
        "data", '{"user":{"id":%d}}' % (i % 1000), "opts", '{"attempts":1}',
        "timestamp", t, "processedOn", t + 1, "finishedOn", t + 5, "atm", 1, "ats", 1,
        "failedReason", "timeout", "stacktrace", '["Error: timeout\\n    at work (worker.js:1:1)"]')
    cmd("ZADD", "bull:bench:failed", t + 5, i)
cmd("SET", "bull:bench:id", n)
PY
redis-cli -p "$REDIS_PORT" zcard bull:bench:failed

start_bullring bull --live-interval-ms 0
ROOT=$BASE
until curl -fs "$ROOT/api/queues/bench/search?state=failed&q=id:1" | grep -q '"id":"1"'; do sleep 0.2; done
IDLE_KB=$(rss)

START=$(date +%s.%N)
TASK=$(curl -fs -X POST -H 'content-type: application/json' \
  -d '{"state":"failed","q":"name:sync-user","action":"retry"}' "$ROOT/api/queues/bench/search/apply")
ID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["id"])' "$TASK")
PEAK_KB=$IDLE_KB
while :; do
  NOW=$(curl -fs "$ROOT/api/tasks/$ID")
  KB=$(rss); [ "$KB" -gt "$PEAK_KB" ] && PEAK_KB=$KB
  python3 -c 'import json,sys; sys.exit(0 if json.loads(sys.argv[1])["status"] != "running" else 1)' "$NOW" && break
  sleep 0.5
done
END=$(date +%s.%N)
echo "task: $NOW"
python3 - "$START" "$END" "$N" "$IDLE_KB" "$PEAK_KB" <<'PY'
import sys
start, end, n, idle, peak = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
took = end - start
print(f"retried {n} matching failed jobs (of {2*n}) in {took:.1f} s: {n/took:,.0f} jobs/s")
print(f"bullring RSS idle {idle/1024:.1f} MB, peak during the task {peak/1024:.1f} MB (+{(peak-idle)/1024:.1f} MB)")
PY
echo "failed now: $(redis-cli -p "$REDIS_PORT" zcard bull:bench:failed), waiting now: $(redis-cli -p "$REDIS_PORT" llen bull:bench:wait)"
