#!/usr/bin/env bash
# The replication tests (tests/replication.rs) against a real S3 API: moto's
# S3-compatible server from PyPI, on loopback, with a bucket of its own. The
# tests include one that fails if the server does not refuse a second
# conditional put (If-None-Match: *) of one key, which fencing relies on.
set -euo pipefail
cd "$(dirname "$0")/.."

MOTO_VERSION=5.2.5
VENV="${KONTAKT_MOTO_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kontakt-ci/moto-$MOTO_VERSION}"
if [ ! -x "$VENV/bin/moto_server" ]; then
  echo "installing moto[server] $MOTO_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
fi

PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
LOG="$(mktemp)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
PID=$!
cleanup() {
  kill "$PID" 2>/dev/null || true
  wait "$PID" 2>/dev/null || true
  rm -f "$LOG"
}
trap cleanup EXIT

BUCKET=kontakt-ci
for _ in $(seq 1 100); do
  if curl -sf -X PUT "http://127.0.0.1:$PORT/$BUCKET" -o /dev/null; then break; fi
  sleep 0.2
done
curl -sf "http://127.0.0.1:$PORT/$BUCKET" -o /dev/null || { cat "$LOG"; exit 1; }

# The standard AWS variables, as an operator would set them.
export KONTAKT_TEST_STORE="s3://$BUCKET"
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT"
export AWS_ACCESS_KEY_ID=ci AWS_SECRET_ACCESS_KEY=ci AWS_REGION=us-east-1
export REPLICATION_KILLS="${REPLICATION_KILLS:-5}"
cargo test --test replication
