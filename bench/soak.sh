#!/usr/bin/env bash
# Soak (issue 14, "Reliability, measured"): the test tests/it/soak.rs at full size on a release
# build. 100 clients for 60 s on pages, the JSON API and event streams while `bullring run` (a
# command worker) and a Node BullMQ worker process jobs added every 10 ms; halfway, Redis (its own
# redis-server, appendonly yes) is killed with kill -9 and restarted from its AOF.
# Pass: every answer 200, or 503 only around Redis's absence; pages work within 2 s of Redis
# returning; every job completed and processed exactly once; the server's RSS at the end within
# 10 % of its RSS after the first second of load. Not part of tests/run.
#
#   bash bench/soak.sh
#   CLIENTS=20 SECS=20 bash bench/soak.sh     # a quicker try
#
# Needs redis-server, node (20+) and cargo; uses tests/node's bullmq (npm ci there first).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in redis-server node cargo; do
  command -v "$tool" >/dev/null || { echo "bench/soak.sh: $tool is not installed" >&2; exit 1; }
done
[ -d tests/node/node_modules/bullmq6 ] || (cd tests/node && npm ci --no-audit --no-fund --loglevel=error)
SOAK_CLIENTS=${CLIENTS:-100} SOAK_SECS=${SECS:-60} SOAK_JOB_GAP_MS=${JOB_GAP_MS:-10} \
  SOAK_RECOVERY_MAX_MS=${RECOVERY_MAX_MS:-2000} SOAK_RSS_TOLERANCE_PCT=${RSS_TOLERANCE_PCT:-10} \
  cargo test --release --locked --test it soak:: -- --nocapture
