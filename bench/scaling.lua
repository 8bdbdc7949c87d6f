-- The scaling benchmark's one wrk script (bench/scaling.sh): GET a path
-- picked uniformly at random from the file BENCH_PATHS (one path with its
-- query per line, e.g. /api/posts/123 or /api/posts?q=lamp). A file of one
-- line is a fixed URL; a file of random ids spreads the requests over the
-- table. The requests are formatted once, in init().
-- BENCH_COOKIE, when set, is sent as the Cookie header of every request
-- (a logged-in admin's session, for the pages that need one).
-- Non-2xx as in get_post.lua: wrk's own count of statuses >= 400 unless
-- BENCH_COUNT=lua (every response counted in Lua, 3xx included).
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local paths_file = bench.env_str("BENCH_PATHS", nil)
local counted = bench.env_str("BENCH_COUNT", "wrk")
local cookie = bench.env_str("BENCH_COOKIE", nil)
local requests = {}

function init(args)
   bench.init_counters()
   if paths_file == nil then
      error("BENCH_PATHS must name a file of paths")
   end
   for line in io.lines(paths_file) do
      if line ~= "" then
         local headers = nil
         if cookie ~= nil and cookie ~= "" then
            headers = { Cookie = cookie }
         end
         table.insert(requests, wrk.format("GET", line, headers))
      end
   end
   if #requests == 0 then
      error("no paths in " .. paths_file)
   end
end

function request()
   if #requests == 1 then
      return requests[1]
   end
   return requests[math.random(1, #requests)]
end

if counted == "lua" then
   function response(status, headers, body)
      bench.count(status)
   end
end

function done(summary, latency, requests)
   bench.report(summary, latency, counted)
end
