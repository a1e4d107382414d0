#!/usr/bin/env bash
# Starts the whole system locally: Kafka, PostgreSQL and Redis (infra/local), a test identity
# provider and a demo upstream, and the five services. Installs whatever is missing first.
# Safe to run again: the services are restarted, the infrastructure is left running.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$ROOT"

"$ROOT/infra/local/install.sh"
ensure_node_modules
build
"$ROOT/infra/local/start.sh"
# shellcheck source=infra/local/env.sh
. "$ROOT/infra/local/env.sh"
stop_services

IDP_PORT=18900
IDP="http://127.0.0.1:$IDP_PORT"
mkdir -p "$ROOT/.local/idp"

node_flags() { # service: the Node.js flags it starts with (libs/runtime/src/node-flags.ts)
  node -p "require('$ROOT/dist/libs/runtime/src/node-flags.js').serviceNodeFlags('$1').join(' ')"
}

start() { # name, then the command; environment comes from the caller
  local name=$1; shift
  nohup setsid "$@" >"$LOG_DIR/$name.log" 2>&1 &
  echo $! >"$RUN_DIR/$name.pid"
}

wait_healthy() { # name url [seconds]
  local name=$1 url=$2 limit=${3:-90}
  local deadline=$((SECONDS + limit))
  until curl -fsS -o /dev/null "$url"; do
    if ! kill -0 "$(cat "$RUN_DIR/$name.pid")" 2>/dev/null; then
      tail -n 30 "$LOG_DIR/$name.log" >&2
      fail "$name exited; its log is $LOG_DIR/$name.log"
    fi
    ((SECONDS < deadline)) || { tail -n 30 "$LOG_DIR/$name.log" >&2; fail "$name not healthy at $url within $limit s"; }
    sleep 0.3
  done
  say "$name is up ($url)"
}

# The console signs people in here (authorization code with PKCE); its page offers these users.
start idp node dist/libs/testing/src/idp/idp-main.js serve --port "$IDP_PORT" --key-file "$ROOT/.local/idp/key.json" \
  --user admin-demo=airlock-admins,airlock-auditors,approvers --user approver-demo=approvers \
  --user auditor-demo=airlock-auditors
start demo-upstream node dist/libs/testing/src/upstream/echo-upstream.js 18080
wait_healthy idp "$IDP/jwks.json"
wait_healthy demo-upstream "http://127.0.0.1:18080/"

export LOG_LEVEL=${LOG_LEVEL:-info}
# The web console's origin: browsers there may call the services' admin APIs.
CONSOLE_PORT=8090
export CONSOLE_ORIGINS="http://127.0.0.1:$CONSOLE_PORT"
# Kafka: every service logs in as its own principal with the password infra/local/start.sh made.
KAFKA_CREDENTIALS_DIR="${AIRLOCK_KAFKA_CREDENTIALS_DIR:-$ROOT/.local/kafka/credentials}"
# Message signatures: one Ed25519 key per signing service (kept outside the database, made once)
# and one file of the public keys the services trust (docs/security.md).
KEYS_DIR="$ROOT/.local/keys"
mkdir -p "$KEYS_DIR" && chmod 700 "$KEYS_DIR"
for svc in ingress-proxy policy approval credential-vault; do
  if [ ! -f "$KEYS_DIR/$svc.pem" ]; then
    (umask 077 && openssl genpkey -algorithm ed25519 -out "$KEYS_DIR/$svc.pem" 2>/dev/null)
  fi
done
TRUSTED_KEYS="$KEYS_DIR/trusted-keys.json"
node -e '
  const { createPublicKey } = require("crypto");
  const fs = require("fs");
  const dir = process.argv[1];
  const keys = ["ingress-proxy", "policy", "approval", "credential-vault"].map((signer) => ({
    signer,
    publicKey: createPublicKey(fs.readFileSync(`${dir}/${signer}.pem`)).export({ type: "spki", format: "pem" }),
  }));
  fs.writeFileSync(`${dir}/trusted-keys.json`, JSON.stringify({ keys }, null, 2));
