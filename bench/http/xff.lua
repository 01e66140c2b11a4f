-- wrk script: GET /v1/awards/7/results without a key, each request from a distinct client
-- address named in X-Forwarded-For (the server trusts 127.0.0.1 as a proxy), so
-- that every request takes a new rate-limit bucket. Stops after TOTAL requests over all threads.
local total = tonumber(os.getenv("TOTAL") or "1000000")
local offset = tonumber(os.getenv("OFFSET") or "0")  -- a second flood: new addresses
local threads = {}
local counter = 0
local per_thread

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

function init(args)
  per_thread = math.floor(total / 2)
end

function request()
  counter = counter + 1
  if counter > per_thread then
    wrk.thread:stop()
  end
  local n = offset + counter + thread_id * per_thread
  local address
  if n % 2 == 0 then
    address = string.format("%d.%d.%d.%d", 11 + math.floor(n / 16777216) % 200,
      math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
  else
    address = string.format("2001:db8:%x:%x::1", math.floor(n / 65536) % 65536, n % 65536)
  end
  return wrk.format("GET", "/v1/awards/7/results",
    {["X-Forwarded-For"] = address, ["Connection"] = "keep-alive"}, nil)
end
