#!/usr/bin/env bash
# Installs what the local Airlock infrastructure needs and is missing:
#   - Debian packages: PostgreSQL server + client, redis-server, nginx-light, wrk
#     (and Java 17 / Maven if absent); `apt-get update` runs once, only when something is missing.
#   - the Apache Kafka broker jars from Maven Central into <repo>/.local/kafka/libs
#     (skipped when the marker file there names the same Kafka version and pom).
#   - the Python PostgreSQL drivers of infra/local/python-requirements.txt (asyncpg, psycopg 3)
#     from PyPI into a venv, <repo>/.local/pyenv (skipped when its marker names the same file).
# Idempotent: a second run only checks and prints what is already there.
set -euo pipefail
# shellcheck source=infra/local/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

started_ms=$(now_ms)

# ---------------------------------------------------------------------------------------------
# 1. Debian packages
# ---------------------------------------------------------------------------------------------
missing=()

if compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; then
  log "PostgreSQL server present: $(ls -d /usr/lib/postgresql/*/bin/postgres | tr '\n' ' ')"
else
  missing+=(postgresql)
fi
command -v psql >/dev/null 2>&1 || missing+=(postgresql-client)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
{ command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]]; } || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
# Debian's own Python, with venv and ensurepip, for the Python drivers of the end-to-end suite.
[[ -x "$PY_SYSTEM" ]] || missing+=(python3)
{ [[ -x "$PY_SYSTEM" ]] && "$PY_SYSTEM" -c 'import venv, ensurepip' >/dev/null 2>&1; } || missing+=(python3-venv)

java_major() {
  # "openjdk version "17.0.15" 2025-04-15" -> 17 ; "1.8.0_382" -> 1
  java -version 2>&1 | awk -F'"' '/version/ {split($2, v, "."); print v[1]; exit}'
}
if ! command -v java >/dev/null 2>&1 || (($(java_major || echo 0) < 17)); then
  missing+=(openjdk-17-jre-headless)
fi
command -v mvn >/dev/null 2>&1 || missing+=(maven)

if ((${#missing[@]} > 0)); then
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get to install them"
  log "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -q
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Debian packages present (postgresql, postgresql-client, redis-server, nginx-light, wrk, java, maven)"
fi

# Post-conditions, so a broken package install fails here rather than in start.sh.
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || die "PostgreSQL server still missing after install"
for tool in psql redis-server redis-cli wrk java mvn runuser "$PY_SYSTEM"; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool still missing after install"
done
id -u "$PG_OS_USER" >/dev/null 2>&1 || die "the '$PG_OS_USER' system user does not exist (it comes with postgresql-common)"
(($(java_major) >= 17)) || die "Kafka 4 needs Java 17 or later; found: $(java -version 2>&1 | head -n 1)"

# ---------------------------------------------------------------------------------------------
# 2. Kafka jars from Maven Central
# ---------------------------------------------------------------------------------------------
pom_sum="$(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
expected_marker="kafka_2.13=$KAFKA_VERSION
pom-sha256=$pom_sum"

if kafka_installed && [[ "$(cat "$KAFKA_MARKER")" == "$expected_marker" ]]; then
  log "Kafka $KAFKA_VERSION jars already in $KAFKA_LIBS ($(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars)"
else
  mkdir -p "$KAFKA_HOME" "$LOG_DIR"
  mvn_log="$LOG_DIR/install-kafka.log"
  tmp_libs="$KAFKA_HOME/libs.tmp.$$"
  rm -rf "$tmp_libs"
  trap 'rm -rf "$tmp_libs"' EXIT
  log "resolving org.apache.kafka:kafka_2.13:$KAFKA_VERSION + log4j2 binding from Maven Central (log: $mvn_log)"
  if ! (cd "$AIRLOCK_INFRA_DIR/kafka" && mvn -B -q -Dstyle.color=never -f "$KAFKA_POM" \
    -Dkafka.version="$KAFKA_VERSION" -Dairlock.build.dir="$KAFKA_HOME/maven-target" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp_libs") >"$mvn_log" 2>&1; then
    tail_log "$mvn_log"
    die "Maven could not resolve Kafka $KAFKA_VERSION (set AIRLOCK_KAFKA_VERSION to another 4.x release to try it)"
  fi
  [[ -f "$tmp_libs/kafka_2.13-$KAFKA_VERSION.jar" ]] || die "kafka_2.13-$KAFKA_VERSION.jar missing from the resolved classpath"
  printf '%s\n' "$expected_marker" >"$tmp_libs/.airlock-kafka-version"
  rm -rf "$KAFKA_LIBS"
  mv "$tmp_libs" "$KAFKA_LIBS"
  trap - EXIT
  log "Kafka $KAFKA_VERSION installed: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars, $(du -sh "$KAFKA_LIBS" | cut -f1) in $KAFKA_LIBS"
fi

# ---------------------------------------------------------------------------------------------
# 3. Python PostgreSQL drivers (asyncpg, psycopg 3) from PyPI into a venv under .local
# ---------------------------------------------------------------------------------------------
py_expected="$(sha256sum "$PY_REQUIREMENTS" | cut -d' ' -f1)"
if [[ -x "$PY_VENV/bin/python" && -f "$PY_MARKER" && "$(cat "$PY_MARKER")" == "$py_expected" ]]; then
  log "Python drivers already in $PY_VENV ($(grep -Ev '^(#|$)' "$PY_REQUIREMENTS" | tr '\n' ' '))"
else
  mkdir -p "$LOG_DIR"
  pip_log="$LOG_DIR/install-python.log"
  log "installing the Python drivers of $PY_REQUIREMENTS into $PY_VENV (log: $pip_log)"
  rm -rf "$PY_VENV"
  if ! { "$PY_SYSTEM" -m venv "$PY_VENV" &&
    "$PY_VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$PY_REQUIREMENTS"; } >"$pip_log" 2>&1; then
    tail_log "$pip_log"
    rm -rf "$PY_VENV"
    die "could not install the Python drivers from PyPI"
  fi
  "$PY_VENV/bin/python" -c 'import asyncpg, psycopg' || die "the Python drivers do not import after install"
  printf '%s\n' "$py_expected" >"$PY_MARKER"
  log "Python drivers installed in $PY_VENV"
fi

log "done in $(elapsed_since "$started_ms")"
