#!/usr/bin/env bash
# Run every fuzz target (fuzz/fuzz_targets) for SECONDS each, starting from its corpus in
# fuzz/corpus/<target>: `bash fuzz/run.sh 600` is the ten-minute run the README reports; more
# arguments are build flags (`bash fuzz/run.sh 15 --dev -s none` builds quicker: no
# optimisation, no AddressSanitizer). New inputs go to a temporary directory, so the committed
# corpus only changes when someone minimises a run into it (README, Fuzzing).
# cargo fuzz needs nightly flags: RUSTC_BOOTSTRAP=1 lets the stable toolchain take them.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-15}
shift || true
build_flags=("$@")
[ ${#build_flags[@]} -gt 0 ] || build_flags=(-O)
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
cargo fuzz build "${build_flags[@]}"
found=$(mktemp -d)
trap 'rm -rf "$found"' EXIT
for target in job_hash query config prefix host; do
  mkdir -p "corpus/$target" "$found/$target"
  echo "fuzz: $target for $seconds s"
  cargo fuzz run "${build_flags[@]}" "$target" "$found/$target" "corpus/$target" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 | grep -E '^(stat::number_of_executed_units|stat::new_units_added|#[0-9]+ +DONE)|ERROR|panicked|SUMMARY' || true
  # A crash, timeout or out-of-memory leaves its input in fuzz/artifacts/<target>: fail on any.
  if [ -n "$(ls -A "artifacts/$target" 2>/dev/null)" ]; then
    echo "fuzz: $target found a failing input (fuzz/artifacts/$target)" >&2
    exit 1
  fi
done
