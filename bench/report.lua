-- wrk prints its own report for people; this adds one JSON line that bench/load.py reads.
-- `extra` (used by submit.lua) is spliced into that line as more JSON fields.
report = function(summary, latency, extra)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %.0f, "p99_us": %.0f, "socket_errors": %d, "status_errors": %d%s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status, extra or ""))
end

done = function(summary, latency, requests)
  report(summary, latency)
end
