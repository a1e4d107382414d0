#!/usr/bin/env bash
# Stops the local Airlock infrastructure started by infra/local/start.sh: Redis (SHUTDOWN, which
# flushes the append-only file), PostgreSQL (pg_ctl stop -m fast) and Kafka (SIGTERM for a
# controlled shutdown, SIGKILL after AIRLOCK_KAFKA_STOP_TIMEOUT seconds, default 30).
# Idempotent: whatever is not running is reported and skipped. Data is kept.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

KAFKA_STOP_TIMEOUT="${AIRLOCK_KAFKA_STOP_TIMEOUT:-30}"
started_ms=$(now_ms)

# wait_gone <pid> <seconds>: true once the process has exited.
wait_gone() {
  local pid="$1" deadline=$(($(now_ms) + $2 * 1000))
  while pid_alive "$pid"; do
    (($(now_ms) < deadline)) || return 1
    sleep 0.2
  done
}

# Kafka first: its controlled shutdown takes longest, so it runs while the others stop.
kafka_stopping=""
if kafka_stopping="$(kafka_pid)"; then
  log "stopping Kafka (pid $kafka_stopping, SIGTERM)"
  kill -TERM "$kafka_stopping" 2>/dev/null || true
else
  kafka_stopping=""
  log "Kafka not running"
  rm -f "$KAFKA_PID_FILE"
fi

# Redis
if redis_running_pid="$(redis_pid)"; then
  log "stopping Redis (pid $redis_running_pid)"
  timeout 10 redis-cli -h 127.0.0.1 -p "$AIRLOCK_REDIS_PORT" SHUTDOWN >/dev/null 2>&1 || true
  if ! wait_gone "$redis_running_pid" 15; then
    warn "Redis did not exit after SHUTDOWN; sending SIGTERM"
    kill -TERM "$redis_running_pid" 2>/dev/null || true
    wait_gone "$redis_running_pid" 10 || { warn "sending SIGKILL to Redis"; kill -KILL "$redis_running_pid" 2>/dev/null || true; }
  fi
  rm -f "$REDIS_PID_FILE"
  log "Redis stopped"
else
  log "Redis not running"
  rm -f "$REDIS_PID_FILE"
fi

# PostgreSQL
if [[ -f "$PG_DATA/PG_VERSION" ]] && pg_is_running; then
  PG_BIN="$(pg_bin_dir)"
  log "stopping PostgreSQL (pg_ctl stop -m fast)"
  if ! as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 >/dev/null; then
    warn "fast shutdown did not finish in 60s; using immediate mode"
    as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 >/dev/null || die "PostgreSQL did not stop"
  fi
  log "PostgreSQL stopped"
else
  log "PostgreSQL not running"
fi

# Kafka: wait for the controlled shutdown, then force it.
if [[ -n "$kafka_stopping" ]]; then
  if ! wait_gone "$kafka_stopping" "$KAFKA_STOP_TIMEOUT"; then
    warn "Kafka still running after ${KAFKA_STOP_TIMEOUT}s; sending SIGKILL"
    kill -KILL "$kafka_stopping" 2>/dev/null || true
    wait_gone "$kafka_stopping" 10 || die "Kafka (pid $kafka_stopping) did not exit"
  fi
  rm -f "$KAFKA_PID_FILE"
  log "Kafka stopped"
fi

log "stopped in $(elapsed_since "$started_ms")"
