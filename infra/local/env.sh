# shellcheck shell=sh
# Connection settings of the local Airlock infrastructure (infra/local/start.sh).
#
#   . infra/local/env.sh      # or: source infra/local/env.sh
#
# Safe to source from any POSIX shell; it only exports variables (no `set -e`, no output).
# Ports and credentials can be overridden by exporting the AIRLOCK_* variables before sourcing
# (and before running start.sh/check.sh/stop.sh, which source this file too). The password is
# put into DATABASE_URL as is, so keep it URL-safe.

export AIRLOCK_KAFKA_PORT="${AIRLOCK_KAFKA_PORT:-19092}"
export AIRLOCK_KAFKA_CONTROLLER_PORT="${AIRLOCK_KAFKA_CONTROLLER_PORT:-19093}"
export AIRLOCK_PG_PORT="${AIRLOCK_PG_PORT:-15432}"
export AIRLOCK_PG_USER="${AIRLOCK_PG_USER:-airlock}"
export AIRLOCK_PG_PASSWORD="${AIRLOCK_PG_PASSWORD:-airlock-local}"
export AIRLOCK_PG_DB="${AIRLOCK_PG_DB:-airlock}"
export AIRLOCK_PG_RECORDER_USER="${AIRLOCK_PG_RECORDER_USER:-airlock_recorder}"
export AIRLOCK_PG_RECORDER_PASSWORD="${AIRLOCK_PG_RECORDER_PASSWORD:-airlock-recorder-local}"
export AIRLOCK_REDIS_PORT="${AIRLOCK_REDIS_PORT:-16379}"

export KAFKA_BROKERS="127.0.0.1:${AIRLOCK_KAFKA_PORT}"
export DATABASE_URL="postgres://${AIRLOCK_PG_USER}:${AIRLOCK_PG_PASSWORD}@127.0.0.1:${AIRLOCK_PG_PORT}/${AIRLOCK_PG_DB}"
# The recorder's own role on the same database: INSERT and SELECT on the audit store only.
export RECORDER_DATABASE_URL="postgres://${AIRLOCK_PG_RECORDER_USER}:${AIRLOCK_PG_RECORDER_PASSWORD}@127.0.0.1:${AIRLOCK_PG_PORT}/${AIRLOCK_PG_DB}"
export REDIS_URL="redis://127.0.0.1:${AIRLOCK_REDIS_PORT}"
