// Browser tests of the search page, in Debian's chromium (headless), driven
// by playwright-core over the DevTools protocol. Run by .ci/browser.sh,
// which starts the server and passes:
//   KONTAKT_URL      the server (reads open)
//   KONTAKT_SE_KEY   a scoped key restricted to country_code=SE
//   KONTAKT_CAPPED_KEY  a scoped key with --max-limit 5
//   SHOTS            where screenshots go (under target/)
import { chromium } from "playwright-core";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";

const base = process.env.KONTAKT_URL;
const seKey = process.env.KONTAKT_SE_KEY;
const shots = process.env.SHOTS || "target/browser";
mkdirSync(shots, { recursive: true });

export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

async function api(path, key) {
  const res = await fetch(base + path, key ? { headers: { Authorization: `Bearer ${key}` } } : {});
  assert.equal(res.status, 200, `${path}: ${res.status}`);
  return res.json();
}

// The ids on screen, in order.
const listed = (page) => page.$$eval("#results .result", (els) => els.map((e) => Number(e.dataset.id)));
const shownTotal = (page) => page.$eval("#summary strong", (e) => Number(e.textContent.replace(/[^0-9]/g, "")));
const settle = (page) => page.waitForFunction(() => document.getElementById("busy").hidden);

const consoleErrors = [];
function watch(page) {
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
}

const results = [];
async function test(name, fn) {
  const started = Date.now();
  try {
    await fn();
    results.push(`ok   ${name} (${Date.now() - started} ms)`);
  } catch (e) {
    results.push(`FAIL ${name}: ${e.stack || e}`);
  }
  console.log(results[results.length - 1]);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  chromiumSandbox: false,
  args: CHROMIUM_ARGS,
});
const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
const page = await context.newPage();
watch(page);
await page.goto(`${base}/`);
await settle(page);

await test("typing jør one key at a time shows Jørgen, highlighted", async () => {
  const q = page.locator("#q");
  await q.click();
  // One key at a time, each typed as its own input event.
  for (const ch of "jør") await q.pressSequentially(ch, { delay: 40 });
  await page.waitForFunction(() => document.querySelector("#summary")?.textContent.includes("jør"));
  await settle(page);
  const hit = await page.$$eval("#results .result .name", (els) =>
    els.map((e) => ({ text: e.textContent, marks: [...e.querySelectorAll("mark")].map((m) => m.textContent) })),
  );
  const jorgen = hit.find((h) => h.text.startsWith("Jørgen"));
  assert.ok(jorgen, `no Jørgen among ${hit.map((h) => h.text).join(", ")}`);
  assert.deepEqual(jorgen.marks, ["Jør"]);
  const expected = await api("/v1/contacts?q=j%C3%B8r&limit=20");
  assert.deepEqual(await listed(page), expected.data.map((c) => c.id));
  await page.screenshot({ path: `${shots}/typing-jor-desktop.png` });
});

await test("the combobox moves with the arrow keys and opens a contact on Enter", async () => {
  const q = page.locator("#q");
  await q.press("ArrowDown");
  await q.press("ArrowDown");
  const second = (await listed(page))[1];
  assert.equal(await q.getAttribute("aria-activedescendant"), `opt-${second}`);
  assert.equal(await page.getAttribute(`#opt-${second}`, "aria-selected"), "true");
  await q.press("Enter");
  await page.waitForSelector("#panel-name");
  const expected = await api(`/v1/contacts/${second}`);
  assert.equal(await page.textContent("#panel-name"), expected.data.full_name);
  assert.ok(new URL(page.url()).searchParams.get("contact") === String(second));
  await page.screenshot({ path: `${shots}/contact-panel-desktop.png` });
  await page.keyboard.press("Escape");
  await page.waitForSelector("#panel", { state: "hidden" });
});

