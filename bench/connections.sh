#!/usr/bin/env bash
# The overview of 3 Redis connections x 1,000 queues (see bench/connections.py). Not a test.
#   bash bench/connections.sh            # QUEUES=1000 REQUESTS=30 by default
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in redis-server redis-cli python3 cargo; do
  command -v "$tool" >/dev/null || { echo "bench/connections.sh: $tool is not installed" >&2; exit 1; }
done
cargo build --release --locked --quiet
exec python3 bench/connections.py
