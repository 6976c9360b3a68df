#!/usr/bin/env bash
# Keeps nginx's list of kontakt replicas to those whose /ready answers 200
# (a replica bootstrapping, or lagging more than --max-lag behind its
# primary, answers 503 or not at all). Writes replicas.conf in RUN_DIR and
# reloads nginx when the list changes.
#
#   ready-upstreams.sh RUN_DIR NGINX_CONF HOST:PORT... [--once]
#
# With --once it checks one time (CI); otherwise every second.
set -euo pipefail
RUN_DIR="$1"; CONF="$2"; shift 2
ONCE=0
REPLICAS=()
for a in "$@"; do
  if [ "$a" = "--once" ]; then ONCE=1; else REPLICAS+=("$a"); fi
done

while true; do
  next=""
  for r in "${REPLICAS[@]}"; do
    if curl -sf --max-time 1 "http://$r/ready" -o /dev/null; then
      next+="server $r;"$'\n'
    else
      # nginx needs at least one server: a replica marked down keeps the
      # block valid and gets no traffic.
      next+="server $r down;"$'\n'
    fi
  done
  if [ "$next" != "$(cat "$RUN_DIR/replicas.conf" 2>/dev/null)"$'\n' ]; then
    printf '%s' "$next" > "$RUN_DIR/replicas.conf"
    if [ -f "$RUN_DIR/nginx.pid" ]; then
      nginx -c "$CONF" -p "$RUN_DIR" -s reload
    fi
  fi
  [ "$ONCE" = 1 ] && exit 0
  sleep 1
done
