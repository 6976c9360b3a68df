"""Browser tests of the search page, in Debian's chromium (headless), driven
by Playwright's Python client (sync API) over the DevTools protocol. Run by
.ci/browser.sh, which starts the server and passes:
  KONTAKT_URL         the server (reads open)
  KONTAKT_SE_KEY      a scoped key restricted to country_code=SE
  KONTAKT_CAPPED_KEY  a scoped key with --max-limit 5
  SHOTS               where screenshots go (under target/)
Prints one line per test and closes with "N passed, N failed"; exits 1 if
any failed."""

import json
import os
import re
import sys
import time
import traceback
import urllib.error
import urllib.request
from urllib.parse import parse_qs, quote, urlparse

from playwright.sync_api import sync_playwright

from common import launch

BASE = os.environ["KONTAKT_URL"]
SE_KEY = os.environ["KONTAKT_SE_KEY"]
CAPPED_KEY = os.environ["KONTAKT_CAPPED_KEY"]
SHOTS = os.environ.get("SHOTS", "target/browser")
os.makedirs(SHOTS, exist_ok=True)
DESKTOP = {"width": 1280, "height": 860}
SCREENSHOTS = [
    "typing-jor-desktop.png",
    "contact-panel-desktop.png",
    "scoped-key-se-desktop.png",
    "error-unknown-key.png",
    "results-phone.png",
    "filters-phone.png",
    "contact-panel-phone.png",
    "filters-desktop.png",
]


def api(path, key=None):
    """The API's own answer, to hold the page against."""
    req = urllib.request.Request(BASE + path)
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, body = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, body = e.code, e.read()
    assert status == 200, f"{path}: {status} {body[:200]!r}"
    return json.loads(body)


def ids_of(answer):
    return [c["id"] for c in answer["data"]]


def same(got, want, what):
    assert got == want, f"{what}: the page shows {got}, the API {want}"


def listed(page):
    """The ids on screen, in order."""
    return page.eval_on_selector_all(
        "#results .result", "els => els.map((e) => Number(e.dataset.id))"
    )


def shown_total(page):
    return page.eval_on_selector(
        "#summary strong", 'e => Number(e.textContent.replace(/[^0-9]/g, ""))'
    )


def settle(page):
    page.wait_for_function('() => document.getElementById("busy").hidden')


def summary_has(page, text):
    page.wait_for_function(
        '(t) => document.querySelector("#summary")?.textContent.includes(t)', arg=text
    )


def country_badges(page):
    return page.eval_on_selector_all(
        "#results .result .meta .badge:first-child",
        "els => els.map((e) => e.textContent.slice(0, 2))",
    )


console_errors = []


def watch(page):
    page.on(
        "console",
        lambda m: console_errors.append(m.text) if m.type == "error" else None,
    )
    page.on("pageerror", lambda e: console_errors.append(str(e)))


results = []


def test(name):
    """Runs the function at once as a named test; a failure is recorded and
    the run goes on, as the later tests do not depend on it passing."""

    def run(fn):
        started = time.monotonic()
        try:
            fn()
            results.append(f"ok   {name} ({(time.monotonic() - started) * 1000:.0f} ms)")
        except Exception:  # noqa: BLE001 - every failure is reported, then counted
            results.append(f"FAIL {name}: {traceback.format_exc()}")
        print(results[-1], flush=True)
        return fn

    return run


