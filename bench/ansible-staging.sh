#!/usr/bin/env bash
# What staging the peers costs in packaging/ansible/playbook.yml: PEERS synthetic cluster nodes whose
# snapshots are in a jsonfile fact cache (as when the cluster was gathered earlier), and NEW new nodes
# gated against them. Prints per new node the time of the tasks that stage the peers (templating the
# one JSON Lines file once, the temporary directory, the copy) and of the gate itself, from Ansible's
# profile_tasks callback, and the size of the staged file. The goal: one copy per new node, whatever
# PEERS is (beyond the size of that one file).
#
# The cluster nodes are never contacted (`--limit new_nodes`); the new nodes are this machine through
# the local connection, each staging into its own private temporary directory.
#
# Usage: bench/ansible-staging.sh     Env: PEERS=500 NEW=4 (NEW at most 8, the forks) (pass PEERS="50 500" to compare sizes)
#        NODECHECK=path/to/binary (default: the static musl build from packaging/build.sh)
#        VENV=target/ansible-fleet-venv (the `ansible` package: profile_tasks is in ansible.posix)
set -euo pipefail
cd "$(dirname "$0")/.."

PEERS=${PEERS:-500}
NEW=${NEW:-4}
VENV=${VENV:-target/ansible-fleet-venv}
bin=$(realpath "${NODECHECK:-target/x86_64-unknown-linux-musl/release/nodecheck}")
[[ -x $bin ]] || { echo "bench/ansible-staging.sh: $bin is missing (run packaging/build.sh)" >&2; exit 1; }
[[ -x $VENV/bin/ansible-playbook ]] || {
    echo "bench/ansible-staging.sh: $VENV has no ansible (scripts/setup-test-env.sh makes it)" >&2
    exit 1
}
cargo build --quiet --example gen_peers

for peers in $PEERS; do
    work=$(mktemp -d /tmp/nodecheck-bench-staging.XXXXXX)
    trap 'rm -rf "$work"' EXIT
    mkdir -p "$work/library" "$work/cache"
    cp packaging/ansible/playbook.yml "$work/"
    cp packaging/ansible/library/nodecheck.yml "$work/library/"
    cp "$bin" "$work/library/nodecheck"
    target/debug/examples/gen_peers "$work/fleet" "$peers" --pods 0 >/dev/null
    {
        echo "[cluster]"
        for f in "$work"/fleet/peers/*.json; do echo "$(basename "$f" .json) ansible_connection=local"; done
        echo "[new_nodes]"
        for i in $(seq 1 "$NEW"); do echo "new-$i ansible_connection=local"; done
        echo "[all:vars]"
        echo "ansible_python_interpreter=$(realpath "$VENV")/bin/python3"
    } >"$work/inventory"
    # The cluster's snapshots as Ansible's jsonfile cache holds them after a gather (set_fact with
    # cacheable: true writes the same cache the module's ansible_facts do).
    cat >"$work/seed.yml" <<'YAML'
- hosts: cluster
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        nodecheck: "{{ lookup('file', fleet ~ '/peers/' ~ inventory_hostname ~ '.json') | from_json }}"
        cacheable: true
YAML
    export ANSIBLE_CACHE_PLUGIN=jsonfile ANSIBLE_CACHE_PLUGIN_CONNECTION="$work/cache" ANSIBLE_NOCOLOR=1 \
        ANSIBLE_CONFIG="$work/no-ansible.cfg" ANSIBLE_LOCAL_TEMP="$work/tmp" ANSIBLE_FORKS=8
    "$VENV/bin/ansible-playbook" -i "$work/inventory" "$work/seed.yml" -e "fleet=$work/fleet" >/dev/null

    start=$SECONDS
    ANSIBLE_CALLBACKS_ENABLED=ansible.posix.profile_tasks PROFILE_TASKS_SORT_ORDER=none \
        PROFILE_TASKS_TASK_OUTPUT_LIMIT=all \
        "$VENV/bin/ansible-playbook" -i "$work/inventory" "$work/playbook.yml" --limit new_nodes \
        -e nodecheck_become=false >"$work/run.log" 2>&1 || true
    total=$((SECONDS - start))
    if grep -q "no snapshot of" "$work/run.log" || ! grep -q "^TASK \[Check this node" "$work/run.log"; then
        tail -n 30 "$work/run.log" >&2
        echo "bench/ansible-staging.sh: the gate did not run against every peer (log above)" >&2
        exit 1
    fi
    echo "== $peers cached peers, $NEW new nodes (whole run ${total} s, $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg))"
    size=$(cat "$work"/fleet/peers/*.json | jq -c . | wc -c)
    printf '   staged file: %s KiB (one JSON Lines file per new node)\n' $((size / 1024))
    # profile_tasks prints "TASK NAME ---- 1.23s" lines: a task's wall time, its hosts run in parallel
    # (ANSIBLE_FORKS=8 >= NEW), so about what it costs one new node.
    printf '   %-58s %s\n' "task (wall time, new nodes in parallel)" "seconds"
    grep -E "^(Make a private|Write the peers|Stage the peers|Check this node|Remove the)" \
        "$work/run.log" | sed -E 's/ -+ / /' | while read -r line; do
        printf '   %-58s %s\n' "${line% *}" "${line##* }"
    done
    rm -rf "$work"
    trap - EXIT
done
