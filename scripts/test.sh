#!/usr/bin/env bash
# The whole test suite: unit, property and integration tests of every crate.
# Usage: scripts/test.sh [extra nextest args]
set -euo pipefail
cd "$(dirname "$0")/.."

if cargo nextest --version >/dev/null 2>&1; then
    exec cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "cargo-nextest not found; falling back to cargo test" >&2
    exec cargo test --workspace --no-fail-fast "$@"
fi
