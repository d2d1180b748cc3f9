#!/usr/bin/env bash
# Benchmark (not a test, not part of tests/run): "retry all failed" and "clean" over 100,000 jobs
# each, through the JSON API of the release binary, in bounded memory.
#
#   bash bench/actions.sh            # N=100000 failed + N completed jobs
#   N=20000 bash bench/actions.sh    # smaller
#
# It starts its own redis-server on a free loopback port (no persistence), seeds N failed and N
# completed jobs with the real BullMQ 6 (bench/seed-actions.js), starts `target/release/bullring
# serve` against it, then calls
#   POST /admin/queues/api/queues/bench/retry-failed
#   POST /admin/queues/api/queues/bench/clean {"state":"completed","grace_ms":3600000,"limit":0}
# and prints the server's peak RSS (VmHWM of /proc/<pid>/status) before and after each, with the
# wall time of each call. Needs redis-server, node (tests/node/node_modules), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
PREFIX=bench
QUEUE=bench

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup bench/actions.sh
start_redis
echo "seeding $N failed + $N completed jobs ..."
node bench/seed-actions.js --redis "$REDIS_URL" --prefix "$PREFIX" --queue "$QUEUE" --failed "$N" --completed "$N"

start_bullring "$PREFIX"

# Warm up as a user would: the overview and the queue page, once.
curl -fs "$BASE/" >/dev/null
curl -fs "$BASE/queues/$QUEUE?state=failed" >/dev/null
before=$(hwm)
echo "bullring peak RSS after start and two pages: $(mb "$before")"

call() {
  local name=$1 path=$2 body=$3 start out
  start=$(date +%s%N)
  out=$(curl -fsS -X POST -H 'content-type: application/json' --data "$body" "$BASE/api/queues/$QUEUE/$path")
  printf '%-13s %6.2f s  peak RSS %s  %s\n' "$name" "$(seconds_since "$start")" "$(mb "$(hwm)")" "$out"
}
call retry-failed retry-failed ''
call clean clean '{"state":"completed","grace_ms":3600000,"limit":0}'

after=$(hwm)
echo "bullring peak RSS: before $(mb "$before"), after $(mb "$after")"
redis-cli -p "$REDIS_PORT" eval "return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3])}" 3 \
  "$PREFIX:$QUEUE:wait" "$PREFIX:$QUEUE:failed" "$PREFIX:$QUEUE:completed" \
  | paste -sd' ' | awk '{ printf "left in Redis: wait %s, failed %s, completed %s\n", $1, $2, $3 }'
