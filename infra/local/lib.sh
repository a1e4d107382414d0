# shellcheck shell=bash
# Shared paths, ports and helpers of infra/local/*.sh. Sourced by those scripts, not run directly.
#
# Everything is derived from this file's own location, so the repository can live anywhere.
# All state (data, logs, pid files, Kafka jars) lives under <repo>/.local/ (git-ignored).

AIRLOCK_INFRA_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
AIRLOCK_REPO_ROOT="$(cd "$AIRLOCK_INFRA_DIR/../.." && pwd -P)"

# Ports and credentials (AIRLOCK_* overrides) and the exported connection strings.
# shellcheck source=infra/local/env.sh
. "$AIRLOCK_INFRA_DIR/env.sh"

LOCAL_DIR="$AIRLOCK_REPO_ROOT/.local"
LOG_DIR="$LOCAL_DIR/logs"

# --- Kafka (single node, KRaft combined broker+controller, from Maven Central jars) -----------
KAFKA_VERSION="${AIRLOCK_KAFKA_VERSION:-4.1.1}"
KAFKA_POM="$AIRLOCK_INFRA_DIR/kafka/pom.xml"
KAFKA_LOG4J_CONFIG="$AIRLOCK_INFRA_DIR/kafka/log4j2.properties"
KAFKA_HOME="$LOCAL_DIR/kafka"
KAFKA_LIBS="$KAFKA_HOME/libs"
KAFKA_MARKER="$KAFKA_LIBS/.airlock-kafka-version"
KAFKA_DATA="$KAFKA_HOME/data"
KAFKA_CONF="$KAFKA_HOME/server.properties"
KAFKA_PID_FILE="$KAFKA_HOME/kafka.pid"
KAFKA_CLUSTER_ID_FILE="$KAFKA_HOME/cluster-id"
KAFKA_LOG="$LOG_DIR/kafka.log"        # log4j2 (rolling)
KAFKA_OUT="$LOG_DIR/kafka.out.log"    # JVM stdout/stderr (crashes, OOM, early errors)
KAFKA_HEAP_OPTS="${AIRLOCK_KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}"
# SASL/SCRAM principals: one per service, the SIEM's read-only one, and the scripts' admin (the
# broker's super user). The same list as KafkaPrincipals in libs/contracts/src/kafka-acls.ts (a
# unit test compares them). Each one's generated password is a file in the credentials folder.
KAFKA_PRINCIPALS=(admin ingress-proxy policy approval recorder credential-vault siem)
KAFKA_CREDENTIALS_DIR="${AIRLOCK_KAFKA_CREDENTIALS_DIR:-$LOCAL_DIR/kafka/credentials}"
export AIRLOCK_KAFKA_CREDENTIALS_DIR="$KAFKA_CREDENTIALS_DIR"
# Users whose SCRAM credential exists in the broker's metadata, one a line (kept with the data).
KAFKA_SCRAM_MARKER="$KAFKA_HOME/data/.airlock-scram-users"

# --- PostgreSQL ------------------------------------------------------------------------------
PG_OS_USER="postgres"                 # postgres refuses to run as root
PG_ROOT="$LOCAL_DIR/pg"
PG_DATA="$PG_ROOT/data"
PG_RUN="$PG_ROOT/run"                 # unix socket directory
PG_LOG="$LOG_DIR/postgresql.log"

# --- Python drivers for the end-to-end suite (asyncpg, psycopg 3) -----------------------------
PY_SYSTEM="/usr/bin/python3"          # Debian's python3, with python3-venv
PY_REQUIREMENTS="$AIRLOCK_INFRA_DIR/python-requirements.txt"
PY_VENV="$LOCAL_DIR/pyenv"
PY_MARKER="$PY_VENV/.airlock-requirements"

# --- Redis -----------------------------------------------------------------------------------
REDIS_ROOT="$LOCAL_DIR/redis"
REDIS_DATA="$REDIS_ROOT/data"
REDIS_CONF="$REDIS_ROOT/redis.conf"
REDIS_PID_FILE="$REDIS_ROOT/redis.pid"
REDIS_LOG="$LOG_DIR/redis.log"

# --- output ----------------------------------------------------------------------------------
_AIRLOCK_SCRIPT="$(basename "$0" .sh)"
log() { printf '[%s] %s\n' "$_AIRLOCK_SCRIPT" "$*"; }
warn() { printf '[%s] WARNING: %s\n' "$_AIRLOCK_SCRIPT" "$*" >&2; }
die() { printf '[%s] ERROR: %s\n' "$_AIRLOCK_SCRIPT" "$*" >&2; exit 1; }

