-- Scenario 2: GET /api/posts?page=N&per_page=20, N uniformly random in
-- [1, BENCH_PAGES] (BENCH_PER_PAGE per page, 20 by default; run.sh caps
-- BENCH_PAGES at the 51 numbered pages the API serves, 1,000 posts deep).
-- Non-2xx as in get_post.lua (BENCH_COUNT=lua to count in Lua).
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local pages = bench.env_int("BENCH_PAGES", 500)
local per_page = bench.env_int("BENCH_PER_PAGE", 20)
local counted = bench.env_str("BENCH_COUNT", "wrk")

function init(args)
   bench.init_counters()
end

function request()
   return wrk.format("GET", "/api/posts?page=" .. math.random(1, pages) .. "&per_page=" .. per_page)
end

if counted == "lua" then
   function response(status, headers, body)
      bench.count(status)
   end
end

function done(summary, latency, requests)
   bench.report(summary, latency, counted)
end
