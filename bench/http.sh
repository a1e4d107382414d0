#!/usr/bin/env bash
# HTTP data-path benchmark: the same ~1 KB JSON payload, the same client and concurrency, in
# one run, over three legs:
#
#   direct   wrk -> nginx upstream                        (127.0.0.1:18181)
#   nginx    wrk -> nginx reverse proxy -> upstream       (127.0.0.1:18182, the peer)
#   airlock  wrk -> Airlock ingress-proxy -> upstream     ($AIRLOCK_URL, skipped when unset)
#
# Usage:
#   bench/http.sh
#   AIRLOCK_URL=http://127.0.0.1:8080/c/bench/item.json AIRLOCK_TOKEN=<jwt> bench/http.sh
#
# Settings (environment):
#   DURATION=15s      measured time per leg          WARMUP=3s     unmeasured run before each leg
#   CONNECTIONS=64    concurrent keep-alive conns    THREADS=1     wrk threads
#   PROXY_WORKERS=1   nginx proxy worker processes (1 = one core, like one Node.js ingress process)
#   AIRLOCK_URL, AIRLOCK_TOKEN   the Airlock leg: URL of connection `bench`, and a bearer JWT
#   AIRLOCK_MASKED_URL           optional leg through connection `bench-masked` (masking on)
#
# The Airlock connection named `bench` must forward to http://127.0.0.1:18181 (any path
# answers with the payload). Prints the results and writes them to bench/results/http.md.
# nginx configs, logs and raw wrk output go to .local/bench/; both nginx instances are stopped
# on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/bench/http
PREFIX=$ROOT/.local/bench
RESULTS=${RESULTS:-$ROOT/bench/results/http.md}

DURATION=${DURATION:-15s}
WARMUP=${WARMUP:-3s}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
PROXY_WORKERS=${PROXY_WORKERS:-1}
AIRLOCK_URL=${AIRLOCK_URL:-}
AIRLOCK_TOKEN=${AIRLOCK_TOKEN:-}
AIRLOCK_MASKED_URL=${AIRLOCK_MASKED_URL:-}

UPSTREAM_PORT=18181
PROXY_PORT=18182
BENCH_PATH=/c/bench/item.json
# Generous, so that slow responses are measured instead of being dropped as timeouts.
WRK_TIMEOUT=10s

