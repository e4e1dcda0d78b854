#!/usr/bin/env bash
# The local stack every test runs against, all real servers on loopback, each its own java
# process started from jars Maven resolves into $STACK_JARS (integration/stack/*/pom.xml):
#   kafka      Apache Kafka 4.x, one combined broker + KRaft controller     $KAFKA_BOOTSTRAP
#   cassandra  Apache Cassandra 5.0.x, one node                             $CASSANDRA_CONTACT_POINTS:$CASSANDRA_PORT
#   registry   Apicurio Registry, its Confluent-compatible API              $SCHEMA_REGISTRY_URL
#
#   integration/stack.sh fetch|up|down|status|schema
#
# Idempotent. Logs, pids, configs and data live under $STACK_DIR (default integration/.stack);
# `down` keeps the logs (copied to $STACK_LOGS_DIR, default target/stack-logs) and removes
# the data, so every `up` starts empty. Components listed in STACK_SKIP (comma-separated: kafka,cassandra,registry)
# are not started: use it when KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / SCHEMA_REGISTRY_URL
# point at real services. Heaps: STACK_KAFKA_HEAP, STACK_CASSANDRA_HEAP, STACK_REGISTRY_HEAP.
# A second Cassandra beside the first (as tests/common/cassandra.rs starts one): its own
# STACK_DIR, CASSANDRA_PORT, STACK_CASSANDRA_STORAGE_PORT, and STACK_CASSANDRA_AUTHENTICATOR
# (PasswordAuthenticator; CASSANDRA_USERNAME / CASSANDRA_PASSWORD for the readiness probe),
# STACK_CASSANDRA_RPC_ADDRESS (e.g. 0.0.0.0), STACK_CASSANDRA_YAML_EXTRA (a file appended to
# cassandra.yaml, e.g. client_encryption_options; CASSANDRA_SSL_CA, CASSANDRA_SSL_CERT and
# CASSANDRA_SSL_KEY then let the readiness probe speak TLS).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

STACK_SKIP="${STACK_SKIP:-}"
COMPONENTS=(kafka cassandra registry)
mkdir -p "$STACK_DIR/logs" "$STACK_DIR/pids" "$STACK_DIR/data" "$STACK_DIR/conf"

skipped() { [[ ",$STACK_SKIP," == *",$1,"* ]]; }
host_of() { echo "${1%:*}"; }
port_of() { echo "${1##*:}"; }
pid_alive() { [ -f "$STACK_DIR/pids/$1" ] && kill -0 "$(cat "$STACK_DIR/pids/$1")" 2>/dev/null; }
lib_of() { echo "$STACK_JARS/$1/lib"; }

# Resolves a component's jars once per version of its pom.xml.
fetch_one() { # component
  local pom="$INTEGRATION_DIR/stack/$1/pom.xml" out="$STACK_JARS/$1"
  local want; want=$(sha256sum "$pom" | cut -d' ' -f1)
  [ -f "$out/.pom.sha" ] && [ "$(cat "$out/.pom.sha")" = "$want" ] && return 0
  log "resolving $1 jars from Maven Central into $out"
  rm -rf "$out" && mkdir -p "$out"
  mvn -q -B -f "$pom" dependency:copy-dependencies -DoutputDirectory="$out/lib" >"$out/mvn.log" 2>&1 \
    || { tail -n 30 "$out/mvn.log" >&2; die "could not resolve $1 (log: $out/mvn.log)"; }
  if [ "$1" = registry ]; then # the Quarkus distribution is a tar.gz: unpack it beside
    tar -xzf "$out"/lib/*.tar.gz -C "$out" && rm -f "$out"/lib/*.tar.gz
  fi
  echo "$want" >"$out/.pom.sha"
}
fetch() {
  command -v mvn >/dev/null || die "Maven (mvn) is needed to resolve the stack's jars"
  local pids=() c
  for c in "${COMPONENTS[@]}"; do skipped "$c" || { fetch_one "$c" & pids+=($!); }; done
  for p in "${pids[@]}"; do wait "$p"; done
}

# Java 17 runs Kafka and Cassandra; Apicurio Registry 3 needs Java 21 or newer.
java_major() { "$1" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p'; }
java_for_registry() {
  local candidate
  for candidate in ${REGISTRY_JAVA:-} "${JAVA_HOME:+$JAVA_HOME/bin/java}" java /usr/lib/jvm/*/bin/java; do
    [ -x "$(command -v "$candidate" 2>/dev/null)" ] || continue
    [ "$(java_major "$candidate")" -ge 21 ] 2>/dev/null && { echo "$candidate"; return 0; }
  done
  die "Apicurio Registry needs Java 21 or newer: none found (set REGISTRY_JAVA)"
}
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

