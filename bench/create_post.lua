-- Scenario 4: POST /api/posts as a logged-in user. The same body for every
-- request of a thread (formatted once in init; request() only counts and
-- hands it out). BENCH_COOKIE: "portfolio_session=..." from POST /api/session.
-- Every response is counted in Lua: run.sh compares ok2xx with how many rows
-- the posts table grew by. `sent` counts requests written, so sent minus
-- answered is what was still in flight when wrk stopped: the server still
-- finishes those (a row each) but wrk never sees their answer.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local cookie = bench.env_str("BENCH_COOKIE", nil)
local post_request

function init(args)
   if cookie == nil then
      error("create_post.lua: set BENCH_COOKIE to portfolio_session=...")
   end
   bench.init_counters()
   sent = 0
   post_request = wrk.format("POST", "/api/posts", {
      ["Content-Type"] = "application/json",
      ["Cookie"] = cookie,
   }, bench.post_body("create_post"))
end

function request()
   sent = sent + 1
   return post_request
end

function response(status, headers, body)
   bench.count(status)
end

function done(summary, latency, requests)
   bench.report(summary, latency, "lua", { "sent" })
end
