# Sourced by .ci scripts: start `kontakt serve` on a fresh index built from
# the bundled sample, on a free loopback port, with a random admin key, and
# stop it (and remove its files) when the script exits.
#
# After `start_server`: BASE (http://127.0.0.1:PORT), KEY (the admin key),
# WORK (a scratch directory, removed on exit) and SERVER_LOG are set.

BIN=target/debug/kontakt
WORK="$(mktemp -d)"
SERVER_LOG="$WORK/server.log"
SERVER_PID=""

stop_server() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
  rm -rf "$WORK"
}
trap stop_server EXIT

start_server() {
  [ -x "$BIN" ] || cargo build --quiet
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  BASE="http://127.0.0.1:$port"
  KEY="ci-admin-$(python3 -c 'import secrets; print(secrets.token_hex(8))')"
  KONTAKT_ADMIN_KEYS="$KEY" RUST_LOG=warn "$BIN" serve --index "$WORK/index" \
    --bind "127.0.0.1:$port" --request-timeout-secs 30 >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!
  python3 - "$BASE" "$SERVER_PID" <<'PY'
import os, sys, time, urllib.request
base, pid = sys.argv[1], int(sys.argv[2])
deadline = time.time() + 300
while time.time() < deadline:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the server exited before it was ready")
    try:
        if urllib.request.urlopen(base + "/ready", timeout=2).status == 200:
            sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit("the server was not ready in time")
PY
}
