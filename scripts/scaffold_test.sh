#!/usr/bin/env bash
# Makes a crate from every corering-new template and runs its tests, as a
# user would: `cargo run -p corering-new -- NAME --from T --path DIR`,
# then `cargo test` in DIR (a standalone crate depending on this checkout
# by path). The crates share one target directory, so corering is built
# once.
#
#   scripts/scaffold_test.sh [TEMPLATE...]      (default: every template)
#
# The crates go to target/scaffold/NAME (replaced on each run).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
cargo build --quiet -p corering-new
NEW=$ROOT/target/debug/corering-new
templates=("$@")
if [[ ${#templates[@]} -eq 0 ]]; then
    # The names `--help` lists under "Templates:".
    mapfile -t templates < <("$NEW" --help | sed -n '/^Templates:/,$p' | tail -n +2 | awk '{print $1}')
fi
export CARGO_TARGET_DIR=$ROOT/target/scaffold-target
for t in "${templates[@]}"; do
    dir=$ROOT/target/scaffold/my-$t
    rm -rf "$dir"
    "$NEW" "my-$t" --from "$t" --path "$dir" >/dev/null
    echo "== scaffold: $t ($dir)"
    started=$SECONDS
    if ! (cd "$dir" && cargo test --quiet >"$dir/test.log" 2>&1); then
        cat "$dir/test.log"
        echo "scaffold $t: cargo test FAILED"
        exit 1
    fi
    echo "scaffold $t: cargo test passed in $((SECONDS - started)) s"
done
