#!/usr/bin/env bash
# Builds (once per checkout) the minimal Debian 12 root the package and fleet tests run in, and prints
# the path of its tarball. `debootstrap --variant=minbase` from the Debian mirror this machine's apt uses
# (`apt-get indextargets`; NODECHECK_DEBIAN_MIRROR overrides it); the tarball is kept under
# target/systemd-root/, keyed by suite, mirror, package list and recipe, and reused by later runs.
# Callers `docker import` it: nothing is pulled from a registry.
#
# Needs root and debootstrap (scripts/setup-test-env.sh installs it). Progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

SUITE=bookworm
# systemd as PID 1 (systemd-sysv), the bus systemctl talks over, rpm for the .rpm part, iproute2 to make
# drift and fleet differences happen, python3 for Ansible's own modules (copy, file) on the fleet nodes.
ROOT_PACKAGES=systemd,systemd-sysv,dbus,rpm,iproute2,python3
# Bump when the recipe below changes, so a cached root is rebuilt.
ROOT_RECIPE=2
CACHE_DIR=target/systemd-root

die() { printf 'debian-root.sh: error: %s\n' "$*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || die "needs root (debootstrap)"
command -v debootstrap >/dev/null || die "debootstrap is not installed (scripts/setup-test-env.sh installs it)"

mirror=${NODECHECK_DEBIAN_MIRROR:-$(apt-get indextargets --no-release-info --format '$(RELEASE) $(REPO_URI)' \
    'Identifier: Packages' 2>/dev/null | awk -v suite="$SUITE" '$1 == suite { print $2; exit }')}
[[ -n $mirror ]] || die "apt has no source for $SUITE (see /etc/apt/sources.list*); set NODECHECK_DEBIAN_MIRROR"

key=$(printf '%s\n' "$SUITE" "$mirror" "$ROOT_PACKAGES" "$ROOT_RECIPE" | sha256sum | cut -c1-12)
tarball=$CACHE_DIR/debian-$SUITE-$key.tar
mkdir -p "$CACHE_DIR"
# One build at a time per checkout: the package and fleet tests may start together.
exec 9>"$CACHE_DIR/.lock"
flock 9
if [[ -s $tarball ]]; then
    echo "== root: $tarball (cached)" >&2
else
    echo "== root: debootstrap --variant=minbase $SUITE from $mirror (+ $ROOT_PACKAGES)" >&2
    rm -f "$CACHE_DIR"/debian-*.tar # roots of an earlier recipe
    build=$(mktemp -d "$CACHE_DIR/build.XXXXXX")
    t0=$SECONDS
    if ! debootstrap --variant=minbase --include="$ROOT_PACKAGES" \
        --keyring=/usr/share/keyrings/debian-archive-keyring.gpg \
        "$SUITE" "$build/root" "$mirror" >"$build/debootstrap.log" 2>&1; then
        tail -n 30 "$build/debootstrap.log" >&2
        rm -rf "$build"
        die "debootstrap failed (log above)"
    fi
    # Package lists and downloaded .debs are not needed to install a dependency-free local .deb.
    rm -rf "$build"/root/var/cache/apt/archives/*.deb "$build"/root/var/lib/apt/lists/*_*
    tar --numeric-owner -C "$build/root" --exclude=./dev/* -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
    rm -rf "$build"
    echo "   built in $((SECONDS - t0)) s" >&2
fi
echo "$tarball"
