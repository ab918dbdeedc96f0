#!/usr/bin/env bash
# Instructions per echoed 64-byte message in corering's worker loop, on
# either backend (callgrind; system calls themselves are not counted).
#
#   cargo build --release --example echo
#   scripts/callgrind_echo.sh target/release/examples/echo [uring|epoll] [NAME]
#
# echo runs under callgrind with one worker; a Python client keeps 16
# connections and sends 1,000 rounds of one message per connection after
# a warm-up. Output goes to target/cg/echo/.
set -euo pipefail
bin=$(realpath "$1"); backend=${2:-uring}; n=16000
name=${3:-echo-$backend}
lib=$(realpath "$(dirname "$0")/lib")
. "$lib/callgrind.sh"
dir=target/cg/echo; mkdir -p "$dir"; cd "$dir"
port=$(cg_free_port)
export CORERING_BACKEND=$backend
cg_start $name $port "$bin"
python3 "$lib/echo_rr.py" $port 200
callgrind_control -z $vg >/dev/null
python3 "$lib/echo_rr.py" $port $((n / 16))
cg_finish $vg $port $name $n "$name"
