#!/usr/bin/env bash
# Instructions per pipelined HTTPS request in corering's worker loop
# (valgrind's callgrind: repeatable, unlike timings on a shared machine).
#
#   cargo build --release --example hello
#   scripts/callgrind_https.sh target/release/examples/hello [1.2]
#
# hello runs under callgrind with one worker and a throwaway self-signed
# certificate; a Python ssl client sends 8,000 GET /plaintext, 16 per
# write, after a warm-up connection. Counted: the whole worker loop
# (HTTP, TLS records, engine), including the measured connection's
# handshake. Output files go to target/cg/tls/.
set -euo pipefail
bin=$(realpath "$1"); ver=${2:-1.3}; n=8000
lib=$(realpath "$(dirname "$0")/lib")
. "$lib/callgrind.sh"
dir=target/cg/tls; mkdir -p "$dir"; cd "$dir"
port=$(cg_free_port)
[ -f cert.pem ] || openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -days 30 -keyout key.pem -out cert.pem -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null
name=https-$ver
cg_start $name $port "$bin" --tls-cert cert.pem --tls-key key.pem
python3 "$lib/https_pipelined.py" $port 1600 $ver
callgrind_control -z $vg >/dev/null
python3 "$lib/https_pipelined.py" $port $n $ver
cg_finish $vg $port $name $n "TLS $ver"