render() { # template, output, sed expressions...
  local template=$1 out=$2; shift 2
  local args=() e
  for e in "$@"; do args+=(-e "$e"); done
  sed "${args[@]}" "$template" >"$out"
}

start() { # name, command...
  local name=$1; shift
  if pid_alive "$name"; then log "$name already running (pid $(cat "$STACK_DIR/pids/$name"))"; return 0; fi
  (cd "$STACK_DIR" && exec nohup "$@" >>"$STACK_DIR/logs/$name.log" 2>&1) &
  echo $! >"$STACK_DIR/pids/$name"
}

stop() { # name
  local name=$1
  pid_alive "$name" || { rm -f "$STACK_DIR/pids/$name"; return 0; }
  local pid; pid=$(cat "$STACK_DIR/pids/$name")
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$STACK_DIR/pids/$name"
  log "$name stopped"
}

ready_py() { "$VENV/bin/python" "$INTEGRATION_DIR/stack/ready.py" "$@"; }
kafka_healthy() { ready_py kafka "$KAFKA_BOOTSTRAP"; }
cassandra_healthy() { ready_py cassandra "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT"; }
registry_healthy() { curl -fsS -m 3 "$SCHEMA_REGISTRY_URL/subjects"; }

wait_ready() { # name, timeout seconds
  local name=$1 timeout=$2 started=$SECONDS
  local deadline=$((SECONDS + timeout))
  until "${name}_healthy" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      log "$name did not serve within ${timeout}s; last log lines:"
      tail -n 30 "$STACK_DIR/logs/$name.log" >&2 || true
      return 1
    fi
    pid_alive "$name" || { log "$name exited; log:"; tail -n 40 "$STACK_DIR/logs/$name.log" >&2 || true; return 1; }
    sleep 0.5
  done
  log "$name serving after $((SECONDS - started))s"
}

start_kafka() {
  local conf="$STACK_DIR/conf/kafka" data="$STACK_DIR/data/kafka" lib; lib=$(lib_of kafka)
  mkdir -p "$conf" "$data"
  render "$INTEGRATION_DIR/stack/kafka/server.properties.in" "$conf/server.properties" \
    "s|@HOST@|$(host_of "$KAFKA_BOOTSTRAP")|g" "s|@PORT@|$(port_of "$KAFKA_BOOTSTRAP")|g" \
    "s|@CONTROLLER_PORT@|${STACK_KAFKA_CONTROLLER_PORT:-9093}|g" "s|@DATA@|$data|g"
  local jvm=(-Xms"${STACK_KAFKA_HEAP:-1g}" -Xmx"${STACK_KAFKA_HEAP:-1g}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
    -Djava.awt.headless=true -Dlog4j2.configurationFile="$INTEGRATION_DIR/stack/kafka/log4j2.properties" -cp "$lib/*")
  if [ ! -f "$data/meta.properties" ]; then
    # A KRaft cluster id is 16 random bytes in URL-safe base64 without padding.
    local cluster_id; cluster_id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
    "$JAVA" "${jvm[@]}" kafka.tools.StorageTool format --standalone --cluster-id="$cluster_id" \
      -c "$conf/server.properties" >>"$STACK_DIR/logs/kafka.log" 2>&1 \
      || { tail -n 20 "$STACK_DIR/logs/kafka.log" >&2; die "formatting Kafka's storage failed"; }
  fi
  start kafka "$JAVA" "${jvm[@]}" kafka.Kafka "$conf/server.properties"
}

