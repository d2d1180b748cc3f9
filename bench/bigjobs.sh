#!/usr/bin/env bash
# Big jobs, bounded memory (issue 14, item 5): JOBS waiting jobs of MB megabytes each, then
# PARALLEL requests at once for a 1,000-row page, half as HTML and half as JSON. Then one huge
# job (data, return value and stack trace of HUGE_MB megabytes each) opened PARALLEL times at once,
# half as its page and half as its JSON. Prints each answer's status and time, and the server's
# peak RSS (VmHWM, reset between the two parts). Not a test, not part of tests/run.
#
#   bash bench/bigjobs.sh                   # 300 jobs of 2 MB, 4 parallel pages
#   JOBS=50 MB=1 bash bench/bigjobs.sh      # a quicker try
#   BIN=/path/to/other/bullring bash bench/bigjobs.sh   # another build (default: build this one)
#
# Needs redis-server, node (20+), curl and cargo; uses tests/node's bullmq (npm ci there first)
# and the release binary (built here).
set -euo pipefail
cd "$(dirname "$0")/.."

JOBS=${JOBS:-300}
MB=${MB:-2}
HUGE_MB=${HUGE_MB:-50}
PARALLEL=${PARALLEL:-4}
for tool in redis-server node curl cargo; do
  command -v "$tool" >/dev/null || { echo "bench/bigjobs.sh: $tool is not installed" >&2; exit 1; }
done
[ -d tests/node/node_modules/bullmq6 ] || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
BIN=${BIN:-}
if [ -z "$BIN" ]; then cargo build --release --locked --quiet; BIN=./target/release/bullring; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
work=$(mktemp -d)
redis_port=$(free_port)
http_port=$(free_port)
redis_pid=""
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  [ -n "$redis_pid" ] && kill "$redis_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning \
  --dir "$work" --logfile "$work/redis.log" &
redis_pid=$!
until redis-cli -p "$redis_port" ping >/dev/null 2>&1; do sleep 0.1; done

echo "seeding $JOBS waiting jobs of $MB MB..."
NODE_PATH=tests/node/node_modules REDIS_PORT=$redis_port JOBS=$JOBS MB=$MB HUGE_MB=$HUGE_MB node -e '
const { Queue } = require("bullmq6");
const IORedis = require("ioredis");
(async () => {
  const queue = new Queue("big", { connection: { host: "127.0.0.1", port: +process.env.REDIS_PORT } });
  const blob = "x".repeat(+process.env.MB * 1024 * 1024);
  for (let i = 0; i < +process.env.JOBS; i += 10) {
    const n = Math.min(10, +process.env.JOBS - i);
    await queue.addBulk(Array.from({ length: n }, (_, k) => ({ name: "big", data: { i: i + k, blob } })));
  }
  await queue.close();
  // One huge job: data, return value and stack trace of HUGE_MB each.
  const huge = new Queue("huge", { connection: { host: "127.0.0.1", port: +process.env.REDIS_PORT } });
  const text = "y".repeat(+process.env.HUGE_MB * 1024 * 1024);
  const job = await huge.add("huge", { text });
  const redis = new IORedis({ host: "127.0.0.1", port: +process.env.REDIS_PORT });
  await redis.hset(`bull:huge:${job.id}`, "returnvalue", JSON.stringify({ text }),
    "stacktrace", JSON.stringify([text]), "failedReason", "too big");
  await redis.quit();
  await huge.close();
})().catch((e) => { console.error(e); process.exit(1); });
'

"$BIN" serve --redis-url "redis://127.0.0.1:$redis_port" \
  --listen "127.0.0.1:$http_port" --live-interval-ms 0 >"$work/server.log" 2>&1 &
server_pid=$!
base="http://127.0.0.1:$http_port/admin/queues"
until curl -sf "$base/api/queues" >/dev/null 2>&1; do sleep 0.1; done
# Discovery has found the queue once the API lists it.
until curl -sf "$base/api/queues" | grep -q '"huge"'; do sleep 0.2; done
echo "server RSS before: $(awk '/VmRSS/ {print $2, $3}' /proc/$server_pid/status)"

pids=()
for i in $(seq 1 "$PARALLEL"); do
  if (( i % 2 )); then url="$base/queues/big?state=waiting&per_page=1000"; kind=html
  else url="$base/api/queues/big/jobs?state=waiting&per_page=1000"; kind=json; fi
  curl -s -o "$work/out$i" -w "$kind status %{http_code}, %{size_download} bytes in %{time_total} s\n" \
    "$url" >"$work/timing$i" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
cat "$work"/timing*
echo "server peak RSS (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$server_pid/status)"
echo "server RSS after: $(awk '/VmRSS/ {print $2, $3}' /proc/$server_pid/status)"

# One huge job, opened PARALLEL times at once; the peak is measured from here (clear_refs 5
# resets VmHWM to the current RSS).
echo 5 > /proc/$server_pid/clear_refs
echo "server RSS before the huge job: $(awk '/VmRSS/ {print $2, $3}' /proc/$server_pid/status)"
pids=()
for i in $(seq 1 "$PARALLEL"); do
  if (( i % 2 )); then url="$base/queues/huge/jobs/1"; kind=html
  else url="$base/api/queues/huge/jobs/1"; kind=json; fi
  curl -s -o "$work/huge$i" -w "huge job $kind status %{http_code}, %{size_download} bytes in %{time_total} s\n" \
    "$url" >"$work/hugetiming$i" &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
cat "$work"/hugetiming*
echo "server peak RSS for the huge job (VmHWM): $(awk '/VmHWM/ {print $2, $3}' /proc/$server_pid/status)"
echo "server RSS after: $(awk '/VmRSS/ {print $2, $3}' /proc/$server_pid/status)"
