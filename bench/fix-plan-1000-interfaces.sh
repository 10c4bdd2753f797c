#!/usr/bin/env bash
# Benchmark: the cost of `nodecheck fix`'s plan on a network namespace with ~1,000 interfaces (one veth
# per pod), next to `nodecheck check` on the same namespace. The plan is made against a scratch --root
# (fstab with a swap entry, a daemon.json), so nothing on this host is written; --check changes nothing.
# Rows: gather + judge + plan (live), plan from a saved snapshot (judging and planning only), and the
# same check for comparison; peak memory from /usr/bin/time.
# fix --check exits 3 when changes are pending, so failures are ignored.
# Needs root and iproute2; uses hyperfine when installed. Usage: bench/fix-plan-1000-interfaces.sh [PAIRS...]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/busy-netns.sh
cargo build --release --quiet
bin="$PWD/target/release/nodecheck"
pairs_list=("$@")
[ $# -eq 0 ] && pairs_list=(500)

root=$(mktemp -d)
mkdir -p "$root/etc/docker"
printf 'UUID=1 / ext4 defaults 0 1\n/swap.img none swap sw 0 0\n' > "$root/etc/fstab"
printf '{"log-driver": "json-file", "bip": "192.168.0.1/24"}\n' > "$root/etc/docker/daemon.json"
profile=$(mktemp --suffix=.yaml)
# The pods' 192.168.0.0/16 is the pod CIDR, so the daemon.json bip clashes and Docker's change is planned.
printf 'node_network:\n  cidrs: [10.20.41.0/24]\n  nic:\n    name: node0\npod_cidrs: [192.168.0.0/16]\nservice_cidrs: [10.96.0.0/12]\n' > "$profile"

for pairs in "${pairs_list[@]}"; do
  ns="nc-bench-fix-$$-$pairs"
  trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$root" "$profile"' EXIT
  busy_netns "$ns" "$pairs"
  snapshot=$(mktemp --suffix=.json)
  ip netns exec "$ns" "$bin" facts > "$snapshot"
  echo "-- the plan:"
  "$bin" fix --facts "$snapshot" --profile "$profile" --root "$root" | head -20 || true
  if command -v hyperfine >/dev/null; then
    hyperfine --warmup 3 --runs 20 -N --ignore-failure \
      "ip netns exec $ns $bin check --profile $profile --format json" \
      "ip netns exec $ns $bin fix --profile $profile --root $root --format json" \
      "$bin check --facts $snapshot --profile $profile --format json" \
      "$bin fix --facts $snapshot --profile $profile --root $root --format json" \
      "$bin fix --facts $snapshot --profile $profile --root $root --diff"
  fi
  for cmd in "ip netns exec $ns $bin fix --profile $profile --root $root --format json" \
             "$bin fix --facts $snapshot --profile $profile --root $root --format json"; do
    /usr/bin/time -f "peak RSS %M KiB, %e s: $cmd" $cmd > /dev/null || true
  done
  rm -f "$snapshot"
  ip netns del "$ns"
  trap 'rm -rf "$root" "$profile"' EXIT
done
