#!/usr/bin/env bash
# Makes a crate from every template and runs its tests, as a user would,
# both ways:
#   * `cargo run -p corering-new -- my-T --from T --path DIR`;
#   * `cargo generate --path templates/T --name my-T-gen ...` when
#     cargo-generate is on PATH (else one line `SKIP: cargo-generate not
#     installed`; with CORERING_REQUIRE_CARGO_GENERATE=1, as in CI, a
#     missing cargo-generate fails instead);
# then `cargo test` in DIR (a standalone crate depending on this checkout
# by path). The crates share one target directory, so corering is built
# once.
#
#   scripts/scaffold_test.sh [TEMPLATE...]      (default: every template)
#
# The crates go to target/scaffold/my-T and target/scaffold/my-T-gen
# (replaced on each run; the workspace excludes target/, so each is a
# package of its own).
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
mkdir -p "$ROOT/target/scaffold"

generate=1
if ! command -v cargo-generate >/dev/null; then
    if [[ ${CORERING_REQUIRE_CARGO_GENERATE:-} == 1 ]]; then
        echo "FAIL: cargo-generate not installed (CORERING_REQUIRE_CARGO_GENERATE=1)"
        exit 1
    fi
    echo "SKIP: cargo-generate not installed"
    generate=0
fi

# `cargo test` in the crate at $2, made by $1 from template $3.
check() {
    local how=$1 dir=$2 t=$3 started=$SECONDS
    echo "== scaffold ($how): $t ($dir)"
    if ! (cd "$dir" && cargo test --quiet >"$dir/test.log" 2>&1); then
        cat "$dir/test.log"
        echo "scaffold $t ($how): cargo test FAILED"
        exit 1
    fi
    echo "scaffold $t ($how): cargo test passed in $((SECONDS - started)) s"
}

for t in "${templates[@]}"; do
    dir=$ROOT/target/scaffold/my-$t
    rm -rf "$dir"
    "$NEW" "my-$t" --from "$t" --path "$dir" >/dev/null
    check corering-new "$dir" "$t"

    if [[ $generate == 1 ]]; then
        dir=$ROOT/target/scaffold/my-$t-gen
        rm -rf "$dir"
        # --silent: no prompts (corering_path comes from --define);
        # --vcs none: no git repository inside this one; --no-workspace:
        # leave this checkout's Cargo.toml alone.
        if ! cargo generate --path "templates/$t" --name "my-$t-gen" \
            --define corering_path="$ROOT/framework" \
            --destination "$ROOT/target/scaffold" \
            --silent --vcs none --no-workspace >"$ROOT/target/scaffold/my-$t-gen.log" 2>&1; then
            cat "$ROOT/target/scaffold/my-$t-gen.log"
            echo "scaffold $t (cargo generate): generation FAILED"
            exit 1
        fi
        check "cargo generate" "$dir" "$t"
    fi
done
