# Sourced by the benchmarks that compare the shipped static musl binary with the glibc build:
# `shipped_and_glibc_builds` sets $musl and $glibc to the two binaries' absolute paths, building each
# unless NODECHECK_MUSL / NODECHECK_GLIBC name a prebuilt one.

shipped_and_glibc_builds() {
  if [ -z "${NODECHECK_MUSL:-}" ]; then
    cargo build --release --locked --quiet --target x86_64-unknown-linux-musl
  fi
  if [ -z "${NODECHECK_GLIBC:-}" ]; then
    cargo build --release --locked --quiet
  fi
  musl=$(realpath "${NODECHECK_MUSL:-target/x86_64-unknown-linux-musl/release/nodecheck}")
  glibc=$(realpath "${NODECHECK_GLIBC:-target/release/nodecheck}")
}
