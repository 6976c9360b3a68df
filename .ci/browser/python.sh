#!/usr/bin/env bash
# Runs a Python script of .ci/browser with the pinned Playwright client,
# installed on first use into a venv under ${XDG_CACHE_HOME:-~/.cache}/kontakt-ci/.
# Only the Python package is installed: the scripts launch Debian's chromium
# (/usr/bin/chromium, or $CHROMIUM), never a browser build of Playwright's.
#   bash .ci/browser/python.sh .ci/browser/test.py
set -euo pipefail

PW_VERSION=1.65.2
GREENLET_VERSION=3.5.6
VENV="${KONTAKT_PW_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/kontakt-ci/playwright-$PW_VERSION}"
if [ ! -x "$VENV/bin/python" ]; then
  echo "installing playwright $PW_VERSION (Python) into $VENV" >&2
  # Built aside and moved into place, so a cut-off install is not taken for a whole one.
  rm -rf "$VENV.part"
  python3 -m venv "$VENV.part"
  "$VENV.part/bin/pip" install --quiet --disable-pip-version-check \
    "playwright==$PW_VERSION" "greenlet==$GREENLET_VERSION"
  mv "$VENV.part" "$VENV"
fi
# No __pycache__ beside the scripts in the work tree.
PYTHONDONTWRITEBYTECODE=1 exec "$VENV/bin/python" "$@"
