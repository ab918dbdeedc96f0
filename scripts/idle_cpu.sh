#!/usr/bin/env bash
# Idle CPU of each example server: starts it with its defaults (one worker
# per CPU, default batching), waits for it to settle, then reads its
# threads' CPU time (schedstat, ns) over a window with no traffic.
#
#   scripts/idle_cpu.sh [SECONDS] [BIN_DIR]
#
# BIN_DIR defaults to target/release/examples (build with
# `cargo build --release --examples`). Prints one Markdown row per example.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-10}"
DIR="${2:-target/release/examples}"

cpu_ns() {
    local pid=$1 total=0 t
    for t in /proc/"$pid"/task/*/schedstat; do
        total=$((total + $(cut -d' ' -f1 "$t")))
    done
    echo "$total"
}

echo "| example | workers | idle CPU over ${SECS} s | share of one core |"
echo "|---|---:|---:|---:|"
port=19100
for ex in hello echo kv frames proxy; do
    port=$((port + 1))
    log="$(mktemp)"
    "$DIR/$ex" --addr "127.0.0.1:$port" >"$log" 2>&1 &
    pid=$!
    sleep 1
    workers=$(ls /proc/"$pid"/task | while read -r t; do cat /proc/"$pid"/task/"$t"/comm; done | grep -c '^corering-w' || true)
    t0=$(cpu_ns "$pid")
    sleep "$SECS"
    t1=$(cpu_ns "$pid")
    kill -TERM "$pid"
    wait "$pid" || true
    rm -f "$log"
    ns=$((t1 - t0))
    awk -v ex="$ex" -v w="$workers" -v ns="$ns" -v s="$SECS" \
        'BEGIN { printf "| %s | %d | %.1f ms | %.3f%% |\n", ex, w, ns / 1e6, ns / 1e7 / s }'
done
