#!/usr/bin/env bash
# Draws docs/scaling.png (or OUT.png) from the reports of several
# `cargo bench --bench search` runs; see scripts/plot_scaling.py.
#   BENCH_CONTACTS=1000000  BENCH_DIR=target/bench-1m  cargo bench --bench search
#   BENCH_CONTACTS=3000000  BENCH_DIR=target/bench-3m  cargo bench --bench search
#   BENCH_CONTACTS=10000000 BENCH_DIR=target/bench-10m cargo bench --bench search
#   scripts/plot_scaling.sh docs/scaling.png target/bench-1m target/bench-3m target/bench-10m
# matplotlib (pinned) is installed into target/plot-venv on first use.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/../target/plot-venv"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet matplotlib==3.10.7
fi
exec "$venv/bin/python" "$here/plot_scaling.py" "$@"
