#!/usr/bin/env bash
# Search benchmark (issue 15): N small completed jobs (default 1,000,000) in a private
# redis-server, then
#   1. one search request allowed to scan them all (a query matching nothing): jobs per second;
#   2. a probe's Redis round trip (PING, its own connection) p99 while a search and an export run;
#   3. bullring's RSS during an export of every job, over its RSS when idle;
#   4. what users do today: a Node script with getJobs(['completed'], 0, -1) and a filter in
#      memory (bullmq 6 from tests/node): its time and peak RSS.
# Not a test, not part of tests/run.
#
#   bash bench/search.sh            # N=1000000
#   N=100000 bash bench/search.sh   # a quick try
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-1000000}
# shellcheck source=bench/lib.sh
source bench/lib.sh
bench_setup bench/search.sh
start_redis

echo "seeding $N completed jobs ..."
python3 - "$N" <<'PY' | redis-cli -p "$REDIS_PORT" --pipe >/dev/null
import sys
sys.path.insert(0, "bench")
from resp import cmd
n = int(sys.argv[1])
cmd("HSET", "bull:bench:meta", "opts.maxLenEvents", 10000, "version", "bullmq:6.7.0")
base = 1_790_000_000_000
for i in range(1, n + 1):
    t = base + i * 10
    cmd("HSET", f"bull:bench:{i}", "name", "send-email" if i % 2 else "resize",
        "data", '{"user":{"id":%d},"to":"u%d@example.com"}' % (i % 1000, i),
        "opts", '{"attempts":1}', "timestamp", t, "processedOn", t + 1, "finishedOn", t + 5,
        "atm", 1, "returnvalue", '{"status":200}')
    cmd("ZADD", "bull:bench:completed", t + 5, i)
cmd("SET", "bull:bench:id", n)
PY
redis-cli -p "$REDIS_PORT" zcard bull:bench:completed

start_bullring bull --live-interval-ms 0 --search-max-jobs "$N" --search-max-ms 600000
API="$BASE/api/queues/bench"
until curl -fs "$API/search?state=completed&q=id:1" | grep -q '"id":"1"'; do sleep 0.2; done
IDLE_KB=$(rss)

# The probe: PING on its own connection every 2 ms, each round trip timed, until told to stop.
probe() {
  python3 - "$REDIS_PORT" "$WORK/stop" <<'PY'
import os, socket, sys, time
port, stop = int(sys.argv[1]), sys.argv[2]
s = socket.create_connection(("127.0.0.1", port))
samples = []
while not os.path.exists(stop):
    t = time.perf_counter()
    s.sendall(b"PING\r\n")
    buf = b""
    while not buf.endswith(b"\r\n"):
        buf += s.recv(64)
    samples.append((time.perf_counter() - t) * 1000)
    time.sleep(0.002)
samples.sort()
p = lambda q: samples[min(len(samples) - 1, int(q * len(samples)))]
print(f"{len(samples)} {p(0.5):.3f} {p(0.99):.3f} {samples[-1]:.3f}")
PY
}

# 1. One search over every job (nothing matches: every job's name is read).
START=$(date +%s.%N)
curl -fs "$API/search?state=completed&q=name:nothing" >"$WORK/search.json"
END=$(date +%s.%N)
SCANNED=$(python3 -c "import json;print(json.load(open('$WORK/search.json'))['scanned'])")
SEARCH_S=$(echo "$END - $START" | bc -l)

# 2 and 3. A search and an export at once, the probe timing PING, RSS sampled.
rm -f "$WORK/stop"
probe >"$WORK/probe.txt" &
PROBE_PID=$!
( while [ ! -e "$WORK/stop" ]; do rss; sleep 0.05; done ) >"$WORK/rss.txt" &
SAMPLER_PID=$!
curl -fs "$API/search?state=completed&q=data:nothing" >/dev/null &
SEARCH_PID=$!
START=$(date +%s.%N)
curl -fs "$API/export?state=completed" -o "$WORK/export.ndjson"
END=$(date +%s.%N)
wait "$SEARCH_PID"
touch "$WORK/stop"
wait "$PROBE_PID" "$SAMPLER_PID"
EXPORT_S=$(echo "$END - $START" | bc -l)
EXPORTED=$(wc -l <"$WORK/export.ndjson")
PEAK_KB=$(sort -n "$WORK/rss.txt" | tail -1)
read -r PINGS P50 P99 PMAX <"$WORK/probe.txt"

# 4. What users do today, in Node.
NODE_OUT=$( cd tests/node && /usr/bin/time -f "%e %M" node -e "
const { Queue } = require('bullmq6');
(async () => {
  const q = new Queue('bench', { connection: { host: '127.0.0.1', port: $REDIS_PORT } });
  const jobs = await q.getJobs(['completed'], 0, -1);
  const found = jobs.filter((j) => j && j.name === 'nothing');
  console.log(jobs.length, found.length);
  await q.close();
})();" 2>&1 | tail -2 | tr '\n' ' ' ) || NODE_OUT="failed: $NODE_OUT"

echo
echo "jobs: $N completed"
printf 'search (name:nothing): scanned %s in %.2f s = %.0f jobs/s\n' "$SCANNED" "$SEARCH_S" "$(echo "$SCANNED / $SEARCH_S" | bc -l)"
printf 'export: %s lines in %.2f s; bullring RSS idle %d KB, peak during export and search %d KB (+%d KB)\n' \
  "$EXPORTED" "$EXPORT_S" "$IDLE_KB" "$PEAK_KB" "$((PEAK_KB - IDLE_KB))"
echo "probe PING while a search and an export ran: $PINGS round trips, p50 $P50 ms, p99 $P99 ms, max $PMAX ms"
echo "node getJobs(['completed'], 0, -1) + filter: loaded, matched, seconds, peak RSS KB: $NODE_OUT"