' "$KEYS_DIR"
as_service() { # name: the Kafka credential and signing settings of one service, for env(1)
  printf '%s\n' "KAFKA_SASL_USERNAME=$1" "KAFKA_SASL_PASSWORD_FILE=$KAFKA_CREDENTIALS_DIR/$1.password"
  [ -f "$KEYS_DIR/$1.pem" ] && printf '%s\n' "SIGNING_KEY_FILE=$KEYS_DIR/$1.pem" "TRUSTED_KEYS_FILE=$TRUSTED_KEYS"
  return 0
}
OIDC_ISSUERS="[{\"issuer\":\"$IDP\",\"jwksUri\":\"$IDP/jwks.json\"}]"
export OIDC_ISSUERS OIDC_AUDIENCE=airlock
# Roles are per issuer: a group name counts only in a token of the issuer it is listed under.
export POLICY_ADMIN_GROUPS="{\"$IDP\":[\"airlock-admins\"]}"
HTTP_PORT=8081 POLICY_FILE="$ROOT/config/policy.yaml" \
  start policy env $(as_service policy) node $(node_flags policy) dist/services/policy/src/main.js
export VAULT_ADMIN_GROUPS="{\"$IDP\":[\"airlock-admins\"]}"
export APPROVAL_ADMIN_GROUPS="{\"$IDP\":[\"airlock-admins\"]}"
export APPROVAL_APPROVER_GROUPS="{\"$IDP\":[\"*\"]}"
export AUDITOR_GROUPS="{\"$IDP\":[\"airlock-auditors\"]}"
# The recorder writes as its INSERT-and-SELECT role; the owner migrates and grants. Its
# checkpoint signing key lives outside the database: a local key file made once.
CHECKPOINT_KEY_FILE="$ROOT/.local/recorder/audit-signing-key.pem"
if [ ! -f "$CHECKPOINT_KEY_FILE" ]; then
  mkdir -p "$(dirname "$CHECKPOINT_KEY_FILE")"
  node dist/services/recorder/src/cli.js keygen "$CHECKPOINT_KEY_FILE" >/dev/null
fi
export AUDIT_SIGNING_KEY_FILE="$CHECKPOINT_KEY_FILE"
OWNER_URL=$DATABASE_URL
HTTP_PORT=8083 DATABASE_OWNER_URL="$OWNER_URL" DATABASE_URL="$RECORDER_DATABASE_URL" \
  start recorder env $(as_service recorder) node $(node_flags recorder) dist/services/recorder/src/main.js
# The first start after an upgrade may migrate (and chain) a large audit store: allow for it.
say "starting the recorder (its first start after an upgrade migrates the audit store, which can take minutes)"
wait_healthy recorder http://127.0.0.1:8083/health 1800
# The vault's key-encryption key lives outside the database: a local key file made once.
KEK_FILE="$ROOT/.local/vault/kek.json"
if [ ! -f "$KEK_FILE" ]; then
  mkdir -p "$(dirname "$KEK_FILE")"
  (umask 077 && node -e 'process.stdout.write(JSON.stringify({ current: "local-1", keys: { "local-1": require("crypto").randomBytes(32).toString("base64") } }))' >"$KEK_FILE")
fi
HTTP_PORT=8084 VAULT_KEK_FILE="$KEK_FILE" \
  start credential-vault env $(as_service credential-vault) node $(node_flags credential-vault) dist/services/credential-vault/src/main.js
# The approval service signs the links in its notifications with a local key, made once.
LINK_KEY_FILE="$ROOT/.local/approval/link-key"
if [ ! -f "$LINK_KEY_FILE" ]; then
  mkdir -p "$(dirname "$LINK_KEY_FILE")"
  (umask 077 && openssl rand -base64 32 >"$LINK_KEY_FILE")
fi
HTTP_PORT=8082 APPROVAL_LINK_KEY=$(cat "$LINK_KEY_FILE") \
  start approval env $(as_service approval) node $(node_flags approval) dist/services/approval/src/main.js
# The PostgreSQL listener needs TLS (agents send their token as the password): a local
# self-signed certificate, made once.
PG_TLS_DIR="$ROOT/.local/ingress"
if [ ! -f "$PG_TLS_DIR/pg-tls.key" ]; then
  mkdir -p "$PG_TLS_DIR"
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 825 \
    -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -keyout "$PG_TLS_DIR/pg-tls.key" -out "$PG_TLS_DIR/pg-tls.crt" 2>/dev/null)
