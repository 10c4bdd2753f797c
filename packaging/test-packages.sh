#!/usr/bin/env bash
# Installs the .deb built by packaging/build.sh on this machine and checks it the way an operator would
# meet it: the installed binary runs and is static, `man -w` finds the pages, `systemd-analyze verify`
# accepts the installed units (and nothing enabled them), the conffile survives a reinstall, the Ansible
# module's documentation renders; then inspects the .rpm (`rpm -qpl`, `rpm -qp --requires`); then removes
# the .deb and checks that nothing but the conffile is left, and purges it. Last, it runs
# packaging/test-under-systemd.sh: both packages installed in a Debian 12 root under systemd as PID 1.
#
# Needs root, dpkg, rpm, man-db, systemd (systemd-analyze), file; Docker and debootstrap for the systemd
# part. Prints "N passed, M failed" (both parts counted); exits 1 on any failure. Refuses to run when a nodecheck package is already installed (it would remove it).
set -uo pipefail
cd "$(dirname "$0")/.."

DEB=$(ls dist/nodecheck_*_amd64.deb 2>/dev/null | tail -n 1)
RPM=$(ls dist/nodecheck-*.x86_64.rpm 2>/dev/null | tail -n 1)
ANSIBLE_DOC=target/ansible-venv/bin/ansible-doc
UNITS=(nodecheck-post-boot.service nodecheck-post-boot.timer)

