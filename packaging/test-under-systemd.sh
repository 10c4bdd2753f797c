#!/usr/bin/env bash
# Proves the packages on a real init: a minimal Debian 12 root (debootstrap, from the Debian mirror this
# machine's apt uses) booted with systemd as PID 1 in a Docker container. Nothing is pulled: the root is
# imported as a local image (`docker import`).
#
# In one container the .deb is installed with apt and the hardened units run for real:
#   - installing enables nothing; `systemctl start nodecheck-post-boot.service` gives the documented exit
#     status (3 when a check failed, 0 when none did, 2 on bad input) and /run/nodecheck/report.json;
#   - every warning and failure in the report is one journal line with its syslog priority;
#   - after `nodecheck baseline record` the service runs the drift checks, and sees real drift (an MTU
#     change and a new bridge);
#   - the verdicts inside the sandbox equal those of an unconfined run of the same command;
#   - `systemctl enable --now nodecheck-post-boot.timer` schedules the timer; `apt remove` takes the
#     operator-enabled timer away, `apt purge` leaves no directory behind.
# In a second container from the same root the .rpm is installed with `rpm -i --nodeps --force-debian`
# (Debian's rpm database is empty, so nothing in it provides /bin/sh, and the test shows that /bin/sh is
# the only unmet requirement; Debian's rpm installs nothing without --force-debian): the scriptlets run, the files land where the .deb puts them, the unit runs, the
# directories the package creates are owned by it, and `rpm -e` leaves only the edited
# %config(noreplace) profile (as profile.yaml.rpmsave).
#
# The root is built once per checkout and kept in target/systemd-root/ (keyed by suite, mirror and
# package list); the image and the containers get unique names and are removed on exit.
#
# Needs root, Docker, debootstrap (scripts/setup-test-env.sh installs it), jq, dpkg-deb, rpm, and the
# .deb/.rpm from packaging/build.sh. Without root or Docker it skips with the reason (a failure under
# NODECHECK_TEST_REQUIRE_ALL=1). Prints "N passed, M failed"; exits 1 on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

DEB=$(ls dist/nodecheck_*_amd64.deb 2>/dev/null | tail -n 1)
RPM=$(ls dist/nodecheck-*.x86_64.rpm 2>/dev/null | tail -n 1)
SERVICE=nodecheck-post-boot.service
TIMER=nodecheck-post-boot.timer
# The unit's command; drop-ins below change only its arguments.
UNIT_COMMAND="/usr/bin/nodecheck check --phase post-boot --write-results /run/nodecheck --textfile /var/lib/node_exporter/textfile_collector/nodecheck.prom --color never"
# Directories an RPM distribution's `filesystem` package owns, which Debian's root lacks: rpm -i makes
# them, and the package rightly does not own them.
RPM_BASE_DIRS=(/usr/share/licenses)

passed=0
failed=0
pass() { printf 'ok    %s\n' "$1"; passed=$((passed + 1)); }
fail() { printf 'FAIL  %s\n' "$1"; [[ -n ${2:-} ]] && printf '%s\n' "$2" | sed 's/^/      /'; failed=$((failed + 1)); }
note() { printf '      %s\n' "$@"; }
finish() {
    echo
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]] || { echo "test-under-systemd.sh: $failed check(s) failed" >&2; exit 1; }
    exit 0
}
skip_all() {
    if [[ -n ${NODECHECK_TEST_REQUIRE_ALL:-} && ${NODECHECK_TEST_REQUIRE_ALL} != 0 ]]; then
        fail "systemd PID 1 package tests (NODECHECK_TEST_REQUIRE_ALL is set, but they would skip: $1)"
    else
        echo "skip  systemd PID 1 package tests: $1"
    fi
    finish
}
die() { printf 'test-under-systemd.sh: error: %s\n' "$*" >&2; exit 1; }

started=$SECONDS
[[ -n $DEB && -n $RPM ]] || die "no .deb/.rpm in dist/: run packaging/build.sh first"
[[ $(id -u) -eq 0 ]] || skip_all "needs root (debootstrap, docker)"
command -v docker >/dev/null && docker info >/dev/null 2>&1 || skip_all "Docker does not answer"
for tool in debootstrap jq dpkg-deb rpm sha256sum flock; do
    command -v "$tool" >/dev/null || die "$tool is not installed (scripts/setup-test-env.sh installs it)"
