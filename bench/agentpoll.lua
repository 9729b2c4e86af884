-- wrk script for make bench: sends the polls bench/agentsign.py signed ahead of time, each once.
-- Each thread takes every n-th line of the file named by POLLS; a thread that runs out stops.
local lines, nthreads, counter = {}, 2, 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  local i = 0
  for line in io.lines(os.getenv("POLLS")) do
    if i % nthreads == tid - 1 then table.insert(lines, line) end
    i = i + 1
  end
  idx = 0
end

function request()
  idx = idx + 1
  local line = lines[idx]
  if line == nil then wrk.thread:stop(); return wrk.format("GET", "/healthz") end
  local agent, t, nonce, sig = line:match("([^\t]+)\t([^\t]+)\t([^\t]+)\t([^\t]+)")
  return wrk.format("POST", "/agent/v1/poll", {
    ["Content-Type"] = "application/json", ["X-Custody-Agent"] = agent, ["X-Custody-Time"] = t,
    ["X-Custody-Nonce"] = nonce, ["X-Custody-Signature"] = sig }, '{"wait":0,"version":"sim"}')
end

function done(summary, latency, requests)
  io.write(string.format("polls %d errors_status %d\n", summary.requests, summary.errors.status))
end
