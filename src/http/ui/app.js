// kontakt search page: plain JavaScript, no build step, no dependencies.
//
// Every keystroke runs a search; the previous one is aborted, and an answer
// is shown only if it belongs to the latest search (a generation number),
// so an older answer never replaces a newer one. State lives in the URL.
//
// Test-only hooks (used by .ci/browser/test.py, never set by the page itself):
//   window.kontaktTestHooks = {
//     delay(url) -> ms   hold a request back this long (its answer comes late),
//     noAbort: true      do not abort outdated requests (so a late answer
//                        really arrives and must be dropped by the guard),
//     answered(url)      called when an answer has been read,
//   }
// window.kontaktPerf records, per rendered search, when the input came,
// when the request left, when its answer was parsed and when the list was
// rendered (performance.now() milliseconds), for the benchmark.

const $ = (id) => document.getElementById(id);
const PAGE = 20;
const FACETS = "country_code,seniority_level,industry_section";
const COUNTRIES = { SE: "Sweden", NO: "Norway", DK: "Denmark", FI: "Finland", IS: "Iceland" };
const SENIORITY = { executive: "Executive", manager: "Manager", senior: "Senior", staff: "Staff" };
const SORTS = { quality_score: "desc", created_at: "desc", full_name: "asc", confidence: "desc" };

const input = $("q");
const list = $("results");
const hooks = () => window.kontaktTestHooks || {};
window.kontaktPerf = [];

let state = readUrl();
let gen = 0; // the latest search
let controller = null; // aborts the latest search and its pages
let nextCursor = null;
let loadingMore = false;
let shown = new Set(); // ids on screen, so a page never repeats one
let active = -1; // the keyboard-selected option
let sections = null; // section letter -> title
let industryRows = null; // the industry table, loaded for drill-down
let lastPush = 0; // when typing last created a history entry
// A scoped key may cap page sizes below ours: its payload (readable, not
// secret) says so; failing that, the server's default is used.
let pageSize = capFor(sessionStorage.getItem("kontakt.key"));

function capFor(key) {
  if (!key?.startsWith("kss_")) return PAGE;
  try {
    const payload = atob(key.slice(4).split(".")[0].replace(/-/g, "+").replace(/_/g, "/"));
    const cap = Number(/\nmax_limit=(\d+)/.exec(payload)?.[1]);
    return cap ? Math.min(cap, PAGE) : PAGE;
  } catch {
    return PAGE;
  }
}

// ---------- URL state ----------

function readUrl() {
  const p = new URLSearchParams(location.search);
  return {
    q: p.get("q") || "",
    country_code: p.get("country_code") || "",
    seniority_level: p.get("seniority_level") || "",
    industry_section: p.get("industry_section") || "",
    industry_id: p.get("industry_id") || "",
    verified: p.get("verified") === "true",
    has_email: p.get("has_email") === "true",
    exclude_stale: p.get("exclude_stale") !== "false",
    sort_by: SORTS[p.get("sort_by")] ? p.get("sort_by") : "",
    contact: p.get("contact") || "",
  };
}

function toUrl(s) {
  const p = new URLSearchParams();
  if (s.q) p.set("q", s.q);
  for (const k of ["country_code", "seniority_level", "industry_section", "industry_id", "sort_by", "contact"]) {
    if (s[k]) p.set(k, s[k]);
  }
  if (s.verified) p.set("verified", "true");
  if (s.has_email) p.set("has_email", "true");
  if (!s.exclude_stale) p.set("exclude_stale", "false");
  const qs = p.toString();
  return qs ? `?${qs}` : location.pathname;
}

// Typing makes one history entry per burst (a pause of over a second
// starts a new one); every other change makes its own.
function commit(how) {
  const url = toUrl(state);
  if (url === location.search || (url === location.pathname && !location.search)) return;
  const now = Date.now();
  if (how === "typing" && now - lastPush < 1000) {
    history.replaceState(null, "", url);
  } else {
    history.pushState(null, "", url);
  }
  lastPush = how === "typing" ? now : 0;
}

function searchParams(s) {
  const p = new URLSearchParams();
  if (s.q.trim()) p.set("q", s.q);
  for (const k of ["country_code", "seniority_level", "industry_section", "industry_id"]) {
    if (s[k]) p.set(k, s[k]);
  }
  if (s.verified) p.set("verified", "true");
  if (s.has_email) p.set("has_email", "true");
  if (!s.exclude_stale) p.set("exclude_stale", "false");
  if (s.sort_by) {
    p.set("sort_by", s.sort_by);
    p.set("sort_order", SORTS[s.sort_by]);
  }
  return p;
}

