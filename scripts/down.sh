#!/usr/bin/env bash
# Stops what scripts/up.sh started: the services, then Kafka, PostgreSQL and Redis. Data stays in .local/.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
stop_services
"$ROOT/infra/local/stop.sh"
