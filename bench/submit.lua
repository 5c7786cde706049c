-- POST load for bench/load.py: one JSON body to each target in turn, every request with an Idempotency-Key of
-- its own, and the id of every 201 answer kept, so that bench/run.py can look each one up in the database.
-- Settings come from the environment: BENCH_TARGETS (lines of "path<TAB>bearer token", the token may be
-- empty), BENCH_BODY, BENCH_KEY_PREFIX (unique per run), BENCH_ACKED_FILE (where the ids are written).
dofile(debug.getinfo(1, "S").source:match("^@(.*/)") .. "report.lua")

local threads = {}

setup = function(thread)
  -- Runs in the main Lua state, once per wrk thread: number the threads so their keys never collide.
  thread:set("thread_number", #threads + 1)
  threads[#threads + 1] = thread
end

local targets, body, prefix, sent = {}, nil, nil, 0
acked = {}  -- global: done() reads it from each thread with thread:get

init = function(args)
  for line in (os.getenv("BENCH_TARGETS") or ""):gmatch("[^\n]+") do
    local path, token = line:match("^([^\t]*)\t?(.*)$")
    targets[#targets + 1] = {path = path, token = token}
  end
  assert(#targets > 0, "BENCH_TARGETS is empty")
  body = assert(os.getenv("BENCH_BODY"), "BENCH_BODY is not set")
  prefix = assert(os.getenv("BENCH_KEY_PREFIX"), "BENCH_KEY_PREFIX is not set") .. "-" .. thread_number .. "-"
end

request = function()
  sent = sent + 1
  local target = targets[sent % #targets + 1]
  local headers = {["Content-Type"] = "application/json", ["Idempotency-Key"] = prefix .. sent}
  if target.token ~= "" then
    headers["Authorization"] = "Bearer " .. target.token
  end
  return wrk.format("POST", target.path, headers, body)
end

response = function(status, headers, answer)
  if status == 201 then
    acked[#acked + 1] = answer:match('"id"%s*:%s*"([^"]+)"') or "?"
  end
end

done = function(summary, latency, requests)
  local ids = {}
  for _, thread in ipairs(threads) do
    for _, id in ipairs(thread:get("acked")) do
      ids[#ids + 1] = id
    end
  end
  local file = assert(io.open(assert(os.getenv("BENCH_ACKED_FILE"), "BENCH_ACKED_FILE is not set"), "w"))
  file:write(table.concat(ids, "\n"))
  file:close()
  report(summary, latency, string.format(', "acknowledged": %d', #ids))
end
