-- GET /v1/events/{id} for a random one of the 10,000 events.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/events/" .. math.random(1, 10000))
end
