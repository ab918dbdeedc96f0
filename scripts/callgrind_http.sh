#!/usr/bin/env bash
# Instructions per pipelined plain-HTTP request in corering's worker loop,
# on either backend (valgrind's callgrind: repeatable, unlike timings on a
# shared machine; system calls themselves are not counted).
#
#   cargo build --release --example hello
#   scripts/callgrind_http.sh target/release/examples/hello [uring|epoll] [NAME]
#
# hello runs under callgrind with one worker; a Python client sends 16,000
# GET /plaintext, 16 per write, after a warm-up connection. Counted: the
# whole worker loop (HTTP, engine, driver). Output goes to target/cg/http/.
set -euo pipefail
bin=$(realpath "$1"); backend=${2:-uring}; n=16000
name=${3:-http-$backend}
lib=$(realpath "$(dirname "$0")/lib")
dir=target/cg/http; mkdir -p "$dir"; cd "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CORERING_BACKEND=$backend valgrind --tool=callgrind --callgrind-out-file=$name.out \
  --toggle-collect='corering::runtime::worker::<impl corering::runtime::Worker>::run' \
  "$bin" --addr 127.0.0.1:$port --workers 1 >/dev/null 2>$name.err &
vg=$!
for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.2; done
python3 "$lib/http_pipelined.py" $port 3200
callgrind_control -z $vg >/dev/null
python3 "$lib/http_pipelined.py" $port $n
callgrind_control -d $vg >/dev/null &
dumper=$!
# The dump is taken when the (idle, asleep) worker next wakes: wake it.
sleep 1; (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || true
wait $dumper
kill -9 $vg; wait $vg 2>/dev/null || true
total=$(callgrind_annotate $name.out.1 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}')
echo "$name: $total instructions, $((total / n)) per request"