// ---------- requests ----------

class ApiError extends Error {
  constructor(title, detail, extra = {}) {
    super(title);
    this.title = title;
    this.detail = detail;
    Object.assign(this, extra);
  }
}

const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => {
      clearTimeout(t);
      reject(new DOMException("aborted", "AbortError"));
    });
  });

async function api(path, signal) {
  const headers = { Accept: "application/json" };
  const key = sessionStorage.getItem("kontakt.key");
  if (key) headers.Authorization = `Bearer ${key}`;
  const held = hooks().delay?.(path) || 0;
  if (held > 0) await sleep(held, signal);
  let res;
  try {
    res = await fetch(path, { headers, signal });
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new ApiError("Cannot reach the kontakt server", "Check your connection, or that the server is running, then try again.", { retry: true });
  }
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    if (e.name === "AbortError") throw e;
    if (res.ok || res.status < 500) {
      throw new ApiError("The server sent an answer this page cannot read", `HTTP ${res.status}. Try again; if it persists, the server may be misconfigured.`, { retry: true });
    }
  }
  hooks().answered?.(path);
  if (res.ok) return body;
  const message = body?.error?.message || res.statusText || "no details";
  const code = body?.error?.code || "";
  switch (res.status) {
    case 400:
      throw new ApiError(code === "invalid_cursor" ? "The list changed while scrolling" : "This search cannot be run", message, { code, parameter: body?.error?.parameter });
    case 401:
      throw new ApiError(sessionStorage.getItem("kontakt.key") ? "The key was refused" : "This server needs an API key", `${message}. Enter a key or a scoped key with the Key button.`, { auth: true });
    case 403:
      throw new ApiError("This key may not do that", message);
    case 404:
      throw new ApiError("Not found", message, { notFound: true });
    case 429: {
      const wait = Number(res.headers.get("Retry-After")) || 1;
      throw new ApiError("Too many requests", `The server asks to wait ${wait} s; retrying then.`, { retryAfter: wait });
    }
    case 503:
      throw new ApiError("The server is busy", `${message}. Try again in a moment.`, { retry: true });
    default:
      throw new ApiError(`The server could not answer (HTTP ${res.status})`, message, { retry: true });
  }
}

// ---------- errors ----------

function showError(e, again) {
  const box = $("error");
  box.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = e.title || "Something went wrong";
  const p = document.createElement("span");
  p.textContent = e.detail || String(e.message || e);
  box.append(strong, p);
  if (again && (e.retry || e.retryAfter)) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "link";
    b.textContent = " Try again";
    b.addEventListener("click", again);
    box.append(b);
  }
  box.hidden = false;
  if (e.auth) openKeyBox();
  if (e.retryAfter && again) setTimeout(again, e.retryAfter * 1000);
}

function clearError() {
  $("error").hidden = true;
}

// ---------- rendering ----------

// Text with the `_matches` spans (offsets in Unicode scalar values) marked.
function highlighted(text, spans) {
  const frag = document.createDocumentFragment();
  if (!text) return frag;
  const chars = Array.from(text);
  let at = 0;
  for (const [start, end] of spans || []) {
    if (start < at || end > chars.length) continue;
    frag.append(chars.slice(at, start).join(""));
    const m = document.createElement("mark");
    m.textContent = chars.slice(start, end).join("");
    frag.append(m);
    at = end;
  }
  frag.append(chars.slice(at).join(""));
  return frag;
}

function initials(name) {
  const parts = (name || "?").split(/[\s\-]+/).filter(Boolean);
  return ((parts[0]?.[0] || "?") + (parts.length > 1 ? parts[parts.length - 1][0] : "")).toUpperCase();
}

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function resultItem(c) {
  const li = el("li", "result");
  li.id = `opt-${c.id}`;
  li.setAttribute("role", "option");
  li.setAttribute("aria-selected", "false");
  li.dataset.id = c.id;
  li.append(el("div", "avatar", initials(c.full_name)));
  const who = el("div", "who");
  const name = el("div", "name");
  name.append(highlighted(c.full_name, c._matches?.full_name));
  who.append(name);
  const role = [c.job_title, c.company?.name].filter(Boolean).join(" · ");
  if (role) who.append(el("div", "line", role));
  if (c.email) {
    const line = el("div", "line");
    line.append(highlighted(c.email, c._matches?.email));
    who.append(line);
  }
  li.append(who);
  const meta = el("div", "meta");
  const cc = c.company?.country_code;
  if (cc) meta.append(el("span", "badge", COUNTRIES[cc] ? `${cc} · ${COUNTRIES[cc]}` : cc));
  if (c.verified) meta.append(el("span", "badge ok", "Verified"));
  if (c.is_stale) meta.append(el("span", "badge warn", "Stale"));
  if (c.seniority_level) meta.append(el("span", "badge", SENIORITY[c.seniority_level] || c.seniority_level));
  li.append(meta);
  return li;
}

