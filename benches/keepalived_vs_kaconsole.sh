#!/usr/bin/env bash
# Times `kaconsole check` and `keepalived -t` on the benchmark configurations, side by side
# (hyperfine when installed, else a plain loop). keepalived gets one trial run first; when that
# takes longer than LIMIT seconds (default 60; on the 65,024-instance file keepalived -t runs for
# many minutes) it is stopped and reported as "> LIMIT s" instead of being timed repeatedly.
# Usage: benches/keepalived_vs_kaconsole.sh [LIMIT]
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-60}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
echo "building and generating the configurations..."
cargo build --release -q
cargo bench -q --bench config_parse -- --emit "$dir" >/dev/null
bin=target/release/kaconsole
have_keepalived=$(command -v keepalived || true)

# One run, start to exit: seconds, or empty when stopped at the limit.
once() {
    local start end
    start=$(date +%s.%N)
    if timeout "$limit" "$@" >/dev/null 2>&1 || [ $? -ne 124 ]; then
        end=$(date +%s.%N)
        echo "$end - $start" | bc
    fi
}

for conf in "$dir"/*.conf; do
    echo "== $(basename "$conf")"
    commands=("$bin check --no-env -f $conf")
    if [ -n "$have_keepalived" ]; then
        echo "keepalived -t: trial run (stopped after ${limit}s)..."
        t=$(once keepalived -t -f "$conf")
        if [ -n "$t" ]; then
            commands+=("keepalived -t -f $conf")
        else
            echo "keepalived -t: > ${limit} s (stopped)"
        fi
    else
        echo "keepalived is not installed (apt-get install keepalived) to compare"
    fi
    if command -v hyperfine >/dev/null; then
        hyperfine --warmup 1 --runs 5 -N --ignore-failure "${commands[@]}"
    else
        for cmd in "${commands[@]}"; do
            # shellcheck disable=SC2086 # the command line is split on purpose
            printf '%-60s %8.3f s\n' "${cmd%% -f*}" "$(once $cmd)"
        done
    fi
done
