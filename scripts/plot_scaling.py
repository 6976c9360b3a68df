"""Draws search cost against index size from `cargo bench --bench search` reports.

Usage: scripts/plot_scaling.sh OUT.png DIR [DIR ...]

Each DIR is a `BENCH_DIR` whose `report.json` the benchmark wrote (one per
index size, e.g. 1M, 3M and 10M contacts). The picture has one panel per
query class, p50 and p99 with one client against the number of contacts, on
log-log axes: a line as steep as the dotted one means cost grows as fast as
the data; a flat one means it does not grow at all. Searches per second with
eight clients (the mixed query stream) are in the last panel.
"""

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

CLASSES = ["typeahead", "suggest", "filter+sort", "filter+sort+q", "facets"]


def load(dirs):
    reports = []
    for d in dirs:
        path = Path(d) / "report.json"
        with open(path) as f:
            reports.append(json.load(f))
    reports.sort(key=lambda r: r["contacts"])
    return reports


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, dirs = sys.argv[1], sys.argv[2:]
    reports = load(dirs)
    sizes = [r["contacts"] for r in reports]
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.5))
    for ax, name in zip(axes.flat, CLASSES):
        for pct, style in (("p50_ms", "o-"), ("p99_ms", "s--")):
            ys = [r["classes"][name]["clients_1"][pct] for r in reports]
            ax.plot(sizes, ys, style, label=pct.split("_")[0])
            for x, y in zip(sizes, ys):
                ax.annotate(f"{y:.1f}", (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        # Cost growing as fast as the data, from the smallest p50.
        base = reports[0]["classes"][name]["clients_1"]["p50_ms"]
        ax.plot(sizes, [base * s / sizes[0] for s in sizes], ":", color="grey", label="∝ contacts")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(f"{name}, 1 client")
        ax.set_xlabel("contacts")
        ax.set_ylabel("ms")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    ax = axes.flat[len(CLASSES)]
    ax.plot(sizes, [r["mixed_qps"] for r in reports], "o-")
    for x, r in zip(sizes, reports):
        ax.annotate(f"{r['mixed_qps']:.0f}", (x, r["mixed_qps"]), textcoords="offset points", xytext=(4, 4), fontsize=8)
    ax.set_xscale("log")
    ax.set_ylim(bottom=0)
    ax.set_title(f"mixed stream, {reports[0]['clients']} clients")
    ax.set_xlabel("contacts")
    ax.set_ylabel("searches/s")
    ax.grid(True, which="both", alpha=0.3)
    fig.suptitle("kontakt search cost against index size (cargo bench --bench search)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