passed=0
failed=0
pass() { printf 'ok    %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s\n' "$1"; [[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/      /'; failed=$((failed + 1)); }
# check <description> <command...>: passes when the command succeeds; shows its output when it does not.
check() {
    local description=$1 out
    shift
    if out=$("$@" 2>&1); then pass "$description"; else fail "$description" "$out"; fi
}
die() { printf 'test-packages.sh: error: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "needs root (dpkg -i)"
[[ -n $DEB && -n $RPM ]] || die "no .deb/.rpm in dist/: run packaging/build.sh first"
for tool in dpkg rpm man systemd-analyze file; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup-test-env.sh installs it)"
done
if [[ $(dpkg-query -W -f='${Status}' nodecheck 2>/dev/null) != "" ]] \
    && [[ $(dpkg-query -W -f='${Status}' nodecheck 2>/dev/null) != "unknown ok not-installed" ]]; then
    die "a nodecheck package is already installed here ($(dpkg-query -W -f='${Status}' nodecheck)); remove it first"
fi

# Whatever happens below, leave the machine without the package.
cleanup() {
    if dpkg-query -W -f='${Status}' nodecheck 2>/dev/null | grep -qv 'not-installed'; then
        dpkg -P nodecheck >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

echo "== $DEB"
check "dpkg -i installs the package" dpkg -i "$DEB"
packaged_files=$(dpkg -L nodecheck)

version=$(/usr/bin/nodecheck --version 2>&1)
[[ $version == "nodecheck $(dpkg-query -W -f='${Version}' nodecheck | sed 's/-[^-]*$//')" ]] \
    && pass "/usr/bin/nodecheck --version: $version" || fail "/usr/bin/nodecheck --version" "$version"

facts_out=$(/usr/bin/nodecheck facts --format json 2>&1)
if jq -e '.schema_version and (.interfaces | length > 0)' >/dev/null 2>&1 <<<"$facts_out"; then
    pass "installed nodecheck facts prints a snapshot with interfaces"
else
    fail "installed nodecheck facts prints a snapshot with interfaces" "$(head -c 2000 <<<"$facts_out")"
fi

static_file=$(file -bL /usr/bin/nodecheck)
[[ $static_file == *"statically linked"* || $static_file == *"static-pie linked"* ]] \
    && pass "/usr/bin/nodecheck is static ($static_file)" || fail "/usr/bin/nodecheck is static" "$static_file"
ldd_out=$(ldd /usr/bin/nodecheck 2>&1)
[[ $ldd_out == *"not a dynamic executable"* || $ldd_out == *"statically linked"* ]] \
    && pass "ldd finds no shared libraries" || fail "ldd finds no shared libraries" "$ldd_out"

for page in nodecheck nodecheck-check nodecheck-calico nodecheck-profile-init; do
    check "man -w $page" man -w "$page"
done
man_text=$(MANWIDTH=100 man nodecheck-check 2>/dev/null | sed 's/.\x08//g')
[[ $man_text == *"EXIT STATUS"* && $man_text == *"at least one check failed"* ]] \
    && pass "nodecheck-check(1) documents the exit codes" || fail "nodecheck-check(1) documents the exit codes" "$man_text"

for f in /usr/share/bash-completion/completions/nodecheck /usr/share/zsh/vendor-completions/_nodecheck \
    /usr/share/fish/vendor_completions.d/nodecheck.fish; do
    [[ -s $f ]] && pass "completion $f" || fail "completion $f is missing or empty"
done
check "bash completion defines the nodecheck completion" \
    bash -c 'source /usr/share/bash-completion/completions/nodecheck && complete -p nodecheck'

unit_paths=()
for unit in "${UNITS[@]}"; do unit_paths+=("/lib/systemd/system/$unit"); done
check "systemd-analyze verify ${UNITS[*]}" systemd-analyze verify "${unit_paths[@]}"
enabled=$(find /etc/systemd/system -name 'nodecheck-post-boot.*' 2>/dev/null)
[[ -z $enabled ]] && pass "installing enabled no unit" || fail "installing enabled no unit" "$enabled"

check "/etc/nodecheck/profile.yaml is a conffile" \
    bash -c "dpkg-query -W -f='\${Conffiles}' nodecheck | grep -q '/etc/nodecheck/profile.yaml'"
check "the shipped /etc profile validates" /usr/bin/nodecheck profile validate /etc/nodecheck/profile.yaml
for profile in /usr/share/nodecheck/profiles/*.yaml; do
    check "shipped profile $profile validates" /usr/bin/nodecheck profile validate "$profile"
done

module=/usr/share/nodecheck/ansible/library/nodecheck
[[ $(readlink -f "$module") == /usr/bin/nodecheck ]] \
    && pass "Ansible module $module is /usr/bin/nodecheck" || fail "Ansible module $module is /usr/bin/nodecheck" "$(ls -l "$module" 2>&1)"
if [[ -x $ANSIBLE_DOC ]]; then
    doc=$(ANSIBLE_NOCOLOR=1 "$ANSIBLE_DOC" -M /usr/share/nodecheck/ansible/library nodecheck 2>&1)
    [[ $doc == *"MODULE nodecheck"* && $doc == *"peers"* && $doc == *"RETURN VALUES"* ]] \
        && pass "ansible-doc renders the installed module documentation" \
        || fail "ansible-doc renders the installed module documentation" "$doc"
else
    fail "ansible-doc renders the installed module documentation" "$ANSIBLE_DOC is missing (scripts/setup-test-env.sh makes it)"
fi

# An operator's edit of the conffile survives reinstalling the package.
echo "# edited by the operator" >>/etc/nodecheck/profile.yaml
dpkg -i "$DEB" >/dev/null 2>&1
grep -q "edited by the operator" /etc/nodecheck/profile.yaml \
    && pass "an edited /etc/nodecheck/profile.yaml is kept on reinstall" \
    || fail "an edited /etc/nodecheck/profile.yaml is kept on reinstall"

echo "== $RPM"
rpm_files=$(rpm -qpl "$RPM" 2>&1)
for f in /usr/bin/nodecheck /usr/share/man/man1/nodecheck.1.gz /usr/share/man/man1/nodecheck-check.1.gz \
    /usr/share/bash-completion/completions/nodecheck /usr/share/zsh/site-functions/_nodecheck \
    /usr/share/fish/vendor_completions.d/nodecheck.fish /usr/lib/systemd/system/nodecheck-post-boot.service \
    /usr/lib/systemd/system/nodecheck-post-boot.timer /usr/share/nodecheck/profiles/default.yaml \
    /etc/nodecheck/profile.yaml /usr/share/nodecheck/ansible/library/nodecheck.yml \
    /usr/share/nodecheck/ansible/library/nodecheck /usr/share/nodecheck/ansible/playbook.yml \
    /usr/share/licenses/nodecheck/copyright; do
    grep -qx "$f" <<<"$rpm_files" && pass "rpm -qpl lists $f" || fail "rpm -qpl lists $f" "$rpm_files"
done
config_flags=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" 2>&1 | grep '^/etc/nodecheck/profile.yaml ')
[[ $config_flags == *c*n* ]] \
    && pass "rpm marks /etc/nodecheck/profile.yaml %config(noreplace)" \
    || fail "rpm marks /etc/nodecheck/profile.yaml %config(noreplace)" "$config_flags"
requires=$(rpm -qp --requires "$RPM" 2>&1)
unexpected=$(grep -v -e '^rpmlib(' -e '^/bin/sh$' -e '^config(nodecheck) = ' <<<"$requires")
[[ -z $unexpected ]] && pass "rpm requires nothing but rpmlib() and /bin/sh" \
    || fail "rpm requires nothing but rpmlib() and /bin/sh" "$requires"

echo "== dpkg -r nodecheck"
# The operator enabled the timer (systemctl works on unit files without a running systemd); removing the
# package must not leave enablement symlinks pointing at nothing.
check "systemctl enable nodecheck-post-boot.timer (as an operator would)" systemctl enable nodecheck-post-boot.timer
# The post-boot unit's metrics file, as a run of the unit leaves it (unless node_exporter's is there).
textfile=/var/lib/node_exporter/textfile_collector/nodecheck.prom
made_textfile=""
made_dir=""
[[ -d /var/lib/node_exporter ]] || made_dir=/var/lib/node_exporter
if [[ ! -e $textfile ]]; then
    mkdir -p "$(dirname "$textfile")" && echo 'nodecheck_checks_failed 1' >"$textfile" && made_textfile=yes
fi
check "dpkg -r removes the package" dpkg -r nodecheck
if [[ -n $made_textfile ]]; then
    [[ ! -e $textfile ]] && pass "dpkg -r removes the stale Prometheus textfile" \
        || fail "dpkg -r removes the stale Prometheus textfile" "$textfile is still there"
fi
[[ -n $made_dir ]] && rm -rf "$made_dir"
enabled=$(find /etc/systemd/system -name 'nodecheck-post-boot.*' 2>/dev/null)
[[ -z $enabled ]] && pass "dpkg -r disabled the enabled timer" || fail "dpkg -r disabled the enabled timer" "$enabled"
status=$(dpkg-query -W -f='${Status}' nodecheck 2>&1)
[[ $status == "deinstall ok config-files" ]] \
    && pass "after dpkg -r the status is config-files" || fail "after dpkg -r the status is config-files" "$status"
[[ ! -e /usr/bin/nodecheck ]] && pass "/usr/bin/nodecheck is gone" || fail "/usr/bin/nodecheck is gone"
left=""
while IFS= read -r path; do
    [[ -z $path || $path == /. || -d $path ]] && continue
    [[ -e $path || -L $path ]] && [[ $path != /etc/nodecheck/profile.yaml ]] && left+="$path"$'\n'
done <<<"$packaged_files"
[[ -z $left ]] && pass "nothing but the conffile is left" || fail "nothing but the conffile is left" "$left"
[[ -f /etc/nodecheck/profile.yaml ]] && pass "the conffile is kept by dpkg -r" || fail "the conffile is kept by dpkg -r"

check "dpkg -P purges the package" dpkg -P nodecheck
[[ ! -e /etc/nodecheck ]] && pass "dpkg -P removes /etc/nodecheck" || fail "dpkg -P removes /etc/nodecheck" "$(ls -la /etc/nodecheck 2>&1)"

# The packages on a real init: systemd as PID 1 in a Debian 12 root, the .deb and the .rpm installed there
# and the units exercised (packaging/test-under-systemd.sh; its own count is added to this one's).
echo "== under systemd as PID 1 (packaging/test-under-systemd.sh)"
systemd_started=$SECONDS
systemd_log=$(mktemp)
bash packaging/test-under-systemd.sh 2>&1 | tee "$systemd_log"
systemd_count=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$systemd_log" | tail -n 1)
rm -f "$systemd_log"
if [[ -n $systemd_count ]]; then
    passed=$((passed + ${systemd_count%% passed*}))
    systemd_failed=${systemd_count#*passed, }
    failed=$((failed + ${systemd_failed%% failed}))
else
    fail "packaging/test-under-systemd.sh ran to its count"
fi
echo "   wall time of the systemd PID 1 step: $((SECONDS - systemd_started)) s"

echo
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]] || { echo "test-packages.sh: $failed package check(s) failed" >&2; exit 1; }
