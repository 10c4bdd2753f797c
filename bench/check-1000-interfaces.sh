#!/usr/bin/env bash
# Benchmark: `nodecheck check` on a network namespace with ~1,000 interfaces (a busy node: one veth per
# pod) against `ip -j -d addr show` there. Budget (design.md): within 1.5x of ip, linear in interfaces.
# check exits 3 here (no container runtime in the namespace), so failures are ignored.
# The last hyperfine run (with hyperfine only) times `facts` with and without the namespace's default
# route: without it no link is asked for its offload features (ethtool netlink), so the difference is
# what those reads cost (one link here, eth3).
# Needs root and iproute2; uses hyperfine when installed. Usage: bench/check-1000-interfaces.sh [PAIRS...]
# Environment: TARGET=x86_64-unknown-linux-musl measures the static build that ships (default: the
# host's glibc build).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/busy-netns.sh
if [[ -n "${TARGET:-}" ]]; then
  cargo build --release --quiet --target "$TARGET"
  bin="$PWD/target/$TARGET/release/nodecheck"
else
  cargo build --release --quiet
  bin="$PWD/target/release/nodecheck"
fi
pairs_list=("$@")
[ $# -eq 0 ] && pairs_list=(250 500)

for pairs in "${pairs_list[@]}"; do
  ns="nc-bench-checks-$$-$pairs"
  trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
  busy_netns "$ns" "$pairs"
  # The judging alone (no gathering): the same host from a saved snapshot.
  snapshot=$(mktemp --suffix=.json)
  ip netns exec "$ns" "$bin" facts > "$snapshot"
  if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs 20 -N --ignore-failure \
      "ip netns exec $ns ip -j -d addr show" \
      "ip netns exec $ns $bin check --format json" \
      "ip netns exec $ns $bin facts" \
      "$bin check --facts $snapshot --format json" \
      "$bin check --facts $snapshot --format human"
    # The route is put back before each run of the first command and removed before each of the second.
    hyperfine --warmup 3 --runs 20 -N \
      --prepare "ip -n $ns route replace default via 10.20.41.1 dev eth3" \
      --prepare "ip -n $ns route flush exact 0.0.0.0/0" \
      -n "facts (eth3's offloads read)" "ip netns exec $ns $bin facts" \
      -n "facts (no link asked: no default route)" "ip netns exec $ns $bin facts"
  else
    for cmd in "ip -j -d addr show" "$bin check --format json"; do
      start=$(date +%s%N)
      for _ in $(seq 1 20); do ip netns exec "$ns" $cmd >/dev/null || true; done
      end=$(date +%s%N)
      echo "$cmd: $(( (end - start) / 20000000 )) ms per run"
    done
  fi
  rm -f "$snapshot"
  ip netns del "$ns"
  trap - EXIT
done
