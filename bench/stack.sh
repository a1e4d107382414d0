#!/usr/bin/env bash
# Whole-stack benchmark (issue 16): the full system up (scripts/up.sh, one ingress worker), the
# peers in the same run, and for every leg the throughput, the latency and the CPU each process
# spends per operation.
#
#   HTTP legs        direct (nginx upstream) · nginx reverse proxy · bare Node.js proxy (node:http +
#                    undici, bench/http/node-proxy.js: the runtime's floor) · Airlock · Airlock, masking on
#     saturated      wrk, closed loop: maximum req/s (as bench/http.sh)
#     fixed load     bench/loadgen, open loop at HTTP_RATE req/s on every leg: p50/p99 from the
#                    scheduled send time, and CPU µs per request of each process
#   PostgreSQL legs  pgbench -S, simple and extended protocol, 1 and 8 clients:
#                    direct · pgbouncer (session pooling) · Airlock's PostgreSQL listener (TLS)
#     saturated      pgbench -T: maximum TPS
#     fixed rate     pgbench -R PG_RATE: p50/p99 from the scheduled start, CPU µs per statement
#
# Prints the tables and writes bench/results/stack.md, with each target of issue 16 met or missed.
#
# Usage:   bench/stack.sh
# Settings (environment):
#   DURATION=15        measured seconds per run          WARMUP=3   unmeasured seconds before each
#   HTTP_RATE=1000     offered HTTP load, req/s          HTTP_FIXED_CONNECTIONS=16  loadgen connections
#   CONNECTIONS=64     wrk connections (saturated)       THREADS=1  wrk threads
#   PROXY_WORKERS=1    nginx reverse proxy workers
#   PG_RATE=1000       offered pgbench rate, statements/s
#   PG_SCALE=10        pgbench scale of the tables in the demo database (airlock_demo)
#   PARTS=http,pg      which halves to run
#   SKIP_UP=1          use the services already running instead of restarting them with scripts/up.sh
#                      (then TOKEN must hold an agent token)
#   INGRESS_WORKERS=1  passed to scripts/up.sh
#   RESULTS=bench/results/stack.md
#
# Runs under flock /tmp/airlock-bench.lock (waits for any other benchmark holding it). Needs the
# local infrastructure from infra/local (started when missing, never stopped). Installs nginx, wrk,
# pgbouncer, jq and the PostgreSQL client with apt when missing; builds bench/loadgen with Go.
# Raw output goes to .local/bench/stack/.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE=$ROOT/bench/http
PREFIX=$ROOT/.local/bench
OUT=$PREFIX/stack
RESULTS=${RESULTS:-$ROOT/bench/results/stack.md}
LOCK=/tmp/airlock-bench.lock

DURATION=${DURATION:-15}
WARMUP=${WARMUP:-3}
HTTP_RATE=${HTTP_RATE:-1000}
HTTP_FIXED_CONNECTIONS=${HTTP_FIXED_CONNECTIONS:-16}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-1}
PROXY_WORKERS=${PROXY_WORKERS:-1}
PG_RATE=${PG_RATE:-1000}
PG_SCALE=${PG_SCALE:-10}
PARTS=${PARTS:-http,pg}
SKIP_UP=${SKIP_UP:-0}
export INGRESS_WORKERS=${INGRESS_WORKERS:-1}

UPSTREAM_PORT=18181
PROXY_PORT=18182
NODE_PROXY_PORT=18183
NODE_PROXY_PID=''
BENCH_PATH=/c/bench/item.json
WRK_TIMEOUT=10s
GATEWAY_HTTP=http://127.0.0.1:8080
GATEWAY_PG_PORT=6543
PG_CONNECTION=demo-db # the demo database connection scripts/up.sh makes; policy: read allowed, masking on

