#!/usr/bin/env bash
# Schemathesis over the served OpenAPI document: starts `lianxin serve --demo` on a free
# port with a throwaway SQLite database, signs in several roles (and none), and for each
# lets schemathesis generate requests from the document. Fails on any 5xx, any response
# whose status, content type, headers or body the document does not describe.
#
# Schemathesis comes from PyPI into a virtualenv cached under ~/.cache/lianxin (override:
# LIANXIN_SCHEMATHESIS_VENV), so a second run starts at once. Examples per operation:
# LIANXIN_SCHEMATHESIS_EXAMPLES (default 10). The server's log and schemathesis' reports
# are kept in target/schemathesis/. LIANXIN_BIN=path skips the build and serves that binary.
# Usage: scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

version=4.32.5
venv=${LIANXIN_SCHEMATHESIS_VENV:-$HOME/.cache/lianxin/schemathesis-$version}
examples=${LIANXIN_SCHEMATHESIS_EXAMPLES:-10}
target=${CARGO_TARGET_DIR:-target}
out=target/schemathesis
started=$(date +%s)

die() { echo "error: schemathesis: $*" >&2; exit 1; }

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$version"; then
    python=$(command -v python3.11 || command -v python3) || die "no python3.11 or python3 to install schemathesis with"
    echo "installing schemathesis $version into $venv" >&2
    rm -rf "$venv"
    "$python" -m venv "$venv" || die "could not create a virtualenv with $python (Debian: apt-get install python3-venv)"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$version" \
        || die "could not install schemathesis $version from PyPI"
fi
st="$venv/bin/schemathesis"
py="$venv/bin/python"

# The same build as the test suite's (`cargo test --no-run --workspace`), so that CI compiles
# once; LIANXIN_BIN=path uses a binary built already.
bin=${LIANXIN_BIN:-}
if [ -z "$bin" ]; then
    cargo test --quiet --workspace --no-run || die "could not build lianxin"
    bin="$target/debug/lianxin"
fi
[ -x "$bin" ] || die "no binary at $bin"

rm -rf "$out" && mkdir -p "$out"
db_dir=$(mktemp -d /tmp/lianxin-schemathesis.XXXXXX)
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
LIANXIN_LOG=warn "$bin" serve --demo --demo-orders 300 --sweep-seconds 0 --listen "127.0.0.1:$port" \
    --database-url "sqlite://$db_dir/schemathesis.db" >"$out/server.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$db_dir"
}
trap cleanup EXIT

# Wait for the server (the demo city takes a few seconds to load).
"$py" - "$base" <<'EOF' || { cat "$out/server.log" >&2; die "the server did not come up"; }
import sys, time, urllib.request
for _ in range(600):
    try:
        if urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
EOF

token() {
    "$py" - "$base" "$1" <<'EOF'
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1] + "/api/v1/auth/login", method="POST",
                             data=json.dumps({"username": sys.argv[2], "password": "demo"}).encode(),
                             headers={"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["token"])
EOF
}

checks=not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance
failed=()
# Each role sees other operations succeed; `admin` goes last (it can change accounts and
# reference data). Signing out would end the run's own session: logout is left out.
for role in anonymous operator dispatcher handler.d440106 supervisor admin; do
    args=()
    n=$examples
    if [ "$role" = anonymous ]; then
        n=5
    else
        tok=$(token "$role") || die "could not sign in as $role"
        args=(-H "Authorization: Bearer $tok")
    fi
    # Run inside $out: schemathesis keeps its own state in the working directory.
    run() {
        (cd "$out" && "$st" run "$base/api/v1/openapi.json" "${args[@]}" \
            --checks "$checks" --max-examples "$n" --phases examples,coverage,fuzzing \
            --exclude-operation-id logout --seed "$1" --workers 2 --request-timeout 30 \
            --suppress-health-check all --generation-database none --generation-with-security-parameters false --no-color \
            --report junit --report-junit-path "junit-$role.xml")
    }
    echo "== schemathesis as $role ($n examples per operation)" >&2
    if ! run 12345; then
        # A failed check is a failure. An error without one is schemathesis's own (its
        # generator has been seen raising a KeyError mid-run, "Inconsistent results"): run
        # once more with another seed, and count it only if it happens again.
        if grep -q "<failure" "$out/junit-$role.xml" 2>/dev/null || ! grep -q "<error" "$out/junit-$role.xml" 2>/dev/null; then
            failed+=("$role")
        else
            echo "schemathesis as $role: an internal error and no failed check; running again with another seed" >&2
            run 54321 || failed+=("$role")
        fi
    fi
done

grep -q "panicked" "$out/server.log" && { grep -n "panicked" "$out/server.log" >&2; failed+=("server-panic"); }
echo "schemathesis: $(($(date +%s) - started)) s" >&2
if [ ${#failed[@]} -gt 0 ]; then
    die "failures as: ${failed[*]} (server log: $out/server.log)"
fi
echo "schemathesis: no failures for any role" >&2