done

# ---------------------------------------------------------------------------------------------------
# The root: debootstrap once per checkout, kept as a tarball under target/ (packaging/debian-root.sh).
tarball=$(bash packaging/debian-root.sh) || die "the Debian root could not be built (above)"

# ---------------------------------------------------------------------------------------------------
# The image and the containers: unique names, removed on exit.
tag=nodecheck-systemd-test:$$-$RANDOM
containers=()
cleanup() {
    wait
    ((${#containers[@]})) && docker rm -f "${containers[@]}" >/dev/null 2>&1
    docker rmi -f "$tag" >/dev/null 2>&1
}
trap cleanup EXIT
docker import "$tarball" "$tag" >/dev/null || die "docker import $tarball failed"

# boot <name>: systemd as PID 1 in a container from the root; waits until boot has finished. Runs in a
# command substitution, so the caller records the name for cleanup. The host's cgroup namespace and
# hierarchy: systemd finds its own container's cgroup in /proc/1/cgroup and manages only that subtree
# (with a private namespace and the host's hierarchy mounted it would take the host's root for its own).
boot() {
    local name=$1 state
    docker run -d --name "$name" --hostname "$name" \
        --cap-add SYS_ADMIN --cap-add NET_ADMIN --cgroupns=host \
        --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
        --tmpfs /run --tmpfs /run/lock -v /sys/fs/cgroup:/sys/fs/cgroup:rw \
        -e container=docker "$tag" /lib/systemd/systemd >/dev/null || return 1
    local i
    for i in $(seq 1 180); do
        # Fails until systemd's bus is up; then "starting" until boot has finished.
        state=$(docker exec "$name" systemctl is-system-running 2>&1)
        [[ $state == running || $state == degraded ]] && break
        sleep 0.5
    done
    [[ $state == running || $state == degraded ]] || { echo "boot did not finish: $state"; return 1; }
    [[ $(docker exec "$name" cat /proc/1/comm) == systemd ]]
}
C=""
inside() { docker exec "$C" "$@"; }
# prop <unit> <property>
prop() { inside systemctl show -P "$2" "$1" 2>/dev/null; }
# reloads_since <epoch seconds>: how many daemon-reloads systemd logged since then.
reloads_since() { inside journalctl _PID=1 --since "@$1" -o cat 2>/dev/null | grep -c '^Reloading'; }
# The systemd manager's log after a reload is asynchronous: give the journal a moment.
expect_reload_since() { # <description> <epoch seconds>
    local i
    for i in 1 2 3 4 5 6 7 8 9 10; do
        (($(reloads_since "$2") > 0)) && { pass "$1"; return; }
        sleep 0.3
    done
    fail "$1" "$(inside journalctl _PID=1 --since "@$2" -o cat 2>&1 | tail -n 20)"
}
# Directories of the root, to tell which ones a package makes (apt's, dpkg's and rpm's own bookkeeping
# directories aside).
directories() {
    inside find / -xdev -type d 2>/dev/null | grep -Ev '^/var/(lib/apt|cache/apt|lib/dpkg|lib/rpm|log)(/|$)' | sort
}
# existing: the paths read from stdin that exist in the container (as files, directories or links).
existing() { docker exec -i "$C" sh -c 'while IFS= read -r f; do if [ -e "$f" ] || [ -L "$f" ]; then echo "$f"; fi; done'; }
# wait_settled <unit>: until it is neither activating nor deactivating (a timer may have started it).
wait_settled() {
    local i state
    for i in $(seq 1 120); do
        state=$(prop "$1" ActiveState)
        [[ $state != activating && $state != deactivating ]] && return 0
        sleep 0.5
    done
    return 1
}

# run_service <expected exit> <label>: starts the service, checks the unit's result and exit status, the
# report and the journal lines of this run. Leaves the report in $report.
report=""
run_service() {
    local expected=$1 label=$2 rc out status result state cursor failed_count want_recap
    cursor=$(inside journalctl -n 0 --show-cursor -o cat 2>/dev/null | sed -n 's/^-- cursor: //p')
    out=$(inside systemctl start "$SERVICE" 2>&1)
    rc=$?
    status=$(prop "$SERVICE" ExecMainStatus)
    result=$(prop "$SERVICE" Result)
    state=$(prop "$SERVICE" ActiveState)
    if [[ $expected -eq 0 ]]; then
        [[ $rc -eq 0 && $status == 0 && $result == success && $state == inactive ]] \
            && pass "$label: systemctl start succeeds, exit 0, unit inactive (Result=success)" \
            || fail "$label: systemctl start succeeds, exit 0, unit inactive (Result=success)" \
                "systemctl start: $rc $out; ExecMainStatus=$status Result=$result ActiveState=$state"
    else
        [[ $rc -ne 0 && $status == "$expected" && $result == exit-code && $state == failed ]] \
            && pass "$label: systemctl start fails, exit $expected, unit failed (Result=exit-code)" \
            || fail "$label: systemctl start fails, exit $expected, unit failed (Result=exit-code)" \
                "systemctl start: $rc; ExecMainStatus=$status Result=$result ActiveState=$state; $(inside journalctl -u "$SERVICE" -n 15 -o cat 2>&1)"
        [[ $expected -eq 3 ]] && { inside systemctl --failed --plain --no-legend | grep -q "^$SERVICE" \
            && pass "$label: systemctl --failed lists $SERVICE" || fail "$label: systemctl --failed lists $SERVICE"; }
    fi
    [[ $expected -eq 2 ]] && return
    report=$(inside cat /run/nodecheck/report.json 2>&1)
    if ! jq -e '.summary and (.results | length > 0)' >/dev/null 2>&1 <<<"$report"; then
        fail "$label: /run/nodecheck/report.json is a report" "$(head -c 1500 <<<"$report")"
        report='{"results":[],"summary":{}}'
        return
    fi
    failed_count=$(jq '[.results[] | select(.status == "fail")] | length' <<<"$report")
    if [[ $expected -eq 3 ]]; then
        ((failed_count > 0)) && pass "$label: /run/nodecheck/report.json has the $failed_count failed check(s) behind exit 3" \
            || fail "$label: /run/nodecheck/report.json has the failed checks behind exit 3" "$(jq -c .summary <<<"$report")"
    else
        ((failed_count == 0)) && pass "$label: /run/nodecheck/report.json has no failed check" \
            || fail "$label: /run/nodecheck/report.json has no failed check" "$(jq -c .summary <<<"$report")"
    fi
    # The journal: this run's lines (after the cursor taken before the start) with their priorities,
    # against the report.
    want_recap=$([[ $failed_count -gt 0 ]] && echo 3 || echo 6)
    want=$(jq -r --arg recap "$want_recap" '
        ([.results[] | select(.status == "fail" or .status == "warn")
          | "\(if .status == "fail" then 3 else 4 end) nodecheck[\(.id)]: \(.status): \(.message)"]
         + ["\($recap) nodecheck: \(.phase) "]) | .[]' <<<"$report")
    local i got missing
    for i in 1 2 3 4 5 6 7 8 9 10; do
        got=$(inside journalctl --after-cursor="$cursor" -u "$SERVICE" -o json 2>/dev/null \
            | jq -r 'select(.SYSLOG_IDENTIFIER == "nodecheck") | "\(.PRIORITY) \(.MESSAGE)"')
        # Every expected line (the recap by its prefix) must be there with its priority.
        missing=$(while IFS= read -r line; do
            if [[ $line == *"nodecheck: "*" " && $line != *"nodecheck["* ]]; then
                grep -qF -- "$line" <<<"$got" || echo "$line"
            else
                grep -qxF -- "$line" <<<"$got" || echo "$line"
            fi
        done <<<"$want")
        [[ -z $missing ]] && break
        sleep 0.3
    done
    local findings
    findings=$(jq '[.results[] | select(.status == "fail" or .status == "warn")] | length' <<<"$report")
    [[ -z $missing ]] \
        && pass "$label: the journal has each of the $findings finding(s) (err/warning) and the recap ($([[ $want_recap == 3 ]] && echo err || echo info)) with its priority" \
        || fail "$label: the journal has each finding and the recap with its syslog priority" \
            "missing (priority message):"$'\n'"$missing"$'\n'"journal of the run:"$'\n'"$got"
}

# verdicts <report json>: "ID status" lines, sorted.
verdicts() { jq -r '.results[] | "\(.id) \(.status)"' <<<"$1" | sort; }
# same_as_unconfined <label> [extra args]: the unit's verdicts equal those of the same command run
# directly in the container (root, the container's capabilities, no systemd sandbox).
same_as_unconfined() {
    local label=$1 unconfined difference
    shift
    unconfined=$(inside /usr/bin/nodecheck check --phase post-boot --format json --color never "$@" 2>/dev/null)
    # Reading nftables needs CAP_NET_ADMIN (the kernel asks for it on every nf_tables request), which
    # the unit does not hold (docs/post-boot.md): there Forward-Policy is a skip, never another
    # verdict, and it is left out of the comparison.
    comparable() { verdicts "$1" | grep -v '^Forward-Policy ' || true; }
    difference=$(diff <(comparable "$report") <(comparable "$unconfined"))
    local unit_forward
    unit_forward=$(verdicts "$report" | grep '^Forward-Policy ' || true)
    [[ -z $unit_forward || $unit_forward == "Forward-Policy skip" ]] \
        || difference+=$'\n'"the unit's Forward-Policy is not a skip: $unit_forward"
    [[ -n $(verdicts "$report") && -z $difference ]] \
        && pass "$label: the sandboxed unit's $(verdicts "$report" | wc -l) verdicts equal an unconfined run's" \
        || fail "$label: the sandboxed unit's verdicts equal an unconfined run's" "< unit  > unconfined"$'\n'"$difference"
}

# drop_in <name> <ExecStart arguments...>: a drop-in replacing the unit's command, as docs/post-boot.md shows.
drop_in() {
    local name=$1
    shift
    inside mkdir -p "/etc/systemd/system/$SERVICE.d"
    printf '[Service]\nExecStart=\nExecStart=%s\n' "$*" | docker exec -i "$C" tee "/etc/systemd/system/$SERVICE.d/$name.conf" >/dev/null
    inside systemctl daemon-reload
}

# ---------------------------------------------------------------------------------------------------
echo "== $DEB under systemd as PID 1"
C=nodecheck-deb-$$-$RANDOM
containers+=("$C")
if ! out=$(boot "$C" 2>&1); then
    fail "systemd boots as PID 1 in the container" "$out$(docker logs "$C" 2>&1 | tail -n 20)"
    finish
fi
pass "systemd boots as PID 1 in the container ($(inside systemctl --version | head -n 1))"
docker cp "$DEB" "$C:/tmp/nodecheck.deb" >/dev/null
dirs_before=$(directories)
since=$(inside date +%s)
out=$(inside env DEBIAN_FRONTEND=noninteractive apt-get install -y /tmp/nodecheck.deb 2>&1) \
    && pass "apt-get install ./$(basename "$DEB")" || fail "apt-get install ./$(basename "$DEB")" "$out"
expect_reload_since "postinst made systemd reload its units" "$since"

for unit in "$SERVICE" "$TIMER"; do
    state="$(prop "$unit" LoadState) $(prop "$unit" UnitFileState) $(prop "$unit" ActiveState)"
    [[ $state == "loaded disabled inactive" ]] && pass "$unit is installed, loaded, neither enabled nor started" \
        || fail "$unit is installed, loaded, neither enabled nor started" "LoadState UnitFileState ActiveState: $state"
done
inside systemctl list-timers --all --no-legend | grep -q nodecheck \
    && fail "no nodecheck timer is scheduled after install" "$(inside systemctl list-timers --all)" \
    || pass "no nodecheck timer is scheduled after install"

# Other units the package ships (for instance a long-running service) get the same basic treatment: not
# enabled, and they start and stay up under their sandbox.
for unit_file in packaging/systemd/*.service packaging/systemd/*.timer packaging/systemd/*.socket; do
    [[ -e $unit_file ]] || continue
    unit=$(basename "$unit_file")
    [[ $unit == "$SERVICE" || $unit == "$TIMER" ]] && continue
    state="$(prop "$unit" LoadState) $(prop "$unit" UnitFileState)"
    [[ $state == "loaded disabled" ]] && pass "$unit is installed and not enabled" \
        || fail "$unit is installed and not enabled" "LoadState UnitFileState: $state"
    if [[ $unit == *.service && $(prop "$unit" Type) != oneshot ]]; then
        inside systemctl start "$unit" >/dev/null 2>&1
        sleep 3
        [[ $(prop "$unit" ActiveState) == active ]] && pass "$unit starts and stays up under its sandbox" \
            || fail "$unit starts and stays up under its sandbox" "$(inside journalctl -u "$unit" -n 20 -o cat 2>&1)"
        inside systemctl stop "$unit" >/dev/null 2>&1
    fi
done

# No baseline yet: post-boot checks fail here (no Calico, no cluster DNS), so the unit fails with 3.
run_service 3 "no baseline"
jq -e '.results[] | select(.id == "Drift-Baseline" and .status == "skip")' >/dev/null <<<"$report" \
    && pass "no baseline: Drift-Baseline is skipped" \
    || fail "no baseline: Drift-Baseline is skipped" "$(jq -c '[.results[] | select(.id | startswith("Drift-"))]' <<<"$report")"
same_as_unconfined "no baseline"
inside test -d /var/lib/node_exporter/textfile_collector \
    || { inside journalctl -u "$SERVICE" -o cat | grep -q 'not writing the Prometheus textfile' \
        && pass "without node_exporter's directory the unit says it writes no textfile" \
        || fail "without node_exporter's directory the unit says it writes no textfile"; }

# With node_exporter's textfile directory the hardened unit writes the metrics there (ReadWritePaths).
inside mkdir -p /var/lib/node_exporter/textfile_collector
failed_ids=$(jq -r '[.results[] | select(.status == "fail") | .id] | join(",")' <<<"$report")
run_service 3 "textfile"
prom=$(inside cat /var/lib/node_exporter/textfile_collector/nodecheck.prom 2>&1)
grep -q '^nodecheck_check_status{' <<<"$prom" \
    && pass "textfile: the unit wrote /var/lib/node_exporter/textfile_collector/nodecheck.prom" \
    || fail "textfile: the unit wrote /var/lib/node_exporter/textfile_collector/nodecheck.prom" "$prom"

# The other documented exit statuses, through drop-ins as an operator would change the arguments.
drop_in skip "$UNIT_COMMAND --skip $failed_ids"
run_service 0 "drop-in skipping the failed checks ($failed_ids)"
drop_in skip "$UNIT_COMMAND --profile /etc/nodecheck/missing.yaml"
run_service 2 "drop-in with a missing --profile"
inside rm -rf "/etc/systemd/system/$SERVICE.d"
inside systemctl daemon-reload

# Baseline, then the drift checks.
out=$(inside nodecheck baseline record 2>&1) && pass "nodecheck baseline record: $out" \
    || fail "nodecheck baseline record" "$out"
run_service 3 "baseline"
drift=$(jq -r '[.results[] | select(.id | startswith("Drift-")) | "\(.id)=\(.status)"] | join(" ")' <<<"$report")
bad=$(jq -r '[.results[] | select((.id | startswith("Drift-")) and .status != "ok") | .id] | join(" ")' <<<"$report")
[[ $drift == *Drift-NodeNicName=ok* && $drift == *Drift-Mtu=ok* && -z $bad ]] \
    && pass "baseline: the drift checks compare with it, nothing drifted ($drift)" \
    || fail "baseline: the drift checks compare with it, nothing drifted" "$drift"
same_as_unconfined "baseline"

# Real drift: the node NIC's MTU changes and a bridge appears.
nic=$(inside ip -o route show default | awk '{ print $5; exit }')
mtu=$(inside cat "/sys/class/net/$nic/mtu")
inside ip link set "$nic" mtu $((mtu - 50))
inside ip link add br-drifttest type bridge
inside ip address add 172.31.254.1/24 dev br-drifttest
inside ip link set br-drifttest up
run_service 3 "drift"
mtu_result=$(jq -r '.results[] | select(.id == "Drift-Mtu") | "\(.status): \(.message)"' <<<"$report")
bridge_result=$(jq -r '.results[] | select(.id == "Drift-Bridges") | "\(.status): \(.message)"' <<<"$report")
[[ $mtu_result == fail:*"$mtu"*"$((mtu - 50))"* ]] && pass "drift: Drift-Mtu $mtu_result" \
    || fail "drift: Drift-Mtu fails naming $mtu → $((mtu - 50))" "$mtu_result"
[[ $bridge_result == warn:*br-drifttest* || $bridge_result == fail:*br-drifttest* ]] \
    && pass "drift: Drift-Bridges $bridge_result" || fail "drift: Drift-Bridges names br-drifttest" "$bridge_result"
inside journalctl -u "$SERVICE" -p err -o cat --since "@$(inside date -d '-1 min' +%s)" | grep -q '^nodecheck\[Drift-Mtu\]: fail:' \
    && pass "drift: journalctl -p err shows the Drift-Mtu failure" \
    || fail "drift: journalctl -p err shows the Drift-Mtu failure" "$(inside journalctl -u "$SERVICE" -p err -o cat -n 20)"
same_as_unconfined "drift"

# The timer, enabled as the operator would.
out=$(inside systemctl enable --now "$TIMER" 2>&1) && pass "systemctl enable --now $TIMER" \
    || fail "systemctl enable --now $TIMER" "$out"
timers=$(inside systemctl list-timers --all --no-legend 2>&1)
next=$(prop "$TIMER" NextElapseUSecMonotonic)
grep -q "$TIMER.*$SERVICE" <<<"$timers" && [[ -n $next && $next != infinity && $next != 0 ]] \
    && pass "systemctl list-timers schedules $TIMER → $SERVICE (next in monotonic time: $next)" \
    || fail "systemctl list-timers schedules $TIMER" "$timers"$'\n'"NextElapseUSecMonotonic=$next"
inside test -L "/etc/systemd/system/timers.target.wants/$TIMER" \
    && pass "$TIMER is enabled (timers.target.wants)" || fail "$TIMER is enabled (timers.target.wants)"
wait_settled "$SERVICE"

# apt remove takes the operator-enabled timer away.
since=$(inside date +%s)
out=$(inside env DEBIAN_FRONTEND=noninteractive apt-get remove -y nodecheck 2>&1) \
    && pass "apt-get remove nodecheck" || fail "apt-get remove nodecheck" "$out"
timers=$(inside systemctl list-timers --all --no-legend 2>&1)
state="$(prop "$TIMER" LoadState) $(prop "$TIMER" ActiveState)"
! grep -q nodecheck <<<"$timers" && [[ $state == "not-found inactive" ]] \
    && pass "after apt remove the timer is stopped and unknown to systemd (list-timers has no nodecheck)" \
    || fail "after apt remove the timer is stopped and unknown to systemd" "LoadState ActiveState: $state"$'\n'"$timers"
left=$(inside find /etc/systemd/system -name 'nodecheck*' 2>&1)
[[ -z $left ]] && pass "after apt remove no enablement symlink is left" || fail "after apt remove no enablement symlink is left" "$left"
expect_reload_since "postrm made systemd reload its units" "$since"
inside test -f /etc/nodecheck/profile.yaml && ! inside test -e /usr/bin/nodecheck \
    && pass "after apt remove only the conffile is kept" || fail "after apt remove only the conffile is kept"
inside test -e /var/lib/node_exporter/textfile_collector/nodecheck.prom \
    && fail "apt remove removes the Prometheus textfile (nothing refreshes it any more)" \
    || pass "apt remove removes the Prometheus textfile (nothing refreshes it any more)"
inside rm -rf /var/lib/node_exporter # made by this test, not by the package
out=$(inside env DEBIAN_FRONTEND=noninteractive apt-get purge -y nodecheck 2>&1) \
    && pass "apt-get purge nodecheck" || fail "apt-get purge nodecheck" "$out"
left=$(comm -13 <(echo "$dirs_before") <(directories))
[[ -z $left ]] && pass "after apt purge no directory the package or nodecheck made is left" \
    || fail "after apt purge no directory the package or nodecheck made is left" "$left"
deb_files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort)
# Done with this container: remove it while the next one runs (the EXIT trap waits for it).
docker rm -f "$C" >/dev/null 2>&1 &

# ---------------------------------------------------------------------------------------------------
echo "== $RPM under systemd as PID 1 (same root)"
C=nodecheck-rpm-$$-$RANDOM
containers+=("$C")
if ! out=$(boot "$C" 2>&1); then
    fail "systemd boots as PID 1 in the container" "$out"
    finish
fi
docker cp "$RPM" "$C:/tmp/nodecheck.rpm" >/dev/null
unmet=$(inside rpm -i --test --force-debian /tmp/nodecheck.rpm 2>&1 | awk '/is needed by/ { print $1 }')
[[ $unmet == /bin/sh ]] \
    && pass "rpm -i --test: the only unmet requirement is /bin/sh (there, owned by dpkg; Debian's rpm database is empty), so --nodeps hides nothing else" \
    || fail "rpm -i --test: the only unmet requirement is /bin/sh" "$(inside rpm -i --test --force-debian /tmp/nodecheck.rpm 2>&1)"
dirs_before=$(directories)
since=$(inside date +%s)
# --force-debian: Debian's rpm refuses to install packages (it points at alien) unless told.
out=$(inside rpm -i --nodeps --force-debian /tmp/nodecheck.rpm 2>&1) \
    && pass "rpm -i --nodeps --force-debian $(basename "$RPM")" \
    || fail "rpm -i --nodeps --force-debian $(basename "$RPM")" "$out"
[[ -z $out ]] || note "rpm said: $out"
link=$(inside readlink /usr/share/nodecheck/ansible/library/nodecheck 2>&1)
[[ $link == /usr/bin/nodecheck ]] && pass "the Ansible module link points at /usr/bin/nodecheck" \
    || fail "the Ansible module link points at /usr/bin/nodecheck" "$link"
expect_reload_since "%post made systemd reload its units" "$since"
out=$(inside rpm -V --nodeps nodecheck 2>&1) && pass "rpm -V --nodeps nodecheck: every file as packaged" \
    || fail "rpm -V --nodeps nodecheck: every file as packaged" "$out"

# Files land where the .deb puts them: the .deb's list, mapped by the two documented differences (zsh's
# vendor directory, the license file) and resolved in the root (/lib is /usr/lib on Debian 12), against
# the files and links rpm installed.
rpm_files=$(inside sh -c 'rpm -ql nodecheck | while IFS= read -r f; do [ -d "$f" ] && [ ! -L "$f" ] || echo "$f"; done' | sort)
deb_mapped=$(sed -e 's|^/usr/share/zsh/vendor-completions/|/usr/share/zsh/site-functions/|' \
    -e 's|^/usr/share/doc/nodecheck/copyright$|/usr/share/licenses/nodecheck/copyright|' \
    -e 's|^/lib/|/usr/lib/|' <<<"$deb_files" | sort -u)
[[ $(inside readlink -f /lib/systemd/system) == /usr/lib/systemd/system ]] \
    || fail "/lib/systemd/system is /usr/lib/systemd/system in the root (merged /usr)"
difference=$(diff <(echo "$deb_mapped") <(echo "$rpm_files"))
[[ -z $difference ]] \
    && pass "the rpm's $(wc -l <<<"$rpm_files") files are where the .deb puts them (zsh site-functions and /usr/share/licenses as documented)" \
    || fail "the rpm's files are where the .deb puts them" "< .deb  > .rpm"$'\n'"$difference"
deb_sum=$(dpkg-deb --fsys-tarfile "$DEB" | tar -xOf - ./usr/bin/nodecheck | sha256sum | cut -d' ' -f1)
rpm_sum=$(inside sha256sum /usr/bin/nodecheck | cut -d' ' -f1)
[[ $deb_sum == "$rpm_sum" ]] && pass "/usr/bin/nodecheck is the same binary in both packages" \
    || fail "/usr/bin/nodecheck is the same binary in both packages" "$deb_sum vs $rpm_sum"

# Directories the package makes are owned by it.
new_dirs=$(comm -13 <(echo "$dirs_before") <(directories))
unowned=""
while IFS= read -r dir; do
    [[ -z $dir ]] && continue
    printf '%s\n' "${RPM_BASE_DIRS[@]}" | grep -qxF "$dir" && continue
    [[ $(inside rpm -qf --qf '%{NAME}\n' "$dir" 2>&1) == nodecheck ]] || unowned+="$dir"$'\n'
done <<<"$new_dirs"
[[ -z $unowned ]] \
    && pass "every directory rpm -i made is owned by the package ($(grep -c . <<<"$new_dirs") made; ${RPM_BASE_DIRS[*]} belongs to RPM distributions' filesystem package)" \
    || fail "every directory rpm -i made is owned by the package" "not owned:"$'\n'"$unowned"

for unit in "$SERVICE" "$TIMER"; do
    # systemd finds it through /lib/systemd/system, which is /usr/lib/systemd/system on Debian 12.
    fragment=$(inside readlink -f "$(prop "$unit" FragmentPath)")
    state="$(prop "$unit" LoadState) $(prop "$unit" UnitFileState) $(prop "$unit" ActiveState) $fragment"
    [[ $state == "loaded disabled inactive /usr/lib/systemd/system/$unit" ]] \
        && pass "rpm: $unit is installed in /usr/lib/systemd/system, neither enabled nor started" \
        || fail "rpm: $unit is installed, neither enabled nor started" "$state"
done
run_service 3 "rpm"
same_as_unconfined "rpm"
inside systemctl enable --now "$TIMER" >/dev/null 2>&1
wait_settled "$SERVICE"

# rpm -e with the profile as shipped: rpm removes an unedited %config file too, and every directory.
since=$(inside date +%s)
out=$(inside rpm -e nodecheck 2>&1) && pass "rpm -e nodecheck (profile as shipped)" || fail "rpm -e nodecheck" "$out"
state="$(prop "$TIMER" LoadState) $(prop "$TIMER" ActiveState)"
left=$(inside find /etc/systemd/system -name 'nodecheck*' 2>&1)
[[ $state == "not-found inactive" && -z $left ]] \
    && pass "%preun stopped and disabled the operator-enabled timer" \
    || fail "%preun stopped and disabled the operator-enabled timer" "LoadState ActiveState: $state; left: $left"
expect_reload_since "%postun made systemd reload its units" "$since"
left=$(comm -13 <(echo "$dirs_before") <(directories) | grep -vxF -f <(printf '%s\n' "${RPM_BASE_DIRS[@]}"))
files_left=$(existing <<<"$rpm_files")
[[ -z $left && -z $files_left ]] && pass "rpm -e of an unedited install leaves no file and no directory" \
    || fail "rpm -e of an unedited install leaves no file and no directory" "$files_left$left"

# rpm -e after the operator edited the profile: only profile.yaml.rpmsave is left.
inside rpm -i --nodeps --force-debian /tmp/nodecheck.rpm >/dev/null 2>&1
inside sh -c 'echo "# edited by the operator" >>/etc/nodecheck/profile.yaml'
out=$(inside rpm -e nodecheck 2>&1) && pass "rpm -e nodecheck (profile edited)" || fail "rpm -e nodecheck (profile edited)" "$out"
left=$(comm -13 <(echo "$dirs_before") <(directories) | grep -vxF -f <(printf '%s\n' "${RPM_BASE_DIRS[@]}"))
files_left=$({
    existing <<<"$rpm_files"
    inside find /etc/nodecheck -mindepth 1
} 2>/dev/null | sort -u)
[[ $left == /etc/nodecheck && $files_left == /etc/nodecheck/profile.yaml.rpmsave ]] \
    && inside grep -q "edited by the operator" /etc/nodecheck/profile.yaml.rpmsave \
    && pass "rpm -e leaves only the edited %config(noreplace) profile, as /etc/nodecheck/profile.yaml.rpmsave" \
    || fail "rpm -e leaves only the edited profile as /etc/nodecheck/profile.yaml.rpmsave" "directories: $left"$'\n'"files: $files_left"

echo "   (systemd PID 1 tests: $((SECONDS - started)) s)"
finish
