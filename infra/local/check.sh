#!/usr/bin/env bash
# Readiness of the local Airlock infrastructure, proven by real round trips (never a sleep):
#   postgres  psql `SELECT 1` over TCP with the airlock password
#   redis     redis-cli PING answers PONG
#   kafka     kafkajs: cluster metadata + produce/consume round trip on airlock.healthcheck
#             (infra/local/kafka-ready.ts)
# Each is polled until its deadline; on failure the end of its log is printed and the exit code
# is non-zero.
#
# Usage: infra/local/check.sh [postgres] [redis] [kafka]     (default: all three)
# Deadlines (seconds): AIRLOCK_PG_READY_TIMEOUT=30, AIRLOCK_REDIS_READY_TIMEOUT=15,
#                      AIRLOCK_KAFKA_READY_TIMEOUT=60
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PG_TIMEOUT="${AIRLOCK_PG_READY_TIMEOUT:-30}"
REDIS_TIMEOUT="${AIRLOCK_REDIS_READY_TIMEOUT:-15}"
KAFKA_TIMEOUT="${AIRLOCK_KAFKA_READY_TIMEOUT:-60}"

check_postgres() {
  local t0 deadline out=""
  t0=$(now_ms)
  deadline=$((t0 + PG_TIMEOUT * 1000))
  while :; do
    if out="$(pg_query "$AIRLOCK_PG_DB" 'SELECT 1' 2>&1)" && [[ "$out" == "1" ]]; then
      log "PostgreSQL ready: SELECT 1 on $AIRLOCK_PG_DB@127.0.0.1:$AIRLOCK_PG_PORT ($(elapsed_since "$t0"))"
      return 0
    fi
    if ! pg_is_running && ! port_open "$AIRLOCK_PG_PORT"; then
      printf '%s\n' "$out" >&2
      tail_log "$PG_LOG"
      die "PostgreSQL is not running (start it with infra/local/start.sh)"
    fi
    if (($(now_ms) >= deadline)); then
      printf '%s\n' "$out" >&2
      tail_log "$PG_LOG"
      die "PostgreSQL not ready after ${PG_TIMEOUT}s"
    fi
    sleep 0.25
  done
}

check_redis() {
  local t0 deadline
  t0=$(now_ms)
  deadline=$((t0 + REDIS_TIMEOUT * 1000))
  while :; do
    if redis_ping; then
      log "Redis ready: PING -> PONG on 127.0.0.1:$AIRLOCK_REDIS_PORT ($(elapsed_since "$t0"))"
      return 0
    fi
    if ! redis_pid >/dev/null && ! port_open "$AIRLOCK_REDIS_PORT"; then
      tail_log "$REDIS_LOG"
      die "Redis is not running (start it with infra/local/start.sh)"
    fi
    if (($(now_ms) >= deadline)); then
      tail_log "$REDIS_LOG"
      die "Redis not ready after ${REDIS_TIMEOUT}s"
    fi
    sleep 0.2
  done
}

kafka_failed() {
  tail_log "$KAFKA_LOG"
  tail_log "$KAFKA_OUT" 15
  die "$1"
}

check_kafka() {
  local t0 deadline remaining_ms
  t0=$(now_ms)
  deadline=$((t0 + KAFKA_TIMEOUT * 1000))
  # Cheap wait for the listener first; give up at once if the broker process is gone.
  while ! port_open "$AIRLOCK_KAFKA_PORT"; do
    kafka_pid >/dev/null || kafka_failed "Kafka is not running (start it with infra/local/start.sh)"
    (($(now_ms) < deadline)) || kafka_failed "Kafka not listening on 127.0.0.1:$AIRLOCK_KAFKA_PORT after ${KAFKA_TIMEOUT}s"
    sleep 0.25
  done
  remaining_ms=$((deadline - $(now_ms)))
  ((remaining_ms > 5000)) || remaining_ms=5000
  if ! (cd "$AIRLOCK_REPO_ROOT" && AIRLOCK_KAFKA_READY_TIMEOUT_MS="$remaining_ms" "$(tsx_bin)" "$AIRLOCK_INFRA_DIR/kafka-ready.ts"); then
    kafka_failed "Kafka not ready (metadata + produce/consume round trip) within ${KAFKA_TIMEOUT}s"
  fi
  log "Kafka ready in $(elapsed_since "$t0")"
}

components=("$@")
((${#components[@]} > 0)) || components=(postgres redis kafka)
for component in "${components[@]}"; do
  case "$component" in
    postgres | pg | postgresql) check_postgres ;;
    redis) check_redis ;;
    kafka) check_kafka ;;
    *) die "unknown component '$component' (expected postgres, redis or kafka)" ;;
  esac
done
