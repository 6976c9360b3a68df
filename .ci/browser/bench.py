"""Keystroke-to-rendered-list timing of the search page in headless
chromium, split into the API's part and the page's part. Each key is typed
once the previous keystroke's list is drawn, so every keystroke is measured
whole (none is cancelled). The page records, per search (window.kontaktPerf,
performance.now() ms):
  inputAt      the input event's time stamp,
  fetchStart   when the request left,
  responseEnd  when its JSON was parsed,
  rendered     when the list, total and facets were in the DOM and laid out.
API part = responseEnd - fetchStart (network, server, JSON parse);
page part = (fetchStart - inputAt) + (rendered - responseEnd).
  KONTAKT_URL=http://127.0.0.1:8080 bash .ci/browser/python.sh .ci/browser/bench.py [rounds]
The report is printed and written to target/bench-ui/page-report.md."""

import math
import os
import sys

from playwright.sync_api import sync_playwright

from common import launch

BASE = os.environ["KONTAKT_URL"]
ROUNDS = int(sys.argv[1]) if len(sys.argv) > 1 else 3
WORDS = ["anna", "jørgen", "mikko", "lars eriksson", "sigríður", "niels", "johansson", "virtanen",
         "hansen", "erik", "kari", "ólafur", "svensson", "pedersen", "åsa", "korhonen", "nielsen",
         "magnus", "ingrid", "jon"]  # fmt: skip

samples = []
with sync_playwright() as pw:
    browser = launch(pw)
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{BASE}/")
    page.wait_for_function("() => window.kontaktPerf.length > 0")
    q = page.locator("#q")
    for r in range(ROUNDS):
        for w in WORDS:
            q.fill("")
            page.wait_for_function('() => window.kontaktPerf.at(-1)?.q === ""')
            typed = ""
            for ch in w:
                typed += ch
                n = page.evaluate("() => window.kontaktPerf.length")
                q.press_sequentially(ch)
                page.wait_for_function(
                    "([n, typed]) => window.kontaktPerf.length > n"
                    " && window.kontaktPerf.at(-1).q === typed",
                    arg=[n, typed],
                )
                e = page.evaluate("() => window.kontaktPerf.at(-1)")
                if r > 0 or ROUNDS == 1:  # the first round warms caches
                    samples.append(e)
    browser.close()


def pct(xs, p):
    s = sorted(xs)
    return s[min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1)]


api = [e["responseEnd"] - e["fetchStart"] for e in samples]
page_part = [e["fetchStart"] - e["inputAt"] + (e["rendered"] - e["responseEnd"]) for e in samples]
total = [e["rendered"] - e["inputAt"] for e in samples]
before = [e["fetchStart"] - e["inputAt"] for e in samples]
after = [e["rendered"] - e["responseEnd"] for e in samples]


def row(name, xs):
    return f"| {name} | {pct(xs, 50):.2f} | {pct(xs, 99):.2f} | {max(xs):.2f} |"


measured = ROUNDS - (1 if ROUNDS > 1 else 0)
report = "\n".join([
    f"{len(samples)} keystrokes ({measured} measured rounds of {len(WORDS)} words), {BASE}",
    "",
    "| part | p50 ms | p99 ms | max ms |",
    "|---|---|---|---|",
    row("keystroke → rendered list", total),
    row("API (request out → JSON parsed)", api),
    row("page (input → request, JSON → list laid out)", page_part),
    row("  of it: input event → request out", before),
    row("  of it: JSON parsed → list laid out", after),
])  # fmt: skip
print(report)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "target", "bench-ui")
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "page-report.md"), "w", encoding="utf-8") as f:
    f.write(report + "\n")
