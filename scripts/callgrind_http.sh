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
. "$lib/callgrind.sh"
dir=target/cg/http; mkdir -p "$dir"; cd "$dir"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CORERING_BACKEND=$backend valgrind --tool=callgrind --callgrind-out-file=$name.out \
  --toggle-collect='corering::runtime::worker::<impl corering::runtime::Worker>::run' \
  "$bin" --addr 127.0.0.1:$port --workers 1 >/dev/null 2>$name.err &
vg=$!
cg_wait_listening $port
python3 "$lib/http_pipelined.py" $port 3200
callgrind_control -z $vg >/dev/null
python3 "$lib/http_pipelined.py" $port $n
cg_finish $vg $port $name $n "$name"
