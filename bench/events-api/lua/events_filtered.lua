-- GET /v1/events filtered by city, kind and a start-date range (a month), random values.
math.randomseed(os.time())
local kinds = {"forum", "seminar", "conference", "rally", "school", "module", "case_session",
               "ceremony", "webinar"}
request = function()
  local month = math.random(1, 11)
  local path = string.format(
    "/v1/events?limit=20&city_id=%d&kind=%s&starts_from=2026-%02d-01T00:00:00Z" ..
    "&starts_before=2026-%02d-01T00:00:00Z", math.random(1, 32), kinds[math.random(1, 9)],
    month, month + 1)
  return wrk.format("GET", path)
end
