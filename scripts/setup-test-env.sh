#!/usr/bin/env bash
# Installs what nodecheck's test suite needs on a Debian 12 host, idempotently, and fast when everything
# is already there: Debian packages (only the missing ones; `apt-get update` only when something is
# missing), the musl target, cargo-deb, cargo-fuzz, and an ansible-core venv in
# target/ansible-venv (and the full `ansible` package in target/ansible-fleet-venv). The fuzz targets (fuzz/, scripts/fuzz.sh) need the nightly toolchain, which this
# script cannot download: it says so when `cargo +nightly` is missing. The Docker engine is not installed here: the Docker tests use the host's engine
# and skip (or fail under NODECHECK_TEST_REQUIRE_ALL) when it does not answer.
set -euo pipefail
cd "$(dirname "$0")/.."

MUSL_TARGET=x86_64-unknown-linux-musl
CARGO_DEB_VERSION=3.8.0
CARGO_FUZZ_VERSION=0.13.1
ANSIBLE_CORE_REQUIREMENT='ansible-core>=2.15'
VENV=target/ansible-venv
# A second ansible-core, the last release before 2.19, for the fact-cache layout before `__payload__`.
ANSIBLE_CORE_2_18_REQUIREMENT='ansible-core>=2.15,<2.19'
VENV_2_18=target/ansible-venv-2.18
# The `ansible` package (ansible-core and the community collections) for the fleet test: its
# community.docker connection reaches the test's Debian containers.
ANSIBLE_FLEET_REQUIREMENT='ansible>=12,<13'
VENV_FLEET=target/ansible-fleet-venv

# Debian package → why the tests need it.
declare -A PACKAGES=(
    [iproute2]="network namespaces, veth/bridge/vxlan links, ip -j link"
    [ethtool]="toggling offload features on test links (Nic-ChecksumOffload gathering)"
    [containerd]="a real containerd on its own socket for the CRI tests (Runtime-CRI)"
    [nftables]="nft rules inside a network namespace (Forward-Policy gathering, Dataplane-Probe causes)"
    [iptables]="iptables-legacy rules inside a network namespace (Forward-Policy gathering)"
    [util-linux]="unshare: a private mount namespace for the tmpfs of the disk-space tests; setpriv: Dataplane-Probe without root"
    [dnsmasq-base]="a real DNS server for the cluster-DNS probe tests"
    [rpm]="rpmbuild (the .rpm), rpm -qpl / --requires on it, rpm -i in the test root"
    [man-db]="man -w on the installed man pages"
    [jq]="JSON assertions in the package test script"
    [python3-venv]="the ansible-core venv"
    [file]="asserting the binary is statically linked"
    [time]="benchmarks (/usr/bin/time -v for peak memory)"
    [hyperfine]="benchmarks under bench/"
    [systemd]="systemd-analyze verify on the installed units"
    [debootstrap]="the Debian 12 root the packages are tested in under systemd as PID 1"
    [debian-archive-keyring]="debootstrap verifying what it downloads"
    [gzip]="compressing the rpm's man pages"
    [gcc]="building cargo-deb"
    [musl-tools]="musl-gcc, which builds jemalloc into the static musl binary"
    [make]="building jemalloc into the static musl binary"
    [libc6-dev]="building cargo-deb"
)

step() { printf '==> %s\n' "$*"; }

# Docker's own packages ship containerd as `containerd.io`, which conflicts with Debian's `containerd`:
# any containerd binary already installed serves the CRI tests, and installing Debian's would make apt
# remove Docker's.
if command -v containerd >/dev/null; then
    unset 'PACKAGES[containerd]'
fi

missing=()
for pkg in "${!PACKAGES[@]}"; do
    if [[ $(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null) != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done
if ((${#missing[@]})); then
    for pkg in "${missing[@]}"; do printf '    %-14s %s\n' "$pkg" "${PACKAGES[$pkg]}"; done
    step "installing ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup-test-env.sh: installing Debian packages needs root" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
    step "Debian packages: all present"
fi

if ! rustup target list --installed | grep -qx "$MUSL_TARGET"; then
    step "adding the $MUSL_TARGET target"
    rustup target add "$MUSL_TARGET"
else
    step "rust target $MUSL_TARGET: present"
fi

install_cargo_tool() { # <binary> <crate> <version>
    if command -v "$1" >/dev/null 2>&1; then
        step "$2: present ($("$1" --version 2>/dev/null | head -n 1))"
    else
        step "installing $2 $3 (cargo install --locked)"
        cargo install --locked "$2" --version "$3"
    fi
}
install_cargo_tool cargo-deb cargo-deb "$CARGO_DEB_VERSION"
install_cargo_tool cargo-fuzz cargo-fuzz "$CARGO_FUZZ_VERSION"
if cargo +nightly --version >/dev/null 2>&1; then
    step "nightly toolchain (fuzzing): present ($(cargo +nightly --version))"
else
    echo "setup-test-env.sh: the nightly toolchain is missing; scripts/fuzz.sh needs it (rustup toolchain install nightly)" >&2
fi

ansible_core_version() { "$VENV/bin/python" -c 'import ansible.release; print(ansible.release.__version__)'; }
if [[ -x $VENV/bin/ansible-playbook && -x $VENV/bin/ansible-doc ]]; then
    step "ansible venv: present (ansible-core $(ansible_core_version))"
else
    step "creating $VENV with $ANSIBLE_CORE_REQUIREMENT (PyPI)"
    rm -rf "$VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "$ANSIBLE_CORE_REQUIREMENT"
    step "ansible venv: ansible-core $(ansible_core_version)"
fi

if [[ -x $VENV_2_18/bin/ansible ]]; then
    step "ansible 2.18 venv: present"
else
    step "creating $VENV_2_18 with $ANSIBLE_CORE_2_18_REQUIREMENT (PyPI)"
    rm -rf "$VENV_2_18"
    python3 -m venv "$VENV_2_18"
    "$VENV_2_18/bin/pip" install --quiet --disable-pip-version-check "$ANSIBLE_CORE_2_18_REQUIREMENT"
fi

if [[ -x $VENV_FLEET/bin/ansible-playbook ]]; then
    step "ansible fleet venv: present"
else
    step "creating $VENV_FLEET with $ANSIBLE_FLEET_REQUIREMENT (PyPI)"
    rm -rf "$VENV_FLEET"
    python3 -m venv "$VENV_FLEET"
    "$VENV_FLEET/bin/pip" install --quiet --disable-pip-version-check "$ANSIBLE_FLEET_REQUIREMENT"
fi
