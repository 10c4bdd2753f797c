#!/bin/sh
# Times `nodecheck calico` on a busy node: a snapshot with N interfaces (one node NIC, docker0, a compose
# bridge, and N-4 cali* veths as on a node with N pods), and optionally P peer snapshots.
# Usage: bench/calico.sh [N=1000] [P=0] [RUNS=5]   (uses target/release/nodecheck; build it first)
set -eu
N=${1:-1000}
P=${2:-0}
RUNS=${3:-5}
BIN=${NODECHECK:-target/release/nodecheck}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 - "$N" "$P" "$WORK" <<'PY'
import json, sys, copy
n, p, work = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
base = json.load(open("tests/fixtures/incident/worker-41.json"))
keep = [i for i in base["interfaces"] if i["name"] in ("lo", "ens192", "docker0", "br-3f2a1b4c5d6e")]
ifaces = list(keep)
for k in range(len(keep), n):
    ifaces.append({"index": 100 + k, "name": f"cali{k:011x}", "altnames": [], "kind": "veth",
                   "physical": None, "mac": "ee:ee:ee:ee:ee:ee", "permanent_mac": None, "admin_up": True,
                   "operstate": "up", "carrier": True, "mtu": 1450, "master": None, "ipv6_disabled": False,
                   "addresses": [{"family": "ipv6", "address": f"fe80::ecee:eeff:feee:{k % 65536:x}",
                                  "prefix_len": 64, "scope": "link", "flags": []}]})
base["interfaces"] = ifaces
json.dump(base, open(f"{work}/node.json", "w"))
import os
os.makedirs(f"{work}/peers", exist_ok=True)
for j in range(p):
    peer = copy.deepcopy(base)
    peer["host"]["hostname"] = f"worker-{j}"
    for i in peer["interfaces"]:
        for a in i["addresses"]:
            if a["address"] == "10.20.41.41":
                a["address"] = f"10.20.{42 + j // 250}.{j % 250 + 1}"
    json.dump(peer, open(f"{work}/peers/worker-{j}.json", "w"))
PY

PEERS=""
[ "$P" -gt 0 ] && PEERS="--peers $WORK/peers"
echo "nodecheck calico on $N interfaces, $P peers, $RUNS runs (format json)"
for i in $(seq "$RUNS"); do
    /usr/bin/time -f "%e s  %M KiB max RSS" "$BIN" calico --facts "$WORK/node.json" $PEERS \
        --profile profiles/incident-cluster.yaml --format "${FORMAT:-json}" >/dev/null || true
done
echo "nodecheck check on the same snapshot"
/usr/bin/time -f "%e s  %M KiB max RSS" "$BIN" check --facts "$WORK/node.json" \
    --profile profiles/incident-cluster.yaml --format json >/dev/null || true
