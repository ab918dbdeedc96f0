#!/usr/bin/env bash
# Runs every cargo-fuzz target in fuzz/ for a short time (default 20 s each).
#
#   scripts/fuzz_smoke.sh [SECONDS_PER_TARGET]
#
# Uses `cargo fuzz run -s none` (no sanitizer), which works on the stable
# toolchain; installs cargo-fuzz first if it is missing. A crash fails the
# script and leaves the input under fuzz/artifacts/<target>/.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-20}"

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "fuzz_smoke: installing cargo-fuzz"
    cargo install --locked --quiet cargo-fuzz
fi

for target in $(cargo fuzz list); do
    echo "fuzz_smoke: $target for ${SECS}s"
    log="$(mktemp)"
    status=0
    cargo fuzz run -s none "$target" -- -max_total_time="$SECS" >"$log" 2>&1 || status=$?
    # libFuzzer's progress lines are noise; keep the summary and any crash.
    grep -E '^(Done|==|SUMMARY|thread .* panicked|artifact_prefix)' "$log" || true
    if [[ $status -ne 0 ]]; then
        tail -40 "$log" >&2
        echo "fuzz_smoke: $target failed (exit $status)" >&2
        exit 1
    fi
    rm -f "$log"
done
