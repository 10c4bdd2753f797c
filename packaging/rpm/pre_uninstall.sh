# On erase ($1 = 0; not on upgrade), stop and disable the units the operator may have enabled, and remove
# the Ansible module symlink made at install time.
if [ "$1" -eq 0 ]; then
    units="nodecheck-post-boot.timer nodecheck-post-boot.service"
    if [ -d /run/systemd/system ]; then
        systemctl --system stop $units >/dev/null 2>&1 || :
    fi
    systemctl --system --no-reload disable $units >/dev/null 2>&1 || :
    rm -f /usr/share/nodecheck/ansible/library/nodecheck
    # Nothing refreshes the post-boot unit's Prometheus textfile any more: do not export a stale verdict.
    rm -f /var/lib/node_exporter/textfile_collector/nodecheck.prom
fi