log() { printf '[bench/stack] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
for n in DURATION WARMUP HTTP_RATE HTTP_FIXED_CONNECTIONS CONNECTIONS THREADS PROXY_WORKERS PG_RATE PG_SCALE; do
  [[ ${!n} =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive whole number, not '${!n}'"
done

# shellcheck source=bench/http/nginx.sh
. "$HERE/nginx.sh"

# --- tools ----------------------------------------------------------------------------------

ensure_tools() {
  local missing=()
  [ -n "$(find_nginx)" ] || missing+=(nginx-light)
  command -v wrk >/dev/null || missing+=(wrk)
  command -v curl >/dev/null || missing+=(curl)
  command -v jq >/dev/null || missing+=(jq)
  command -v flock >/dev/null || missing+=(util-linux)
  command -v pgbench >/dev/null || missing+=(postgresql-client)
  command -v pgbouncer >/dev/null || [ -x /usr/sbin/pgbouncer ] || missing+=(pgbouncer)
  command -v go >/dev/null || die "Go is needed to build bench/loadgen (go not found)"
  [ ${#missing[@]} -eq 0 ] && return
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  log "installing ${missing[*]}"
  "${sudo[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
}

LOADGEN=$PREFIX/loadgen
build_loadgen() {
  (cd "$ROOT/bench/loadgen" && go build -o "$LOADGEN" .) || die "could not build bench/loadgen"
}

# --- processes whose CPU is sampled ---------------------------------------------------------

listener_pid() { # port: the process listening on it (the machine may run other copies of the infrastructure)
  ss -Hltnp "sport = :$1" | grep -o 'pid=[0-9]*' | head -n1 | cut -d= -f2
}

service_pid() { cat "$ROOT/.local/run/$1.pid" 2>/dev/null || true; }

# -cpu flags for loadgen: the Airlock processes and their infrastructure, plus the extra ones given.
cpu_groups() { # [name=pid ...]
  local s pid
  CPU_ARGS=()
  for s in ingress-proxy policy credential-vault approval recorder; do
    pid=$(service_pid "$s")
    [ -z "$pid" ] || CPU_ARGS+=(-cpu "$s=$pid")
  done
  CPU_ARGS+=(-cpu "kafka=$(listener_pid "$AIRLOCK_KAFKA_PORT")" -cpu "postgres=$(listener_pid "$AIRLOCK_PG_PORT")"
    -cpu "redis=$(listener_pid "$AIRLOCK_REDIS_PORT")")
  for s in "$@"; do CPU_ARGS+=(-cpu "$s"); done
}

recorder_lag() { # events the recorder has still to read from the audit topic (empty when unknown)
  (cd "$ROOT" && node -e '
    const { consumerLag } = require("./dist/node_modules/@airlock/testing");
    consumerLag("airlock-recorder", "airlock.audit").then((lag) => console.log(lag ?? ""),
      (e) => { console.error(e.message); console.log(""); });' 2>/dev/null) || true
}

# The recorder catches up with the audit stream of the previous leg before a window opens, so that
# its CPU in the window belongs to the leg measured.
wait_recorder() {
  local lag deadline=$((SECONDS + 300))
  while :; do
    lag=$(recorder_lag)
    [ "$lag" != 0 ] || return 0
    if [ $SECONDS -ge $deadline ]; then
      log "recorder lag still ${lag:-unknown} after 300 s; measuring anyway"
      return 0
    fi
    sleep 1
  done
}

record() { printf '%s\n' "$1" >>"$RECORDS"; }

# CPU of the groups in CPU_ARGS and of the client (pid, name) while that client runs a saturated
# run of DURATION seconds; the window goes to $OUT/cpu.json, the client's exit status is returned.
sample_cpu() { # pid name
  local code=0
  "$LOADGEN" cpu -duration "${DURATION}s" "${CPU_ARGS[@]}" -cpu "$2=$1" >"$OUT/cpu.json"
  wait "$1" || code=$?
  return $code
}

# --- HTTP -----------------------------------------------------------------------------------

declare -A LABEL URL
HTTP_LEGS=(direct nginx node airlock airlock_masked)
LABEL=([direct]='direct (nginx upstream)' [nginx]='nginx reverse proxy' [node]='bare Node.js proxy' [airlock]='Airlock'
  [airlock_masked]='Airlock, masking on')
URL=([direct]="http://127.0.0.1:$UPSTREAM_PORT$BENCH_PATH" [nginx]="http://127.0.0.1:$PROXY_PORT$BENCH_PATH"
  [node]="http://127.0.0.1:$NODE_PROXY_PORT$BENCH_PATH"
  [airlock]="$GATEWAY_HTTP/c/bench/item.json" [airlock_masked]="$GATEWAY_HTTP/c/bench-masked/item.json")

http_leg() { # key
  local key=$1 url=${URL[$1]} header=()
  [[ $key != airlock* ]] || header=(-H "Authorization: Bearer $TOKEN")
  local preflight status same
  preflight=$(curl -s -o "$OUT/$key.body" -w '%{http_code} %{size_download}' --max-time 10 "${header[@]}" "$url") || true
  status=${preflight% *}
  if cmp -s "$OUT/$key.body" "$HERE/item.json"; then same=true; else same=false; fi
  record "$(jq -cn --arg leg "$key" --arg name "${LABEL[$key]}" --arg status "$status" --arg bytes "${preflight#* }" \
    --argjson same "$same" '{kind:"http-preflight", leg:$leg, name:$name, status:($status|tonumber), bytes:($bytes|tonumber), identical:$same}')"
  if [ "$status" != 200 ]; then
    log "$key: preflight answered HTTP $status, leg not measured"
    return
  fi

  # Saturated, closed loop.
  cpu_groups "nginx-upstream=$(cat "$PREFIX/upstream.pid")" "nginx-proxy=$(cat "$PREFIX/proxy.pid")" \
    "node-proxy=$NODE_PROXY_PID" loadgen=self
  local args=(-t "$THREADS" -c "$CONNECTIONS" --timeout "$WRK_TIMEOUT")
  [[ $key != airlock* ]] || args+=(-H "Authorization: Bearer $TOKEN")
  log "$key: saturated, wrk $CONNECTIONS connections, ${WARMUP}s + ${DURATION}s"
  wrk "${args[@]}" -d "${WARMUP}s" "$url" >/dev/null
  wrk "${args[@]}" -d "${DURATION}s" --latency "$url" >"$OUT/wrk-$key.txt" &
  sample_cpu "$!" wrk || log "$key: wrk exited with $?"
  local cpu
  cpu=$(cat "$OUT/cpu.json")
  local rps p50 p99 requests non2xx socket
  IFS=$'\t' read -r rps p50 p99 requests non2xx socket < <(awk -f "$HERE/wrk-summary.awk" "$OUT/wrk-$key.txt")
  record "$(jq -cn --arg leg "$key" --arg rps "$rps" --arg p50 "$p50" --arg p99 "$p99" --arg requests "$requests" \
    --arg non2xx "$non2xx" --arg socket "$socket" --argjson cpu "$cpu" \
    '{kind:"http-saturated", leg:$leg, rps:($rps|tonumber), p50:($p50|tonumber), p99:($p99|tonumber),
      requests:($requests|tonumber), non2xx:($non2xx|tonumber), socketErrors:($socket|tonumber), cpu:$cpu}')"
  log "$key: saturated $rps req/s, p99 $p99 ms"

  # Fixed offered load, open loop: after the saturated run, so that the proxy is warm (JIT, pools),
  # and after the recorder has stored the audit events of that run.
  [[ $key != airlock* ]] || wait_recorder
  local lg=()
  [[ $key != airlock* ]] || lg=(-header "Authorization: Bearer $TOKEN")
  log "$key: $HTTP_RATE req/s offered over $HTTP_FIXED_CONNECTIONS connections, ${WARMUP}s + ${DURATION}s"
  local fixed lag=''
  fixed=$("$LOADGEN" http -url "$url" -rate "$HTTP_RATE" -connections "$HTTP_FIXED_CONNECTIONS" \
    -warmup "${WARMUP}s" -duration "${DURATION}s" "${lg[@]}" "${CPU_ARGS[@]}")
  [[ $key != airlock* ]] || lag=$(recorder_lag)
  record "$(jq -cn --arg leg "$key" --argjson r "$fixed" --arg lag "$lag" \
    '{kind:"http-fixed", leg:$leg, recorderLagAfter:($lag|tonumber? // null), result:$r}')"
  log "$key: $(jq -r '"\(.achievedRps|floor) req/s, p50 \(.latencyMs.p50) ms, p99 \(.latencyMs.p99) ms, errors \(.non2xx + .socketErrors + .unsent)"' <<<"$fixed")"
}

run_http() {
  mkdir -p "$PREFIX/www" "$PREFIX/tmp/upstream" "$PREFIX/tmp/proxy"
  cp "$HERE/item.json" "$PREFIX/www/item.json"
  render "$HERE/upstream.conf"
  render "$HERE/proxy.conf"
  start_nginx upstream "$UPSTREAM_PORT" 9>&-
  start_nginx proxy "$PROXY_PORT" 9>&-
  node "$HERE/node-proxy.js" "$NODE_PROXY_PORT" "http://127.0.0.1:$UPSTREAM_PORT" 9>&- &
  NODE_PROXY_PID=$!
  for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$NODE_PROXY_PORT/" && break; sleep 0.1; done
  local key
  for key in "${HTTP_LEGS[@]}"; do http_leg "$key"; done
  kill "$NODE_PROXY_PID" 2>/dev/null || true
  stop_nginx proxy || true
  stop_nginx upstream || true
}

# --- PostgreSQL -----------------------------------------------------------------------------

PGB_DIR=''
PGB_PIDFILE=''
stop_pgbouncer() {
  [ -n "$PGB_DIR" ] || return 0
  if pid_alive "$PGB_PIDFILE"; then
    kill -INT "$(cat "$PGB_PIDFILE")" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while pid_alive "$PGB_PIDFILE" && [ $SECONDS -lt $deadline ]; do sleep 0.1; done
  fi
  rm -rf "$PGB_DIR"
  PGB_DIR=''
}

# pgbouncer as the peer: session pooling (one server connection per client session, as Airlock
# relays a session), SCRAM client auth, plain TCP, in front of the same database; the same set-up
# as bench/pg-proxy.ts. It refuses to run as root: then it runs as the postgres OS user.
PGB_PORT=16432
start_pgbouncer() {
  local bin
  bin=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)
  PGB_DIR=$(mktemp -d /tmp/airlock-stack-pgbouncer.XXXXXX)
  PGB_PIDFILE=$PGB_DIR/pgbouncer.pid
  [ -z "$(listener_pid "$PGB_PORT")" ] || die "port $PGB_PORT is in use"
  printf '"%s" "%s"\n' airlock_demo "$DEMO_PW" >"$PGB_DIR/userlist.txt"
  chmod 600 "$PGB_DIR/userlist.txt"
  cat >"$PGB_DIR/pgbouncer.ini" <<INI
[databases]
bench = host=127.0.0.1 port=$AIRLOCK_PG_PORT dbname=airlock_demo user=airlock_demo
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $PGB_DIR/userlist.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 16
ignore_startup_parameters = extra_float_digits
logfile = $PGB_DIR/pgbouncer.log
pidfile = $PGB_PIDFILE
client_tls_sslmode = disable
INI
  local as=()
  if [ "$(id -u)" -eq 0 ]; then
    chown -R postgres: "$PGB_DIR"
    as=(runuser -u postgres --)
  fi
  "${as[@]}" "$bin" -d "$PGB_DIR/pgbouncer.ini" || die "pgbouncer did not start: $(tail -n5 "$PGB_DIR/pgbouncer.log" 2>/dev/null)"
  local deadline=$((SECONDS + 10))
  until [ -n "$(listener_pid "$PGB_PORT")" ]; do
    [ $SECONDS -lt $deadline ] || die "pgbouncer does not listen on $PGB_PORT: $(tail -n5 "$PGB_DIR/pgbouncer.log")"
    sleep 0.1
  done
  PGBOUNCER_VERSION=$("$bin" --version | head -n1)
}

# libpq settings of a target, for env(1).
PG_TARGETS=(direct pgbouncer airlock)
libpq() { # target
  case $1 in
    direct) echo "PGHOST=127.0.0.1 PGPORT=$AIRLOCK_PG_PORT PGDATABASE=airlock_demo PGUSER=airlock_demo PGPASSWORD=$DEMO_PW PGSSLMODE=disable" ;;
    pgbouncer) echo "PGHOST=127.0.0.1 PGPORT=$PGB_PORT PGDATABASE=bench PGUSER=airlock_demo PGPASSWORD=$DEMO_PW PGSSLMODE=disable" ;;
    airlock) echo "PGHOST=127.0.0.1 PGPORT=$GATEWAY_PG_PORT PGDATABASE=$PG_CONNECTION PGUSER=agent PGPASSWORD=$TOKEN PGSSLMODE=require" ;;
  esac
}
with_libpq() { # target command...
  local t=$1
  shift
  # shellcheck disable=SC2046 # word splitting of the NAME=value list is intended
  env PGCONNECT_TIMEOUT=10 $(libpq "$t") "$@"
}

pg_tables() {
  local have
  have=$(with_libpq direct psql -X -A -t -c 'SELECT count(*) FROM pgbench_branches' 2>/dev/null || true)
  if [ "$have" != "$PG_SCALE" ]; then
    log "pgbench -i -s $PG_SCALE in airlock_demo"
    with_libpq direct pgbench -i -q -s "$PG_SCALE" >"$OUT/pgbench-init.log" 2>&1 || die "pgbench -i failed: $(tail -n3 "$OUT/pgbench-init.log")"
  fi
}

# Airlock must apply its policy and masking on this path, or its figures would not mean what they claim.
pg_checks() {
  local masked refused deadline=$((SECONDS + 60))
  # The ingress may not have the demo credential from the vault yet right after scripts/up.sh.
  until with_libpq airlock psql -X -A -t -c 'SELECT 1' >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || { log "Airlock's PostgreSQL listener refuses sessions after 60 s"; break; }
    sleep 1
  done
  masked=$(with_libpq airlock psql -X -A -t -c 'SELECT ssn FROM customers WHERE id = 1' 2>&1 || true)
  refused=$(with_libpq airlock psql -X -A -t -c 'DROP TABLE customers' 2>&1 || true)
  record "$(jq -cn --arg masked "$masked" --arg refused "$refused" '{kind:"pg-checks", masked:$masked, refused:$refused}')"
  [[ $masked != *078-05-1120* ]] || die "Airlock returned the demo SSN unmasked: $masked"
  [[ $masked == *MASKED* ]] || log "Airlock's masking check did not answer as expected: $masked"
}

parse_pgbench() { # file -> tps latency_ms failed
  awk '/^tps = / && !tps { tps = $3 }
       /^latency average = / { lat = $4 }
       /^number of failed transactions: / { failed = $5 }
       END { printf "%s\t%s\t%s\n", (tps == "" ? -1 : tps), (lat == "" ? -1 : lat), (failed == "" ? 0 : failed) }' "$1"
}

pg_saturated() { # target mode clients
  local t=$1 mode=$2 c=$3 f="$OUT/pgbench-sat-$1-$2-$3.txt" tps lat failed code=0
  cpu_groups "pgbouncer=$(listener_pid "$PGB_PORT")"
  with_libpq "$t" pgbench -n -S -M "$mode" -c "$c" -j 1 -T "$DURATION" >"$f" 2>&1 &
  sample_cpu "$!" pgbench || code=$?
  local cpu
  cpu=$(cat "$OUT/cpu.json")
  IFS=$'\t' read -r tps lat failed < <(parse_pgbench "$f")
  record "$(jq -cn --arg t "$t" --arg mode "$mode" --argjson c "$c" --arg tps "$tps" --arg lat "$lat" \
    --arg failed "$failed" --argjson code "$code" --arg tail "$(tail -n3 "$f")" --argjson cpu "$cpu" \
    '{kind:"pg-saturated", target:$t, mode:$mode, clients:$c, tps:($tps|tonumber), latencyMs:($lat|tonumber),
      failed:($failed|tonumber), exitCode:$code, cpu:$cpu} + (if $code != 0 then {error:$tail} else {} end)')"
  log "pg $t $mode ${c}c saturated: $tps tps$([ "$code" -eq 0 ] || echo " (pgbench exited with $code)")"
}