fi
GATEWAY_PG_PORT=6543
HTTP_PORT=8080 CONNECTIONS_FILE="$ROOT/config/connections.yaml" PG_PORT=$GATEWAY_PG_PORT \
  PG_TLS_CERT_FILE="$PG_TLS_DIR/pg-tls.crt" PG_TLS_KEY_FILE="$PG_TLS_DIR/pg-tls.key" \
  start ingress-proxy env $(as_service ingress-proxy) node $(node_flags ingress-proxy) dist/services/ingress-proxy/src/main.js
wait_healthy policy http://127.0.0.1:8081/health
wait_healthy credential-vault http://127.0.0.1:8084/health
wait_healthy approval http://127.0.0.1:8082/health
wait_healthy ingress-proxy http://127.0.0.1:8080/health
# The web console (docs/console.md): the vite build and its settings; role settings come from above.
CONSOLE_OIDC_ISSUER="$IDP" start console node dist/apps/console/server/serve.js
wait_healthy console "http://127.0.0.1:$CONSOLE_PORT/health"

TOKEN=$(node dist/libs/testing/src/idp/idp-main.js token --key-file "$ROOT/.local/idp/key.json" --issuer "$IDP" \
  --sub agent-demo --groups agents --aud airlock --ttl 43200)
ADMIN_TOKEN=$(node dist/libs/testing/src/idp/idp-main.js token --key-file "$ROOT/.local/idp/key.json" --issuer "$IDP" \
  --sub admin-demo --groups airlock-admins --aud airlock --ttl 43200)

# A demo database behind the gateway: its own role, whose password only the vault holds.
DEMO_PW_FILE="$ROOT/.local/demo-db/password"
if [ ! -f "$DEMO_PW_FILE" ]; then
  mkdir -p "$(dirname "$DEMO_PW_FILE")"
  (umask 077 && openssl rand -hex 16 >"$DEMO_PW_FILE")
fi
DEMO_PW=$(cat "$DEMO_PW_FILE")
ADMIN_PG="postgres://${AIRLOCK_PG_USER}:${AIRLOCK_PG_PASSWORD}@127.0.0.1:${AIRLOCK_PG_PORT}/postgres"
psql -X -q "$ADMIN_PG" -v ON_ERROR_STOP=1 >/dev/null <<SQL
SELECT 'CREATE ROLE airlock_demo LOGIN' WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'airlock_demo')\\gexec
ALTER ROLE airlock_demo PASSWORD '$DEMO_PW';
SELECT 'CREATE DATABASE airlock_demo OWNER airlock_demo' WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'airlock_demo')\\gexec
SQL
PGPASSWORD=$DEMO_PW psql -X -q "host=127.0.0.1 port=$AIRLOCK_PG_PORT dbname=airlock_demo user=airlock_demo" >/dev/null <<'SQL'
CREATE TABLE IF NOT EXISTS customers (id int PRIMARY KEY, name text, email text, ssn text, api_key text);
INSERT INTO customers VALUES (1, 'Ada', 'ada@example.com', '078-05-1120', 'sk_live_demo_not_a_real_key_00000000')
  ON CONFLICT DO NOTHING;
SQL
curl -fsS -o /dev/null -X POST http://127.0.0.1:8084/connections -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'content-type: application/json' \
  -d "{\"name\":\"demo-db\",\"protocol\":\"postgres\",\"upstream\":\"postgres://127.0.0.1:$AIRLOCK_PG_PORT/airlock_demo?sslmode=disable\",\"credentialKind\":\"postgres-password\"}" \
  2>/dev/null || true
curl -fsS -o /dev/null -X PUT http://127.0.0.1:8084/connections/demo-db/secret -H "Authorization: Bearer $ADMIN_TOKEN" \
  -H 'content-type: application/json' -d "{\"username\":\"airlock_demo\",\"password\":\"$DEMO_PW\"}"

APPROVER_TOKEN=$(node dist/libs/testing/src/idp/idp-main.js token --key-file "$ROOT/.local/idp/key.json" --issuer "$IDP" \
  --sub approver-demo --groups approvers --aud airlock --ttl 43200)
AUDITOR_TOKEN=$(node dist/libs/testing/src/idp/idp-main.js token --key-file "$ROOT/.local/idp/key.json" --issuer "$IDP" \
  --sub auditor-demo --groups airlock-auditors --aud airlock --ttl 43200)

