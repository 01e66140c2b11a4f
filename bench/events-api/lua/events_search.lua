-- GET /v1/events?q=<number>: a text search that one of the 10,000 benchmark events matches
-- («Событие № N»).
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/events?q=" .. math.random(1, 10000))
end
