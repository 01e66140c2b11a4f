-- wrk script: one vote per request, every request a distinct voter.
--   wrk -t2 -c64 -d10s -s bench/ballot/vote.lua http://127.0.0.1:8081
-- Environment: BALLOT_CLIENT_KEY (the ballot's client key), VOTER_PREFIX (unique per run, so
-- that runs against the same data dir do not repeat voters; default: the time).
local client_key = os.getenv("BALLOT_CLIENT_KEY") or "bench-client-key-0123456789"
local prefix = os.getenv("VOTER_PREFIX") or tostring(os.time())
local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.path = "/v1/awards/7/votes"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. client_key
  wrk.headers["Connection"] = "keep-alive"
end

function request()
  counter = counter + 1
  local nominee = 501 + (counter % 8)
  local body = string.format(
    '{"voter":"%s-%d-%d","nomination":31,"nominee":%d}', prefix, thread_id, counter, nominee)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  io.write(string.format("votes_per_s=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
