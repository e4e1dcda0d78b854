#!/usr/bin/env bash
# The main job on one machine: the worker with the three reference connectors (tweets,
# weather, meter), fed by the sample producers. Without KAFKA_BOOTSTRAP /
# CASSANDRA_CONTACT_POINTS / SCHEMA_REGISTRY_URL it runs on the local stack (Apache Kafka,
# Apache Cassandra, Apicurio Registry as JVM processes), which it installs and starts first.
#
#   integration/run.sh                 # produce 10k records per pipeline, then keep running
#   RECORDS=1000 RATE=200 integration/run.sh
#
# Stop with Ctrl-C: the worker commits and the local stack is stopped.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

RECORDS="${RECORDS:-10000}"
REST_PORT="${REST_PORT:-8083}"
RUN_DIR="$STACK_DIR/run"
mkdir -p "$RUN_DIR"

"$INTEGRATION_DIR/install.sh"
stack_up_for_this_script
"$INTEGRATION_DIR/stack.sh" schema

cd "$REPO_DIR"
cargo build --quiet --release -p cassink
CASSINK="$REPO_DIR/target/release/cassink"

for w in tweets weather meter; do "$CASSINK" produce "$w" --create-topic --count 0 --bootstrap "$KAFKA_BOOTSTRAP"; done

cat >"$RUN_DIR/worker.properties" <<PROPS
bootstrap.servers=$KAFKA_BOOTSTRAP
listeners=http://127.0.0.1:$REST_PORT
state.dir=$RUN_DIR/state
offset.flush.interval.ms=5000
PROPS
"$CASSINK" worker --config "$RUN_DIR/worker.properties" >"$RUN_DIR/worker.log" 2>&1 &
worker=$!
cleanup() { kill -TERM "$worker" 2>/dev/null; wait "$worker" 2>/dev/null || true; stack_down_if_owned; }
trap cleanup EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$REST_PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done

for c in tweets weather meter; do
  # Point the shipped configs at this stack's CQL server; otherwise POST them unchanged.
  python3 - "$REPO_DIR/connectors/$c.json" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" >"$RUN_DIR/$c.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
doc["config"]["contactPoints"], doc["config"]["port"] = sys.argv[2], sys.argv[3]
print(json.dumps(doc))
PY
  name=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["name"])' "$RUN_DIR/$c.json")
  curl -fsS -X DELETE "http://127.0.0.1:$REST_PORT/connectors/$name" >/dev/null 2>&1 || true
  curl -fsS -X POST -H 'Content-Type: application/json' --data @"$RUN_DIR/$c.json" "http://127.0.0.1:$REST_PORT/connectors" >/dev/null
  log "connector $name created"
done

producers=()
for w in tweets weather meter; do
  "$CASSINK" produce "$w" --count "$RECORDS" ${RATE:+--rate "$RATE"} --bootstrap "$KAFKA_BOOTSTRAP" &
  producers+=($!)
done
for p in "${producers[@]}"; do wait "$p"; done
log "produced $RECORDS records per pipeline; status:"
curl -fsS "http://127.0.0.1:$REST_PORT/connectors?expand=status"; echo
log "worker on http://127.0.0.1:$REST_PORT (log: $RUN_DIR/worker.log); Ctrl-C to stop"
if [ -t 0 ] && [ -z "${CI:-}" ]; then wait "$worker"; else sleep "${RUN_SECONDS:-20}"; fi
"$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -e \
  "SELECT count(*) FROM kafkapipeline.twitterdata; SELECT count(*) FROM kafkapipeline.weatherreport; SELECT count(*) FROM kafkapipeline.meter_data;"