with sync_playwright() as pw:
    browser = launch(pw)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watch(page)
    page.goto(f"{BASE}/")
    settle(page)

    @test("typing jør one key at a time shows Jørgen, highlighted")
    def _():
        q = page.locator("#q")
        q.click()
        # One key at a time, each typed as its own input event.
        for ch in "jør":
            q.press_sequentially(ch, delay=40)
        summary_has(page, "jør")
        settle(page)
        hit = page.eval_on_selector_all(
            "#results .result .name",
            "els => els.map((e) => ({ text: e.textContent,"
            ' marks: [...e.querySelectorAll("mark")].map((m) => m.textContent) }))',
        )
        jorgen = next((h for h in hit if h["text"].startswith("Jørgen")), None)
        assert jorgen, f"no Jørgen among {', '.join(h['text'] for h in hit)}"
        assert jorgen["marks"] == ["Jør"], jorgen["marks"]
        expected = api("/v1/contacts?q=j%C3%B8r&limit=20")
        same(listed(page), ids_of(expected), "ids")
        page.screenshot(path=f"{SHOTS}/typing-jor-desktop.png")

    @test("the combobox moves with the arrow keys and opens a contact on Enter")
    def _():
        q = page.locator("#q")
        q.press("ArrowDown")
        q.press("ArrowDown")
        second = listed(page)[1]
        assert q.get_attribute("aria-activedescendant") == f"opt-{second}"
        assert page.get_attribute(f"#opt-{second}", "aria-selected") == "true"
        q.press("Enter")
        page.wait_for_selector("#panel-name")
        expected = api(f"/v1/contacts/{second}")
        assert page.text_content("#panel-name") == expected["data"]["full_name"]
        contact = parse_qs(urlparse(page.url).query).get("contact", [None])[0]
        assert contact == str(second), (contact, second)
        page.screenshot(path=f"{SHOTS}/contact-panel-desktop.png")
        page.keyboard.press("Escape")
        page.wait_for_selector("#panel", state="hidden")

    for no_abort in (False, True):

        @test(
            "an answer for j held back until after jø's never replaces it "
            f"({'no aborting' if no_abort else 'aborting'})"
        )
        def _():
            page.evaluate(
                """(noAbort) => {
                  window.kontaktHeld = [];
                  window.kontaktLate = [];
                  const held = (url) => url.startsWith("/v1/contacts?q=j&");
                  window.kontaktTestHooks = {
                    noAbort,
                    delay: (url) => (held(url) ? (window.kontaktHeld.push(url), 1200) : 0),
                    answered: (url) => held(url) && window.kontaktLate.push(url),
                  };
                }""",
                no_abort,
            )
            q = page.locator("#q")
            q.fill("")
            settle(page)
            q.press_sequentially("j")
            q.press_sequentially("ø")
            jo = api("/v1/contacts?q=j%C3%B8&limit=20")
            summary_has(page, "jø")
            # Past the held answer's release.
            page.wait_for_timeout(1800)
            assert page.evaluate("() => window.kontaktHeld.length") >= 1, "the j request was held"
            # Without aborting, j's answer did arrive, after jø's was shown.
            assert page.evaluate("() => window.kontaktLate.length") == (1 if no_abort else 0)
            assert "“jø”" in page.text_content("#summary")
            same(listed(page), ids_of(jo), "ids")
            assert shown_total(page) == jo["total"]
            page.evaluate("() => (window.kontaktTestHooks = {})")

    se_total = 0

    @test("clicking a country narrows the list; the total is the API's")
    def _():
        global se_total
        page.goto(f"{BASE}/")
        settle(page)
        before = shown_total(page)
        page.click('#facet-country button[data-value="SE"]')
        page.wait_for_function(
            '() => new URLSearchParams(location.search).get("country_code") === "SE"'
        )
        settle(page)
        se_total = shown_total(page)
        expected = api("/v1/contacts?country_code=SE&limit=20")
        assert se_total == expected["total"], (se_total, expected["total"])
        assert se_total < before, (se_total, before)
        same(listed(page), ids_of(expected), "ids")
        badges = country_badges(page)
        assert all(b == "SE" for b in badges), ",".join(badges)

    @test("scrolling loads the next pages with no duplicates and none missing")
    def _():
        for _ in range(4):
            n = len(listed(page))
            page.evaluate("() => window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_function(
                '(n) => document.querySelectorAll("#results .result").length > n', arg=n
            )
        page.wait_for_timeout(300)
        ids = listed(page)
        assert len(ids) >= 100, f"only {len(ids)} loaded"
        assert len(set(ids)) == len(ids), "duplicates"
        # The API's first pages of the same search, walked by cursor.
        want = []
        cursor = ""
        while len(want) < len(ids):
            pg = api(f"/v1/contacts?country_code=SE&limit=20{cursor}")
            want += ids_of(pg)
            cursor = f"&cursor={quote(pg['pagination']['next_cursor'], safe='')}"
        same(ids, want[: len(ids)], "ids after scrolling")
        page.evaluate("() => window.scrollTo(0, 0)")

    @test("the back button restores the previous search")
    def _():
        q = page.locator("#q")
        q.click()
        q.press_sequentially("anna", delay=30)
        summary_has(page, "anna")
        settle(page)
        anna_ids = listed(page)
        page.wait_for_timeout(1100)  # a new burst of typing makes a new entry
        q.fill("")
        q.press_sequentially("berg", delay=30)
        summary_has(page, "berg")
        page.go_back()
        summary_has(page, "anna")
        settle(page)
        assert q.input_value() == "anna"
        same(listed(page), anna_ids, "ids")
        page.go_back()
        page.wait_for_function(
            '() => !document.querySelector("#summary")?.textContent.includes("“")'
        )
        settle(page)
        assert q.input_value() == ""
        assert shown_total(page) == se_total, (shown_total(page), se_total)
        pressed = page.get_attribute('#facet-country button[data-value="SE"]', "aria-pressed")
        assert pressed == "true", pressed

    @test("a shared link opens the same search")
    def _():
        other = context.new_page()
        watch(other)
        other.goto(f"{BASE}/?q=anna&country_code=SE&sort_by=full_name")
        settle(other)
        expected = api(
            "/v1/contacts?q=anna&country_code=SE&sort_by=full_name&sort_order=asc&limit=20"
        )
        same(listed(other), ids_of(expected), "ids")
        assert other.input_value("#sort") == "full_name"
        other.close()

    @test("with a scoped key for SE only, no other country appears in results or facets")
    def _():
        ctx = browser.new_context(viewport=DESKTOP)
        p = ctx.new_page()
        watch(p)
        p.goto(f"{BASE}/")
        settle(p)
        p.click("#key-toggle")
        p.fill("#key", SE_KEY)
        p.click('#key-box button[type="submit"]')
        p.wait_for_function('() => document.querySelectorAll("#facet-country button").length === 1')
        settle(p)
        for q in ["", "jør", "anna", "berg"]:
            p.fill("#q", q)
            p.wait_for_function(
                '(q) => (q ? document.querySelector("#summary")?.textContent.includes(q) : true)',
                arg=q,
            )
            settle(p)
            facet = p.eval_on_selector_all(
                "#facet-country button", "els => els.map((e) => e.dataset.value)"
            )
            assert facet == ["SE"], f"facets for {q}: {facet}"
            countries = country_badges(p)
            assert all(c == "SE" for c in countries), f"{q}: {countries}"
            expected = api(f"/v1/contacts?q={quote(q, safe='')}&limit=1", SE_KEY)
            assert shown_total(p) == expected["total"], (q, shown_total(p), expected["total"])
        p.screenshot(path=f"{SHOTS}/scoped-key-se-desktop.png")
        ctx.close()

    @test("a scoped key with a smaller page cap still lists and scrolls")
    def _():
        ctx = browser.new_context(viewport=DESKTOP)
        p = ctx.new_page()
        watch(p)
        p.add_init_script(f'sessionStorage.setItem("kontakt.key", {json.dumps(CAPPED_KEY)})')
        p.goto(f"{BASE}/?q=anna")
        p.wait_for_function('() => document.querySelectorAll("#results .result").length >= 10')
        assert p.is_visible("#error") is False
        ids = listed(p)
        assert len(set(ids)) == len(ids), "duplicates"
        expected = api("/v1/contacts?q=anna&limit=1", CAPPED_KEY)
        assert shown_total(p) == expected["total"], (shown_total(p), expected["total"])
        ctx.close()

    @test("errors are shown as messages, not blank lists")
    def _():
        ctx = browser.new_context(viewport=DESKTOP)
        p = ctx.new_page()
        p.goto(f"{BASE}/")
        settle(p)
        p.evaluate('() => sessionStorage.setItem("kontakt.key", "not-a-key")')
        p.reload()
        p.wait_for_selector("#error:not([hidden])")
        message = p.text_content("#error")
        assert re.search(r"key was refused", message), message
        assert p.is_visible("#key-box") is True
        p.screenshot(path=f"{SHOTS}/error-unknown-key.png")
        ctx.close()

    @test("the page works at phone width")
    def _():
        ctx = browser.new_context(
            viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
        )
        p = ctx.new_page()
        watch(p)
        p.goto(f"{BASE}/?q=anna")
        settle(p)
        width = p.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 390, f"the page is {width}px wide"
        p.screenshot(path=f"{SHOTS}/results-phone.png")
        p.click("#filters-toggle")
        p.screenshot(path=f"{SHOTS}/filters-phone.png")
        p.click("#results .result")
        p.wait_for_selector("#panel-name")
        p.screenshot(path=f"{SHOTS}/contact-panel-phone.png")
        ctx.close()

    @test("filters from the URL; every screenshot was written")
    def _():
        page.goto(f"{BASE}/?country_code=SE&seniority_level=manager")
        settle(page)
        pressed = page.get_attribute('#facet-country button[data-value="SE"]', "aria-pressed")
        assert pressed == "true", pressed
        page.screenshot(path=f"{SHOTS}/filters-desktop.png")
        missing = [
            s
            for s in SCREENSHOTS
            if not os.path.isfile(f"{SHOTS}/{s}") or os.path.getsize(f"{SHOTS}/{s}") == 0
        ]
        assert not missing, f"missing or empty screenshots: {missing}"

    # Last, so it covers every page opened above.
    @test("the browser console shows no errors")
    def _():
        assert console_errors == [], console_errors

    browser.close()

failed = sum(r.startswith("FAIL") for r in results)
print(f"\nscreenshots in {SHOTS}")
print(f"browser: {len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
