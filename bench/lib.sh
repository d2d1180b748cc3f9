# What the benchmarks share (sourced from the repository root by bench/actions.sh,
# bull-retry.sh, search.sh and apply.sh): the tools they need, the release binary (or BIN), a
# scratch directory (WORK), a private redis-server on a free loopback port (no persistence),
# `bullring serve` against it, and its RSS. Everything started is killed, and WORK removed, when
# the script exits. Seeders write Redis commands with bench/resp.py.

# bench_setup NAME: check the tools, build the release binary (unless BIN names another one),
# pick the ports (REDIS_PORT, HTTP_PORT, REDIS_URL, BASE), make WORK and arm the clean-up.
bench_setup() {
  local name=$1 tool
  for tool in redis-server redis-cli node curl python3; do
    command -v "$tool" >/dev/null || { echo "$name: $tool is not installed" >&2; exit 1; }
  done
  [ -d tests/node/node_modules ] || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
  BIN=${BIN:-target/release/bullring}
  [ "$BIN" != target/release/bullring ] || cargo build --release --locked --quiet
  REDIS_PORT=$(free_port)
  HTTP_PORT=$(free_port)
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
  BASE="http://127.0.0.1:$HTTP_PORT/admin/queues"
  WORK=$(mktemp -d)
  pids=()
  trap bench_cleanup EXIT
}

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

bench_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}

# wait_for WHAT SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds, or give up.
wait_for() {
  local what=$1 deadline=$((SECONDS + $2))
  shift 2
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { echo "$what did not start" >&2; exit 1; }
    sleep 0.1
  done
}

start_redis() {
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --loglevel warning >/dev/null &
  pids+=($!)
  wait_for redis-server 15 redis-cli -p "$REDIS_PORT" ping
  echo "machine: $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); $(redis-server --version | cut -d' ' -f1-3)"
}

# start_bullring PREFIX [SERVE FLAGS...]: the binary serving PREFIX; its pid in SERVER.
start_bullring() {
  local prefix=$1
  shift
  RUST_LOG=warn "$BIN" serve --redis-url "$REDIS_URL" --prefix "$prefix" --listen "127.0.0.1:$HTTP_PORT" "$@" &
  SERVER=$!
  pids+=("$SERVER")
  wait_for bullring 30 curl -fs "$BASE/healthz"
}

# The server's peak RSS and its RSS now in kB (VmHWM, VmRSS), and kB written as MB.
hwm() { awk '/^VmHWM/ { print $2 }' "/proc/$SERVER/status"; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$SERVER/status"; }
mb() { awk -v kb="$1" 'BEGIN { printf "%.1f MB", kb / 1024 }'; }

# seconds_since NANOS: the wall time since a `date +%s%N`, in seconds.
seconds_since() { awk -v ns=$(($(date +%s%N) - $1)) 'BEGIN { print ns / 1e9 }'; }