# tail_log <file> [lines]: show the end of a log on stderr (used on failures).
tail_log() {
  local file="$1" lines="${2:-40}"
  if [[ -s "$file" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$lines" "$file" >&2
    tail -n "$lines" "$file" >&2 || true
    printf -- '----- end of %s -----\n' "$file" >&2
  else
    printf -- '(log %s is empty or missing)\n' "$file" >&2
  fi
}

# --- small utilities -------------------------------------------------------------------------
now_ms() { date +%s%3N; }

# port_open <port>: true when something accepts TCP connections on 127.0.0.1:<port>.
port_open() {
  timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null
}

# pid_cmdline <pid>: the command line of a live process, arguments separated by spaces.
pid_cmdline() {
  [[ -r "/proc/$1/cmdline" ]] && tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null
}

# pid_alive <pid>: process exists and is not a zombie.
pid_alive() {
  [[ -n "${1:-}" && "$1" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$1" 2>/dev/null || return 1
  local state
  state="$(awk '/^State:/ {print $2}' "/proc/$1/status" 2>/dev/null || true)"
  [[ "$state" != "Z" ]]
}

have_ipv6_loopback() {
  [[ -r /proc/net/if_inet6 ]] && grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6
}

# as_root <cmd...>: run a command as root (directly, or through sudo when not root).
as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo -n "$@"
  else
    die "this step needs root (or password-less sudo): $*"
  fi
}

# tsx_bin: the repository's tsx (node_modules must be installed).
tsx_bin() {
  local bin="$AIRLOCK_REPO_ROOT/node_modules/.bin/tsx"
  [[ -x "$bin" ]] || die "tsx not found at $bin; run 'npm ci' in $AIRLOCK_REPO_ROOT first"
  printf '%s\n' "$bin"
}

# --- PostgreSQL helpers ----------------------------------------------------------------------

# pg_bin_dir: directory of the PostgreSQL server binaries. AIRLOCK_PG_BIN wins; an existing data
# directory pins the major version it was created with; otherwise the newest installed major.
pg_bin_dir() {
  if [[ -n "${AIRLOCK_PG_BIN:-}" ]]; then
    printf '%s\n' "$AIRLOCK_PG_BIN"
    return 0
  fi
  if [[ -f "$PG_DATA/PG_VERSION" ]]; then
    local major
    major="$(cat "$PG_DATA/PG_VERSION")"
    if [[ -x "/usr/lib/postgresql/$major/bin/postgres" ]]; then
      printf '%s\n' "/usr/lib/postgresql/$major/bin"
      return 0
    fi
    die "$PG_DATA was created by PostgreSQL $major, whose server is not installed; install postgresql-$major or remove $PG_ROOT"
  fi
  local candidate best="" best_major=0 major
  for candidate in /usr/lib/postgresql/*/bin/postgres; do
    [[ -x "$candidate" ]] || continue
    major="$(basename "$(dirname "$(dirname "$candidate")")")"
    [[ "$major" =~ ^[0-9]+$ ]] || continue
    if ((major > best_major)); then
      best_major=$major
      best="$(dirname "$candidate")"
    fi
  done
  [[ -n "$best" ]] || die "no PostgreSQL server found in /usr/lib/postgresql/*/bin; run infra/local/install.sh"
  printf '%s\n' "$best"
}

# as_pg <cmd...>: run a command as the postgres OS user from a directory it can enter (root's
# working directory may be unreadable to it, which makes postgres tools print warnings).
as_pg() {
  (cd / && runuser -u "$PG_OS_USER" -- "$@")
}

# pg_make_reachable <dir>: make sure the postgres OS user can traverse every directory down to
# <dir>. The repository may sit inside a 0700 root-owned folder (e.g. from mktemp -d); only the
# missing o+x (search) bit is added, nothing is made readable or writable.
pg_make_reachable() {
  local target="$1" path="" part
  local -a parts
  IFS='/' read -r -a parts <<<"${target#/}"
  if ! runuser -u "$PG_OS_USER" -- test -x /; then
    chmod o+x /
    log "added o+x to / so the $PG_OS_USER user can reach $target"
  fi
  for part in "${parts[@]}"; do
    [[ -n "$part" ]] || continue
    path="$path/$part"
    if ! runuser -u "$PG_OS_USER" -- test -x "$path"; then
      chmod o+x "$path"
      log "added o+x to $path so the $PG_OS_USER user can reach $target"
    fi
  done
  runuser -u "$PG_OS_USER" -- test -x "$target" ||
    die "the $PG_OS_USER user still cannot reach $target (ACLs? a noexec/nosuid mount?)"
}

# pg_is_running: the postmaster of our data directory is alive (pg_ctl reads postmaster.pid).
pg_is_running() {
  [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
  local bin
  bin="$(pg_bin_dir)"
  as_pg "$bin/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1
}

# pg_query <database> <sql>: run one statement over TCP with password authentication.
pg_query() {
  PGPASSWORD="$AIRLOCK_PG_PASSWORD" PGCONNECT_TIMEOUT=3 psql -X -q -w -v ON_ERROR_STOP=1 \
    -h 127.0.0.1 -p "$AIRLOCK_PG_PORT" -U "$AIRLOCK_PG_USER" -d "$1" -tA -c "$2"
}

# --- Kafka helpers ---------------------------------------------------------------------------

# names_kafka_conf CMD: whether CMD runs a broker with our server.properties, by whatever path
# it was named (a worktree may reach this checkout's .local through a symlink).
names_kafka_conf() {
  [[ "$1" == *kafka.Kafka* ]] || return 1
  local word ours
  ours="$(readlink -f "$KAFKA_CONF" 2>/dev/null || printf '%s' "$KAFKA_CONF")"
  for word in $1; do
    [[ "$word" == *server.properties ]] || continue
    [[ "$(readlink -f "$word" 2>/dev/null || printf '%s' "$word")" == "$ours" ]] && return 0
  done
  return 1
}

# kafka_pid: pid of the broker started from THIS checkout (its command line names our
# server.properties), from the pid file or, if that is missing or stale, from /proc.
kafka_pid() {
  local pid cmd
  if [[ -f "$KAFKA_PID_FILE" ]]; then
    pid="$(cat "$KAFKA_PID_FILE" 2>/dev/null || true)"
    if pid_alive "$pid"; then
      cmd="$(pid_cmdline "$pid" || true)"
      if names_kafka_conf "$cmd"; then
        printf '%s\n' "$pid"
        return 0
      fi
    fi
  fi
  local proc
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    cmd="$(pid_cmdline "$pid" || true)"
    if names_kafka_conf "$cmd" && pid_alive "$pid"; then
      printf '%s\n' "$pid" >"$KAFKA_PID_FILE" 2>/dev/null || true
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

kafka_installed() {
  [[ -f "$KAFKA_MARKER" && -f "$KAFKA_LIBS/kafka_2.13-$KAFKA_VERSION.jar" ]] &&
    grep -q "^kafka_2.13=$KAFKA_VERSION\$" "$KAFKA_MARKER"
}

# kafka_password <principal>: the principal's generated password (created by start.sh).
kafka_password() {
  cat "$KAFKA_CREDENTIALS_DIR/$1.password"
}

# --- Redis helpers ---------------------------------------------------------------------------

# redis_pid: pid of the redis-server of THIS checkout: from the pid file or, if that is missing or
# stale, from /proc. Redis chdirs into its `dir`, so its working directory identifies it.
redis_pid() {
  local pid
  if [[ -f "$REDIS_PID_FILE" ]]; then
    pid="$(cat "$REDIS_PID_FILE" 2>/dev/null || true)"
    if _is_our_redis "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  local proc
  for proc in /proc/[0-9]*; do
    pid="${proc#/proc/}"
    if _is_our_redis "$pid"; then
      printf '%s\n' "$pid"
      return 0
    fi
  done
  return 1
}

_is_our_redis() {
  pid_alive "${1:-}" || return 1
  [[ "$(pid_cmdline "$1" || true)" == redis-server* ]] || return 1
  # Resolved on both sides: a worktree may reach this checkout's .local through a symlink.
  [[ "$(readlink -f "/proc/$1/cwd" 2>/dev/null || true)" == "$(readlink -f "$REDIS_DATA")" ]]
}

redis_ping() {
  [[ "$(timeout 3 redis-cli -h 127.0.0.1 -p "$AIRLOCK_REDIS_PORT" PING 2>/dev/null || true)" == "PONG" ]]
}

# elapsed_since <start ms>: "12.3s"
elapsed_since() {
  local d=$(($(now_ms) - $1))
  printf '%d.%ds\n' $((d / 1000)) $((d % 1000 / 100))
}
