#!/usr/bin/env bash
# Runs nodecheck's whole test suite on this host: installs what the tests need (Debian packages, the musl
# target, packaging tools, an ansible-core venv), checks formatting and lints, builds the static binary and
# the .deb/.rpm once, runs the unit and integration tests (network namespaces, Docker, dnsmasq, ansible),
# every fuzz target for a short fixed time (nightly toolchain), the fleet-scale memory guard
# (bench/fleet-memory.sh on the static binary) and the package install tests.
#
# Root is needed for the namespace, Docker and dpkg tests; without it they skip with a printed reason.
# NODECHECK_TEST_REQUIRE_ALL=1 (set by CI) turns every such skip into a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

step "setting up the test environment"
bash scripts/setup-test-env.sh

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings

step "static binary and packages"
bash packaging/build.sh

step "unit and integration tests"
cargo test --locked -- --test-threads=2

# Every parser of operator-supplied or network input has a fuzz target (docs/fuzzing.md): all are built
# once on the nightly toolchain, then each runs for a fixed time from a scratch copy of its seeds. A
# crash fails here and names its reproducer.
FUZZ_SECONDS=${NODECHECK_FUZZ_SECONDS:-10}
# The fuzzing part of the step stays within this many seconds however many targets there are.
export NODECHECK_FUZZ_TOTAL_SECONDS=${NODECHECK_FUZZ_TOTAL_SECONDS:-150}
step "fuzzing: every fuzz target for up to ${FUZZ_SECONDS} s from its seeds, ${NODECHECK_FUZZ_TOTAL_SECONDS} s in all (nightly toolchain)"
if ! fuzz_missing=$(cargo +nightly --version 2>&1 >/dev/null) ||
    ! fuzz_missing=$(cargo +nightly fuzz --version 2>&1 >/dev/null); then
    reason="the fuzz step needs the nightly toolchain and cargo-fuzz ($(printf '%s' "$fuzz_missing" | head -n 1)); install them with \`rustup toolchain install nightly\` and scripts/setup-test-env.sh"
    if [[ ${NODECHECK_TEST_REQUIRE_ALL:-} == 1 ]]; then
        echo "FAIL: $reason" >&2
        exit 1
    fi
    echo "SKIP: $reason"
else
    bash scripts/fuzz.sh --scratch "$FUZZ_SECONDS"
fi

# The goal, 64 MiB, is bench/fleet-memory.sh's default limit. The static binary peaked at 53 MiB
# (`check`) and 45 MiB (`calico --format env`) on 2026-12-02 (docs/peers.md); time is only reported.
step "fleet-scale memory: 10,000 peers on the static binary (fails over 64 MiB peak; time is only reported)"
bash bench/fleet-memory.sh

step "package install tests"
bash packaging/test-packages.sh
