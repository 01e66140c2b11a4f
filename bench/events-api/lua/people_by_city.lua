-- GET /v1/people?city_id=N&limit=20 for a random one of the 32 benchmark cities.
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/v1/people?limit=20&city_id=" .. math.random(1, 32))
end
