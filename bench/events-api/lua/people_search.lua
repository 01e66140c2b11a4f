-- GET /v1/people?q=<first name> <last name, another case>&limit=20: a text search that each of
-- the 120 name pairs matches in ~830 of the 100,000 benchmark people (Snowball stems: «Демидову»
-- finds «Демидов»).
math.randomseed(os.time())
local first = {"Анну", "Ивана", "Марию", "Петра", "Елену", "Сергея", "Ольгу", "Дмитрия",
               "Наталью", "Алексея", "Ирину", "Михаила"}
local last = {"Тестову", "Примерова", "Образцову", "Демидова", "Пробную", "Макетова", "Условную",
              "Вымыслова", "Черновую", "Шаблонова"}
local function escape(s)
  return (s:gsub("[^%w]", function(c) return string.format("%%%02X", string.byte(c)) end))
end
request = function()
  local q = first[math.random(1, #first)] .. " " .. last[math.random(1, #last)]
  return wrk.format("GET", "/v1/people?limit=20&q=" .. escape(q))
end
