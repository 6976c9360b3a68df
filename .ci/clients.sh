#!/usr/bin/env bash
# Generated clients and linters against the live server's /openapi.json:
# - Redocly CLI and Spectral lint it (rules and the reasons for each rule
#   turned off: .ci/clients/redocly.yaml, .ci/clients/.spectral.yaml); any
#   finding fails.
# - openapi-python-client generates a Python client, and openapi-typescript
#   the types of an openapi-fetch client, checked with `tsc --strict`. Each
#   drives the server through the generated code only
#   (.ci/clients/{python,typescript}/check_client.*): filtered lists, three
#   cursors deep, facets, suggest, get by id, industries, JSON Lines writes,
#   a delete and typed errors.
# Tool versions are pinned in .ci/clients/python/requirements.txt and
# .ci/clients/package-lock.json; each set is installed once into a cache
# directory named by its hash.
set -euo pipefail
cd "$(dirname "$0")/.."

OPC_VERSION=0.29.1
PY_REQUIREMENTS=.ci/clients/python/requirements.txt
grep -qx "openapi-python-client==$OPC_VERSION" "$PY_REQUIREMENTS"
CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kontakt-ci"
PY_VENV="$CACHE/openapi-python-client-$(sha256sum "$PY_REQUIREMENTS" | cut -c1-16)"
LOCK_SUM="$(sha256sum .ci/clients/package-lock.json | cut -c1-16)"
NODE_DIR="$CACHE/node-clients-$LOCK_SUM"

if [ ! -x "$PY_VENV/bin/openapi-python-client" ]; then
  echo "installing openapi-python-client $OPC_VERSION ($PY_REQUIREMENTS) into $PY_VENV"
  python3 -m venv "$PY_VENV"
  "$PY_VENV/bin/pip" install --quiet --disable-pip-version-check -r "$PY_REQUIREMENTS"
fi
if [ ! -x "$NODE_DIR/node_modules/.bin/tsc" ]; then
  echo "installing the npm tools of .ci/clients/package-lock.json into $NODE_DIR"
  # Installed aside and moved in whole: an interrupted install is not reused.
  rm -rf "$NODE_DIR.part" && mkdir -p "$NODE_DIR.part"
  cp .ci/clients/package.json .ci/clients/package-lock.json "$NODE_DIR.part/"
  (cd "$NODE_DIR.part" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
  rm -rf "$NODE_DIR" && mv "$NODE_DIR.part" "$NODE_DIR"
fi
NPX_BIN="$NODE_DIR/node_modules/.bin"
# No telemetry or update checks from the linters.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

source .ci/server.sh
start_server
curl -sSf "$BASE/openapi.json" -o "$WORK/openapi.json"

failed=0
step() {
  echo "== $1"
  shift
  if ! "$@"; then
    echo "== FAILED: $*"
    failed=1
  fi
}

step "redocly lint (.ci/clients/redocly.yaml)" \
  "$NPX_BIN/redocly" lint --config .ci/clients/redocly.yaml --format=stylish "$WORK/openapi.json"
step "spectral lint (.ci/clients/.spectral.yaml)" \
  "$NPX_BIN/spectral" lint --fail-severity=warn --ruleset .ci/clients/.spectral.yaml "$WORK/openapi.json"

# Python: generate, then drive the server with the generated package. The
# venv's bin holds ruff, which the generator runs on its output.
python_client() {
  (cd "$WORK" && PATH="$PY_VENV/bin:$PATH" openapi-python-client generate \
    --path openapi.json --config "$OLDPWD/.ci/clients/python/config.yaml" \
    --output-path python --fail-on-warning) &&
    PYTHONPATH="$WORK/python" "$PY_VENV/bin/python" .ci/clients/python/check_client.py \
      "$BASE" "$KEY" 910000
}
step "python client (openapi-python-client $OPC_VERSION)" python_client

# TypeScript: types from the document, compiled with the check script under
# --strict, then run with node.
typescript_client() {
  local dir="$WORK/typescript"
  mkdir -p "$dir"
  cp .ci/clients/typescript/tsconfig.json .ci/clients/typescript/check_client.mts "$dir/"
  ln -s "$NODE_DIR/node_modules" "$dir/node_modules"
  "$NPX_BIN/openapi-typescript" "$WORK/openapi.json" --output "$dir/api.d.ts" &&
    "$NPX_BIN/tsc" --strict -p "$dir/tsconfig.json" &&
    node "$dir/out/check_client.mjs" "$BASE" "$KEY" 920000
}
step "typescript client (openapi-typescript, openapi-fetch, tsc --strict)" typescript_client

if [ "$failed" -ne 0 ]; then
  echo "== clients failed; server log:"
  tail -n 30 "$SERVER_LOG"
fi
exit "$failed"
