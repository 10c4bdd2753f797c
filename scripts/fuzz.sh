#!/usr/bin/env bash
# Runs every fuzz target in fuzz/ for a fixed time each: short in CI (scripts/test.sh), longer by hand.
#
#   bash scripts/fuzz.sh                       # each target 8 s, corpus kept in fuzz/corpus/TARGET
#   bash scripts/fuzz.sh 600                   # each target 10 minutes
#   bash scripts/fuzz.sh 600 go_regexp peers   # only these targets
#   bash scripts/fuzz.sh --scratch 10          # what CI runs: seeds copied to a scratch directory
#   NODECHECK_FUZZ_TOTAL_SECONDS=120 bash scripts/fuzz.sh --scratch 10
#                                              # at most 120 s of fuzzing in all, shared evenly
#
# All targets are built once, by one `cargo +nightly fuzz build` (release, debug assertions on, no
# sanitizer: the parsers are safe Rust, and overflow checks plus panics are what a fuzzer finds there);
# then each built binary is run directly from fuzz/target/, so nothing is rebuilt per target. Each run
# starts from the seed corpus in fuzz/seeds/TARGET (never written to). What a run discovers goes to
# fuzz/corpus/TARGET (ignored by git), or with --scratch to a temporary directory removed afterwards,
# so a CI run leaves the tree as it was. A crash, a panic or an input slower than 10 s is saved under
# fuzz/artifacts/TARGET (ignored by git), its path is printed, and the script fails.
#
# Needs the nightly toolchain (`cargo +nightly`) and cargo-fuzz (scripts/setup-test-env.sh installs it).
# docs/fuzzing.md has the rest.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

scratch=0
if [[ ${1:-} == --scratch ]]; then
    scratch=1
    shift
fi
SECONDS_PER_TARGET=${1:-8}
shift || true
if (($#)); then
    targets=("$@")
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi

# A total budget (CI sets one) caps the fuzzing time whatever the number of targets: each target gets
# an even share, at most SECONDS_PER_TARGET and at least 3 s.
if [[ -n ${NODECHECK_FUZZ_TOTAL_SECONDS:-} ]]; then
    share=$((NODECHECK_FUZZ_TOTAL_SECONDS / ${#targets[@]}))
    ((share < 3)) && share=3
    ((share < SECONDS_PER_TARGET)) && SECONDS_PER_TARGET=$share
fi

started=$(date +%s)
# The fuzz crate resolves nodecheck's dependencies from nodecheck's own Cargo.lock (so the fuzzed code
# is built from the versions that ship); cargo adds the fuzz-only packages (libfuzzer-sys) to this
# copy, which git ignores, so a run never leaves the tree changed.
cp ../Cargo.lock Cargo.lock
cargo +nightly fuzz build --release --debug-assertions --sanitizer none
built=$(date +%s)
printf '==> built %d fuzz targets in %ss\n' "${#targets[@]}" "$((built - started))"

triple=$(rustc +nightly -vV | sed -n 's/^host: //p')
bin_dir="target/$triple/release"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for target in "${targets[@]}"; do
    binary="$bin_dir/$target"
    [[ -x $binary ]] || { echo "fuzz target $target was not built ($binary)" >&2; exit 1; }
    if ((scratch)); then
        corpus="$work/corpus/$target"
        mkdir -p "$corpus"
        cp -R "seeds/$target/." "$corpus/"
        inputs=("$corpus")
    else
        corpus="corpus/$target"
        mkdir -p "$corpus"
        inputs=("$corpus" "seeds/$target") # new inputs go to the first; the seeds are only read
    fi
    artifacts="artifacts/$target"
    mkdir -p "$artifacts"
    log="$work/$target.log"
    printf '==> fuzzing %s for %ss\n' "$target" "$SECONDS_PER_TARGET"
    # -timeout: one input taking longer than 10 s is a finding (unbounded work), not a slow machine.
    status=0
    "$binary" "${inputs[@]}" -artifact_prefix="$artifacts/" \
        -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        >"$log" 2>&1 || status=$?
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|#[0-9]+ +DONE)' "$log" || true
    if ((status != 0)); then
        tail -n 60 "$log" >&2
        reproducer=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
        echo "fuzz target $target failed; reproducer: fuzz/${reproducer:-$artifacts/ (see the log above)}" >&2
        echo "reproduce with: cd fuzz && $binary ${reproducer:-$artifacts/crash-…}" >&2
        exit 1
    fi
done
printf '==> fuzzed %d targets for %ss each; %ss in all\n' "${#targets[@]}" "$SECONDS_PER_TARGET" \
    "$(($(date +%s) - started))"
