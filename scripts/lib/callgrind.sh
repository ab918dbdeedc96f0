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
