#!/usr/bin/env bash
# Times `kaconsole check` and `keepalived -t` on the benchmark configurations, side by side
# (hyperfine when installed, else a plain loop). Usage: benches/keepalived_vs_kaconsole.sh
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cargo build --release -q
cargo bench -q --bench config_parse -- --emit "$dir" >/dev/null
bin=target/release/kaconsole
for conf in "$dir"/*.conf; do
    echo "== $(basename "$conf")"
    if command -v hyperfine >/dev/null; then
        hyperfine --warmup 1 --runs 5 -N --ignore-failure \
            "$bin check --no-env -f $conf" \
            "keepalived -t -f $conf"
    else
        for cmd in "$bin check --no-env -f $conf" "keepalived -t -f $conf"; do
            start=$(date +%s.%N)
            $cmd >/dev/null 2>&1 || true
            end=$(date +%s.%N)
            printf '%-60s %8.3f s\n' "${cmd%% -f*}" "$(echo "$end - $start" | bc)"
        done
    fi
done
