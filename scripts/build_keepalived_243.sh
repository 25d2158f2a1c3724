#!/usr/bin/env bash
# Builds keepalived 2.4.3 (the second oracle, ../shared/reference/keepalived-2.4.md) from its
# source tarball into target/ka243/prefix, once: about 4 minutes on 2 cores.
#   scripts/build_keepalived_243.sh [TARBALL]   (default ../shared/vendor/keepalived-2.4.3.tar.gz)
# Needs autoconf automake pkg-config libssl-dev libnl-3-dev libnl-genl-3-dev libnftnl-dev libmnl-dev.
set -euo pipefail
cd "$(dirname "$0")/.."
tarball=${1:-../shared/vendor/keepalived-2.4.3.tar.gz}
work=target/ka243
prefix=$PWD/$work/prefix
[ -x "$prefix/sbin/keepalived" ] && exit 0
mkdir -p "$work/src"
tar xzf "$tarball" -C "$work/src"
cd "$work/src/keepalived-2.4.3"
{
    ./autogen.sh
    ./configure --prefix="$prefix" --disable-systemd --enable-nftables --enable-json
    make -j2
    make install
} > "$OLDPWD/$work/build.log" 2>&1
"$prefix/sbin/keepalived" -v
