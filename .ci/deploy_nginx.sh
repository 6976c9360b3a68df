#!/usr/bin/env bash
# docs/deploy.md, run for real on loopback: a primary publishing to a
# file:// store, two replicas following it, and nginx (from Debian) in
# front, with the replicas listed by docs/deploy/ready-upstreams.sh from
# their /ready. Checks that writes reach the replicas through nginx, that
# searches are spread over both replicas, and that a replica whose /ready
# fails gets no traffic until it is ready again.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v nginx >/dev/null; then
  echo "installing nginx from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q nginx >/dev/null 2>&1 || { apt-get update -q >/dev/null && apt-get install -y -q nginx >/dev/null; }
  # The package may start its own server; this test runs its own only.
  if pgrep -x nginx >/dev/null; then service nginx stop >/dev/null 2>&1 || true; fi
fi

BIN=target/debug/kontakt
[ -x "$BIN" ] || cargo build --quiet
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  [ -f "$WORK/nginx.pid" ] && kill "$(cat "$WORK/nginx.pid")" 2>/dev/null || true
  for p in "${PIDS[@]}"; do kill -CONT "$p" 2>/dev/null || true; kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
wait_ready() {
  for _ in $(seq 1 600); do
    curl -sf "http://$1/ready" -o /dev/null && return 0
    sleep 0.1
  done
  echo "$1 did not become ready"; cat "$WORK"/*.log; exit 1
}

KEY=deploy-ci-key
STORE="file://$WORK/store"
P=127.0.0.1:$(free_port); R1=127.0.0.1:$(free_port); R2=127.0.0.1:$(free_port); LB=$(free_port)
KONTAKT_ADMIN_KEYS=$KEY RUST_LOG=warn "$BIN" serve --index "$WORK/primary" --bind "$P" \
  --publish "$STORE" --durability remote >"$WORK/primary.log" 2>&1 &
PIDS+=($!)
wait_ready "$P"
for r in "$R1" "$R2"; do
  RUST_LOG=warn "$BIN" serve --index "$WORK/replica-${r##*:}" --bind "$r" \
    --follow "$STORE" --follow-interval 0.2 >"$WORK/replica-${r##*:}.log" 2>&1 &
  PIDS+=($!)
done
R2_PID=${PIDS[2]}
wait_ready "$R1"; wait_ready "$R2"

sed "s/listen 127.0.0.1:8088;/listen 127.0.0.1:$LB;/" docs/deploy/nginx.conf > "$WORK/nginx.conf"
mkdir -p "$WORK/tmp"
echo "server $P;" > "$WORK/primary.conf"
docs/deploy/ready-upstreams.sh "$WORK" "$WORK/nginx.conf" "$R1" "$R2" --once
nginx -c "$WORK/nginx.conf" -p "$WORK"
for _ in $(seq 1 50); do [ -f "$WORK/nginx.pid" ] && break; sleep 0.1; done

# A write through nginx goes to the primary; searches through nginx see it.
curl -sf -X PUT -H "Authorization: Bearer $KEY" -H 'Content-Type: application/x-ndjson' \
  --data-binary '{"id": 990001, "company_id": 1, "full_name": "Deploy Zqxv", "source": "manual", "quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z"}' \
  "http://127.0.0.1:$LB/v1/contacts" | grep -q '"upserted":1'
for _ in $(seq 1 100); do
  a=$(curl -s "http://127.0.0.1:$LB/v1/contacts?q=zqxv" | grep -c '"id":990001' || true)
  b=$(curl -s "http://127.0.0.1:$LB/v1/contacts?q=zqxv" | grep -c '"id":990001' || true)
  [ "$a" = 1 ] && [ "$b" = 1 ] && break
  sleep 0.1
done
[ "$a" = 1 ] && [ "$b" = 1 ] || { echo "the write did not reach both replicas"; exit 1; }

upstreams() {
  for _ in $(seq 1 20); do
    curl -s -o /dev/null -D - "http://127.0.0.1:$LB/v1/contacts?limit=1" | tr -d '\r' | sed -n 's/^X-Kontakt-Upstream: //Ip'
  done | sort -u | tr '\n' ' '
}
both=$(upstreams)
echo "searches went to: $both"
[[ "$both" == *"$R1"* && "$both" == *"$R2"* ]] || { echo "searches were not spread over both replicas"; exit 1; }

# A replica whose /ready fails (here: stopped) is taken out, then back in.
kill -STOP "$R2_PID"
docs/deploy/ready-upstreams.sh "$WORK" "$WORK/nginx.conf" "$R1" "$R2" --once
sleep 0.5
one=$(upstreams)
echo "with replica $R2 not ready, searches went to: $one"
[ "$one" = "$R1 " ] || { echo "a replica that is not ready still got traffic"; exit 1; }
kill -CONT "$R2_PID"
docs/deploy/ready-upstreams.sh "$WORK" "$WORK/nginx.conf" "$R1" "$R2" --once
sleep 0.5
again=$(upstreams)
[[ "$again" == *"$R2"* ]] || { echo "the ready replica did not get traffic back"; exit 1; }

# Replicas refuse writes, with a JSON error saying why.
curl -s -X DELETE -H "Authorization: Bearer $KEY" "http://$R1/v1/contacts/990001" | grep -q '"code":"read_only_replica"'
echo "deploy: 1 passed, 0 failed"
