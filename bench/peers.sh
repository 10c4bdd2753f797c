#!/usr/bin/env bash
# Peer parity at fleet scale, the shipped static musl binary against the glibc build in one paired run.
#
# Generates fleets of 1,000 / 10,000 / 50,000 peer snapshots (bench/gen_peers.rs; PODS pod interfaces
# per worker, default 0: 3 interfaces and 6 routes, about 6.7 KiB of JSON each; PODS=20 makes a busy
# worker of about 18 KiB) and the same fleets as one `kubectl get nodes -o json` list, then runs
# `nodecheck check --facts this.json --peers X --format json` with both builds, alternating musl and
# glibc run by run (RUNS pairs, default 5) so that a change in the machine's load hits both alike.
# Printed per fleet and binary: median elapsed and CPU (user + system) seconds, peak RSS, memory per
# peer, and the median of the per-pair musl/glibc elapsed ratios. The load average is printed too: on a
# shared machine elapsed time says as much about the neighbours as about nodecheck.
#
# The `peer_phases` example (bench/peer_phases.rs, built for the musl target) then splits one run into
# its phases: reading and parsing the peers, the parity checks, the Calico model, all checks, and
# rendering the report.
#
# Environment: SIZES="1000 10000 50000"  PODS=0  RUNS=5  PHASES=1 (0 skips the per-phase split)
#              WORK=<dir, kept>  (default: a temp dir, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."

SIZES=${SIZES:-"1000 10000 50000"}
PODS=${PODS:-0}
RUNS=${RUNS:-5}
PHASES=${PHASES:-1}
MUSL_TARGET=x86_64-unknown-linux-musl
if [[ -n "${WORK:-}" ]]; then
    keep=1
else
    keep=0
    WORK=$(mktemp -d /tmp/nodecheck-bench-peers.XXXXXX)
fi
cleanup() { if [[ $keep == 0 ]]; then rm -rf "$WORK"; fi; }
trap cleanup EXIT

for tool in /usr/bin/time jq; do
    command -v "$tool" >/dev/null || { echo "bench/peers.sh: $tool is required" >&2; exit 1; }
done
cargo build --release --quiet --bin nodecheck
cargo build --release --quiet --target "$MUSL_TARGET" --bin nodecheck
cargo build --quiet --example gen_peers
if [[ $PHASES == 1 ]]; then
    cargo build --release --quiet --target "$MUSL_TARGET" --example peer_phases
fi
musl=target/$MUSL_TARGET/release/nodecheck
glibc=target/release/nodecheck

# Runs one binary once; appends "elapsed cpu peak_kib" to the file $1.
measure_once() {
    local into=$1 bin=$2 status=0
    shift 2
    /usr/bin/time -f "%e %U %S %M" -o "$WORK/time" "$bin" "$@" >"$WORK/report.json" 2>"$WORK/stderr" || status=$?
    # 0: nothing failed, 3: some check failed; both mean the run worked.
    if [[ $status != 0 && $status != 3 ]]; then
        echo "$bin exited $status:" >&2
        cat "$WORK/stderr" >&2
        exit 1
    fi
    tail -n 1 "$WORK/time" | awk '{ print $1, $2 + $3, $4 }' >>"$into"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $RUNS musl/glibc pairs each, medians"
printf '%-7s %-9s %-6s | %9s %7s %8s %8s | %11s\n' \
    peers source libc elapsed_s cpu_s peak_MiB KiB/peer musl/glibc
for n in $SIZES; do
    dir=$WORK/$n
    if ! [[ -f $dir/nodes.json ]]; then
        target/debug/examples/gen_peers "$dir" "$n" --pods "$PODS" --kubectl
    fi
    for source in snapshots kubectl; do
        if [[ $source == snapshots ]]; then input=$dir/peers; else input=$dir/nodes.json; fi
        args=(check --facts "$dir/this.json" --peers "$input" --format json)
        rm -f "$WORK/musl" "$WORK/glibc"
        # One warm-up run each, so both find the files in the page cache.
        "$musl" "${args[@]}" >/dev/null 2>&1 || true
        "$glibc" "${args[@]}" >/dev/null 2>&1 || true
        for _ in $(seq "$RUNS"); do
            measure_once "$WORK/musl" "$musl" "${args[@]}"
            measure_once "$WORK/glibc" "$glibc" "${args[@]}"
        done
        peers=$(jq '.results[] | select(.id == "Peers-Input") | .evidence.peers' "$WORK/report.json")
        if [[ $peers != "$n" ]]; then
            echo "expected $n peers from $input, the report says $peers" >&2
            exit 1
        fi
        ratio=$(paste -d' ' "$WORK/musl" "$WORK/glibc" | awk '{ print $1 / $4 }' | median)
        for libc in musl glibc; do
            elapsed=$(cut -d' ' -f1 "$WORK/$libc" | median)
            cpu=$(cut -d' ' -f2 "$WORK/$libc" | median)
            peak=$(cut -d' ' -f3 "$WORK/$libc" | median)
            shown_ratio=$([[ $libc == musl ]] && echo "$ratio" || echo "")
            awk -v n="$n" -v s="$source" -v l="$libc" -v e="$elapsed" -v c="$cpu" -v p="$peak" -v r="$shown_ratio" \
                'BEGIN { printf "%-7d %-9s %-6s | %9.2f %7.2f %8.1f %8.2f | %11s\n", n, s, l, e, c, p / 1024, p / n, (r == "" ? "" : sprintf("%.2f", r)) }'
        done
    done
done

if [[ $PHASES == 1 ]]; then
    echo
    echo "phases of one check run, musl build, in seconds (peak memory in MiB after loading the peers and at the end)"
    printf '%-7s %-9s | %7s %8s %8s %8s %8s | %9s %8s\n' peers source load parity calico checks render load_MiB peak_MiB
    for n in $SIZES; do
        for source in snapshots kubectl; do
            if [[ $source == snapshots ]]; then input=$WORK/$n/peers; else input=$WORK/$n/nodes.json; fi
            read -r load parity calico checks render _ load_peak peak < \
                <(target/$MUSL_TARGET/release/examples/peer_phases "$WORK/$n/this.json" "$input")
            awk -v n="$n" -v s="$source" -v a="$load" -v b="$parity" -v c="$calico" -v d="$checks" -v e="$render" \
                -v lp="$load_peak" -v p="$peak" \
                'BEGIN { printf "%-7d %-9s | %7.3f %8.3f %8.3f %8.3f %8.3f | %9.1f %8.1f\n", n, s, a, b, c, d, e, lp / 1024, p / 1024 }'
        done
    done
fi
