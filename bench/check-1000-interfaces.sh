#!/usr/bin/env bash
# Benchmark: live `nodecheck check` and `facts` on a network namespace with ~1,000 interfaces (a busy
# node: one veth per pod) against `ip -j -d addr show` there, with the shipped static musl binary and
# the glibc build in one paired run. Budgets: check within 1.5x of ip, facts within 1.0x, linear in
# interfaces. check exits 3 here (no container runtime in the namespace), so failures are ignored.
#
# The namespace has no /etc/netns entry, so it sees the host's /etc/hosts, nsswitch.conf and
# resolv.conf; its default route leads to a gateway that never answers, so a DNS query would wait.
#
# A last hyperfine run times the musl `facts` with and without the namespace's default route: without
# it no link is asked for its offload features (ethtool netlink), so the difference is what those
# reads cost (one link here, eth3).
#
# Needs root, iproute2, hyperfine and jq. Usage: bench/check-1000-interfaces.sh [PAIRS...]
# Env: NODECHECK_MUSL, NODECHECK_GLIBC = prebuilt binaries (default: both built here).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in ip hyperfine jq; do
  command -v "$tool" >/dev/null || { echo "bench/check-1000-interfaces.sh: $tool is required" >&2; exit 1; }
done
. bench/builds.sh
. bench/busy-netns.sh
shipped_and_glibc_builds
pairs_list=("$@")
[ $# -eq 0 ] && pairs_list=(250 500)

for pairs in "${pairs_list[@]}"; do
  ns="nc-bench-checks-$$-$pairs"
  work=$(mktemp -d)
  trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"' EXIT
  busy_netns "$ns" "$pairs" >/dev/null
  # Let IPv6 link-local addresses appear, as on a live node.
  sleep 2
  count=$(ip -n "$ns" -o link show | wc -l)
  echo "== $count interfaces ($(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  # The judging alone (no gathering): the same host from a saved snapshot.
  ip netns exec "$ns" "$musl" facts > "$work/snapshot.json"
  ip netns exec "$ns" hyperfine --warmup 3 --runs 20 -N --ignore-failure --style basic \
    --export-json "$work/hf.json" \
    "ip -j -d addr show" \
    "$musl check --format json" \
    "$glibc check --format json" \
    "$musl facts" \
    "$glibc facts" \
    "$musl check --facts $work/snapshot.json --format json" \
    "$musl check --facts $work/snapshot.json --format human"
  # Ratios of mean wall times to ip's (the first command).
  jq -r '.results as $r | $r[1:][] |
      "\(.command | sub("^[^ ]*/"; "") | sub(" --facts [^ ]*"; " --facts SNAPSHOT")): \(.mean * 1000 | floor) ms, \(.mean / $r[0].mean * 100 | round / 100)x ip"' \
    "$work/hf.json" |
    paste -d' ' - <(printf '%s\n' "(musl)" "(glibc)" "(musl)" "(glibc)" "(musl)" "(musl)")
  # The route is put back before each run of the first command and removed before each of the second.
  hyperfine --warmup 3 --runs 20 -N --style basic \
    --prepare "ip -n $ns route replace default via 10.20.41.1 dev eth3" \
    --prepare "ip -n $ns route flush exact 0.0.0.0/0" \
    -n "facts (eth3's offloads read)" "ip netns exec $ns $musl facts" \
    -n "facts (no link asked: no default route)" "ip netns exec $ns $musl facts"
  ip netns del "$ns"
  rm -rf "$work"
  trap - EXIT
done
