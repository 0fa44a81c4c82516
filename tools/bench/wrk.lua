-- wrk script for the benchmark (tools/bench/main.ts).
-- Mode "ingest": every request POSTs a distinct run (run_id and commit_sha from a per-thread
-- counter) to one of N series whose baselines are pinned; metrics stay within noise.
-- Mode "get": plain GETs. Either way, done() prints one machine-readable line.
--   wrk ... -s wrk.lua <url> -- <mode> <prefix> <series> <key>

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "get"
  prefix = args[2] or "wrk"
  nseries = tonumber(args[3] or "1")
  counter = 0
  if args[4] then wrk.headers["Authorization"] = "Bearer " .. args[4] end
  if mode == "ingest" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  if mode ~= "ingest" then return wrk.format() end
  counter = counter + 1
  local n = counter * 2 + tid
  local s = (n * 7) % nseries
  local jitter = (n % 11) / 10000
  local body = string.format(
    '{"model_version":"%s-m%03d","model_provider":"openai","dataset_version":"ds-1",' ..
    '"prompt_version":"p1","environment":"bench","commit_sha":"%s-c%d-%d",' ..
    '"run_id":"%s-r%d-%d","branch_name":"main","triggered_by":"wrk",' ..
    '"metrics":{"f1":%.4f,"precision":%.4f,"recall":%.4f,"accuracy":%.4f,' ..
    '"latency_ms":%.1f,"analysis_cost":%.5f}}',
    prefix, s, prefix, tid, counter, prefix, tid, counter,
    0.895 + jitter, 0.9 + jitter, 0.89 + jitter, 0.91 + jitter, 412 + n % 5, 0.0042)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,' ..
    '"p95_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
