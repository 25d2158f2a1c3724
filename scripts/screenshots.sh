#!/bin/sh
# Regenerates screenshots/*.png: two kaconsole daemons on a throwaway network (network
# namespaces joined by a bridge), a tracked script and file flipped to cause a failover and a
# FAULT, and the real `kaconsole tui` in tmux (120x40), captured view by view; the console
# on both daemons (the cluster view); then `kaconsole lab` with its first router killed.
#
#   sudo scripts/screenshots.sh          (needs root, tmux, python3 with Pillow, DejaVu fonts)
#   KEEP_ANSI=DIR also keeps the raw captures (text with colour sequences) in DIR.
#
# Everything it starts is stopped and every namespace removed on exit.
set -eu

cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "screenshots.sh: needs root (network namespaces)" >&2; exit 1; }
for p in tmux python3 ip; do
    command -v "$p" >/dev/null || { echo "screenshots.sh: needs $p" >&2; exit 1; }
done
python3 -c 'import PIL' 2>/dev/null || { echo "screenshots.sh: needs Pillow (pip install pillow)" >&2; exit 1; }

echo "building kaconsole..."
cargo build -j2 --quiet
BIN=$PWD/target/debug/kaconsole
WORK=$(mktemp -d /tmp/kaconsole-shots.XXXXXX)
TAG=kshot$$
BR=$TAG-br
SESSION=$TAG
PIDS=""