for (const noAbort of [false, true]) {
  await test(`an answer for j held back until after jø's never replaces it (${noAbort ? "no aborting" : "aborting"})`, async () => {
    await page.evaluate((noAbort) => {
      window.kontaktHeld = [];
      window.kontaktLate = [];
      const held = (url) => url.startsWith("/v1/contacts?q=j&");
      window.kontaktTestHooks = {
        noAbort,
        delay: (url) => (held(url) ? (window.kontaktHeld.push(url), 1200) : 0),
        answered: (url) => held(url) && window.kontaktLate.push(url),
      };
    }, noAbort);
    const q = page.locator("#q");
    await q.fill("");
    await settle(page);
    await q.pressSequentially("j");
    await q.pressSequentially("ø");
    const jo = await api("/v1/contacts?q=j%C3%B8&limit=20");
    await page.waitForFunction(() => document.querySelector("#summary")?.textContent.includes("jø"));
    // Past the held answer's release.
    await page.waitForTimeout(1800);
    assert.ok((await page.evaluate(() => window.kontaktHeld.length)) >= 1, "the j request was held");
    // Without aborting, j's answer did arrive, after jø's was shown.
    assert.equal(await page.evaluate(() => window.kontaktLate.length), noAbort ? 1 : 0);
    assert.ok((await page.textContent("#summary")).includes("“jø”"));
    assert.deepEqual(await listed(page), jo.data.map((c) => c.id));
    assert.equal(await shownTotal(page), jo.total);
    await page.evaluate(() => (window.kontaktTestHooks = {}));
  });
}

let seTotal = 0;
await test("clicking a country narrows the list; the total is the API's", async () => {
  await page.goto(`${base}/`);
  await settle(page);
  const before = await shownTotal(page);
  await page.click('#facet-country button[data-value="SE"]');
  await page.waitForFunction(() => new URLSearchParams(location.search).get("country_code") === "SE");
  await settle(page);
  seTotal = await shownTotal(page);
  const expected = await api("/v1/contacts?country_code=SE&limit=20");
  assert.equal(seTotal, expected.total);
  assert.ok(seTotal < before);
  assert.deepEqual(await listed(page), expected.data.map((c) => c.id));
  const badges = await page.$$eval("#results .result .meta .badge:first-child", (els) => els.map((e) => e.textContent.slice(0, 2)));
  assert.ok(badges.every((b) => b === "SE"), badges.join());
});

await test("scrolling loads the next pages with no duplicates and none missing", async () => {
  for (let i = 0; i < 4; i++) {
    const n = (await listed(page)).length;
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await page.waitForFunction((n) => document.querySelectorAll("#results .result").length > n, n);
  }
  await page.waitForTimeout(300);
  const ids = await listed(page);
  assert.ok(ids.length >= 100, `only ${ids.length} loaded`);
  assert.equal(new Set(ids).size, ids.length, "duplicates");
  // The API's first pages of the same search, walked by cursor.
  const want = [];
  let cursor = "";
  while (want.length < ids.length) {
    const pg = await api(`/v1/contacts?country_code=SE&limit=20${cursor}`);
    want.push(...pg.data.map((c) => c.id));
    cursor = `&cursor=${encodeURIComponent(pg.pagination.next_cursor)}`;
  }
  assert.deepEqual(ids, want.slice(0, ids.length));
  await page.evaluate(() => window.scrollTo(0, 0));
});

await test("the back button restores the previous search", async () => {
  const q = page.locator("#q");
  await q.click();
  await q.pressSequentially("anna", { delay: 30 });
  await page.waitForFunction(() => document.querySelector("#summary")?.textContent.includes("anna"));
  await settle(page);
  const annaIds = await listed(page);
  await page.waitForTimeout(1100); // a new burst of typing makes a new entry
  await q.fill("");
  await q.pressSequentially("berg", { delay: 30 });
  await page.waitForFunction(() => document.querySelector("#summary")?.textContent.includes("berg"));
  await page.goBack();
  await page.waitForFunction(() => document.querySelector("#summary")?.textContent.includes("anna"));
  await settle(page);
  assert.equal(await q.inputValue(), "anna");
  assert.deepEqual(await listed(page), annaIds);
  await page.goBack();
  await page.waitForFunction(() => !document.querySelector("#summary")?.textContent.includes("“"));
  await settle(page);
  assert.equal(await q.inputValue(), "");
  assert.equal(await shownTotal(page), seTotal);
  assert.equal(await page.getAttribute('#facet-country button[data-value="SE"]', "aria-pressed"), "true");
});

