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

for tool in redis-server redis-cli node curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/bull-retry.sh: $tool is not installed" >&2; exit 1; }
done
[ -d tests/node/node_modules ] || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release --locked --quiet
BIN=target/release/bullring

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
REDIS_PORT=$(free_port)
HTTP_PORT=$(free_port)
REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
BASE="http://127.0.0.1:$HTTP_PORT/admin/queues"

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >/dev/null &
pids+=($!)
deadline=$((SECONDS + 15))
until redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { echo "redis-server did not start" >&2; exit 1; }
  sleep 0.1
done

echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $(redis-server --version | cut -d' ' -f1-3)"
for queue in bullring-side node-side; do
  echo "seeding $N failed Bull jobs in $queue ..."
  node bench/bull-retry.js --redis "$REDIS_URL" --prefix "$PREFIX" --queue "$queue" --step seed --failed "$N"
done

RUST_LOG=warn "$BIN" serve --redis-url "$REDIS_URL" --prefix "$PREFIX" --listen "127.0.0.1:$HTTP_PORT" &
SERVER=$!
pids+=($SERVER)
deadline=$((SECONDS + 30))
until curl -fs "$BASE/healthz" >/dev/null 2>&1; do
  [ $SECONDS -lt $deadline ] || { echo "bullring did not start" >&2; exit 1; }
  sleep 0.1
done
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVER/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }

curl -fs "$BASE/" >/dev/null
curl -fs "$BASE/queues/bullring-side?state=failed" >/dev/null
before=$(hwm)
start=$(date +%s%N)
out=$(curl -fsS -X POST -H 'content-type: application/json' --data '' "$BASE/api/queues/bullring-side/retry-failed")
end=$(date +%s%N)
printf 'bullring retry-failed  %6.2f s  peak RSS %s (%s before)  %s\n' \
  "$(awk -v ns=$((end - start)) 'BEGIN { print ns / 1e9 }')" "$(mb "$(hwm)")" "$(mb "$before")" "$out"

node bench/bull-retry.js --redis "$REDIS_URL" --prefix "$PREFIX" --queue node-side --step retry \
  | python3 -c 'import json, sys; r = json.loads(sys.stdin.read()); print("Node Bull retryJobs    %6.2f s  peak RSS %.1f MB  %s" % (r["seconds"], r["peakRssKb"] / 1024, r["counts"]))'
for queue in bullring-side node-side; do
  redis-cli -p "$REDIS_PORT" eval "return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2])}" 2 \
    "$PREFIX:$queue:wait" "$PREFIX:$queue:failed" \
    | paste -sd' ' | awk -v q="$queue" '{ printf "%s left in Redis: wait %s, failed %s\n", q, $1, $2 }'
done
