-- wrk script for scripts/flood.sh: a mix of valid, invalid and oversized
-- requests. Counts requests per kind and answers per status, per thread.

local admin = os.getenv("FLOOD_ADMIN_KEY") or "flood-admin"
local auth = { ["Authorization"] = "Bearer " .. admin }
local ndjson = { ["Authorization"] = "Bearer " .. admin,
                 ["Content-Type"] = "application/x-ndjson" }

local valid = {
  "/v1/contacts?limit=20",
  "/v1/contacts?q=ann&limit=10",
  "/v1/contacts?q=jor&highlight=true",
  "/v1/contacts?country_code=SE,NO&sort_by=full_name&sort_order=asc",
  "/v1/contacts?job_title=chef&facets=country_code,industry_section,seniority_level",
  "/v1/contacts?industry_section=C&min_quality_score=50&has_email=true",
  "/v1/contacts?department=sales&email_status=valid&limit=100",
  "/v1/contacts/suggest?q=an",
  "/v1/contacts/suggest?q=svensso&limit=20",
  "/v1/contacts/suggest?q=m",
  "/v1/industries?level=1",
  "/health",
}
local invalid = {
  "/v1/contacts?limit=0",
  "/v1/contacts?colour=red",
  "/v1/contacts?cursor=not-a-cursor",
  "/v1/contacts?q=%zz",
  "/v1/contacts?min_quality_score=90&max_quality_score=10",
  "/v1/contacts/abc",
  "/v1/contacts?country_code=SWE",
  "/v1/nowhere",
}

local requests = {}
local kinds = {}
counts = {}
statuses = {}
local n = 0

local function add(kind, req)
  requests[#requests + 1] = req
  kinds[#kinds + 1] = kind
end

function setup(thread)
  thread:set("id", tostring(thread))
  table.insert(threads, thread)
end

threads = {}

function init(args)
  for _, p in ipairs(valid) do add("valid", wrk.format("GET", p)) end
  for i = 1, 8 do
    add("valid", wrk.format("GET", "/v1/contacts/" .. (i * 977 % 20000 + 1)))
  end
  for _, p in ipairs(invalid) do add("invalid", wrk.format("GET", p)) end
  -- Over the q limit, and a query string of 6 KB.
  add("invalid", wrk.format("GET", "/v1/contacts?q=" .. string.rep("a", 300)))
  add("oversized", wrk.format("GET", "/v1/contacts?q=" .. string.rep("b", 6000)))
  -- Writes: unauthorized, over the body limit (2 MiB against 1 MiB), and a
  -- small valid upsert.
  add("invalid", wrk.format("PUT", "/v1/contacts", nil, "{}"))
  local big = string.rep('{"id": 1, "company_id": 1, "full_name": "x"}\n', 48000)
  add("oversized", wrk.format("PUT", "/v1/contacts", ndjson, big))
  local line = '{"id": 9900001, "company_id": 1, "full_name": "Flood Test", "source": "manual", '
    .. '"quality_score": 50, "confidence": 0.5, "created_at": "2024-01-01T00:00:00Z", '
    .. '"updated_at": "2024-01-01T00:00:00Z"}'
  add("write", wrk.format("PUT", "/v1/contacts", ndjson, line))
end

function request()
  n = n + 1
  -- Mostly valid reads; every 50th request a write, every 25th oversized.
  local i = (n * 7919) % #requests + 1
  local kind = kinds[i]
  if kind == "write" and n % 50 ~= 0 then i = 1; kind = kinds[1] end
  if kind == "oversized" and n % 25 ~= 0 then i = 2; kind = kinds[2] end
  counts[kind] = (counts[kind] or 0) + 1
  return requests[i]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests_)
  local kind_total, status_total = {}, {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do kind_total[k] = (kind_total[k] or 0) + v end
    local s = t:get("statuses")
    for k, v in pairs(s) do status_total[k] = (status_total[k] or 0) + v end
  end
  io.write("requests sent by kind:\n")
  for k, v in pairs(kind_total) do io.write(string.format("  %-10s %d\n", k, v)) end
  io.write("answers by status:\n")
  local keys = {}
  for k in pairs(status_total) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do io.write(string.format("  %d %d\n", k, status_total[k])) end
  io.write(string.format("socket errors: connect %d, read %d, write %d, timeout %d\n",
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
