#!/usr/bin/env bash
# What Kafka authentication (SASL/SCRAM-SHA-512 + ACLs) and Ed25519 message signatures cost:
# the Kafka request/reply benchmark and the recorder ingest benchmark of the code before that work
# (the baseline, on a broker without authentication) and of this checkout (on the authenticated
# broker), alternated in one run: baseline, current, baseline, current, ...
#
#   BASE_ROOT=/path/to/baseline-checkout [CUR_ROOT=/path/to/current-checkout] bench/kafka-auth-cost.sh
#
# CUR_ROOT defaults to this checkout. Point it at a checkout of its own (same commit, its own
# .local and ports) when the shared broker is in use: a policy service or recorder that others
# run on it answers the benchmark's requests too (with a key the benchmark does not trust, which
# fails the call) and stores the benchmark's audit backlog in their database.
#
# The baseline checkout must be built (npm run build there) and have its own infrastructure
# running on other ports, started from that checkout with its own infra/local/start.sh, e.g.
#   AIRLOCK_KAFKA_PORT=29092 AIRLOCK_KAFKA_CONTROLLER_PORT=29093 AIRLOCK_PG_PORT=25432 \
#     AIRLOCK_REDIS_PORT=26379 infra/local/start.sh
# and this checkout's infrastructure (infra/local/start.sh) must be running and built too.
#
# Settings: ROUNDS=2 CALLS=10000 CONCURRENCY=16 EVENTS=200000; BASE_KAFKA_PORT=29092
# BASE_PG_PORT=25432 BASE_REDIS_PORT=26379; CUR_KAFKA_PORT, CUR_PG_PORT, CUR_REDIS_PORT default to
# infra/local/env.sh's; BENCH_LOCK=/tmp/airlock-bench.lock (every timed run holds it, so
# measurements of other people on this machine never overlap with ours).
#
# Only one load runs at a time; the other broker and database stay up and idle (their CPU during
# the run is recorded too). CPU per process comes from /proc (bench/proc-cpu.ts), charged to the
# phase it was used in. Raw output per run: .local/bench/kafka-auth-cost/<time>/; the summary is
# written to bench/results/kafka-auth-cost.md.
set -euo pipefail
# shellcheck source=scripts/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"

: "${BASE_ROOT:?BASE_ROOT must name the baseline checkout}"
BASE_ROOT="$(cd "$BASE_ROOT" && pwd -P)"
CUR_ROOT="$(cd "${CUR_ROOT:-$ROOT}" && pwd -P)"
export BASE_ROOT CUR_ROOT ROOT
export ROUNDS="${ROUNDS:-2}" CALLS="${CALLS:-10000}" CONCURRENCY="${CONCURRENCY:-16}" EVENTS="${EVENTS:-200000}"
export BASE_KAFKA_PORT="${BASE_KAFKA_PORT:-29092}" BASE_PG_PORT="${BASE_PG_PORT:-25432}" BASE_REDIS_PORT="${BASE_REDIS_PORT:-26379}"
export CUR_KAFKA_PORT="${CUR_KAFKA_PORT:-19092}" CUR_PG_PORT="${CUR_PG_PORT:-15432}" CUR_REDIS_PORT="${CUR_REDIS_PORT:-16379}"
export BENCH_LOCK="${BENCH_LOCK:-/tmp/airlock-bench.lock}"

