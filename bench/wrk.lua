-- Used by bench/run.py for every wrk run. Arguments after `--`:
--   paths <path>...      GET each path in turn (scenario 2: many items)
--   post <content-type> <body>
-- and with none, wrk's own request (URL and -H headers). done() prints one JSON line.

function init(args)
  if args[1] == "paths" then
    local paths, i = {}, 0
    for n = 2, #args do paths[#paths + 1] = wrk.format("GET", args[n]) end
    request = function()
      i = i % #paths + 1
      return paths[i]
    end
  elseif args[1] == "post" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = args[2]
    wrk.body = args[3]
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"errors": %d, "bad_status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.timeout, e.status))
end
