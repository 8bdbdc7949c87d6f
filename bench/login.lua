-- Scenario 6's storm: POST /api/session over and over with
-- {"uid": BENCH_LOGIN_UID, "password": BENCH_LOGIN_PASSWORD}
-- (hop / portfolio-demo by default). Each login is an argon2 verification
-- (tens of ms of CPU) plus a sessions row. Every response counted in Lua.
local here = debug.getinfo(1, "S").source:match("^@(.*[/\\])") or "./"
local bench = dofile(here .. "common.lua")

local uid = bench.env_str("BENCH_LOGIN_UID", "hop")
local password = bench.env_str("BENCH_LOGIN_PASSWORD", "portfolio-demo")

function init(args)
   bench.init_counters()
   wrk.method = "POST"
   wrk.path = "/api/session"
   wrk.headers["Content-Type"] = "application/json"
   wrk.body = "{\"uid\": " .. bench.json_string(uid) ..
      ", \"password\": " .. bench.json_string(password) .. "}"
end

function response(status, headers, body)
   bench.count(status)
end

function done(summary, latency, requests)
   bench.report(summary, latency, "lua")
end
