#!/usr/bin/env bash
# The local stack every test runs against: a Kafka-protocol broker (tansu), the in-memory CQL
# server (cqlmem) and the Confluent-compatible registry (schemareg), all on loopback.
#
#   integration/stack.sh up|down|status|schema
#
# Idempotent. Logs, pids and data live under $STACK_DIR (default integration/.stack).
# CQLMEM_PERSIST=1 makes the CQL server snapshot its tables under $STACK_DIR/data/cql (kept
# across its restarts; off by default because snapshots of large tables cost time).
# Components listed in STACK_SKIP (comma-separated: kafka,cql,registry) are not started: use it
# when KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / SCHEMA_REGISTRY_URL point at real services.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

STACK_SKIP="${STACK_SKIP:-}"
mkdir -p "$STACK_DIR/logs" "$STACK_DIR/pids" "$STACK_DIR/data"

skipped() { [[ ",$STACK_SKIP," == *",$1,"* ]]; }
host_of() { echo "${1%:*}"; }
port_of() { echo "${1##*:}"; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
pid_alive() { [ -f "$STACK_DIR/pids/$1" ] && kill -0 "$(cat "$STACK_DIR/pids/$1")" 2>/dev/null; }

wait_for() { # name, timeout seconds, command...
  local name=$1 timeout=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "$name did not become healthy within ${timeout}s; last log lines:"
      tail -n 20 "$STACK_DIR/logs/$name.log" >&2 || true
      return 1
    fi
    pid_alive "$name" || { log "$name exited; log:"; tail -n 30 "$STACK_DIR/logs/$name.log" >&2 || true; return 1; }
    sleep 0.2
  done
}

start() { # name, working dir, command...
  local name=$1 dir=$2; shift 2
  if pid_alive "$name"; then log "$name already running (pid $(cat "$STACK_DIR/pids/$name"))"; return 0; fi
  (cd "$dir" && exec nohup "$@" >>"$STACK_DIR/logs/$name.log" 2>&1) &
  echo $! >"$STACK_DIR/pids/$name"
}

stop() { # name
  local name=$1
  pid_alive "$name" || { rm -f "$STACK_DIR/pids/$name"; return 0; }
  local pid; pid=$(cat "$STACK_DIR/pids/$name")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STACK_DIR/pids/$name"
  log "$name stopped"
}

kafka_healthy() { port_open "$(host_of "$KAFKA_BOOTSTRAP")" "$(port_of "$KAFKA_BOOTSTRAP")"; }
cql_healthy() { curl -fsS "$CQLMEM_ADMIN_URL/health"; }
registry_healthy() { curl -fsS "$SCHEMA_REGISTRY_URL/subjects"; }

build_servers() {
  local missing=0
  [ -x "$STACK_BIN_DIR/cqlmem" ] && [ -x "$STACK_BIN_DIR/schemareg" ] || missing=1
  if [ $missing = 1 ] || [ "${STACK_REBUILD:-1}" = 1 ]; then
    log "building cqlmem and schemareg ($STACK_PROFILE)"
    (cd "$REPO_DIR" && cargo build --quiet --profile "$STACK_PROFILE" -p cqlmem -p schemareg)
  fi
}

up() {
  build_servers
  if ! skipped kafka; then
    [ -x "$TANSU_BIN" ] || die "no tansu broker at $TANSU_BIN: run integration/install.sh"
    local kafka="tcp://$KAFKA_BOOTSTRAP"
    # tansu resolves the sqlite path against its working directory.
    start kafka "$STACK_DIR/data" "$TANSU_BIN" broker --listener-url "$kafka" --advertised-listener-url "$kafka" \
      --storage-engine "sqlite://tansu.db"
    wait_for kafka 30 kafka_healthy
  fi
  if ! skipped cql; then
    start cql "$STACK_DIR" "$STACK_BIN_DIR/cqlmem" --listen "$CASSANDRA_CONTACT_POINTS:$CASSANDRA_PORT" \
      --admin "${CQLMEM_ADMIN_URL#http://}" ${CQLMEM_PERSIST:+--data-dir "$STACK_DIR/data/cql"}
    wait_for cql 30 cql_healthy
  fi
  if ! skipped registry; then
    start registry "$STACK_DIR" "$STACK_BIN_DIR/schemareg" --listen "${SCHEMA_REGISTRY_URL#http://}" \
      --data-dir "$STACK_DIR/data/registry"
    wait_for registry 30 registry_healthy
  fi
  status
}

down() {
  for name in registry cql kafka; do stop "$name"; done
}

status() {
  local rc=0
  printf '%-9s %-28s %s\n' component endpoint state
  for entry in "kafka|$KAFKA_BOOTSTRAP|kafka_healthy" "cql|$CASSANDRA_CONTACT_POINTS:$CASSANDRA_PORT|cql_healthy" \
               "registry|$SCHEMA_REGISTRY_URL|registry_healthy"; do
    IFS='|' read -r name endpoint check <<<"$entry"
    local label=""
    skipped "$name" && label=" (external)"
    local state="healthy$label"
    $check >/dev/null 2>&1 || { state="down$label"; rc=1; }
    printf '%-9s %-28s %s\n' "$name" "$endpoint" "$state"
  done
  echo "export KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP CASSANDRA_CONTACT_POINTS=$CASSANDRA_CONTACT_POINTS CASSANDRA_PORT=$CASSANDRA_PORT SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL CQLMEM_ADMIN_URL=$CQLMEM_ADMIN_URL"
  return $rc
}

# Applies connectors/schema.cql (the three pipelines' keyspace and tables) with cqlsh.
schema() {
  [ -x "$VENV/bin/cqlsh" ] || die "no cqlsh in $VENV: run integration/install.sh"
  "$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -f "$REPO_DIR/connectors/schema.cql"
  log "schema applied"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  schema) schema ;;
  *) echo "usage: $0 up|down|status|schema" >&2; exit 2 ;;
esac
