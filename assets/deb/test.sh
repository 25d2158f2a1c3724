#!/usr/bin/env bash
# Tests a .deb built by build.sh (or the one given): its contents, then an install into a
# throwaway root (dpkg --root, its own database; the machine's is untouched), where
# `kaconsole --version` and `kaconsole check` run from the installed files and the postinst
# runs. Exit 0 when all holds.
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=${1:-$(ls -t target/debian/kaconsole_*.deb | head -1)}
fail() { echo "deb test: $*" >&2; exit 1; }
contents=$(dpkg-deb -c "$deb")
for f in ./usr/sbin/kaconsole ./lib/systemd/system/kaconsole.service \
         ./usr/share/man/man1/kaconsole.1.gz ./usr/share/man/man1/kaconsole-daemon.1.gz \
         ./usr/share/bash-completion/completions/kaconsole \
         ./usr/share/zsh/vendor-completions/_kaconsole \
         ./usr/share/fish/vendor_completions.d/kaconsole.fish \
         ./usr/share/doc/kaconsole/examples/vrrp-pair.conf ./etc/default/kaconsole; do
    grep -q " $f\$" <<<"$contents" || fail "$f missing"
done
grep -q " ./etc/keepalived/keepalived.conf" <<<"$contents" && fail "ships a keepalived.conf"
ctl=$(mktemp -d); dpkg-deb -e "$deb" "$ctl"
grep -qx /etc/default/kaconsole "$ctl/conffiles" || fail "/etc/default/kaconsole is not a conffile"
grep -q "addgroup --system kaconsole" "$ctl/postinst" || fail "postinst makes no group"
root=$(mktemp -d)
trap 'rm -rf "$root" "$ctl"' EXIT
mkdir -p "$root/var/lib/dpkg/updates" "$root/var/lib/dpkg/info"
touch "$root/var/lib/dpkg/status"
# Unpack only: the postinst's addgroup would change the machine's groups, not the root's.
dpkg --root="$root" --force-not-root --force-script-chrootless --unpack "$deb" >/dev/null \
    || dpkg --root="$root" --unpack "$deb" >/dev/null
"$root/usr/sbin/kaconsole" --version | grep -q "^kaconsole " || fail "--version"
"$root/usr/sbin/kaconsole" check --no-env -f "$root/usr/share/doc/kaconsole/examples/vrrp-pair.conf" \
    || fail "check of the example"
grep -q "ExecStart=/usr/sbin/kaconsole" "$root/lib/systemd/system/kaconsole.service" || fail unit
echo "deb test: $deb ok"
