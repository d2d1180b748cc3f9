#!/usr/bin/env bash
# The side-by-side benchmark of bullring against Bull Board and Node BullMQ (issue "Benchmarks
# side by side with Bull Board and Node BullMQ"). Not a test, not part of tests/run.
#
#   bash bench/run.sh                     # full size (about 15 minutes on 2 cores)
#   SCALE=0.01 DURATION=2 bash bench/run.sh   # a quick try on a small fixture
#
# Needs redis-server, node (20+), npm, wrk (apt-get install -y wrk), python3 and cargo. It installs
# bench/node_modules from bench/package-lock.json (Bull Board, express, bullmq 6), builds the
# release binary, then runs bench/bench.py, which prints the table and writes the JSON
# (bench/results/latest.json unless OUT is set). Settings (environment): see bench/bench.py.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in redis-server node npm wrk python3 cargo; do
  command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool is not installed" >&2; exit 1; }
done
[ -d bench/node_modules/@bull-board/express ] || (cd bench && npm ci --no-audit --no-fund --loglevel=error)
cargo build --release --locked --quiet
exec python3 bench/bench.py