// One formatter: making one costs more than drawing a result.
const numbers = new Intl.NumberFormat("en");
function fmt(n) {
  return numbers.format(n);
}

function renderSummary(total) {
  const s = $("summary");
  s.replaceChildren();
  const b = el("strong", null, fmt(total));
  s.append(b, total === 1 ? " contact" : " contacts");
  if (state.q.trim()) s.append(` for “${state.q.trim()}”`);
}

function setActive(i) {
  const items = list.children;
  if (active >= 0 && items[active]) items[active].setAttribute("aria-selected", "false");
  active = i;
  if (i >= 0 && items[i]) {
    items[i].setAttribute("aria-selected", "true");
    input.setAttribute("aria-activedescendant", items[i].id);
    items[i].scrollIntoView({ block: "nearest" });
  } else {
    input.removeAttribute("aria-activedescendant");
  }
}

function facetList(ul, counts, selected, label, onPick) {
  ul.replaceChildren();
  const entries = Object.entries(counts || {}).sort((a, b) => b[1] - a[1]);
  if (selected && !entries.some(([v]) => v === selected)) entries.unshift([selected, 0]);
  if (!entries.length) {
    ul.append(el("li", "none", "Nothing to filter"));
    return;
  }
  for (const [value, n] of entries) {
    const li = el("li");
    const b = el("button");
    b.type = "button";
    b.dataset.value = value;
    b.setAttribute("aria-pressed", String(value === selected));
    b.append(el("span", null, label(value)), el("span", "count", fmt(n)));
    b.addEventListener("click", () => onPick(value === selected ? "" : value));
    li.append(b);
    ul.append(li);
  }
}

let drawnFacets = ""; // what the filters were last drawn from

function renderFacets(facets) {
  // Typing often leaves the counts as they were: then nothing is redrawn.
  const key = JSON.stringify([facets, state.country_code, state.seniority_level, state.industry_section, state.industry_id, state.verified, state.has_email, state.exclude_stale]);
  if (key === drawnFacets) return;
  drawnFacets = key;
  facetList($("facet-country"), facets?.country_code, state.country_code, (v) => COUNTRIES[v] ? `${COUNTRIES[v]} (${v})` : v, (v) => change({ country_code: v }));
  facetList($("facet-seniority"), facets?.seniority_level, state.seniority_level, (v) => SENIORITY[v] || v, (v) => change({ seniority_level: v }));
  renderIndustries(facets?.industry_section);
  let n = 0;
  for (const k of ["country_code", "seniority_level", "industry_section", "industry_id"]) if (state[k]) n++;
  if (state.verified) n++;
  if (state.has_email) n++;
  if (!state.exclude_stale) n++;
  $("filter-count").textContent = n;
  $("filter-count").hidden = n === 0;
}

