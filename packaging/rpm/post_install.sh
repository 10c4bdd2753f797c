# nodecheck's systemd units are installed but neither enabled nor started: the operator decides
# (systemctl enable --now nodecheck-post-boot.timer; see /usr/share/doc/nodecheck/install.md).
# The Ansible module is the binary itself; rpm packages cannot carry the symlink, so it is made here.
ln -sfn /usr/bin/nodecheck /usr/share/nodecheck/ansible/library/nodecheck
if [ -d /run/systemd/system ]; then
    systemctl --system daemon-reload >/dev/null 2>&1 || :
fi