pg_fixed() { # target mode clients
  local t=$1 mode=$2 c=$3 logs="$OUT/pglog-$1-$2-$3" f="$OUT/pgbench-fixed-$1-$2-$3.txt"
  rm -f "$logs".*
  [ "$t" != airlock ] || wait_recorder
  cpu_groups "pgbouncer=$(listener_pid "$PGB_PORT")"
  local total=$((WARMUP + DURATION + 2)) code=0 cpu lag=''
  with_libpq "$t" pgbench -n -S -M "$mode" -c "$c" -j 1 -R "$PG_RATE" -T "$total" -l --log-prefix="$logs" >"$f" 2>&1 &
  local pgb=$!
  sleep "$WARMUP"
  cpu=$("$LOADGEN" cpu -duration "${DURATION}s" "${CPU_ARGS[@]}" -cpu "pgbench=$pgb")
  wait "$pgb" || code=$?
  [ "$t" != airlock ] || lag=$(recorder_lag)
  local window='null'
  if compgen -G "$logs.*" >/dev/null; then
    window=$("$LOADGEN" pglog -from "$(jq .windowStartUs <<<"$cpu")" -to "$(jq .windowEndUs <<<"$cpu")" "$logs".*)
  fi
  record "$(jq -cn --arg t "$t" --arg mode "$mode" --argjson c "$c" --argjson cpu "$cpu" --argjson w "$window" \
    --argjson code "$code" --arg lag "$lag" --arg tail "$(tail -n3 "$f")" \
    '{kind:"pg-fixed", target:$t, mode:$mode, clients:$c, cpu:$cpu, window:$w, exitCode:$code,
      recorderLagAfter:($lag|tonumber? // null)} + (if $code != 0 then {error:$tail} else {} end)')"
  log "pg $t $mode ${c}c at $PG_RATE/s: $(jq -r 'if . == null then "no log" else "\(.perSecond|floor)/s, p99 \(.latencyMs.p99) ms" end' <<<"$window")"
}

run_pg() {
  DEMO_PW=$(cat "$ROOT/.local/demo-db/password")
  pg_tables
  start_pgbouncer 9>&-
  pg_checks
  local t mode c
  for t in "${PG_TARGETS[@]}"; do
    for mode in simple extended; do
      with_libpq "$t" pgbench -n -S -M "$mode" -c 8 -j 1 -T "$WARMUP" >"$OUT/pgbench-warmup.txt" 2>&1 ||
        log "warm-up $t $mode failed: $(tail -n1 "$OUT/pgbench-warmup.txt")"
    done
  done
  for mode in simple extended; do
    for c in 1 8; do
      for t in "${PG_TARGETS[@]}"; do pg_saturated "$t" "$mode" "$c"; done
      for t in "${PG_TARGETS[@]}"; do pg_fixed "$t" "$mode" "$c"; done
    done
  done
  stop_pgbouncer
}

# --- main -----------------------------------------------------------------------------------

# scripts/up.sh of this checkout. In a git worktree whose .local links to the checkout that runs
# the shared infrastructure, infra/local/start.sh of the worktree would not recognise that
# checkout's Kafka (it matches the path of its own .local) and would refuse the busy port: there
# the services start from this checkout and the infrastructure from the one that owns .local.
up_script() {
  local owner
  owner=$(dirname "$(readlink -f "$ROOT/.local")")
  if [ "$owner" = "$(cd "$ROOT" && pwd -P)" ]; then
    "$ROOT/scripts/up.sh"
    return
  fi
  local up=$OUT/up-worktree.sh
  sed -e "s|^\. \"\$(dirname \"\${BASH_SOURCE\[0\]}\")/common.sh\"$|. \"$ROOT/scripts/common.sh\"|" \
    -e "s#^\"\$ROOT/infra/local/\(install\|start\).sh\"\$#\"$owner/infra/local/\\1.sh\"#" \
    "$ROOT/scripts/up.sh" >"$up"
  if [ "$(grep -c -e "^\. \"$ROOT/scripts/common.sh\"$" -e "^\"$owner/infra/local/" "$up")" -ne 3 ]; then
    log "error: scripts/up.sh has changed shape; cannot start it against the infrastructure of $owner" 2>&3
    return 1
  fi
  log "worktree: services from $ROOT, infrastructure from $owner" 2>&3
  bash "$up"
}

cleanup() {
  [ -z "$NODE_PROXY_PID" ] || kill "$NODE_PROXY_PID" 2>/dev/null || true
  stop_nginx proxy || true
  stop_nginx upstream || true
  stop_pgbouncer || true
}

ensure_tools
NGINX=$(find_nginx)
build_loadgen
mkdir -p "$OUT" "$(dirname "$RESULTS")"

# fd 9 holds the lock; whatever outlives this script (the services, nginx, pgbouncer) is started
# with it closed, or it would keep the lock after the script ends.
exec 9>"$LOCK"
if ! flock -n 9; then
  log "waiting for $LOCK (held by another benchmark or test run)"
  flock 9
fi
trap cleanup EXIT
trap 'exit 130' INT TERM

cd "$ROOT"
# shellcheck source=infra/local/env.sh
. "$ROOT/infra/local/env.sh"
if [ "$SKIP_UP" = 1 ]; then
  [ -n "${TOKEN:-}" ] || die "SKIP_UP=1 needs TOKEN (an agent token, as scripts/up.sh prints)"
  # shellcheck source=scripts/common.sh
  . "$ROOT/scripts/common.sh"
  build >&2
else
  log "starting the whole system: INGRESS_WORKERS=$INGRESS_WORKERS scripts/up.sh (log: $OUT/up.log)"
  up_script 9>&- 3>&2 >"$OUT/up.log" 2>&1 || die "scripts/up.sh failed; see $OUT/up.log"
  TOKEN=$(sed -n 's/.*export TOKEN=//p' "$OUT/up.log" | head -n1)
  [ -n "$TOKEN" ] || die "no token in $OUT/up.log"
fi
curl -fsS -o /dev/null "$GATEWAY_HTTP/health" || die "the ingress does not answer on $GATEWAY_HTTP/health"
log "waiting for the recorder to catch up with the audit stream"
wait_recorder

PG_VERSION=$(psql -X -A -t "postgres://$AIRLOCK_PG_USER:$AIRLOCK_PG_PASSWORD@127.0.0.1:$AIRLOCK_PG_PORT/postgres" \
  -c 'SHOW server_version' 2>/dev/null || echo unknown)
RECORDS=$OUT/records.jsonl
: >"$RECORDS"
record "$(jq -cn --arg commit "$(git -C "$ROOT" rev-parse --short HEAD)" --arg dirty "$(git -C "$ROOT" status --porcelain -- services libs | head -c1)" \
  --arg cpus "$(nproc)" --arg model "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  --arg kernel "$(uname -r)" --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg date "$(date -u '+%Y-%m-%d %H:%M UTC')" \
  --arg nginx "$("$NGINX" -v 2>&1 | sed 's|^nginx version: ||')" --arg wrk "$(wrk --version 2>&1 | head -n1 | awk '{ print $1, $2 }')" \
  --arg pgbench "$(pgbench --version)" --arg postgres "$PG_VERSION" \
  --arg go "$(go version | awk '{ print $3 }')" --argjson settings "$(jq -cn --argjson d "$DURATION" --argjson w "$WARMUP" \
    --argjson hr "$HTTP_RATE" --argjson hc "$HTTP_FIXED_CONNECTIONS" --argjson c "$CONNECTIONS" --argjson th "$THREADS" \
    --argjson pw "$PROXY_WORKERS" --argjson pr "$PG_RATE" --argjson ps "$PG_SCALE" --arg iw "$INGRESS_WORKERS" \
    '{duration:$d, warmup:$w, httpRate:$hr, httpFixedConnections:$hc, connections:$c, threads:$th, proxyWorkers:$pw,
      pgRate:$pr, pgScale:$ps, ingressWorkers:$iw}')" \
  '{kind:"setup", commit:$commit, dirty:($dirty != ""), cpus:($cpus|tonumber), model:$model, kernel:$kernel,
    loadavg:$load, date:$date, nginx:$nginx, wrk:$wrk, pgbench:$pgbench, postgres:$postgres, go:$go, settings:$settings}')"

[[ ,$PARTS, != *,http,* ]] || run_http
if [[ ,$PARTS, == *,pg,* ]]; then
  run_pg
  record "$(jq -cn --arg v "${PGBOUNCER_VERSION:-}" '{kind:"pgbouncer", version:$v}')"
fi
record "$(jq -cn --arg load "$(cut -d' ' -f1-3 /proc/loadavg)" '{kind:"end", loadavg:$load}')"

node "$ROOT/dist/bench/stack-report.js" "$RECORDS" >"$RESULTS"
cat "$RESULTS"
log "written to ${RESULTS#"$ROOT"/}; raw records in ${RECORDS#"$ROOT"/}"
