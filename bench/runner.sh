#!/usr/bin/env bash
# Benchmark (not a test): 20,000 pre-added no-op jobs drained by `bullring run` (handler
# { type = "noop" }) and by Node BullMQ 6's Worker, at concurrency 1, 10 and 100, on the same
# private redis-server. Prints jobs/s (first to last finishedOn) and peak RSS of the worker process.
#
#   bash bench/runner.sh            # needs redis-server, node, tests/node/node_modules (npm ci)
#   JOBS=5000 RUNS=1 bash bench/runner.sh
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-20000}
RUNS=${RUNS:-3}
CONCURRENCIES=${CONCURRENCIES:-"1 10 100"}
for tool in redis-server redis-cli node cargo; do
  command -v "$tool" >/dev/null || { echo "bench/runner.sh: $tool is not installed" >&2; exit 1; }
done
[ -d tests/node/node_modules ] || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release --locked --quiet
BIN=target/release/bullring

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
URL="redis://127.0.0.1:$PORT"
redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning >/dev/null 2>&1 &
REDIS_PID=$!
WORK=$(mktemp -d)
trap 'kill $REDIS_PID 2>/dev/null; rm -rf "$WORK"' EXIT
until redis-cli -p "$PORT" ping >/dev/null 2>&1; do sleep 0.05; done

node_js() { node bench/runner-node.js "$@"; }
field() { node -e "process.stdout.write(String(JSON.parse(process.argv[1])['$1']))" "$2"; }

run_bullring() { # concurrency run -> "jobs/s rss_mb"
  local c=$1 prefix="bb$1r$2" queue=noop
  node_js add --redis "$URL" --prefix "$prefix" --queue $queue --count "$JOBS" >/dev/null
  cat > "$WORK/c.toml" <<TOML
redis_url = "$URL"
prefixes = ["$prefix"]
[[queues]]
name = "$queue"
[[workers]]
queue = "$queue"
concurrency = $c
handler = { type = "noop" }
TOML
  RUST_LOG=warn "$BIN" run --config "$WORK/c.toml" >/dev/null 2>&1 &
  local pid=$!
  local rate
  rate=$(node_js rate --redis "$URL" --prefix "$prefix" --queue $queue --count "$JOBS")
  local hwm
  hwm=$(awk '/VmHWM/ {print $2}' /proc/$pid/status)
  kill -TERM $pid; wait $pid || true
  echo "$(field jobsPerSec "$rate") $((hwm / 1024))"
}

run_node() {
  local c=$1 prefix="nn$1r$2" queue=noop
  node_js add --redis "$URL" --prefix "$prefix" --queue $queue --count "$JOBS" >/dev/null
  node_js work --redis "$URL" --prefix "$prefix" --queue $queue --count "$JOBS" --concurrency "$c" > "$WORK/node.json" &
  local pid=$!
  local rate
  rate=$(node_js rate --redis "$URL" --prefix "$prefix" --queue $queue --count "$JOBS")
  wait $pid
  echo "$(field jobsPerSec "$rate") $(( $(field maxRssKb "$(cat "$WORK/node.json")") / 1024 ))"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "jobs=$JOBS runs=$RUNS (median), redis-server $(redis-server --version | awk '{print $3}'), node $(node --version), $(nproc) cores"
printf '%-10s %-12s %12s %14s\n' worker concurrency "jobs/s" "peak RSS MB"
for c in $CONCURRENCIES; do
  for who in bullring node; do
    rates=(); rss=()
    for r in $(seq 1 "$RUNS"); do
      redis-cli -p "$PORT" flushall >/dev/null
      read -r rate mb < <(run_$who "$c" "$r")
      rates+=("$rate"); rss+=("$mb")
    done
    printf '%-10s %-12s %12s %14s\n' "$who" "$c" \
      "$(printf '%s\n' "${rates[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | sort -n | tail -1)"
  done
done
