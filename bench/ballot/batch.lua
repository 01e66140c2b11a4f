-- wrk script: batches of BATCH_SIZE votes (default 1,000) per request, every vote a distinct
-- voter, spread over both nominations of award 7. CONTEXT=1 adds a "device" (two voters each)
-- and an "address" (two voters each, a /24 per four: two per wrk thread) to every vote, as
-- vote.lua does.
--   BATCH_SIZE=1000 wrk -t2 -c16 -d10s -s bench/ballot/batch.lua http://127.0.0.1:8081
local client_key = os.getenv("BALLOT_CLIENT_KEY") or "bench-client-key-0123456789"
local prefix = os.getenv("VOTER_PREFIX") or tostring(os.time())
local batch_size = tonumber(os.getenv("BATCH_SIZE") or "1000")
local context = os.getenv("CONTEXT") == "1"
local threads = {}
local counter = 0

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  wrk.method = "POST"
  wrk.path = "/v1/votes/batch"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. client_key
  wrk.headers["Connection"] = "keep-alive"
end

function request()
  local parts = {}
  for i = 1, batch_size do
    counter = counter + 1
    local nomination = 31 + (counter % 2)
    local nominee = 500 + (nomination - 31) * 100 + 1 + (counter % 8)
    if context then
      local pair = math.floor(counter / 2)
      parts[i] = string.format('{"award":7,"voter":"%s-%d-%d","nomination":%d,"nominee":%d,' ..
        '"device":"d%d-%d","address":"%d.%d.%d.%d"}', prefix, thread_id, counter, nomination,
        nominee, thread_id, pair, math.floor(pair / 65536) % 256, math.floor(pair / 256) % 256,
        pair % 256, 10 + thread_id)
    else
      parts[i] = string.format('{"award":7,"voter":"%s-%d-%d","nomination":%d,"nominee":%d}',
        prefix, thread_id, counter, nomination, nominee)
    end
  end
  return wrk.format(nil, nil, nil, '{"votes":[' .. table.concat(parts, ",") .. ']}')
end

function done(summary, latency, requests)
  io.write(string.format("batches_per_s=%.1f votes_per_s=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    summary.requests * batch_size / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
