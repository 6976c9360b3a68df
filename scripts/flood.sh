#!/usr/bin/env bash
# Flood test (issue 5): the release binary on loopback under wrk with 256
# connections for 60 s, mixing valid, invalid and oversized requests.
# Reports requests, answers by status, and the server's RSS before, right
# after, and 10 s after each round; a second round shows whether memory
# keeps growing or levels off (caches, allocator). Not part of CI (it takes
# minutes).
#
#   scripts/flood.sh [DURATION=60s] [CONNECTIONS=256] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-60s}"
CONNECTIONS="${2:-256}"
ROUNDS="${3:-2}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --release --quiet
BIN=target/release/kontakt

WORK="$(mktemp -d)"
PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
export FLOOD_ADMIN_KEY="flood-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

KONTAKT_ADMIN_KEYS="$FLOOD_ADMIN_KEY" RUST_LOG=warn "$BIN" serve --index "$WORK/index" \
  --bind "127.0.0.1:$PORT" --max-body-bytes 1048576 >"$WORK/server.log" 2>&1 &
PID=$!
for _ in $(seq 1 600); do
  if curl -sf "http://127.0.0.1:$PORT/ready" >/dev/null 2>&1; then break; fi
  kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
  sleep 0.5
done
rss() { awk '/VmRSS/ {print $2 " kB"}' "/proc/$PID/status"; }
# Warm up the caches a little, so "before" is a serving process.
for _ in $(seq 1 50); do curl -s "http://127.0.0.1:$PORT/v1/contacts?q=an" >/dev/null; done
echo "RSS before:        $(rss)"
for round in $(seq 1 "$ROUNDS"); do
  echo "== round $round: wrk -t2 -c$CONNECTIONS -d$DURATION"
  wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --timeout 10s -s scripts/flood.lua "http://127.0.0.1:$PORT"
  echo "RSS right after:   $(rss)"
  sleep 10
  echo "RSS 10 s after:    $(rss)"
done
kill -0 "$PID" && echo "server still running"
code="$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/v1/contacts?limit=1")"
echo "a search after the flood: $code"
echo "server errors logged: $(grep -c ' ERROR ' "$WORK/server.log" || true)"
[ "$code" = 200 ]
