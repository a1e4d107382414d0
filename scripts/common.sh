# Shared by scripts/up.sh, scripts/test.sh and scripts/down.sh (sourced, not run).
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN_DIR="$ROOT/.local/run"
LOG_DIR="$ROOT/.local/logs"
export NX_DAEMON=false NX_NO_CLOUD=true KAFKAJS_NO_PARTITIONER_WARNING=1
mkdir -p "$RUN_DIR" "$LOG_DIR"

say() { printf '\033[1m[airlock]\033[0m %s\n' "$*"; }
fail() { printf '[airlock] ERROR: %s\n' "$*" >&2; exit 1; }

# npm packages: `npm ci` when node_modules is missing or older than package-lock.json.
ensure_node_modules() {
  command -v node >/dev/null 2>&1 || fail "Node.js 20 or later is required (node not found)"
  local want have=""
  want=$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)
  [ -f "$ROOT/node_modules/.airlock-lock-hash" ] && have=$(cat "$ROOT/node_modules/.airlock-lock-hash")
  if [ "$want" != "$have" ]; then
    say "installing npm packages (npm ci)"
    (cd "$ROOT" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$want" > "$ROOT/node_modules/.airlock-lock-hash"
  fi
}

build() {
  say "building (tsc, and the web console with vite)"
  (cd "$ROOT" && npm run -s build && npm run -s build:console)
}

# Services started by up.sh, stopped by name from their pid files.
stop_services() {
  local f pid name
  for f in "$RUN_DIR"/*.pid; do
    [ -e "$f" ] || continue
    name=$(basename "$f" .pid)
    pid=$(cat "$f")
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
      kill -KILL "$pid" 2>/dev/null || true
      say "stopped $name (pid $pid)"
    fi
    rm -f "$f"
  done
}
