#!/usr/bin/env bash
# Times `nodecheck facts --format json` against `ip -j -d addr show` in network namespaces holding N
# interfaces shaped like a busy Kubernetes node: host-side cali* veths with a /32 each, their peers,
# and a bridge with an address every tenth device. The shipped static musl binary and the glibc build
# run in one paired hyperfine call. Prints, per build, mean wall times, their ratio (budget: 1.0x),
# mean CPU (user + system) times, and peak RSS.
#
# Usage: sudo bench/facts.sh [N ...]        (default: 100 1000 5000; needs root, iproute2, hyperfine, jq)
# Env:   NODECHECK_MUSL, NODECHECK_GLIBC = prebuilt binaries (default: both built here)
set -euo pipefail

cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000)
. bench/builds.sh
shipped_and_glibc_builds
for tool in ip hyperfine /usr/bin/time jq; do
    command -v "$tool" >/dev/null || { echo "bench/facts.sh: $tool is required" >&2; exit 1; }
done
echo "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

ns_prefix="nc-bench-facts-$$"
work=$(mktemp -d)
cleanup() {
    for n in "${sizes[@]}"; do ip netns del "$ns_prefix-$n" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Writes an `ip -batch` file that creates about N interfaces in namespace $2.
make_batch() {
    local n=$1 ns=$2 file=$3 made=0 i=0
    : >"$file"
    while [ "$made" -lt "$n" ]; do
        local a=$((i / 250 % 250)) b=$((i % 250 + 1))
        if [ $((i % 10)) -eq 0 ]; then
            printf 'link add br%05d type bridge\naddr add 10.%d.%d.1/24 dev br%05d\nlink set br%05d up\n' \
                "$i" $((100 + a)) "$b" "$i" "$i" >>"$file"
            made=$((made + 1))
        else
            printf 'link add cali%011x type veth peer name eth%05d\n' "$i" "$i" >>"$file"
            printf 'addr add 10.%d.%d.%d/32 dev cali%011x\n' $((a % 100)) "$b" $((i % 200 + 1)) "$i" >>"$file"
            printf 'link set cali%011x up\nlink set eth%05d up\n' "$i" "$i" >>"$file"
            made=$((made + 2))
        fi
        i=$((i + 1))
    done
}

peak_rss_kib() {
    local ns=$1; shift
    ip netns exec "$ns" /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F: '/Maximum resident/ {gsub(/ /,"",$2); print $2}'
}

printf '%-10s %-7s %-6s %-13s %-10s %-6s %-15s %-13s %-14s %-9s %-10s\n' \
    interfaces addrs build "nodecheck ms" "ip -d ms" ratio "nodecheck cpu ms" "ip -d cpu ms" "nodecheck KiB" "ip KiB" "json bytes"
for n in "${sizes[@]}"; do
    ns="$ns_prefix-$n"
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    make_batch "$n" "$ns" "$work/batch-$n"
    ip -n "$ns" -batch "$work/batch-$n"
    # Let IPv6 link-local addresses appear, as on a live node.
    sleep 2
    links=$(ip -n "$ns" -o link show 2>/dev/null | wc -l)
    addrs=$(ip -n "$ns" -o addr show 2>/dev/null | wc -l)
    ip netns exec "$ns" hyperfine -N --warmup 3 --min-runs 15 --style none \
        --export-json "$work/hf-$n.json" \
        "ip -j -d addr show" "$musl facts --format json" "$glibc facts --format json" >/dev/null
    theirs=$(jq '.results[0].mean * 1000' "$work/hf-$n.json")
    # user + system time: less disturbed than wall time on a shared machine.
    cpu_theirs=$(jq '(.results[0].user + .results[0].system) * 1000' "$work/hf-$n.json")
    rss_ip=$(peak_rss_kib "$ns" ip -j -d addr show)
    build=1
    for bin in "$musl" "$glibc"; do
        name=musl
        [ "$build" -eq 2 ] && name=glibc
        ours=$(jq ".results[$build].mean * 1000" "$work/hf-$n.json")
        ratio=$(jq -n "$ours / $theirs")
        cpu_ours=$(jq "(.results[$build].user + .results[$build].system) * 1000" "$work/hf-$n.json")
        rss_ours=$(peak_rss_kib "$ns" "$bin" facts --format json)
        bytes=$(ip netns exec "$ns" "$bin" facts --format json | wc -c)
        printf '%-10s %-7s %-6s %-13.1f %-10.1f %-6.2f %-15.1f %-13.1f %-14s %-9s %-10s\n' \
            "$links" "$addrs" "$name" "$ours" "$theirs" "$ratio" "$cpu_ours" "$cpu_theirs" "$rss_ours" "$rss_ip" "$bytes"
        build=$((build + 1))
    done
    ip netns del "$ns"
done
