#!/usr/bin/env bash
# The whole test suite: unit, property and integration tests of every crate, the HTTP
# suite against both SQLite and a throwaway PostgreSQL cluster that this script starts
# (installing Debian's postgresql package when missing) and deletes afterwards.
# Usage: scripts/test.sh [extra nextest args]
set -euo pipefail
cd "$(dirname "$0")/.."

pg_dir=$(mktemp -d /tmp/lianxin-test-pg.XXXXXX)
cleanup() { scripts/pg-cluster.sh stop "$pg_dir" >/dev/null 2>&1 || true; }
trap cleanup EXIT
if ! LIANXIN_TEST_PG_URL=$(scripts/pg-cluster.sh start "$pg_dir"); then
    echo "error: could not start the throwaway PostgreSQL cluster; the PostgreSQL half of the suite cannot run" >&2
    exit 1
fi
export LIANXIN_TEST_PG_URL
echo "PostgreSQL test cluster: $LIANXIN_TEST_PG_URL" >&2
scripts/browser-deps.sh || echo "warning: browser-test dependencies missing; the console's browser tests will fail" >&2

if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    echo "cargo-nextest not found; falling back to cargo test" >&2
    cargo test --workspace --no-fail-fast "$@"
fi
