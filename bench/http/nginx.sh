# shellcheck shell=bash
# nginx instances of the HTTP benchmarks (sourced by bench/http.sh and bench/stack.sh, not run).
# The caller sets PREFIX (state directory), UPSTREAM_PORT, PROXY_PORT, PROXY_WORKERS and NGINX
# (from find_nginx), and defines log and die.

find_nginx() { command -v nginx || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true; }

render() { # template -> $PREFIX/<name>
  local template=$1 out
  out=$PREFIX/$(basename "$template")
  sed -e "s|@PREFIX@|$PREFIX|g" -e "s|@UPSTREAM_PORT@|$UPSTREAM_PORT|g" \
    -e "s|@PROXY_PORT@|$PROXY_PORT|g" -e "s|@PROXY_WORKERS@|$PROXY_WORKERS|g" "$template" >"$out"
  # Builds without a module reject its *_temp_path directive.
  local module build_flags
  build_flags=$("$NGINX" -V 2>&1)
  for module in fastcgi uwsgi scgi; do
    if [[ $build_flags == *"--without-http_${module}_module"* ]]; then
      sed -i "/^ *${module}_temp_path /d" "$out"
    fi
  done
}

# nginx removes its pid file while stopping, so a read may find nothing.
pid_alive() {
  local pid
  pid=$(cat "$1" 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

stop_nginx() { # name
  local pidfile=$PREFIX/$1.pid
  pid_alive "$pidfile" || return 0
  "$NGINX" -p "$PREFIX" -c "$PREFIX/$1.conf" -e "$PREFIX/$1.error.log" -s stop 2>/dev/null || true
  local deadline=$((SECONDS + 10))
  while pid_alive "$pidfile"; do
    [ $SECONDS -lt $deadline ] || { log "nginx $1 did not stop (pid file $pidfile)"; return 1; }
    sleep 0.1
  done
}

start_nginx() { # name port
  stop_nginx "$1" # a leftover of an interrupted run
  if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/"; then
    die "port $2 is already in use by another process"
  fi
  "$NGINX" -p "$PREFIX" -c "$PREFIX/$1.conf" -e "$PREFIX/$1.error.log" ||
    die "nginx $1 did not start; see $PREFIX/$1.error.log"
  local deadline=$((SECONDS + 10))
  until curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$2/"; do
    [ $SECONDS -lt $deadline ] || die "nginx $1 does not answer on port $2; see $PREFIX/$1.error.log"
    sleep 0.1
  done
}

