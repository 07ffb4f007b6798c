-- wrk script: the load package's request mix (load/src/wrk-mix.ts writes the mix file from the
-- Artillery scenarios). Run as
--   wrk -t T -c C -d Ds -s load/wrk/mix.lua URL -- MIX_FILE API_KEY
-- The mix file holds one request a line, tab-separated: weight, name, method, path, body ('-' for
-- none). A path with {{ jobId }} is a poll of a job this thread submitted (an id captured from a
-- 202 answer); until one exists, the thread sends the mix's first POST instead. Each request is
-- drawn at random by weight, so the mix holds over any run longer than a few hundred requests.
-- Answers of 400 and above are errors; done() prints one line, WRK_JSON {...}, that
-- load/src/wrk.ts reads: latency percentiles, requests, errors, requests sent per name, and
-- wrk's own CPU time (utime and stime from /proc/self/stat, in clock ticks).

local threads = {}

local entries = {} -- { weight, name, method, path, body }
local total = 0
local api_key = ""
local job_ids = {}
local job_count = 0
local MAX_IDS = 64
-- Globals, not locals: done() reads them from each thread with thread:get.
errors = 0
counts = {} -- requests sent, per name
local submit = nil

local function split(line)
  local fields = {}
  for field in string.gmatch(line, "[^\t]+") do fields[#fields + 1] = field end
  return fields
end

function setup(thread)
  threads[#threads + 1] = thread
end

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open the mix file " .. tostring(args[1]))
  api_key = args[2] or ""
  for line in file:lines() do
    if line ~= "" and string.sub(line, 1, 1) ~= "#" then
      local f = split(line)
      local entry = { weight = tonumber(f[1]), name = f[2], method = f[3], path = f[4], body = f[5] }
      if entry.body == "-" then entry.body = nil end
      total = total + entry.weight
      entry.upto = total
      entries[#entries + 1] = entry
      counts[entry.name] = 0
      if submit == nil and entry.method == "POST" then submit = entry end
    end
  end
  file:close()
end

local function build(entry)
  local headers = { ["Authorization"] = "Bearer " .. api_key }
  if entry.body ~= nil then headers["Content-Type"] = "application/json" end
  return wrk.format(entry.method, entry.path, headers, entry.body)
end

function request()
  local r = math.random() * total
  local entry = entries[#entries]
  for i = 1, #entries do
    if r < entries[i].upto then entry = entries[i]; break end
  end
  if string.find(entry.path, "{{ jobId }}", 1, true) then
    if job_count == 0 then
      entry = submit
    else
      local id = job_ids[math.random(1, math.min(job_count, MAX_IDS))]
      local polled = { method = entry.method, path = string.gsub(entry.path, "{{ jobId }}", id), body = entry.body }
      counts[entry.name] = counts[entry.name] + 1
      return build(polled)
    end
  end
  counts[entry.name] = counts[entry.name] + 1
  return build(entry)
end

function response(status, headers, body)
  if status >= 400 then errors = errors + 1 end
  if status == 202 then
    local id = string.match(body, '"id"%s*:%s*"([^"]+)"') or string.match(body, '"id"%s*:%s*(%d+)')
    if id ~= nil then
      job_count = job_count + 1
      job_ids[((job_count - 1) % MAX_IDS) + 1] = id
    end
  end
end

local function cpu_ticks()
  local file = io.open("/proc/self/stat", "r")
  if file == nil then return -1 end
  local stat = file:read("*l")
  file:close()
  -- Fields after "pid (comm) ": state is the 1st, utime and stime the 12th and 13th.
  local rest = string.sub(stat, string.find(stat, ")", 1, true) + 2)
  local fields = {}
  for field in string.gmatch(rest, "%S+") do fields[#fields + 1] = field end
  return tonumber(fields[12]) + tonumber(fields[13])
end

function done(summary, latency, requests)
  local errs = 0
  local by_name = {}
  for _, thread in ipairs(threads) do
    errs = errs + thread:get("errors")
    local c = thread:get("counts")
    for name, n in pairs(c) do by_name[name] = (by_name[name] or 0) + n end
  end
  local names = {}
  for name, n in pairs(by_name) do names[#names + 1] = string.format('"%s":%d', name, n) end
  io.write(string.format(
    'WRK_JSON {"durationUs":%d,"requests":%d,"bytes":%d,"errors":%d,"socketErrors":%d,"timeouts":%d,' ..
      '"p50Us":%d,"p90Us":%d,"p99Us":%d,"maxUs":%d,"cpuTicks":%d,"byName":{%s}}\n',
    summary.duration, summary.requests, summary.bytes, errs,
    summary.errors.connect + summary.errors.read + summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    cpu_ticks(), table.concat(names, ",")))
end
