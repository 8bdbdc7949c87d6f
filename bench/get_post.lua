-- Scenario 1: GET /api/posts/<id>, ids uniformly random in
-- [BENCH_ID_MIN, BENCH_ID_MAX] (all existing, published posts).
-- Non-2xx: wrk's own count of statuses >= 400 (no response() callback, so
-- the client spends its CPU on requests, not on Lua); BENCH_COUNT=lua counts
-- every response in Lua instead.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local id_min = bench.env_int("BENCH_ID_MIN", 1)
local id_max = bench.env_int("BENCH_ID_MAX", 10000)
local counted = bench.env_str("BENCH_COUNT", "wrk")

function init(args)
   bench.init_counters()
end

function request()
   return wrk.format("GET", "/api/posts/" .. math.random(id_min, id_max))
end

if counted == "lua" then
   function response(status, headers, body)
      bench.count(status)
   end
end

function done(summary, latency, requests)
   bench.report(summary, latency, counted)
end
