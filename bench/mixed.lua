-- Scenario 5: 90 % GET /api/posts/<id> (random ids in [BENCH_ID_MIN,
-- BENCH_ID_MAX]) and 10 % POST /api/posts as a logged-in user
-- (BENCH_WRITE_PERCENT changes the share; BENCH_COOKIE is the session).
-- Reads answer 200 and writes 201, so the statuses tell them apart:
-- reads_ok / writes_ok count those, reads_sent / writes_sent what was sent.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local id_min = bench.env_int("BENCH_ID_MIN", 1)
local id_max = bench.env_int("BENCH_ID_MAX", 10000)
local write_percent = bench.env_int("BENCH_WRITE_PERCENT", 10)
local cookie = bench.env_str("BENCH_COOKIE", nil)

local post_request

function init(args)
   if cookie == nil then
      error("mixed.lua: set BENCH_COOKIE to portfolio_session=...")
   end
   bench.init_counters()
   reads_sent, writes_sent, reads_ok, writes_ok = 0, 0, 0, 0
   post_request = wrk.format("POST", "/api/posts", {
      ["Content-Type"] = "application/json",
      ["Cookie"] = cookie,
   }, bench.post_body("mixed"))
end

function request()
   if math.random(1, 100) <= write_percent then
      writes_sent = writes_sent + 1
      return post_request
   end
   reads_sent = reads_sent + 1
   return wrk.format("GET", "/api/posts/" .. math.random(id_min, id_max))
end

function response(status, headers, body)
   bench.count(status)
   if status == 200 then
      reads_ok = reads_ok + 1
   elseif status == 201 then
      writes_ok = writes_ok + 1
   end
end

function done(summary, latency, requests)
   bench.report(summary, latency, "lua", { "reads_sent", "writes_sent", "reads_ok", "writes_ok" })
end
