#!/usr/bin/env bash
# Runs the foundation benchmarks and writes their figures to bench/results/:
#   1. Kafka request/reply round trip (10,000 calls), with no other service running;
#   1b. recorder ingest: 500,000 audit events from Kafka into the chained PostgreSQL store;
#   1c. PostgreSQL: pgbench -S direct, through pgbouncer (installed if missing) and through
#       Airlock's PostgreSQL listener, and a 10-million-row SELECT (starts its own processes);
#   1d. human approval: review decision to the Slack sink, approval to the held answer (starts its
#       own processes), one at a time and 8 at a time;
#   2. HTTP: direct to nginx, through an nginx reverse proxy, and through Airlock (whole system
#      up, audit recorded), with one ingress worker and with INGRESS_WORKERS=2.
# Usage: bench/run.sh   (DURATION, CONNECTIONS... as in bench/http.sh)
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/common.sh"
cd "$ROOT"

"$ROOT/infra/local/install.sh" >/dev/null
ensure_node_modules
build
"$ROOT/infra/local/start.sh" >/dev/null
stop_services

say "Kafka request/reply benchmark"
node dist/bench/kafka-request-reply.js 10000 16

say "Recorder ingest benchmark (500,000 audit events into the chained store)"
node dist/bench/recorder-ingest.js 500000
RECORDERS=2 node dist/bench/recorder-ingest.js 500000

say "PostgreSQL proxy benchmark (pgbench -S: direct, pgbouncer, Airlock; a 10-million-row SELECT)"
node dist/bench/pg-proxy.js

say "Approval latency benchmark (500 approvals: review decision to Slack, approval to the held answer)"
node dist/bench/approval.js 500 1
node dist/bench/approval.js 500 8
node dist/bench/approval.js 500 8 1000

wait_recorder() {
  say "waiting for the recorder to catch up with the audit stream"
  node -e '
    const { consumerLag } = require("./dist/node_modules/@airlock/testing");
    (async () => {
      for (let i = 0; i < 600; i++) {
        const lag = await consumerLag("airlock-recorder", "airlock.audit");
        if (lag === 0) return;
        await new Promise((r) => setTimeout(r, 1000));
      }
      throw new Error("recorder lag did not reach 0");
    })().catch((e) => { console.error(e.message); process.exit(1); });'
}

for workers in 1 2; do
  INGRESS_WORKERS=$workers scripts/up.sh > "$LOG_DIR/bench-up.log"
  token=$(sed -n 's/.*export TOKEN=//p' "$LOG_DIR/bench-up.log")
  wait_recorder
  say "HTTP benchmark, INGRESS_WORKERS=$workers"
  AIRLOCK_URL=http://127.0.0.1:8080/c/bench/item.json AIRLOCK_MASKED_URL=http://127.0.0.1:8080/c/bench-masked/item.json \
    AIRLOCK_TOKEN=$token \
    RESULTS="$ROOT/bench/results/http-ingress-workers-$workers.md" bench/http.sh
done