// NACE drill-down: sections carry counts (a facet); below a section, the
// levels of the industry table, each narrowing `industry_id`.
async function renderIndustries(sectionCounts) {
  const ul = $("facet-industry");
  const crumbs = $("industry-path");
  crumbs.replaceChildren();
  // Cached after the first time: no await, so the list is drawn at once.
  const titles = sections ?? (await sectionTitles());
  if (!state.industry_section && !state.industry_id) {
    facetList(ul, sectionCounts, "", (v) => (titles[v] ? `${v} · ${titles[v]}` : v), (v) => change({ industry_section: v, industry_id: "" }));
    return;
  }
  const crumb = (text, patch) => {
    const b = el("button", null, text);
    b.type = "button";
    b.addEventListener("click", () => change(patch));
    crumbs.append(b, " › ");
  };
  crumb("All", { industry_section: "", industry_id: "" });
  const rows = industryRows ?? (await industryTable());
  if (!rows) return;
  const byId = new Map(rows.map((r) => [String(r.id), r]));
  const chain = [];
  for (let r = byId.get(state.industry_id); r; r = r.parent_id ? byId.get(String(r.parent_id)) : null) chain.unshift(r);
  const section = state.industry_section || chain[0]?.section;
  crumb(`${section}${titles[section] ? " · " + titles[section] : ""}`, { industry_section: section, industry_id: "" });
  for (const r of chain.slice(0, -1)) if (r.level > 1) crumb(r.title, { industry_id: String(r.id) });
  const here = chain[chain.length - 1];
  if (here) crumbs.append(el("strong", null, here.title));
  else crumbs.lastChild?.remove();
  const children = here
    ? rows.filter((r) => r.parent_id === here.id)
    : rows.filter((r) => r.section === section && r.level === 2 && !r.country_code);
  ul.replaceChildren();
  if (!children.length) {
    ul.append(el("li", "none", "No finer level"));
    return;
  }
  for (const r of children.slice(0, 60)) {
    const li = el("li");
    const b = el("button");
    b.type = "button";
    b.setAttribute("aria-pressed", "false");
    b.append(el("span", null, `${r.code} · ${r.title}`));
    b.addEventListener("click", () => change({ industry_section: section, industry_id: String(r.id) }));
    li.append(b);
    ul.append(li);
  }
}

async function sectionTitles() {
  if (sections) return sections;
  try {
    const rows = (await api("/v1/industries?level=1")).data;
    sections = {};
    for (const r of rows) if (!r.country_code) sections[r.section] = r.title;
  } catch (e) {
    return {};
  }
  return sections;
}

async function industryTable() {
  if (industryRows) return industryRows;
  try {
    industryRows = (await api("/v1/industries")).data;
  } catch (e) {
    showError(e);
    return null;
  }
  return industryRows;
}

// ---------- searching ----------

async function search(inputAt = performance.now()) {
  const mine = ++gen;
  if (controller && !hooks().noAbort) controller.abort();
  controller = new AbortController();
  const signal = controller.signal;
  $("busy").hidden = false;
  const p = searchParams(state);
  if (pageSize) p.set("limit", String(pageSize));
  p.set("highlight", "true");
  p.set("facets", FACETS);
  const url = `/v1/contacts?${p}`;
  const fetchStart = performance.now();
  let body;
  try {
    body = await api(url, signal);
  } catch (e) {
    if (e.name === "AbortError" || mine !== gen) return;
    if (e.parameter === "limit" && pageSize) {
      pageSize = null;
      search(inputAt);
      return;
    }
    $("busy").hidden = true;
    list.replaceChildren();
    nextCursor = null;
    $("summary").textContent = "";
    $("empty").hidden = true;
    $("close-matches").hidden = true;
    showError(e, () => search());
    return;
  }
  if (mine !== gen) return; // a newer search is on its way: never show this one
  const responseEnd = performance.now();
  $("busy").hidden = true;
  clearError();
  shown = new Set();
  active = -1;
  input.removeAttribute("aria-activedescendant");
  const frag = document.createDocumentFragment();
  for (const c of body.data) {
    shown.add(c.id);
    frag.append(resultItem(c));
  }
  list.replaceChildren(frag);
  nextCursor = body.pagination.next_cursor;
  renderSummary(body.total);
  renderFacets(body.facets);
  input.setAttribute("aria-expanded", String(body.data.length > 0));
  $("more").textContent = nextCursor ? "Loading more…" : body.total ? "That is everyone." : "";
  $("empty").hidden = body.total > 0;
  $("close-matches").hidden = true;
  if (!body.total) {
    $("empty").textContent = state.q.trim() ? `No contact matches “${state.q.trim()}” with these filters.` : "No contact matches these filters.";
    if (state.q.trim()) closeMatches(mine, signal);
  }
  void list.offsetHeight; // lay the list out now: this is when it is rendered
  const rendered = performance.now();
  window.kontaktPerf.push({ q: state.q, inputAt, fetchStart, responseEnd, rendered });
  if (window.kontaktPerf.length > 5000) window.kontaktPerf.shift();
  fillViewport();
}

// Typo-tolerant suggestions when nothing matches exactly.
async function closeMatches(mine, signal) {
  const p = searchParams(state);
  p.delete("sort_by");
  p.delete("sort_order");
  p.set("limit", "5");
  let body;
  try {
    body = await api(`/v1/contacts/suggest?${p}`, signal);
  } catch (e) {
    return; // the empty state already says what happened
  }
  if (mine !== gen || !body.data.length) return;
  const box = $("close-matches");
  box.replaceChildren(el("h3", null, "Close matches"));
  for (const s of body.data) {
    const b = el("button");
    b.type = "button";
    b.append(highlighted(s.full_name, s._matches?.full_name));
    if (s.company?.name) b.append(el("span", "line", ` · ${s.company.name}`));
    b.addEventListener("click", () => openContact(s.id));
    box.append(b);
  }
  box.hidden = false;
}