cat <<INFO

Airlock is running.
  ingress-proxy     http://127.0.0.1:8080   (agents call /c/<connection>/<path>)
                    postgres://127.0.0.1:$GATEWAY_PG_PORT (TLS; dbname=<connection>, password=<token>)
  policy admin      http://127.0.0.1:8081   (GET /policy, POST /policy/reload)
  approval          http://127.0.0.1:8082
  recorder          http://127.0.0.1:8083
  credential-vault  http://127.0.0.1:8084
  web console       http://127.0.0.1:$CONSOLE_PORT   (sign in as admin-demo, approver-demo or auditor-demo)
  identity provider $IDP      (test issuer; audience "airlock")
  demo upstream     http://127.0.0.1:18080  (connection "demo")
  Kafka $KAFKA_BROKERS · PostgreSQL 127.0.0.1:$AIRLOCK_PG_PORT · Redis 127.0.0.1:$AIRLOCK_REDIS_PORT
  logs in .local/logs/ · stop everything with scripts/down.sh

A token for agent "agent-demo" (group "agents", valid 12 hours):
  export TOKEN=$TOKEN

An administrator token (group "airlock-admins") for the vault's admin API:
  export ADMIN_TOKEN=$ADMIN_TOKEN

An approver token (group "approvers") for the approval API:
  export APPROVER_TOKEN=$APPROVER_TOKEN

An auditor token (group "airlock-auditors") for the recorder's replay, search and verify API:
  export AUDITOR_TOKEN=$AUDITOR_TOKEN

Try it:
  curl -s http://127.0.0.1:8080/c/demo/items -H "Authorization: Bearer \$TOKEN"          # allowed
  curl -s -X DELETE http://127.0.0.1:8080/c/demo/items -H "Authorization: Bearer \$TOKEN"    # denied by policy
  curl -s http://127.0.0.1:8080/c/demo/items                                              # no token: 401
  # held for a person: waits up to 30 s for a decision, then answers 202 with the approval's id
  curl -s -X DELETE http://127.0.0.1:8080/c/demo/items/1 -H "Authorization: Bearer \$TOKEN" &
  curl -s http://127.0.0.1:8082/approvals -H "Authorization: Bearer \$APPROVER_TOKEN"        # pending approvals
  curl -s -X POST http://127.0.0.1:8082/approvals/<id>/approve -H "Authorization: Bearer \$APPROVER_TOKEN" \
    -H 'content-type: application/json' -d '{"comment":"fine"}'
  # a connection whose credential the agent never holds (the vault injects it on the way upstream):
  curl -s -X POST http://127.0.0.1:8084/connections -H "Authorization: Bearer \$ADMIN_TOKEN" -H 'content-type: application/json' \\
    -d '{"name":"vaulted","protocol":"http","upstream":"http://127.0.0.1:18080","credentialKind":"bearer"}'
  curl -s -X PUT http://127.0.0.1:8084/connections/vaulted/secret -H "Authorization: Bearer \$ADMIN_TOKEN" \\
    -H 'content-type: application/json' -d '{"token":"s3cr3t-held-by-airlock"}'
  curl -s http://127.0.0.1:8080/c/vaulted/items -H "Authorization: Bearer \$TOKEN"
  # PostgreSQL through the gateway: the token is the password, the database is the connection name
  PGPASSWORD=\$TOKEN psql "host=127.0.0.1 port=$GATEWAY_PG_PORT dbname=demo-db user=agent sslmode=require" -c 'SELECT * FROM customers'
  PGPASSWORD=\$TOKEN psql "host=127.0.0.1 port=$GATEWAY_PG_PORT dbname=demo-db user=agent sslmode=require" -c 'DROP TABLE customers'  # denied
  psql "$DATABASE_URL" -c 'SELECT time, type, actor_subject, connection FROM audit_event ORDER BY time DESC LIMIT 10'
  curl -s http://127.0.0.1:8083/audit/sessions -H "Authorization: Bearer \$AUDITOR_TOKEN"   # replay and search
  curl -s http://127.0.0.1:8083/audit/verify -H "Authorization: Bearer \$AUDITOR_TOKEN"     # check the hash chains
INFO
