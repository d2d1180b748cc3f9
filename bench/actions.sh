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

for tool in redis-server redis-cli node curl python3; do
  command -v "$tool" >/dev/null || { echo "bench/actions.sh: $tool is not installed" >&2; exit 1; }
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
echo "seeding $N failed + $N completed jobs ..."
node bench/seed-actions.js --redis "$REDIS_URL" --prefix "$PREFIX" --queue "$QUEUE" --failed "$N" --completed "$N"

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

# Warm up as a user would: the overview and the queue page, once.
curl -fs "$BASE/" >/dev/null
curl -fs "$BASE/queues/$QUEUE?state=failed" >/dev/null
before=$(hwm)
echo "bullring peak RSS after start and two pages: $(mb "$before")"

call() {
  local name=$1 path=$2 body=$3 start end out
  start=$(date +%s%N)
  out=$(curl -fsS -X POST -H 'content-type: application/json' --data "$body" "$BASE/api/queues/$QUEUE/$path")
  end=$(date +%s%N)
  printf '%-13s %6.2f s  peak RSS %s  %s\n' "$name" "$(awk -v ns=$((end - start)) 'BEGIN { print ns / 1e9 }')" "$(mb "$(hwm)")" "$out"
}
call retry-failed retry-failed ''
call clean clean '{"state":"completed","grace_ms":3600000,"limit":0}'

after=$(hwm)
echo "bullring peak RSS: before $(mb "$before"), after $(mb "$after")"
redis-cli -p "$REDIS_PORT" eval "return {redis.call('LLEN', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('ZCARD', KEYS[3])}" 3 \
  "$PREFIX:$QUEUE:wait" "$PREFIX:$QUEUE:failed" "$PREFIX:$QUEUE:completed" \
  | paste -sd' ' | awk '{ printf "left in Redis: wait %s, failed %s, completed %s\n", $1, $2, $3 }'
