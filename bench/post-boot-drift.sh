#!/usr/bin/env bash
# Times `check --phase post-boot` (post-join checks plus drift) judging saved snapshots of a busy
# node: N cali*/veth interfaces with addresses and N Calico routes, against a baseline of the same
# node. Usage: bench/post-boot-drift.sh [N ...]   (default: 100 1000 5000). Needs python3, cargo.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/nodecheck
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in "${@:-100 1000 5000}"; do
  for count in $n; do
    python3 - "$count" "$work" <<'PY'
import json, sys, copy
n, work = int(sys.argv[1]), sys.argv[2]
base = json.load(open("tests/fixtures/postboot/worker-41-baseline.json"))
template = base["interfaces"][1]
for i in range(n):
    iface = copy.deepcopy(template)
    iface.update(index=100 + i, name=f"cali{i:011x}", kind="veth", physical=None,
                 mac=f"ee:ee:ee:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}", permanent_mac=None)
    iface["addresses"] = [dict(template["addresses"][1], address=f"fe80::ecee:eeff:fe{i >> 8 & 255:02x}:{i & 255:02x}")]
    base["interfaces"].append(iface)
    base["routes"].append({"family": "ipv4", "destination": f"10.{i >> 8 & 255}.{i & 255}.0/26",
        "gateway": f"10.20.{41 + i // 250}.{i % 250 + 1}", "device": "tunl0", "protocol": "bird",
        "route_type": "unicast", "scope": "universe", "metric": None, "preferred_source": None, "nexthops": []})
now = copy.deepcopy(base)
now["interfaces"][1]["name"] = "ens192"
json.dump(base, open(f"{work}/baseline.json", "w"))
json.dump(now, open(f"{work}/now.json", "w"))
PY
    runs=20
    start=$(date +%s%N)
    for _ in $(seq $runs); do
      "$bin" check --phase post-boot --facts "$work/now.json" --baseline "$work/baseline.json" \
        --format json >/dev/null || [ $? -eq 3 ]
    done
    end=$(date +%s%N)
    echo "interfaces=$((count + 4)) routes=$((count + 6)): $(( (end - start) / runs / 1000 )) µs per post-boot check (mean of $runs, snapshot parsing included)"
  done
done
