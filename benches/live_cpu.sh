#!/usr/bin/env bash
# What live mode costs in CPU: `sitrep live` following one access log in tmux (160x48),
# idle and while a writer appends 2,000 lines/s. Each figure is the CPU time sitrep used
# (utime+stime from /proc/PID/stat) over a window, as a share of one core; three runs each,
# median printed. Needs tmux and python3; run after `cargo build --release`.
#   bash benches/live_cpu.sh            # 20 s windows
#   WINDOW=60 bash benches/live_cpu.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$PWD/target/release/sitrep}
WINDOW=${WINDOW:-20}
dir=$(mktemp -d)
trap 'tmux -L sitrep-cpu kill-server 2>/dev/null || true; rm -rf "$dir"' EXIT
log=$dir/access.log
tick=$(getconf CLK_TCK)

WRITER='
import sys, time
path, rate = sys.argv[1], int(sys.argv[2])
batch = max(1, rate // 100)
n = 0
with open(path, "a", buffering=1) as f:
    while True:
        t = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime())
        f.write("".join(
            f"10.0.{(n+i)%250}.{(n+i)%200} - - [{t}] \"GET /items/{n+i} HTTP/1.1\" 200 512 \"-\" \"bench\"\n"
            for i in range(batch)))
        n += batch
        time.sleep(0.01)
'

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

run_once() { # rate -> percent of one core
    : > "$log"
    # A server just killed may still hold its socket: try again a few times.
    for _ in 1 2 3 4 5; do
        tmux -L sitrep-cpu new-session -d -s s -x 160 -y 48 \
            "XDG_STATE_HOME=$dir $BIN live --log $log --no-systemd --nginx /bin/false" && break
        sleep 1
    done
    local wpid=""
    if [ "$1" -gt 0 ]; then python3 -c "$WRITER" "$log" "$1" & wpid=$!; fi
    sleep 5
    local pid
    pid=$(pgrep -n -x sitrep) || { echo "sitrep did not start" >&2; exit 1; }
    local a b
    a=$(cpu_ticks "$pid")
    sleep "$WINDOW"
    b=$(cpu_ticks "$pid")
    if [ -n "$wpid" ]; then kill "$wpid"; wait "$wpid" 2>/dev/null || true; fi
    tmux -L sitrep-cpu kill-server
    sleep 1
    awk -v d=$((b - a)) -v t="$tick" -v w="$WINDOW" 'BEGIN { printf "%.2f\n", 100 * d / t / w }'
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for rate in 0 2000; do
    runs=$(for _ in 1 2 3; do run_once "$rate"; done)
    echo "lines/s=$rate runs(% of one core)=$(echo $runs) median=$(echo "$runs" | median)"
done
