-- wrk script shared by every load run, so both servers get the same
-- requests: it cycles through the space-separated paths in WRK_PATHS (each
-- wrk thread starts at a different one), sends whatever -H headers were
-- given, counts responses by status class and by Content-Encoding, and at
-- the end prints one machine-readable line:
--
--   RESULT requests=... rps=... p50_us=... p99_us=... s2xx=... s5xx=... ...
--
-- Set WRK_COUNT=0 to leave out the per-response hook (wrk then parses
-- less); the status totals then come from wrk's own error counters only.

local paths = {}
for p in string.gmatch(os.getenv("WRK_PATHS") or "/", "%S+") do
  paths[#paths + 1] = p
end
local count = (os.getenv("WRK_COUNT") or "1") ~= "0"

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  requests = {}
  for i, p in ipairs(paths) do
    requests[i] = wrk.format("GET", p)
  end
  n = id or 0
  s1xx, s2xx, s3xx, s4xx, s5xx = 0, 0, 0, 0, 0
  enc_br, enc_gzip, enc_none = 0, 0, 0
end

function request()
  n = n + 1
  return requests[(n % #requests) + 1]
end

if count then
  function response(status, headers, body)
    if status >= 500 then s5xx = s5xx + 1
    elseif status >= 400 then s4xx = s4xx + 1
    elseif status >= 300 then s3xx = s3xx + 1
    elseif status >= 200 then s2xx = s2xx + 1
    else s1xx = s1xx + 1 end
    local e = headers["content-encoding"] or headers["Content-Encoding"]
    if e == "br" then enc_br = enc_br + 1
    elseif e == "gzip" then enc_gzip = enc_gzip + 1
    else enc_none = enc_none + 1 end
  end
end

function done(summary, latency, requests)
  local t = { s1xx = 0, s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0, enc_br = 0, enc_gzip = 0, enc_none = 0 }
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do
      t[k] = t[k] + (thread:get(k) or 0)
    end
  end
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_s=%.3f rps=%.1f bytes_per_response=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "err_connect=%d err_read=%d err_write=%d err_timeout=%d non2xx3xx=%d " ..
    "counted=%s s1xx=%d s2xx=%d s3xx=%d s4xx=%d s5xx=%d enc_br=%d enc_gzip=%d enc_none=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    summary.requests > 0 and summary.bytes / summary.requests or 0,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout, e.status,
    tostring(count), t.s1xx, t.s2xx, t.s3xx, t.s4xx, t.s5xx, t.enc_br, t.enc_gzip, t.enc_none))
end