await test("a shared link opens the same search", async () => {
  const other = await context.newPage();
  watch(other);
  await other.goto(`${base}/?q=anna&country_code=SE&sort_by=full_name`);
  await settle(other);
  const expected = await api("/v1/contacts?q=anna&country_code=SE&sort_by=full_name&sort_order=asc&limit=20");
  assert.deepEqual(await listed(other), expected.data.map((c) => c.id));
  assert.equal(await other.inputValue("#sort"), "full_name");
  await other.close();
});

await test("with a scoped key for SE only, no other country appears in results or facets", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p = await ctx.newPage();
  watch(p);
  await p.goto(`${base}/`);
  await settle(p);
  await p.click("#key-toggle");
  await p.fill("#key", seKey);
  await p.click('#key-box button[type="submit"]');
  await p.waitForFunction(() => document.querySelectorAll("#facet-country button").length === 1);
  await settle(p);
  for (const q of ["", "jør", "anna", "berg"]) {
    await p.fill("#q", q);
    await p.waitForFunction((q) => (q ? document.querySelector("#summary")?.textContent.includes(q) : true), q);
    await settle(p);
    const facet = await p.$$eval("#facet-country button", (els) => els.map((e) => e.dataset.value));
    assert.deepEqual(facet, ["SE"], `facets for ${q}`);
    const countries = await p.$$eval("#results .result .meta .badge:first-child", (els) => els.map((e) => e.textContent.slice(0, 2)));
    assert.ok(countries.every((c) => c === "SE"), `${q}: ${countries}`);
    const expected = await api(`/v1/contacts?q=${encodeURIComponent(q)}&limit=1`, seKey);
    assert.equal(await shownTotal(p), expected.total);
  }
  await p.screenshot({ path: `${shots}/scoped-key-se-desktop.png` });
  await ctx.close();
});

await test("a scoped key with a smaller page cap still lists and scrolls", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p = await ctx.newPage();
  watch(p);
  await p.addInitScript((k) => sessionStorage.setItem("kontakt.key", k), process.env.KONTAKT_CAPPED_KEY);
  await p.goto(`${base}/?q=anna`);
  await p.waitForFunction(() => document.querySelectorAll("#results .result").length >= 10);
  assert.equal(await p.isVisible("#error"), false);
  const ids = await listed(p);
  assert.equal(new Set(ids).size, ids.length);
  const expected = await api("/v1/contacts?q=anna&limit=1", process.env.KONTAKT_CAPPED_KEY);
  assert.equal(await shownTotal(p), expected.total);
  await ctx.close();
});

await test("errors are shown as messages, not blank lists", async () => {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p = await ctx.newPage();
  await p.goto(`${base}/`);
  await settle(p);
  await p.evaluate(() => sessionStorage.setItem("kontakt.key", "not-a-key"));
  await p.reload();
  await p.waitForSelector("#error:not([hidden])");
  assert.match(await p.textContent("#error"), /key was refused/);
  assert.equal(await p.isVisible("#key-box"), true);
  await p.screenshot({ path: `${shots}/error-unknown-key.png` });
  await ctx.close();
});

await test("the page works at phone width", async () => {
  const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  const p = await ctx.newPage();
  watch(p);
  await p.goto(`${base}/?q=anna`);
  await settle(p);
  const width = await p.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width}px wide`);
  await p.screenshot({ path: `${shots}/results-phone.png` });
  await p.click("#filters-toggle");
  await p.screenshot({ path: `${shots}/filters-phone.png` });
  await p.click("#results .result");
  await p.waitForSelector("#panel-name");
  await p.screenshot({ path: `${shots}/contact-panel-phone.png` });
  await ctx.close();
});

await test("the browser console shows no errors", async () => {
  assert.deepEqual(consoleErrors, []);
});

await page.goto(`${base}/?country_code=SE&seniority_level=manager`);
await settle(page);
await page.screenshot({ path: `${shots}/filters-desktop.png` });
await browser.close();
const failed = results.filter((r) => r.startsWith("FAIL")).length;
console.log(`\n${results.length - failed} passed, ${failed} failed; screenshots in ${shots}`);
process.exit(failed ? 1 : 0);
