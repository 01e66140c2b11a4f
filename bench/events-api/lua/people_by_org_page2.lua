-- The second page of a random organisation's people: first page, then its `next` cursor.
math.randomseed(os.time())
local pending = nil
request = function()
  if pending then
    local path = pending
    pending = nil
    return wrk.format("GET", path)
  end
  return wrk.format("GET", "/v1/people?limit=20&sort=name&organization_id=" .. math.random(1, 600))
end
response = function(status, headers, body)
  local cursor = body:match('"next":"([^"]+)"')
  if cursor and not pending then
    pending = "/v1/people?limit=20&sort=name&cursor=" .. cursor ..
              "&organization_id=" .. (body:match('"organization_id":(%d+)') or "1")
  end
end
