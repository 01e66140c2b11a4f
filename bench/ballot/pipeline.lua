-- wrk: each connection sends DEPTH GET /healthz at once and waits for all the answers.
local depth = tonumber(os.getenv("DEPTH") or "8")
init = function(args)
  local r = {}
  for i = 1, depth do
    r[i] = wrk.format("GET", "/healthz", {["Connection"] = "keep-alive"})
  end
  req = table.concat(r)
end
request = function()
  return req
end
