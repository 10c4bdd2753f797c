#!/usr/bin/env bash
# The fleet-scale memory guard run by scripts/test.sh: generates PEERS (default 10,000) peer snapshots
# (bench/gen_peers.rs with --pods 0: a worker with 3 interfaces and 6 routes, about 6.7 KiB of JSON
# each), then runs the shipped static binary on them once with `check --format json` and once with
# `calico --format env`, then `check` and `addresses` with every address model on (kubelet, Calico,
# flanneld, Cilium, kube-router, Antrea), and reads each run's peak resident memory and times with /usr/bin/time.
#
# Fails (exit 1) when either peak exceeds LIMIT_MIB (default 64). Time is printed, never judged: on a
# shared or busy machine elapsed time says as much about the neighbours as about nodecheck.
#
# Environment: PEERS=10000  LIMIT_MIB=64  NODECHECK=<binary> (default: the static musl release build,
# target/x86_64-unknown-linux-musl/release/nodecheck, which packaging/build.sh makes).
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=${PEERS:-10000}
LIMIT_MIB=${LIMIT_MIB:-64}
bin=${NODECHECK:-target/x86_64-unknown-linux-musl/release/nodecheck}
[[ -x $bin ]] || { echo "fleet-memory.sh: $bin is missing: run packaging/build.sh first" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "fleet-memory.sh: /usr/bin/time is required (Debian package time)" >&2; exit 1; }

# The static build runs jemalloc with the options compiled into it (src/lib.rs): one arena, which the
# limit below counts on. jemalloc prints the options it runs with when asked for its statistics.
if file -b "$bin" | grep -q 'static'; then
    options=$(_RJEM_MALLOC_CONF=stats_print:true "$bin" --version 2>&1 >/dev/null)
    grep -q '^ *opt.narenas: 1$' <<<"$options" || {
        echo "fleet-memory.sh: $bin does not run jemalloc with one arena (src/lib.rs JEMALLOC_OPTIONS)" >&2
        exit 1
    }
fi

work=$(mktemp -d /tmp/nodecheck-fleet-memory.XXXXXX)
trap 'rm -rf "$work"' EXIT
cargo run --quiet --example gen_peers -- "$work" "$PEERS" --pods 0
per_file=$(du -sk "$work/peers" | awk -v n="$PEERS" '{ printf "%.1f", $1 / n }')
echo "$PEERS peer snapshots, $per_file KiB each on disk; limit $LIMIT_MIB MiB peak memory; $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"

failed=0
# Runs nodecheck once; prints "elapsed_s user_s sys_s peak_kib".
run() {
    local status=0
    /usr/bin/time -f "%e %U %S %M" -o "$work/time" "$bin" "$@" >"$work/out" 2>"$work/err" || status=$?
    # 0: nothing failed, 3: a check failed (the generated fleet has outliers on purpose).
    if [[ $status != 0 && $status != 3 ]]; then
        echo "nodecheck $* exited $status:" >&2
        cat "$work/err" >&2
        exit 1
    fi
    tail -n 1 "$work/time"
}
printf '%-42s %9s %7s %7s %9s %10s\n' command elapsed_s user_s sys_s peak_MiB KiB/peer
# Every address model on: kubelet, Calico, flanneld, Cilium, kube-router and Antrea for each node
# (no cluster runs them all; the budget is for the most work a run can be asked for), and their
# consensus.
cat >"$work/every-model.yaml" <<'PROFILE'
cni:
  components: [kubelet, calico, flannel, cilium, kube-router, antrea]
  flannel:
    version: "0.28.0"
  cilium:
    version: "1.18.4"
PROFILE
for command in check calico check-addresses addresses; do
    if [[ $command == check-addresses ]]; then
        read -r elapsed user sys peak < <(run check --profile "$work/every-model.yaml" --facts "$work/this.json" --peers "$work/peers" --format json)
        jq -e '.results[] | select(.id == "Address-Consensus")' "$work/out" >/dev/null || { echo "check with every address model reported no Address-Consensus" >&2; exit 1; }
        label="check --peers (every address model)"
    elif [[ $command == addresses ]]; then
        read -r elapsed user sys peak < <(run addresses --profile "$work/every-model.yaml" --facts "$work/this.json" --peers "$work/peers" --format json)
        nodes=$(jq '.nodes | length' "$work/out")
        [[ $nodes == $((PEERS + 1)) ]] || { echo "addresses showed $nodes nodes, expected $((PEERS + 1))" >&2; exit 1; }
        label="addresses --peers --format json"
    elif [[ $command == check ]]; then
        read -r elapsed user sys peak < <(run check --facts "$work/this.json" --peers "$work/peers" --format json)
        peers=$(jq '.results[] | select(.id == "Peers-Input") | .evidence.peers' "$work/out")
        [[ $peers == "$PEERS" ]] || { echo "expected $PEERS peers, the report says $peers" >&2; exit 1; }
        label="check --peers --format json"
    else
        read -r elapsed user sys peak < <(run calico --facts "$work/this.json" --peers "$work/peers" --format env)
        grep -q '^IP_AUTODETECTION_METHOD=' "$work/out" || { echo "calico --format env printed no method" >&2; exit 1; }
        label="calico --peers --format env"
    fi
    awk -v l="$label" -v e="$elapsed" -v u="$user" -v s="$sys" -v p="$peak" -v n="$PEERS" \
        'BEGIN { printf "%-42s %9.2f %7.2f %7.2f %9.1f %10.2f\n", l, e, u, s, p / 1024, p / n }'
    if (( peak > LIMIT_MIB * 1024 )); then
        echo "FAIL: nodecheck $label on $PEERS peers peaked at $((peak / 1024)) MiB, over the $LIMIT_MIB MiB limit" >&2
        failed=1
    fi
done
exit "$failed"
