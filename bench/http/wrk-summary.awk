# Reads `wrk --latency` output; prints one tab-separated line:
#   requests/s  p50(ms)  p99(ms)  requests  non-2xx/3xx  socket-errors
# wrk prints latencies with a unit suffix (us, ms, s, m); all are converted to milliseconds.

function ms(value,    unit, number) {
  unit = value
  sub(/^[0-9.]+/, "", unit)
  number = substr(value, 1, length(value) - length(unit)) + 0
  if (unit == "us") return number / 1000
  if (unit == "ms") return number
  if (unit == "s") return number * 1000
  if (unit == "m") return number * 60000
  return -1
}

BEGIN { rps = -1; p50 = -1; p99 = -1; requests = -1; non2xx = 0; socket = 0 }
$1 == "50%" { p50 = ms($2) }
$1 == "99%" { p99 = ms($2) }
/ requests in / { requests = $1 }
/^Requests\/sec:/ { rps = $2 }
/Non-2xx or 3xx responses:/ { non2xx = $NF }
/Socket errors:/ {
  # Socket errors: connect 0, read 0, write 0, timeout 0
  line = $0
  sub(/.*Socket errors:/, "", line)
  gsub(/[a-z,]/, " ", line)
  n = split(line, counts, " ")
  for (i = 1; i <= n; i++) socket += counts[i]
}
END { printf "%s\t%.3f\t%.3f\t%s\t%d\t%d\n", rps, p50, p99, requests, non2xx, socket }
