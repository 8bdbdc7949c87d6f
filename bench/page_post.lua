-- Scenario 3: GET /posts/<id>, the HTML page (Markdown rendered and
-- sanitized, Tera template, a view counted in memory and written in
-- batches by the app), ids
-- uniformly random in [BENCH_ID_MIN, BENCH_ID_MAX].
-- Non-2xx as in get_post.lua (BENCH_COUNT=lua to count in Lua).
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local id_min = bench.env_int("BENCH_ID_MIN", 1)
local id_max = bench.env_int("BENCH_ID_MAX", 10000)
local counted = bench.env_str("BENCH_COUNT", "wrk")

function init(args)
   bench.init_counters()
end

function request()
   return wrk.format("GET", "/posts/" .. math.random(id_min, id_max))
end

if counted == "lua" then
   function response(status, headers, body)
      bench.count(status)
   end
end

function done(summary, latency, requests)
   bench.report(summary, latency, counted)
end