cleanup() {
    tmux kill-session -t "$SESSION" 2>/dev/null || true
    for p in $PIDS; do kill "$p" 2>/dev/null || true; done
    sleep 0.5
    for n in 1 2; do ip netns del "$TAG-$n" 2>/dev/null || true; done
    ip netns del "$BR" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

echo "network: bridge namespace $BR, hosts $TAG-1 and $TAG-2 on 10.78.0.0/24"
ip netns add "$BR"
ip -n "$BR" link add br0 type bridge
ip -n "$BR" link set br0 up
for n in 1 2; do
    ns=$TAG-$n
    ip netns add "$ns"
    ip link add "$TAG-p$n" netns "$BR" type veth peer name eth0 netns "$ns"
    ip -n "$BR" link set "$TAG-p$n" master br0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" addr add "10.78.0.$n/24" dev eth0
    ip -n "$ns" link set eth0 up
done

# The configuration of host N: VI_WEB prefers host 1 unless its web check fails, VI_DB
# prefers host 2, VI_MAIL goes to FAULT when mail.state is not 0.
config() {
    n=$1 dir=$WORK/$1
    mkdir -p "$dir"
    printf '#!/bin/sh\ntest -e %s/web.ok\n' "$dir" >"$dir/chk_web.sh"
    chmod 755 "$dir/chk_web.sh"
    touch "$dir/web.ok"
    echo 0 >"$dir/mail.state"
    # Host 2 has a VIP more on VI_DB: the drift the cluster view finds.
    if [ "$n" = 1 ]; then web=150 db=100 mail=120 extra=""; else web=100 db=150 mail=110 extra="10.78.0.202/24"; fi
    cat >"$dir/keepalived.conf" <<EOF
global_defs {
    router_id lb$n
    enable_script_security
    script_user root
}

vrrp_script chk_web {
    script "$dir/chk_web.sh"
    interval 1
    weight -60
    fall 2
    rise 2
}

track_file mail_state {
    file "$dir/mail.state"
}

vrrp_instance VI_WEB {
    state BACKUP
    interface eth0
    virtual_router_id 10
    priority $web
    advert_int 1
    virtual_ipaddress {
        10.78.0.100/24
    }
    track_script {
        chk_web
    }
}

vrrp_instance VI_DB {
    state BACKUP
    interface eth0
    virtual_router_id 20
    priority $db
    advert_int 1
    virtual_ipaddress {
        10.78.0.200/24
        10.78.0.201/24
        $extra
    }
}

vrrp_instance VI_MAIL {
    state BACKUP
    interface eth0
    virtual_router_id 30
    priority $mail
    advert_int 1
    virtual_ipaddress {
        10.78.0.150/24
    }
    track_file {
        mail_state weight 0
    }
}

virtual_server 10.78.0.100 80 {
    protocol TCP
    lvs_sched wrr
    delay_loop 2
    quorum 2
    sorry_server 10.78.0.99 80
    real_server 10.78.0.11 80 {
        weight 2
        MISC_CHECK {
            misc_path "/bin/true"
        }
    }
    real_server 10.78.0.12 80 {
        TCP_CHECK {
            connect_ip 127.0.0.1
            connect_port 1
            connect_timeout 1
        }
    }
    real_server 10.78.0.13 80 {
        MISC_CHECK {
            misc_path "/bin/sh -c 'exit 3'"
            misc_dynamic
        }
    }
}
EOF
}

for n in 1 2; do
    config $n
    d=$WORK/$n
    ip netns exec "$TAG-$n" "$BIN" daemon -n -l -f "$d/keepalived.conf" -p "$d/kaconsole.pid" \
        -i lb$n --socket "$d/kaconsole.sock" >"$d/daemon.log" 2>&1 &
    PIDS="$PIDS $!"
done

echo "console: tmux session $SESSION (120x40) on host 1"
sleep 2
TERM=xterm-256color tmux new-session -d -s "$SESSION" -x 120 -y 40 \
    "$BIN tui --socket $WORK/1/kaconsole.sock"

keys() { tmux send-keys -t "$SESSION" "$@"; sleep 0.7; }
shot() {
    mkdir -p screenshots
    tmux capture-pane -e -p -t "$SESSION" >"$WORK/$1.ans"
    python3 scripts/ansi_to_png.py "$WORK/$1.ans" "screenshots/$1.png" --cols 120 --rows 40
    [ -z "${KEEP_ANSI:-}" ] || cp "$WORK/$1.ans" "$KEEP_ANSI/"
    echo "  screenshots/$1.png"
}
wait_s() {
    i=0
    while [ "$i" -lt "$1" ]; do
        sleep 1
        i=$((i + 1))
        printf '\r  %s: %d/%d s' "$2" "$i" "$1"
    done
    printf '\n'
}

wait_s 25 "history for the charts"
echo "events: host 1's web check fails (VI_WEB fails over), mail.state becomes 1 (VI_MAIL FAULT)"
rm -f "$WORK/1/web.ok"
echo 1 >"$WORK/1/mail.state"
wait_s 15 "after the failover"

echo "capturing:"
shot overview
keys Enter
shot instance
keys 3
shot trackers
keys 4
shot lvs
keys 5
shot events
# The editor with a mistake typed in: VI_WEB's priority (line 23) made 1500.
keys 6
keys e
for _ in $(seq 22); do tmux send-keys -t "$SESSION" Down; done
keys End 0
shot editor
keys Escape r q

# One console on both daemons: the virtual routers with both nodes side by side, the findings.
echo "cluster: kaconsole tui --socket (host 1) --socket (host 2)"
tmux kill-session -t "$SESSION" 2>/dev/null || true
TERM=xterm-256color tmux new-session -d -s "$SESSION" -x 120 -y 40 \
    "$BIN tui --socket $WORK/1/kaconsole.sock --socket $WORK/2/kaconsole.sock"
wait_s 4 "both nodes"
shot cluster
keys q

# The lab: three routers, r1 killed with K, the console moved to r2 with >.
echo "lab: kaconsole lab --routers 3"
tmux kill-session -t "$SESSION" 2>/dev/null || true
TERM=xterm-256color tmux new-session -d -s "$SESSION" -x 120 -y 40 "$BIN lab --routers 3"
wait_s 12 "the lab elects"
keys K
wait_s 6 "r1 killed, r2 takes over"
keys '>'
wait_s 3 "the console on r2"
keys 5
shot lab
keys q
sleep 2
echo "done"