log() { printf '[bench/http] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

# --- tools ----------------------------------------------------------------------------------

ensure_tools() {
  local missing=()
  [ -n "$(find_nginx)" ] || missing+=(nginx-light)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y "${missing[@]}"
}

# --- nginx instances ------------------------------------------------------------------------

# shellcheck source=bench/http/nginx.sh
. "$HERE/nginx.sh"

cleanup() {
  stop_nginx proxy || true
  stop_nginx upstream || true
}

# --- one leg --------------------------------------------------------------------------------

# Fills LEG_* for the leg: preflight (one request: status, size, body identical to the
# payload?), warm-up, measured wrk run, parsed summary.
run_leg() { # key url [header]
  local key=$1 url=$2 header=${3:-}
  local args=(-t "$THREADS" -c "$CONNECTIONS" --timeout "$WRK_TIMEOUT")
  local curl_args=(-s -o "$PREFIX/$key.body" -w '%{http_code} %{size_download}' --max-time 10)
  if [ -n "$header" ]; then
    args+=(-H "$header")
    curl_args+=(-H "$header")
  fi

  local preflight
  rm -f "$PREFIX/$key.body" "$PREFIX/wrk-$key.txt"
  preflight=$(curl "${curl_args[@]}" "$url") || true # curl reports 000 when it cannot connect
  LEG_STATUS=${preflight% *}
  LEG_BYTES=${preflight#* }
  if cmp -s "$PREFIX/$key.body" "$HERE/item.json"; then LEG_SAME=yes; else LEG_SAME=no; fi
  if [ "$LEG_STATUS" != 200 ]; then
    log "$key: preflight answered HTTP $LEG_STATUS, leg not measured"
    LEG_SUMMARY=''
    return
  fi

  log "$key: warm-up $WARMUP, then $DURATION with $CONNECTIONS connections, $THREADS thread(s)"
  wrk "${args[@]}" -d "$WARMUP" "$url" >/dev/null
  wrk "${args[@]}" -d "$DURATION" --latency "$url" >"$PREFIX/wrk-$key.txt"
  LEG_SUMMARY=$(awk -f "$HERE/wrk-summary.awk" "$PREFIX/wrk-$key.txt")
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0 && a >= 0) printf "%.2f×", a / b; else printf "–" }'; }

# --- main -----------------------------------------------------------------------------------

ensure_tools
NGINX=$(find_nginx)
if [ -n "$AIRLOCK_URL" ] && [ -z "$AIRLOCK_TOKEN" ]; then
  die "AIRLOCK_URL is set but AIRLOCK_TOKEN is not: every request would be refused"
fi

mkdir -p "$PREFIX/www" "$PREFIX/tmp/upstream" "$PREFIX/tmp/proxy" "$(dirname "$RESULTS")"
cp "$HERE/item.json" "$PREFIX/www/item.json"
render "$HERE/upstream.conf"
render "$HERE/proxy.conf"
trap cleanup EXIT
trap 'exit 130' INT TERM
start_nginx upstream "$UPSTREAM_PORT"
start_nginx proxy "$PROXY_PORT"

declare -A LABEL URL STATUS BYTES SAME SUMMARY NOTE
LEGS=(direct nginx airlock airlock_masked)
LABEL=([direct]='direct (nginx upstream)' [nginx]='nginx reverse proxy' [airlock]='Airlock ingress-proxy'
  [airlock_masked]='Airlock, masking on')
URL=([direct]="http://127.0.0.1:$UPSTREAM_PORT$BENCH_PATH" [nginx]="http://127.0.0.1:$PROXY_PORT$BENCH_PATH"
  [airlock]="$AIRLOCK_URL" [airlock_masked]="$AIRLOCK_MASKED_URL")

for key in "${LEGS[@]}"; do
  if [[ $key == airlock* ]] && [ -z "${URL[$key]}" ]; then
    NOTE[$key]='skipped: no URL set'
    log "$key: skipped (no URL set)"
    continue
  fi
  header=''
  [[ $key == airlock* ]] && header="Authorization: Bearer $AIRLOCK_TOKEN"
  run_leg "$key" "${URL[$key]}" "$header"
  STATUS[$key]=$LEG_STATUS BYTES[$key]=$LEG_BYTES SAME[$key]=$LEG_SAME SUMMARY[$key]=$LEG_SUMMARY
  [ -n "$LEG_SUMMARY" ] || NOTE[$key]="not measured: preflight answered HTTP $LEG_STATUS"
done

rps_of() { if [ -n "${SUMMARY[$1]:-}" ]; then cut -f1 <<<"${SUMMARY[$1]}"; else echo -1; fi; }
DIRECT_RPS=$(rps_of direct)
NGINX_RPS=$(rps_of nginx)

{
  echo '# HTTP data-path benchmark'
  echo
  echo "Generated by \`bench/http.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC'). One run; every leg gets the same"
  echo 'payload, client, concurrency and duration. Throughput ratios compare requests per second.'
  echo
  echo '| leg | req/s | p50 | p99 | errors | vs direct | vs nginx proxy |'
  echo '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'
  for key in "${LEGS[@]}"; do
    if [ -z "${SUMMARY[$key]:-}" ]; then
      echo "| ${LABEL[$key]} | ${NOTE[$key]} | | | | | |"
      continue
    fi
    IFS=$'\t' read -r rps p50 p99 requests non2xx socket <<<"${SUMMARY[$key]}"
    errors=$((non2xx + socket))
    errors_cell=$errors
    [ "$errors" -eq 0 ] || errors_cell="**$errors** ⚠ (non-2xx/3xx $non2xx, socket $socket, of $requests)"
    printf '| %s | %.0f | %.2f ms | %.2f ms | %s | %s | %s |\n' "${LABEL[$key]}" "$rps" "$p50" "$p99" \
      "$errors_cell" "$(ratio "$rps" "$DIRECT_RPS")" "$(ratio "$rps" "$NGINX_RPS")"
  done
  echo
  echo '## Setup'
  echo
  echo "- Machine: $(nproc) CPU(s), $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)," \
    "Linux $(uname -r), $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo) RAM." \
    'Client, proxies and upstream share these CPUs, so the figures compare the legs with each other,' \
    'not with a production deployment.'
  echo "- Client: $(wrk --version 2>&1 | head -n1 | awk '{ print $1, $2 }'), $THREADS thread(s)," \
    "$CONNECTIONS keep-alive connections, $DURATION measured per leg after a $WARMUP warm-up," \
    "\`--latency\`, \`--timeout $WRK_TIMEOUT\`."
  echo "- Payload: \`bench/http/item.json\`, $(wc -c <"$HERE/item.json") bytes of JSON, requested as \`$BENCH_PATH\`."
  echo "- Upstream: $("$NGINX" -v 2>&1 | sed 's|^nginx version: ||'), 1 worker, access log off," \
    "serves the payload for any path on 127.0.0.1:$UPSTREAM_PORT (\`bench/http/upstream.conf\`)."
  echo "- nginx reverse proxy: same binary, $PROXY_WORKERS worker(s), access log off, HTTP/1.1 to the upstream" \
    "with a keep-alive pool of 64 (\`bench/http/proxy.conf\`), on 127.0.0.1:$PROXY_PORT."
  if [ -n "$AIRLOCK_URL" ]; then
    echo "- Airlock: \`$AIRLOCK_URL\` with a bearer token (not recorded); connection \`bench\` → 127.0.0.1:$UPSTREAM_PORT."
    [ -z "$AIRLOCK_MASKED_URL" ] || echo "- Airlock, masking on: \`$AIRLOCK_MASKED_URL\`, the same upstream through connection" \
      "\`bench-masked\`, whose policy rule masks with every secret detector and the default field names."
  else
    echo "- Airlock: not measured in this run (set \`AIRLOCK_URL\` and \`AIRLOCK_TOKEN\`)."
  fi
  echo '- Keep-alive request limits are lifted on both nginx instances so no leg pays for reconnects.'
  echo
  echo '## Preflight (one request per leg before the warm-up)'
  echo
  echo '| leg | HTTP status | body bytes | body identical to the payload |'
  echo '| --- | ---: | ---: | --- |'
  for key in "${LEGS[@]}"; do
    [ -n "${STATUS[$key]:-}" ] || continue
    echo "| ${LABEL[$key]} | ${STATUS[$key]} | ${BYTES[$key]} | ${SAME[$key]} |"
  done
  echo
  echo '## Raw wrk output'
  for key in "${LEGS[@]}"; do
    if [ -z "${SUMMARY[$key]:-}" ]; then continue; fi
    echo
    echo "### ${LABEL[$key]}"
    echo
    echo '```'
    cat "$PREFIX/wrk-$key.txt"
    echo '```'
  done
} >"$RESULTS"

cat "$RESULTS"
log "written to ${RESULTS#"$ROOT"/}"