start_cassandra() {
  local conf="$STACK_DIR/conf/cassandra" data="$STACK_DIR/data/cassandra" lib; lib=$(lib_of cassandra)
  mkdir -p "$conf" "$data"
  render "$INTEGRATION_DIR/stack/cassandra/cassandra.yaml.in" "$conf/cassandra.yaml" \
    "s|@HOST@|$CASSANDRA_CONTACT_POINTS|g" "s|@CQL_PORT@|$CASSANDRA_PORT|g" \
    "s|@STORAGE_PORT@|${STACK_CASSANDRA_STORAGE_PORT:-7000}|g" "s|@DATA@|$data|g" \
    "s|@AUTHENTICATOR@|${STACK_CASSANDRA_AUTHENTICATOR:-AllowAllAuthenticator}|g" \
    "s|@RPC_ADDRESS@|${STACK_CASSANDRA_RPC_ADDRESS:-$CASSANDRA_CONTACT_POINTS}|g"
  # More settings (e.g. client_encryption_options) from a file of the caller's.
  if [ -n "${STACK_CASSANDRA_YAML_EXTRA:-}" ]; then cat "$STACK_CASSANDRA_YAML_EXTRA" >>"$conf/cassandra.yaml"; fi
  local options=() line
  while read -r line; do [[ -z "$line" || "$line" == \#* ]] || options+=("$line"); done \
    <"$INTEGRATION_DIR/stack/cassandra/jvm17-server.options"
  local jamm; jamm=$(ls "$lib"/jamm-*.jar | head -n 1)
  start cassandra "$JAVA" -Xms"${STACK_CASSANDRA_HEAP:-1g}" -Xmx"${STACK_CASSANDRA_HEAP:-1g}" "${options[@]}" \
    -javaagent:"$jamm" -Djava.net.preferIPv4Stack=true -Dcassandra-foreground=yes \
    -Dcassandra.config="file://$conf/cassandra.yaml" -Dcassandra.storagedir="$data" \
    -Dlogback.configurationFile="$INTEGRATION_DIR/stack/cassandra/logback.xml" \
    -Dcassandra.skip_wait_for_gossip_to_settle=0 -Dcassandra.superuser_setup_delay_ms=0 \
    -cp "$lib/*" org.apache.cassandra.service.CassandraDaemon
}

start_registry() {
  local java; java=$(java_for_registry)
  local url=${SCHEMA_REGISTRY_URL#http://}; url=${url%%/*}
  start registry "$java" -Xms"${STACK_REGISTRY_HEAP:-512m}" -Xmx"${STACK_REGISTRY_HEAP:-512m}" \
    -Dquarkus.http.host="$(host_of "$url")" -Dquarkus.http.port="$(port_of "$url")" \
    -Dapicurio.rest.deletion.artifact.enabled=true -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -Dapicurio.rest.deletion.group.enabled=true -Dapicurio.rules.global.compatibility=BACKWARD \
    -jar "$STACK_JARS/registry/quarkus-run.jar"
}

up() {
  fetch
  local c pids=() failed=0
  for c in "${COMPONENTS[@]}"; do skipped "$c" || "start_$c"; done
  # Timeouts are for a loaded 2-core machine; each wait ends as soon as the server answers.
  for c in "${COMPONENTS[@]}"; do
    skipped "$c" || { wait_ready "$c" 180 & pids+=($!); }
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || { down; die "the local stack did not come up"; }
  status
}

down() {
  local c
  for c in registry kafka cassandra; do stop "$c"; done
  local keep="${STACK_LOGS_DIR:-$REPO_DIR/target/stack-logs}"
  mkdir -p "$keep"
  cp "$STACK_DIR"/logs/*.log "$keep/" 2>/dev/null || true
  rm -rf "$STACK_DIR/data" "$STACK_DIR/logs"
}

status() {
  local rc=0 entry name endpoint
  printf '%-10s %-34s %s\n' component endpoint state
  for entry in "kafka|$KAFKA_BOOTSTRAP" "cassandra|$CASSANDRA_CONTACT_POINTS:$CASSANDRA_PORT" \
               "registry|$SCHEMA_REGISTRY_URL"; do
    IFS='|' read -r name endpoint <<<"$entry"
    local label="" state
    skipped "$name" && label=" (external)"
    if "${name}_healthy" >/dev/null 2>&1; then state="serving$label"
    else state="down$label"; skipped "$name" || rc=1; fi
    printf '%-10s %-34s %s\n' "$name" "$endpoint" "$state"
  done
  echo "export KAFKA_BOOTSTRAP=$KAFKA_BOOTSTRAP CASSANDRA_CONTACT_POINTS=$CASSANDRA_CONTACT_POINTS CASSANDRA_PORT=$CASSANDRA_PORT SCHEMA_REGISTRY_URL=$SCHEMA_REGISTRY_URL"
  return $rc
}

# Applies connectors/schema.cql (the three pipelines' keyspace and tables) with cqlsh.
schema() {
  [ -x "$VENV/bin/cqlsh" ] || die "no cqlsh in $VENV: run integration/install.sh"
  "$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -f "$REPO_DIR/connectors/schema.cql"
  log "schema applied"
}

case "${1:-}" in
  fetch) fetch ;;
  up) up ;;
  down) down ;;
  status) status ;;
  schema) schema ;;
  *) echo "usage: $0 fetch|up|down|status|schema" >&2; exit 2 ;;
esac
