-- Shared by the wrk scripts of bench/ (loaded with dofile from each script).
--
-- wrk runs one Lua state per thread plus one for setup() and done(). So the
-- counters live in each thread's state (globals, set up in init()), setup()
-- keeps the thread handles, and done() reads every thread's counters with
-- thread:get() and prints one machine-readable line:
--
--   BENCH requests=... rps=... p50_ms=... p99_ms=... max_ms=... ok2xx=...
--         non2xx=... statuses=404:3,503:1 err_connect=... err_read=...
--         err_write=... err_timeout=... counted=lua|wrk [extra=...]
--
-- counted=lua: every response went through response() (exact 2xx/non-2xx).
-- counted=wrk: no response() callback, for the cheapest read loops; non2xx
-- is then wrk's own count of statuses >= 400 (a 3xx would count as 2xx).

local bench = {}

local threads = {}

function bench.env_int(name, default)
   local raw = os.getenv(name)
   if raw == nil or raw == "" then
      return default
   end
   local value = tonumber(raw)
   if value == nil then
      error(name .. " must be a number, not '" .. raw .. "'")
   end
   return math.floor(value)
end

function bench.env_str(name, default)
   local raw = os.getenv(name)
   if raw == nil or raw == "" then
      return default
   end
   return raw
end

-- A JSON string literal (quotes, backslashes and control characters escaped).
function bench.json_string(s)
   s = s:gsub('[%c"\\]', function(c)
      local named = { ['"'] = '\\"', ['\\'] = '\\\\', ['\n'] = '\\n', ['\r'] = '\\r', ['\t'] = '\\t' }
      return named[c] or string.format("\\u%04x", c:byte())
   end)
   return '"' .. s .. '"'
end

-- Runs in the main state, once per thread, before init().
function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

-- Per-thread counters; call from init().
function bench.init_counters()
   ok2xx = 0
   non2xx = 0
   statuses = {}
   math.randomseed(os.time() * 1000 + (thread_id or 0) * 7919)
   -- LuaJIT's first few numbers after a seed are poorly spread.
   for _ = 1, 10 do math.random() end
end

-- The response() callback that counts every answer by status class.
function bench.count(status)
   if status >= 200 and status < 300 then
      ok2xx = ok2xx + 1
   else
      non2xx = non2xx + 1
      statuses[status] = (statuses[status] or 0) + 1
   end
end

local function sum(name)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + (thread:get(name) or 0)
   end
   return total
end

-- done() for every script. `counted` says whether response() counted
-- ("lua") or wrk's own status errors stand in ("wrk"); `extra_names` lists
-- more per-thread numeric globals to sum and print.
function bench.report(summary, latency, counted, extra_names)
   local seconds = summary.duration / 1e6
   local ok, bad, codes = 0, 0, {}
   if counted == "lua" then
      ok, bad = sum("ok2xx"), sum("non2xx")
      for _, thread in ipairs(threads) do
         for code, n in pairs(thread:get("statuses") or {}) do
            codes[code] = (codes[code] or 0) + n
         end
      end
   else
      bad = summary.errors.status
      ok = summary.requests - bad
   end
   local parts = {}
   for code, n in pairs(codes) do
      table.insert(parts, code .. ":" .. n)
   end
   table.sort(parts)
   local extra = ""
   for _, name in ipairs(extra_names or {}) do
      extra = extra .. string.format(" %s=%d", name, sum(name))
   end
   io.write(string.format(
      "BENCH requests=%d rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f ok2xx=%d non2xx=%d " ..
      "statuses=%s err_connect=%d err_read=%d err_write=%d err_timeout=%d counted=%s%s\n",
      summary.requests, summary.requests / seconds,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
      ok, bad, (#parts > 0) and table.concat(parts, ",") or "-",
      summary.errors.connect, summary.errors.read, summary.errors.write,
      summary.errors.timeout, counted, extra))
end

-- The post body of the write scenarios: a title and some Markdown, one per
-- thread so the rows can be told apart.
function bench.post_body(tag)
   local title = string.format("wrk %s, thread %d", tag, thread_id or 0)
   local content = "## Written by wrk\n\nA **benchmark** post with a list:\n\n" ..
      "- one\n- two\n- three\n\nAnd `code`, a [link](https://example.com) and *emphasis*. " ..
      string.rep("Lorem ipsum dolor sit amet. ", 8)
   return "{\"title\": " .. bench.json_string(title) ..
      ", \"content\": " .. bench.json_string(content) .. "}"
end

return bench
