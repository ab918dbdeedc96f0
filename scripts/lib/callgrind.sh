# Shared steps of the callgrind scripts (sourced).

# cg_wait_listening PORT: waits (up to a minute) until the server under
# callgrind accepts connections.
cg_wait_listening() {
  local port=$1
  for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && return; sleep 0.2; done
}

# cg_finish VG_PID PORT NAME N LABEL: dumps the counts, stops the server
# and prints LABEL's instructions in total and per request.
cg_finish() {
  local vg=$1 port=$2 name=$3 n=$4 label=$5 dumper total
  callgrind_control -d "$vg" >/dev/null &
  dumper=$!
  # The dump is taken when the (idle, asleep) worker next wakes: wake it.
  sleep 1; (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null || true
  wait $dumper
  kill -9 "$vg"; wait "$vg" 2>/dev/null || true
  total=$(callgrind_annotate "$name.out.1" 2>/dev/null | grep -m1 "PROGRAM TOTALS" | awk '{gsub(",","",$1); print $1}')
  echo "$label: $total instructions, $((total / n)) per request"
}

# cg_start NAME PORT BIN [ARGS...]: runs BIN --addr 127.0.0.1:PORT
# --workers 1 ARGS under callgrind, counting the worker loop only, into
# NAME.out (stderr to NAME.err), with CORERING_BACKEND as exported; sets
# `vg` to its pid and waits until it accepts connections.
cg_start() {
  local name=$1 port=$2 bin=$3
  shift 3
  valgrind --tool=callgrind --callgrind-out-file="$name.out" \
    --toggle-collect='corering::runtime::worker::<impl corering::runtime::Worker>::run' \
    "$bin" --addr 127.0.0.1:"$port" --workers 1 "$@" >/dev/null 2>"$name.err" &
  vg=$!
  cg_wait_listening "$port"
}

# cg_free_port: an unused loopback port.
cg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
