#!/usr/bin/env bash
# Instructions per echoed WebSocket message in corering's worker loop, on
# either backend (callgrind; system calls themselves are not counted).
#
#   cargo build --release --example chat
#   scripts/callgrind_ws.sh target/release/examples/chat [uring|epoll] [SIZE] [NAME]
#
# chat runs under callgrind with one worker; a Python client keeps 4
# WebSocket connections to /echo and sends 2,000 rounds of one masked
# binary message of SIZE bytes (default 16384) per connection after a
# warm-up. Output goes to target/cg/ws/.
set -euo pipefail
bin=$(realpath "$1"); backend=${2:-uring}; size=${3:-16384}; n=8000
name=${4:-ws-$backend-$size}
lib=$(realpath "$(dirname "$0")/lib")
. "$lib/callgrind.sh"
dir=target/cg/ws; mkdir -p "$dir"; cd "$dir"
port=$(cg_free_port)
export CORERING_BACKEND=$backend
cg_start $name $port "$bin"
python3 "$lib/ws_echo_rr.py" $port 100 $size
callgrind_control -z $vg >/dev/null
python3 "$lib/ws_echo_rr.py" $port $((n / 4)) $size
cg_finish $vg $port $name $n "$name"
