-- wrk script: one vote per request, every request a distinct voter.
--   wrk -t2 -c64 -d10s -s bench/ballot/vote.lua http://127.0.0.1:8081
-- Environment: BALLOT_CLIENT_KEY (the ballot's client key), VOTER_PREFIX (unique per run, so
-- that runs against the same data dir do not repeat voters; default: the time).
--
-- wrk runs on the same cores as the server, so the script is kept lean: the request head is
-- built once, and each request is one string.format of a fixed-length body (the voter's counter
-- is zero-padded, so Content-Length never changes). LEAN=0 builds every request with
-- wrk.format instead (the older, costlier way; same bytes on the wire apart from the padding).
-- CONTEXT=1 (lean only) adds a "device" and an "address" (two voters each; a /24 per four: two
-- per wrk thread) to every vote, so that every hold rule is checked and none trips (README "Held votes").
local client_key = os.getenv("BALLOT_CLIENT_KEY") or "bench-client-key-0123456789"
local prefix = os.getenv("VOTER_PREFIX") or tostring(os.time())
local lean = os.getenv("LEAN") ~= "0"
local context = os.getenv("CONTEXT") == "1"
local threads = {}
local counter = 0
local template
local format = string.format

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
  local voter = (prefix .. "-" .. thread_id):gsub("%%", "%%%%")
  local body = '{"voter":"' .. voter .. '-%010d","nomination":31,"nominee":%d}'
  if context then
    body = '{"voter":"' .. voter .. '-%010d","nomination":31,"nominee":%d,"device":"d' ..
      thread_id .. '-%010d","address":"1%02d.1%02d.1%02d.' .. (10 + thread_id) .. '"}'
  end
  local length = context and #format(body, 0, 501, 0, 0, 0, 0) or #format(body, 0, 501)
  template = "POST /v1/awards/7/votes HTTP/1.1\r\nHost: " .. wrk.host .. ":" .. wrk.port ..
    "\r\nContent-Type: application/json\r\nAuthorization: Bearer " .. client_key ..
    "\r\nConnection: keep-alive\r\nContent-Length: " .. length .. "\r\n\r\n" .. body
end

function request()
  counter = counter + 1
  if lean and context then
    local pair = math.floor(counter / 2)
    return format(template, counter, 501 + counter % 8, pair, math.floor(pair / 10000) % 100,
      math.floor(pair / 100) % 100, pair % 100)
  end
  if lean then
    return format(template, counter, 501 + counter % 8)
  end
  local body = format('{"voter":"%s-%d-%d","nomination":31,"nominee":%d}', prefix, thread_id,
    counter, 501 + counter % 8)
  return wrk.format(nil, nil, nil, body)
end

function done(summary, latency, requests)
  io.write(format("votes_per_s=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.status, summary.errors.connect + summary.errors.read +
    summary.errors.write + summary.errors.timeout))
end
