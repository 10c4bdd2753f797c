#!/usr/bin/env bash
# What running nodecheck as an Ansible module costs over the command line on this host. Module mode
# gathers the facts once for `ansible_facts` and then runs the command itself (`check` gathers again),
# so `check` through the module is expected to cost about one `facts` more than `check` alone.
# Ansible's own overhead (connection, copying the binary) is not measured here.
#
# Usage: bench/ansible-module.sh              (needs hyperfine; root for the full set of facts)
# Env:   NODECHECK=path/to/binary             (default: the static musl build from packaging/build.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${NODECHECK:-target/x86_64-unknown-linux-musl/release/nodecheck}")
[[ -x $bin ]] || { echo "bench/ansible-module.sh: $bin is missing (run packaging/build.sh)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/ansible-module.sh: hyperfine is required" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo '{"command": "facts", "_ansible_check_mode": false}' >"$work/facts-args"
echo '{"command": "check", "_ansible_check_mode": false}' >"$work/check-args"

# -i: `check` exits 3 when a check fails, which is a verdict, not an error.
hyperfine --warmup 3 --min-runs 30 -N -i \
    -n "facts (CLI)" "$bin facts --format json" \
    -n "facts (module)" "$bin $work/facts-args" \
    -n "check (CLI)" "$bin check --format json" \
    -n "check (module)" "$bin $work/check-args"
