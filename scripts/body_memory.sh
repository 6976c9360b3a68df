#!/usr/bin/env bash
# Peak memory of write bodies (issue 12, point 3): for each body at the
# size limit (64 MiB of blank lines and one record, 64 MiB of invalid
# lines, 64 MiB of valid contacts, 64 MiB of new companies) a fresh release
# server on a copy of the sample index takes the body once; the report is
# the server's peak RSS (VmHWM) before and after, the growth as a multiple
# of the body, and the peak RSS of a server started afresh on the written
# index (what holding the new records costs anyway: every company is kept
# in memory).
#
#   scripts/body_memory.sh [BIN=target/release/kontakt]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${1:-target/release/kontakt}"
[ -x "$BIN" ] || cargo build --release --quiet
LIMIT=$((64 << 20))
WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
KEY="mem-$$"
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
hwm() { awk '/VmHWM/ {print $2}' "/proc/$PID/status"; }

start() { # start INDEX_DIR PORT
  KONTAKT_ADMIN_KEYS="$KEY" RUST_LOG=warn "$BIN" serve --index "$1" --bind "127.0.0.1:$2" \
    --request-timeout-secs 0 >>"$WORK/server.log" 2>&1 &
  PID=$!
  for _ in $(seq 1 1200); do
    if curl -sf "http://127.0.0.1:$2/ready" >/dev/null 2>&1; then return; fi
    kill -0 "$PID" 2>/dev/null || { cat "$WORK/server.log"; exit 1; }
    sleep 0.5
  done
  echo "server did not start" >&2; exit 1
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""; }

# The sample index, built once.
P="$(port)"; start "$WORK/template" "$P"; stop

# The bodies, each at most LIMIT bytes.
python3 - "$WORK" "$LIMIT" <<'PY'
import json, sys
work, limit = sys.argv[1], int(sys.argv[2])
lines = open("fixtures/contacts.jsonl", "rb").read().splitlines()
record = lines[0] + b"\n"
with open(f"{work}/blank.jsonl", "wb") as f:
    f.write(b"\n" * (limit - len(record)) + record)
with open(f"{work}/invalid.jsonl", "wb") as f:
    f.write(b"x\n" * (limit // 2))
with open(f"{work}/valid.jsonl", "wb") as f:
    size, i = 0, 0
    while True:
        c = json.loads(lines[i % len(lines)])
        c["id"] = 10_000_000 + i
        line = json.dumps(c, ensure_ascii=False).encode() + b"\n"
        if size + len(line) > limit:
            break
        f.write(line); size += len(line); i += 1
companies = open("fixtures/companies.jsonl", "rb").read().splitlines()
with open(f"{work}/companies.jsonl", "wb") as f:
    size, i = 0, 0
    while True:
        c = json.loads(companies[i % len(companies)])
        c["id"] = 10_000_000 + i
        line = json.dumps(c, ensure_ascii=False).encode() + b"\n"
        if size + len(line) > limit:
            break
        f.write(line); size += len(line); i += 1
PY

printf '| body (64 MiB) | status | peak RSS before | peak RSS after | growth / body | peak anonymous RSS | peak RSS restarted |\n|---|---|---|---|---|---|---|\n'
for case in blank invalid valid companies; do
  endpoint=contacts; [ "$case" = companies ] && endpoint=companies
  rm -rf "$WORK/index"; cp -a "$WORK/template" "$WORK/index"
  P="$(port)"; start "$WORK/index" "$P"
  before=$(hwm)
  # The largest anonymous part seen while the body is taken (VmHWM also
  # counts the index files the server maps, which the kernel can drop).
  rm -f "$WORK/done"; echo 0 >"$WORK/anon"
  ( peak=0; while kill -0 "$PID" 2>/dev/null && [ ! -e "$WORK/done" ]; do
      a=$(awk '/RssAnon/ {print $2}' "/proc/$PID/status" 2>/dev/null || echo 0)
      [ "${a:-0}" -gt "$peak" ] && peak=$a; echo "$peak" >"$WORK/anon"; sleep 0.05; done ) &
  SAMPLER=$!
  status=$(curl -s -o "$WORK/answer" -w '%{http_code}' -X PUT -H "Authorization: Bearer $KEY" \
    --data-binary @"$WORK/$case.jsonl" "http://127.0.0.1:$P/v1/$endpoint")
  after=$(hwm)
  touch "$WORK/done"; wait "$SAMPLER" || true
  anon=$(cat "$WORK/anon")
  body=$(stat -c %s "$WORK/$case.jsonl")
  stop
  P="$(port)"; start "$WORK/index" "$P"; restarted=$(hwm); stop
  python3 -c "import sys; b,a,n,an,r=map(int,sys.argv[1:6]); print(f'| $case | $status | {b/1024:.0f} MiB | {a/1024:.0f} MiB | {(a-b)*1024/n:.2f}x | {an/1024:.0f} MiB | {r/1024:.0f} MiB |')" "$before" "$after" "$body" "$anon" "$restarted"
done
