#!/usr/bin/env bash
# Benchmark (not a test, not part of tests/run): "retry all failed" over 100,000 failed jobs of a
# Bull 4 queue, by the release binary of bullring (JSON API) and by Node Bull's own
# `queue.retryJobs()`, each on a queue seeded the same way, with the wall time and peak RSS of
# each.
#
#   bash bench/bull-retry.sh            # N=100000 failed jobs
#   N=20000 bash bench/bull-retry.sh    # smaller
#
# It starts its own redis-server on a free loopback port (no persistence), seeds N failed jobs
# with the real Bull 4 (bench/bull-retry.js), starts `target/release/bullring serve`, calls
#   POST /admin/queues/api/queues/bullring-side/retry-failed
# and reads the server's peak RSS (VmHWM) before and after; then seeds a second queue the same
# way and runs bench/bull-retry.js --step retry (Bull's retryJobs, batches of 1,000) on it.
# Needs redis-server, node (tests/node/node_modules), curl, python3.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
PREFIX=bench

# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup bench/bull-retry.sh
start_redis
for queue in bullring-side node-side; do
  echo "seeding $N failed Bull jobs in $queue ..."
  node bench/bull-retry.js --redis "$REDIS_URL" --prefix "$PREFIX" --queue "$queue" --step seed --failed "$N"
done

start_bullring "$PREFIX"

curl -fs "$BASE/" >/dev/null
curl -fs "$BASE/queues/bullring-side?state=failed" >/dev/null
before=$(hwm)
start=$(date +%s%N)
out=$(curl -fsS -X POST -H 'content-type: application/json' --data '' "$BASE/api/queues/bullring-side/retry-failed")
printf 'bullring retry-failed  %6.2f s  peak RSS %s (%s before)  %s\n' \
  "$(seconds_since "$start")" "$(mb "$(hwm)")" "$(mb "$before")" "$out"

node bench/bull-retry.js --redis "$REDIS_URL" --prefix "$PREFIX" --queue node-side --step retry \
  | python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); print("Node Bull retryJobs    %6.2f s  peak RSS %.1f MB  %s" % (r["seconds"], r["peakRssKb"] / 1024, r["counts"]))'
for queue in bullring-side node-side; do
  redis-cli -p "$REDIS_PORT" eval "return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2])}" 2 \
    "$PREFIX:$queue:wait" "$PREFIX:$queue:failed" \
    | paste -sd' ' | awk -v q="$queue" '{ printf "%s left in Redis: wait %s, failed %s\n", q, $1, $2 }'
done