async function loadMore() {
  if (!nextCursor || loadingMore) return;
  loadingMore = true;
  const mine = gen;
  const p = searchParams(state);
  if (pageSize) p.set("limit", String(pageSize));
  p.set("highlight", "true");
  p.set("cursor", nextCursor);
  try {
    const body = await api(`/v1/contacts?${p}`, controller.signal);
    if (mine !== gen) return;
    const frag = document.createDocumentFragment();
    for (const c of body.data) {
      if (shown.has(c.id)) continue;
      shown.add(c.id);
      frag.append(resultItem(c));
    }
    list.append(frag);
    nextCursor = body.pagination.next_cursor;
    $("more").textContent = nextCursor ? "Loading more…" : "That is everyone.";
  } catch (e) {
    if (e.name === "AbortError" || mine !== gen) return;
    if (e.code === "invalid_cursor") {
      search(); // the query changed under the cursor: start again
      return;
    }
    $("more").textContent = "";
    showError(e, () => {
      clearError();
      loadMore();
    });
  } finally {
    loadingMore = false;
  }
  if (mine === gen) fillViewport();
}

// Keep loading while the end of the list is on screen.
function fillViewport() {
  requestAnimationFrame(() => {
    const r = $("more").getBoundingClientRect();
    if (nextCursor && r.top < innerHeight + 400) loadMore();
  });
}

// An entry can be stale: one computed on the empty list may be delivered
// after the first answer is drawn, so the end is measured again before
// loading (else a link opened at the top could load a second page at once).
new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) fillViewport();
}, { rootMargin: "400px" }).observe($("more"));

// ---------- contact panel ----------

