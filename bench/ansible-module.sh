#!/usr/bin/env bash
# What running nodecheck as an Ansible module costs over the command line on this host. Module mode
# gathers the facts once for `ansible_facts` and then runs the command itself (`check` gathers again),
# so `check` through the module is expected to cost about one `facts` more than `check` alone.
#
# Then Ansible's cost per task on localhost (local connection), for the self-contained binary module
# (`nodecheck`, the binary copied for every task) and for `nodecheck_installed` (a small module that
# runs the node's installed binary; here a copy of NODECHECK at a scratch path): the bytes Ansible
# copies to the node for one task (the files it leaves in its remote temporary directory with
# ANSIBLE_KEEP_REMOTE_FILES=1) and the wall time of one `ansible -m MODULE -a command=facts` run.
#
# Usage: bench/ansible-module.sh              (needs hyperfine; root for the full set of facts)
# Env:   NODECHECK=path/to/binary             (default: the static musl build from packaging/build.sh)
#        ANSIBLE_VENV=path/to/venv            (default: target/ansible-venv, made by the test suite;
#                                              the Ansible part is left out when it has no `ansible`)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${NODECHECK:-target/x86_64-unknown-linux-musl/release/nodecheck}")
[[ -x $bin ]] || { echo "bench/ansible-module.sh: $bin is missing (run packaging/build.sh)" >&2; exit 1; }
command -v hyperfine >/dev/null || { echo "bench/ansible-module.sh: hyperfine is required" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo '{"command": "facts", "_ansible_check_mode": false}' >"$work/facts-args"
echo '{"command": "check", "_ansible_check_mode": false}' >"$work/check-args"

# -i: `check` exits 3 when a check fails, which is a verdict, not an error.
hyperfine --warmup 3 --min-runs 30 -N -i \
    -n "facts (CLI)" "$bin facts --format json" \
    -n "facts (module)" "$bin $work/facts-args" \
    -n "check (CLI)" "$bin check --format json" \
    -n "check (module)" "$bin $work/check-args"

venv=${ANSIBLE_VENV:-target/ansible-venv}
if [[ ! -x $venv/bin/ansible ]]; then
    echo "bench/ansible-module.sh: no $venv/bin/ansible: Ansible's cost per task not measured" >&2
    exit 0
fi
venv=$(realpath "$venv")
mkdir -p "$work/library" "$work/usr-bin"
cp "$bin" "$work/library/nodecheck"
cp packaging/ansible/library/nodecheck_installed.py "$work/library/"
cp "$bin" "$work/usr-bin/nodecheck"
# One task against localhost: ansible_task MODULE ARGS (extra environment from the caller).
ansible_task() {
    "$venv/bin/ansible" localhost -c local -i localhost, -M "$work/library" \
        -e "ansible_python_interpreter=$venv/bin/python3" -m "$1" -a "$2" >/dev/null
}
export ANSIBLE_CONFIG=$work/no-ansible.cfg ANSIBLE_LOCAL_TEMP=$work/tmp-local PYTHONWARNINGS=ignore
binary_args='{"command": "facts"}'
installed_args="{\"command\": \"facts\", \"binary\": \"$work/usr-bin/nodecheck\"}"
for module in nodecheck nodecheck_installed; do
    args=$binary_args
    [[ $module == nodecheck_installed ]] && args=$installed_args
    ANSIBLE_KEEP_REMOTE_FILES=1 ANSIBLE_REMOTE_TEMP=$work/remote-$module ansible_task "$module" "$args"
    bytes=$(find "$work/remote-$module" -type f -printf '%s\n' | awk '{ n += $1 } END { print n }')
    echo "$module: $bytes bytes copied to the node for one task"
done
export -f ansible_task
export venv work
hyperfine --shell bash --warmup 2 --runs 10 \
    -n "ansible -m nodecheck (binary module)" "ansible_task nodecheck '$binary_args'" \
    -n "ansible -m nodecheck_installed" "ansible_task nodecheck_installed '$installed_args'"