port_open() { timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# side_root, side ports, and the pids of a side's broker and PostgreSQL postmaster.
side_root() { if [ "$1" = base ]; then echo "$BASE_ROOT"; else echo "$CUR_ROOT"; fi; }
side_port() { local v; v="$(echo "$1" | tr '[:lower:]' '[:upper:]')_$2_PORT"; echo "${!v}"; }
kafka_pid_of() {
  local pid
  pid="$(cat "$(side_root "$1")/.local/kafka/kafka.pid" 2>/dev/null)" || fail "$1: no Kafka pid file"
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'kafka\.Kafka' || fail "$1: Kafka (pid $pid) is not running"
  echo "$pid"
}
pg_pid_of() {
  local pid
  pid="$(head -n 1 "$(side_root "$1")/.local/pg/data/postmaster.pid" 2>/dev/null)" || fail "$1: PostgreSQL is not running"
  kill -0 "$pid" 2>/dev/null || fail "$1: PostgreSQL (pid $pid) is not running"
  echo "$pid"
}

# Each line of stdin with the time it was read (ms since the epoch) in front; a copy goes to stderr.
stamp() {
  local line
  while IFS= read -r line; do
    printf '%s\t%s\n' "$(date +%s%3N)" "$line"
    printf '  %s\n' "$line" >&2
  done
}

# measure <dir> <side> <bench> <args...>: one timed run (called with the lock held).
measure() {
  local dir="$1" side="$2" bench="$3"
  shift 3
  local other=base root results rc=0
  [ "$side" = base ] && other=cur
  root="$(side_root "$side")"
  mkdir -p "$dir"
  # The benches write their own report into their checkout; keep the committed one as it was.
  results="$root/bench/results/$bench.md"
  [ -f "$results" ] && cp "$results" "$dir/committed-report.md"
  rm -f "$dir/fifo" && mkfifo "$dir/fifo"
  stamp <"$dir/fifo" >"$dir/stdout.tsv" &
  local stamp_pid=$!
  (
    cd "$root"
    exec env -u KAFKA_BROKERS -u DATABASE_URL -u RECORDER_DATABASE_URL -u REDIS_URL \
      -u AIRLOCK_KAFKA_CREDENTIALS_DIR \
      AIRLOCK_KAFKA_PORT="$(side_port "$side" KAFKA)" AIRLOCK_PG_PORT="$(side_port "$side" PG)" \
      AIRLOCK_REDIS_PORT="$(side_port "$side" REDIS)" \
      node "dist/bench/$bench.js" "$@"
  ) >"$dir/fifo" 2>"$dir/stderr.txt" &
  local node_pid=$!
  node "$ROOT/dist/bench/proc-cpu.js" record "$dir/cpu.jsonl" 200 \
    "client=pid:$node_pid" "services=children:$node_pid" \
    "kafka=pid:$(kafka_pid_of "$side")" "postgres=tree:$(pg_pid_of "$side")" \
    "kafka-idle=pid:$(kafka_pid_of "$other")" "postgres-idle=tree:$(pg_pid_of "$other")" &
  local sampler_pid=$!
  wait "$node_pid" || rc=$?
  kill -TERM "$sampler_pid" 2>/dev/null || true
  wait "$sampler_pid" || true
  wait "$stamp_pid" || true
  rm -f "$dir/fifo"
  [ -f "$dir/committed-report.md" ] && cp "$dir/committed-report.md" "$results"
  printf '{"side":"%s","bench":"%s","rc":%d,"root":"%s","commit":"%s","args":"%s"}\n' "$side" "$bench" "$rc" "$root" \
    "$(git -C "$root" rev-parse --short HEAD)" "$*" >"$dir/run.json"
  [ "$rc" -eq 0 ] || { tail -n 20 "$dir/stderr.txt" >&2; return "$rc"; }
}

if [ "${1:-}" = --measure ]; then
  shift
  measure "$@"
  exit
fi

# --- checks -----------------------------------------------------------------------------------
for side in base cur; do
  r="$(side_root "$side")"
  [ -f "$r/dist/bench/kafka-request-reply.js" ] || fail "$side: $r is not built (npm run build there)"
  port_open "$(side_port "$side" KAFKA)" || fail "$side: no Kafka on port $(side_port "$side" KAFKA)"
  port_open "$(side_port "$side" PG)" || fail "$side: no PostgreSQL on port $(side_port "$side" PG)"
  kafka_pid_of "$side" >/dev/null
  pg_pid_of "$side" >/dev/null
done
[ "$(kafka_pid_of base)" != "$(kafka_pid_of cur)" ] || fail "the baseline and the current side use the same broker"
grep -q '^listeners=PLAINTEXT://' "$BASE_ROOT/.local/kafka/server.properties" ||
  fail "the baseline broker is expected to run without authentication"
grep -q '^listeners=SASL_PLAINTEXT://' "$CUR_ROOT/.local/kafka/server.properties" ||
  fail "the current broker is expected to authenticate clients"
[ -f "$ROOT/dist/bench/proc-cpu.js" ] || fail "build this checkout first (npm run build)"

OUT="$ROOT/.local/bench/kafka-auth-cost/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$OUT"
say "raw output in $OUT"
{
  echo "date=$(date -Is)"
  echo "base=$BASE_ROOT $(git -C "$BASE_ROOT" rev-parse --short HEAD)"
  echo "cur=$CUR_ROOT $(git -C "$CUR_ROOT" rev-parse --short HEAD) $(git -C "$CUR_ROOT" status --porcelain | wc -l) changed files"
  echo "rounds=$ROUNDS calls=$CALLS concurrency=$CONCURRENCY events=$EVENTS"
  echo "cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) x $(nproc)"
  echo "node=$(node --version)"
} >"$OUT/run-info.txt"

timed() { # timed <label> <side> <bench> <args...>
  say "$1: waiting for $BENCH_LOCK"
  flock "$BENCH_LOCK" "$ROOT/bench/kafka-auth-cost.sh" --measure "$OUT/$1" "${@:2}"
}

for round in $(seq 1 "$ROUNDS"); do
  for side in base cur; do
    timed "rr-$side-$round" "$side" kafka-request-reply "$CALLS" "$CONCURRENCY"
  done
  for side in base cur; do
    timed "ingest-$side-$round" "$side" recorder-ingest "$EVENTS"
  done
done

say "Ed25519 sign/verify per message"
flock "$BENCH_LOCK" node "$ROOT/dist/bench/signing-cost.js" 20000 | tee "$OUT/signing-cost.md"

node "$ROOT/dist/bench/kafka-auth-cost-report.js" "$OUT" "$ROOT/bench/results/kafka-auth-cost.md"