async function openContact(id, push = true) {
  if (push && state.contact !== String(id)) {
    state.contact = String(id);
    commit("panel");
  }
  const panel = $("panel");
  const body = $("panel-body");
  body.replaceChildren(el("p", "title", "Loading…"));
  panel.hidden = false;
  $("panel-backdrop").hidden = false;
  let c;
  try {
    c = (await api(`/v1/contacts/${encodeURIComponent(id)}`)).data;
  } catch (e) {
    body.replaceChildren(el("h2", null, e.notFound ? "Contact not found" : e.title), el("p", "title", e.notFound ? "This contact no longer exists, or your key does not cover it." : e.detail));
    return;
  }
  const head = el("div", "avatar", initials(c.full_name));
  const h = el("h2", null, c.full_name ?? "Hidden name");
  h.id = "panel-name";
  const dl = el("dl");
  const row = (k, v) => {
    if (v === undefined || v === null || v === "") return;
    dl.append(el("dt", null, k));
    const dd = el("dd");
    if (v instanceof Node) dd.append(v);
    else dd.textContent = v;
    dl.append(dd);
  };
  const link = (href, text) => {
    const a = el("a", null, text);
    a.href = href;
    a.rel = "noopener noreferrer";
    return a;
  };
  row("Company", c.company?.name);
  row("Country", c.company?.country_code && (COUNTRIES[c.company.country_code] || c.company.country_code));
  row("Email", c.email ? link(`mailto:${c.email}`, c.email) : null);
  row("Email status", c.email_status);
  row("Phone", c.phone ? link(`tel:${c.phone.replace(/\s+/g, "")}`, c.phone) : null);
  row("Department", c.department);
  row("Seniority", c.seniority_level && (SENIORITY[c.seniority_level] || c.seniority_level));
  row("Verified", c.verified === undefined ? null : c.verified ? "Yes" : "No");
  row("Quality", c.quality_score);
  row("Confidence", c.confidence === undefined ? null : `${Math.round(c.confidence * 100)} %`);
  row("Source", c.source_url && /^https?:\/\//.test(c.source_url) ? link(c.source_url, c.source) : c.source);
  row("Stale", c.is_stale ? "Yes — details may be out of date" : null);
  row("Added", c.created_at && new Date(c.created_at).toLocaleDateString("en-GB", { dateStyle: "medium" }));
  row("Updated", c.updated_at && new Date(c.updated_at).toLocaleDateString("en-GB", { dateStyle: "medium" }));
  row("Id", String(c.id));
  body.replaceChildren(head, h, el("p", "title", c.job_title || ""), dl);
  $("panel-close").focus();
}

function closeContact(push = true) {
  $("panel").hidden = true;
  $("panel-backdrop").hidden = true;
  if (push && state.contact) {
    state.contact = "";
    commit("panel");
  }
}

// ---------- controls ----------

function change(patch) {
  Object.assign(state, patch);
  commit("filters");
  syncControls();
  search();
}

function syncControls() {
  if (input.value !== state.q) input.value = state.q;
  $("sort").value = state.sort_by;
  $("f-verified").checked = state.verified;
  $("f-has-email").checked = state.has_email;
  $("f-exclude-stale").checked = state.exclude_stale;
}

input.addEventListener("input", (e) => {
  state.q = input.value;
  commit("typing");
  search(e.timeStamp);
});

input.addEventListener("keydown", (e) => {
  const n = list.children.length;
  if (e.key === "ArrowDown") {
    e.preventDefault();
    if (n) setActive(active < n - 1 ? active + 1 : 0);
  } else if (e.key === "ArrowUp") {
    e.preventDefault();
    if (n) setActive(active > 0 ? active - 1 : n - 1);
  } else if (e.key === "Enter") {
    const item = list.children[active >= 0 ? active : 0];
    if (item) {
      e.preventDefault();
      openContact(item.dataset.id);
    }
  } else if (e.key === "Escape") {
    if (!$("panel").hidden) closeContact();
    else if (active >= 0) setActive(-1);
    else if (input.value) {
      input.value = "";
      state.q = "";
      commit("filters");
      search();
    }
  }
});

list.addEventListener("click", (e) => {
  const item = e.target.closest(".result");
  if (!item) return;
  setActive(Array.prototype.indexOf.call(list.children, item));
  openContact(item.dataset.id);
});

$("sort").addEventListener("change", (e) => change({ sort_by: e.target.value }));
$("f-verified").addEventListener("change", (e) => change({ verified: e.target.checked }));
$("f-has-email").addEventListener("change", (e) => change({ has_email: e.target.checked }));
$("f-exclude-stale").addEventListener("change", (e) => change({ exclude_stale: e.target.checked }));
$("reset").addEventListener("click", () =>
  change({ country_code: "", seniority_level: "", industry_section: "", industry_id: "", verified: false, has_email: false, exclude_stale: true }),
);
$("panel-close").addEventListener("click", () => closeContact());
$("panel-backdrop").addEventListener("click", () => closeContact());
document.addEventListener("keydown", (e) => {
  if (e.key === "Escape" && !$("panel").hidden && document.activeElement !== input) {
    closeContact();
    input.focus();
  }
});

$("filters-toggle").addEventListener("click", () => {
  const open = $("filters").classList.toggle("open");
  $("filters-toggle").setAttribute("aria-expanded", String(open));
});

function openKeyBox() {
  $("key-box").hidden = false;
  $("key-toggle").setAttribute("aria-expanded", "true");
  $("key").focus();
}
$("key-toggle").addEventListener("click", () => {
  if ($("key-box").hidden) openKeyBox();
  else {
    $("key-box").hidden = true;
    $("key-toggle").setAttribute("aria-expanded", "false");
  }
});
$("key-box").addEventListener("submit", (e) => {
  e.preventDefault();
  const k = $("key").value.trim();
  if (k) sessionStorage.setItem("kontakt.key", k);
  else sessionStorage.removeItem("kontakt.key");
  keyChanged();
});
$("key-clear").addEventListener("click", () => {
  sessionStorage.removeItem("kontakt.key");
  $("key").value = "";
  keyChanged();
});
function keyChanged() {
  $("key-state").hidden = !sessionStorage.getItem("kontakt.key");
  $("key-box").hidden = true;
  $("key-toggle").setAttribute("aria-expanded", "false");
  sections = null;
  drawnFacets = "";
  pageSize = capFor(sessionStorage.getItem("kontakt.key"));
  industryRows = null;
  search();
  input.focus();
}

window.addEventListener("popstate", () => {
  state = readUrl();
  lastPush = 0;
  syncControls();
  search();
  if (state.contact) openContact(state.contact, false);
  else closeContact(false);
});

// ---------- start ----------

$("key-state").hidden = !sessionStorage.getItem("kontakt.key");
syncControls();
search();
if (state.contact) openContact(state.contact, false);
input.focus();
