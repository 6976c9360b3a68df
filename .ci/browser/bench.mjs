// Keystroke-to-rendered-list timing of the search page in headless
// chromium, split into the API's part and the page's part. Each key is
// typed once the previous keystroke's list is drawn, so every keystroke is
// measured whole (none is cancelled). The page records, per search
// (window.kontaktPerf, performance.now() ms):
//   inputAt      the input event's time stamp,
//   fetchStart   when the request left,
//   responseEnd  when its JSON was parsed,
//   rendered     when the list, total and facets were in the DOM and laid out.
// API part = responseEnd - fetchStart (network, server, JSON parse);
// page part = (fetchStart - inputAt) + (rendered - responseEnd).
//   KONTAKT_URL=http://127.0.0.1:8080 node .ci/browser/bench.mjs [rounds]
import { chromium } from "playwright-core";
import { writeFileSync, mkdirSync } from "node:fs";

const base = process.env.KONTAKT_URL;
const rounds = Number(process.argv[2] || 3);
const words = ["anna", "jørgen", "mikko", "lars eriksson", "sigríður", "niels", "johansson", "virtanen",
  "hansen", "erik", "kari", "ólafur", "svensson", "pedersen", "åsa", "korhonen", "nielsen", "magnus", "ingrid", "jon"];

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  chromiumSandbox: false,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
await page.goto(`${base}/`);
await page.waitForFunction(() => window.kontaktPerf.length > 0);
const q = page.locator("#q");
const samples = [];
for (let r = 0; r < rounds; r++) {
  for (const w of words) {
    await q.fill("");
    await page.waitForFunction(() => window.kontaktPerf.at(-1)?.q === "");
    let typed = "";
    for (const ch of w) {
      typed += ch;
      const n = await page.evaluate(() => window.kontaktPerf.length);
      await q.pressSequentially(ch);
      await page.waitForFunction(([n, typed]) => window.kontaktPerf.length > n && window.kontaktPerf.at(-1).q === typed, [n, typed]);
      const e = await page.evaluate(() => window.kontaktPerf.at(-1));
      if (r > 0 || rounds === 1) samples.push(e); // the first round warms caches
    }
  }
}
await browser.close();

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
const api = samples.map((e) => e.responseEnd - e.fetchStart);
const pagePart = samples.map((e) => e.fetchStart - e.inputAt + (e.rendered - e.responseEnd));
const total = samples.map((e) => e.rendered - e.inputAt);
const before = samples.map((e) => e.fetchStart - e.inputAt);
const after = samples.map((e) => e.rendered - e.responseEnd);
const row = (name, xs) => `| ${name} | ${pct(xs, 50).toFixed(2)} | ${pct(xs, 99).toFixed(2)} | ${Math.max(...xs).toFixed(2)} |`;
const report = [
  `${samples.length} keystrokes (${rounds - (rounds > 1 ? 1 : 0)} measured rounds of ${words.length} words), ${base}`,
  "",
  "| part | p50 ms | p99 ms | max ms |",
  "|---|---|---|---|",
  row("keystroke → rendered list", total),
  row("API (request out → JSON parsed)", api),
  row("page (input → request, JSON → list laid out)", pagePart),
  row("  of it: input event → request out", before),
  row("  of it: JSON parsed → list laid out", after),
].join("\n");
console.log(report);
const out = new URL("../../target/bench-ui/", import.meta.url);
mkdirSync(out, { recursive: true });
writeFileSync(new URL("page-report.md", out), report + "\n");
