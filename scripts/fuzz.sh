#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a short fixed time each (CI), or longer when asked:
#
#   bash scripts/fuzz.sh                 # each target 8 s (what scripts/test.sh runs)
#   bash scripts/fuzz.sh 600             # each target 10 minutes
#   bash scripts/fuzz.sh 600 go_regexp   # one target
#
# Targets are built once (release, debug assertions on, no sanitizer: the parsers are safe Rust, and
# overflow checks plus panics are what a fuzzer finds there), then each runs from its seed corpus in
# fuzz/seeds/TARGET. What a run discovers goes to fuzz/corpus/TARGET (ignored by git); a crash or a
# slow input is saved under fuzz/artifacts/TARGET and fails this script. Needs `cargo +nightly` and
# cargo-fuzz (scripts/setup-test-env.sh installs cargo-fuzz). docs/fuzzing.md has the rest.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

SECONDS_PER_TARGET=${1:-8}
shift || true
if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

BUILD_FLAGS=(--release --debug-assertions --sanitizer none)
cargo +nightly fuzz build "${BUILD_FLAGS[@]}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
    mkdir -p "corpus/$target"
    printf '==> fuzzing %s for %ss\n' "$target" "$SECONDS_PER_TARGET"
    # -timeout: one input taking longer than 10 s is a finding (unbounded work), not a slow machine.
    status=0
    cargo +nightly fuzz run "${BUILD_FLAGS[@]}" "$target" "corpus/$target" "seeds/$target" -- \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
    if ((status != 0)); then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed; the input is under fuzz/artifacts/$target" >&2
        exit 1
    fi
done
