#!/usr/bin/env bash
# Browser tests of the search page (GET /) in Debian's chromium, headless,
# driven by Playwright's Python client (pinned in .ci/browser/python.sh,
# installed into a venv on first use; no browser download, the Debian binary
# is launched). Screenshots land in target/browser/. Usage: bash .ci/browser.sh
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# Installs the client now, before the server starts.
bash .ci/browser/python.sh -c 'import playwright.sync_api'

cargo build --release --quiet
bin=target/release/kontakt
work=target/browser
rm -rf "$work"
mkdir -p "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
admin=browser-test-admin-key
# Reads stay open; scoped keys derive from the admin key.
"$bin" serve --index "$work/index" --bind "127.0.0.1:$port" --admin-keys "$admin" \
  >"$work/server.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -fs "http://127.0.0.1:$port/ready" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$work/server.log"; exit 1; }
  sleep 0.2
done
se_key=$("$bin" key scope --parent "$admin" --filter 'country_code=SE' \
  --expires "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)")

capped_key=$("$bin" key scope --parent "$admin" --max-limit 5 \
  --expires "$(date -u -d '+1 day' +%Y-%m-%dT%H:%M:%SZ)")

KONTAKT_URL="http://127.0.0.1:$port" KONTAKT_SE_KEY="$se_key" KONTAKT_CAPPED_KEY="$capped_key" SHOTS="$work" \
  bash .ci/browser/python.sh .ci/browser/test.py
