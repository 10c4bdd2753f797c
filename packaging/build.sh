#!/usr/bin/env bash
# Builds what nodecheck ships: the fully static x86_64-unknown-linux-musl release binary, the files
# generated from its command line (man pages, shell completions), the /etc profile and the copyright file,
# then the .deb (cargo-deb) and the .rpm (rpmbuild, from packaging/rpm/nodecheck.spec). Outputs land in
# dist/.
#
# The .rpm is built with rpmbuild rather than cargo-generate-rpm: an rpm must own the directories it
# makes (or `rpm -e` leaves them behind), and cargo-generate-rpm 0.21.1, the latest, fails on its own
# directory assets (`dir = true`: "No such file or directory") and cannot ship a symlink.
#
# Needs: rustup (the musl target is added if missing), cargo-deb (installed with `cargo install --locked`
# if missing), rpmbuild (Debian package rpm), gzip, file. Run from anywhere; works on the checkout it
# lives in.
set -euo pipefail
cd "$(dirname "$0")/.."

TARGET=x86_64-unknown-linux-musl
BIN="target/$TARGET/release/nodecheck"
ASSETS=target/assets
DIST=dist
CARGO_DEB_VERSION=3.8.0

step() { printf '==> %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 1; }

for unit in nodecheck-post-boot.service nodecheck-post-boot.timer; do
    [[ -f packaging/systemd/$unit ]] || die "packaging/systemd/$unit is missing: the packages ship the systemd units"
done

if ! rustup target list --installed | grep -qx "$TARGET"; then
    step "adding the $TARGET target"
    rustup target add "$TARGET"
fi
install_tool() { # <cargo subcommand binary> <crate> <version>
    if ! command -v "$1" >/dev/null 2>&1; then
        step "installing $2 $3 (cargo install --locked)"
        cargo install --locked "$2" --version "$3"
    fi
}
install_tool cargo-deb cargo-deb "$CARGO_DEB_VERSION"
command -v rpmbuild >/dev/null || die "rpmbuild is missing (Debian package rpm; scripts/setup-test-env.sh installs it)"

step "building the static release binary ($TARGET)"
cargo build --release --locked --target "$TARGET"

step "verifying $BIN is static"
description=$(file -b "$BIN")
case "$description" in
    *"statically linked"* | *"static-pie linked"*) ;;
    *) die "$BIN is not statically linked: $description" ;;
esac
if ldd_out=$(ldd "$BIN" 2>&1); then
    case "$ldd_out" in
        *"statically linked"* | *"not a dynamic executable"*) ;;
        *) die "ldd lists shared libraries for $BIN: $ldd_out" ;;
    esac
fi
size=$(stat -c %s "$BIN")
awk -v bin="$BIN" -v d="$description" -v s="$size" 'BEGIN { printf "    %s: %s\n    size: %d bytes (%.2f MiB)\n", bin, d, s, s / 1048576 }'

step "generating man pages, completions, the /etc profile and the copyright file into $ASSETS"
rm -rf "$ASSETS"
generated=$("$BIN" generate-assets "$ASSETS" 2>&1) || die "generate-assets failed: $generated"
mkdir -p "$ASSETS/man-gz"
for page in "$ASSETS"/man/*.1; do
    gzip -9 -n -c "$page" >"$ASSETS/man-gz/$(basename "$page").gz"
done
{
    cat <<'EOF'
# The operator's cluster profile. `nodecheck check` and `nodecheck calico` use this file when no
# --profile is given. As shipped it is the built-in kubeadm + Calico default
# (/usr/share/nodecheck/profiles/default.yaml), so installing the package changes no verdict.
# Edit it for your cluster, or replace it with the output of `nodecheck profile init` run on a
# known-good node; `nodecheck profile validate /etc/nodecheck/profile.yaml` checks it.
# Your changes are kept on upgrade (dpkg conffile / rpm %config(noreplace)).
EOF
    grep -v '^#' profiles/default.yaml
} >"$ASSETS/profile.yaml"
validation=$("$BIN" profile validate "$ASSETS/profile.yaml" 2>&1) \
    || die "the shipped /etc profile ($ASSETS/profile.yaml) does not validate: $validation"
# The header paragraph of packaging/copyright, a Comment listing the statically linked crates and their
# licenses (from the lock file, so it cannot go stale), then the Files paragraphs.
bundled=$(cargo tree --locked -e normal --target "$TARGET" --prefix none --format '{p} {l}' \
    | sed 's/ (\*)$//; s/ (proc-macro)//' | grep -v '^nodecheck ' | sort -u | sed 's/^/ /')
BUNDLED="$bundled" awk '
    !done && /^$/ { print "Comment: nodecheck is one static binary containing these Rust crates, each under its own license:"; print ENVIRON["BUNDLED"]; done = 1 }
    { print }
' packaging/copyright >"$ASSETS/copyright"

step "building the .deb"
mkdir -p "$DIST"
cargo deb --no-build --target "$TARGET" --output "$DIST/" >/dev/null
step "building the .rpm"
version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
license=$(sed -n 's/^license = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)
rm -rf target/rpmbuild "$DIST"/nodecheck-*.rpm
if ! rpmbuild_log=$(rpmbuild -bb --quiet \
    --define "_topdir $PWD/target/rpmbuild" \
    --define "nodecheck_version $version" \
    --define "nodecheck_license $license" \
    --define "nodecheck_source $PWD" \
    packaging/rpm/nodecheck.spec 2>&1); then
    die "rpmbuild failed: $rpmbuild_log"
fi
cp target/rpmbuild/RPMS/x86_64/nodecheck-"$version"-1.x86_64.rpm "$DIST/"

step "done"
ls -l "$DIST"/*.deb "$DIST"/*.rpm
