#!/usr/bin/env bash
# Peer parity at fleet scale. Generates fleets of 1,000 / 10,000 / 50,000 peer snapshots (each a
# busy worker: 20 pod interfaces, ~18 KiB of JSON) and the same fleets as one `kubectl get nodes -o
# json` list, then times `nodecheck check --facts this.json --peers X --format json` (release build)
# on each: elapsed and CPU seconds, peak RSS, and the cost per peer, to show the cost is linear.
# The `peer_phases` example splits the same run in-process: loading the peers, the parity and
# uniqueness checks alone, and all checks (other areas, such as the Calico model, also visit every
# peer). Each run is repeated (RUNS, default 3) and the fastest kept; the load average is printed,
# because on a shared machine elapsed time says as much about the neighbours as about nodecheck.
#
# Environment: SIZES="1000 10000 50000"  PODS=20  RUNS=3  WORK=<dir, kept>  (default: a temp dir,
# removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000 10000 50000"}
PODS=${PODS:-20}
RUNS=${RUNS:-3}
if [[ -n "${WORK:-}" ]]; then
    keep=1
else
    keep=0
    WORK=$(mktemp -d /tmp/nodecheck-bench-peers.XXXXXX)
fi
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

if ! [[ -x /usr/bin/time ]]; then
    apt-get install -y time >/dev/null
fi
cargo build --release --quiet --bin nodecheck --example gen_peers --example peer_phases
nodecheck=target/release/nodecheck

# Runs nodecheck RUNS times; prints the fastest run's "elapsed user sys maxrss_kib".
measure() {
    local best="" line
    for _ in $(seq "$RUNS"); do
        local status=0
        /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$nodecheck" "$@" >"$WORK/report.json" 2>"$WORK/stderr" || status=$?
        # 0: nothing failed, 3: some check failed; both mean the run worked.
        if [[ $status != 0 && $status != 3 ]]; then
            echo "nodecheck exited $status:" >&2
            cat "$WORK/stderr" >&2
            exit 1
        fi
        line=$(tail -n 1 "$WORK/time")
        if [[ -z $best ]] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best=$line
        fi
    done
    echo "$best"
}

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $RUNS runs each, fastest kept"
# Runs peer_phases RUNS times; prints the fastest run's "load_s parity_s all_checks_s".
phases() {
    local best="" line
    for _ in $(seq "$RUNS"); do
        line=$(target/release/examples/peer_phases "$@")
        line=${line% *}
        if [[ -z $best ]] || awk -v a="${line%% *}" -v b="${best%% *}" 'BEGIN { exit !(a < b) }'; then
            best=$line
        fi
    done
    echo "$best"
}

printf '%-7s %-9s | %9s %7s %7s %8s %8s | %7s %8s %8s | %6s\n' \
    peers source elapsed_s user_s sys_s rss_MiB us/peer load_s parity_s checks_s in_MiB
for n in $SIZES; do
    dir=$WORK/$n
    if ! [[ -f $dir/nodes.json ]]; then
        target/release/examples/gen_peers "$dir" "$n" --pods "$PODS" --kubectl
    fi
    for source in snapshots kubectl; do
        if [[ $source == snapshots ]]; then input=$dir/peers; else input=$dir/nodes.json; fi
        cat "$input" >/dev/null 2>&1 || find "$input" -type f -exec cat {} + >/dev/null
        read -r elapsed user sys rss < <(measure check --facts "$dir/this.json" --peers "$input" --format json)
        peers=$(jq '.results[] | select(.id == "Peers-Input") | .evidence.peers' "$WORK/report.json")
        if [[ $peers != "$n" ]]; then
            echo "expected $n peers from $input, the report says $peers" >&2
            exit 1
        fi
        size=$(du -sm "$input" | cut -f1)
        read -r load parity checks < <(phases "$dir/this.json" "$input")
        awk -v n="$n" -v s="$source" -v e="$elapsed" -v u="$user" -v y="$sys" -v r="$rss" -v m="$size" \
            -v l="$load" -v p="$parity" -v c="$checks" \
            'BEGIN { printf "%-7d %-9s | %9.2f %7.2f %7.2f %8.0f %8.1f | %7.3f %8.3f %8.3f | %6d\n", n, s, e, u, y, r / 1024, e * 1e6 / n, l, p, c, m }'
    done
done
