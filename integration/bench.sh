#!/usr/bin/env bash
# End-to-end benchmark: pushes RECORDS (default 1,000,000) weather reports through
# broker -> cassink worker -> CQL server and prints one JSON line with records/s, the worker's
# CPU microseconds per record and its peak RSS. Uses the local stack unless KAFKA_BOOTSTRAP /
# CASSANDRA_CONTACT_POINTS point elsewhere. BENCH_WORKER_PROPERTIES (lines) are appended to the
# worker's properties, e.g. to try consumer.* settings.
#
#   integration/bench.sh [> bench.json]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

RECORDS="${RECORDS:-1000000}"
PARTITIONS="${PARTITIONS:-6}"
TASKS="${TASKS:-3}"
REST_PORT="${REST_PORT:-18083}"
RUN_DIR="$STACK_DIR/bench"
rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR"

"$INTEGRATION_DIR/install.sh" >&2
stack_up_for_this_script >&2
"$INTEGRATION_DIR/stack.sh" schema >&2
cd "$REPO_DIR"
cargo build --quiet --release -p cassink
# BENCH_CASSINK: another build of the worker to measure (e.g. an older commit for an A/B).
CASSINK="${BENCH_CASSINK:-$REPO_DIR/target/release/cassink}"

topic="bench_weather_$(date +%s)"
log "producing $RECORDS weather records to $topic ($PARTITIONS partitions)"
"$CASSINK" produce weather --topic "$topic" --partitions "$PARTITIONS" --create-topic --count "$RECORDS" --bootstrap "$KAFKA_BOOTSTRAP" >&2
"$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -e "TRUNCATE kafkapipeline.weatherreport" >&2

cat >"$RUN_DIR/worker.properties" <<PROPS
bootstrap.servers=$KAFKA_BOOTSTRAP
listeners=http://127.0.0.1:$REST_PORT
state.dir=$RUN_DIR/state
offset.flush.interval.ms=1000
${BENCH_WORKER_PROPERTIES:-}
PROPS
# Another worker answering on the port would receive this bench's connector.
curl -fsS "http://127.0.0.1:$REST_PORT/health" >/dev/null 2>&1 && die "port $REST_PORT is in use: set REST_PORT"
"$CASSINK" worker --config "$RUN_DIR/worker.properties" >"$RUN_DIR/worker.log" 2>&1 &
worker=$!
trap 'kill -TERM $worker 2>/dev/null || true; wait $worker 2>/dev/null || true; stack_down_if_owned >&2' EXIT
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$REST_PORT/health" >/dev/null 2>&1 && break; sleep 0.2; done

python3 - "$REPO_DIR/connectors/weather.json" "$topic" "$TASKS" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" >"$RUN_DIR/connector.json" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
cfg = doc["config"]
topic = sys.argv[2]
for k in [k for k in cfg if k.startswith("topic.weather.")]:
    cfg["topic." + topic + k[len("topic.weather"):]] = cfg.pop(k)
cfg.update({"topics": topic, "tasks.max": sys.argv[3], "contactPoints": sys.argv[4], "port": sys.argv[5]})
doc["name"] = "bench-weather"
print(json.dumps(doc))
PY

cpu_ticks() { awk '{print $14 + $15}' "/proc/$worker/stat"; }
hz=$(getconf CLK_TCK)
ticks0=$(cpu_ticks)
t0=$(date +%s.%N)
curl -fsS -X POST -H 'Content-Type: application/json' --data @"$RUN_DIR/connector.json" "http://127.0.0.1:$REST_PORT/connectors" >/dev/null
# BENCH_PROFILE=FILE records a CPU profile of the worker (perf, software clock) for its first
# BENCH_PROFILE_SECONDS (default 10) of ingestion.
if [ -n "${BENCH_PROFILE:-}" ]; then
  # DWARF unwinding: the release build has no frame pointers.
  perf record -e cpu-clock -F 1999 --call-graph dwarf,32768 -p "$worker" -o "$BENCH_PROFILE" -- sleep "${BENCH_PROFILE_SECONDS:-10}" >/dev/null 2>&1 &
  profiler=$!
fi

# Done when the committed offsets cover every record (written and acknowledged). Read with
# one independent client for the whole wait, so the measurement does not load the worker.
# Meanwhile the worker's RSS is sampled: the first sample at or past every RSS_STEP committed
# records goes to $RUN_DIR/rss.json (and into the result), to show whether memory stays flat.
"$VENV/bin/python" - "$KAFKA_BOOTSTRAP" "$topic" "$PARTITIONS" "$RECORDS" "${BENCH_TIMEOUT:-1800}" "$worker" \
  "${RSS_STEP:-100000}" "$RUN_DIR/rss.json" <<'PY' || die "the worker did not commit every record; see $RUN_DIR/worker.log"
import json, os, sys, time
from confluent_kafka import Consumer, TopicPartition
bootstrap, topic, parts, records, timeout, worker, step, trace = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), int(sys.argv[6]), int(sys.argv[7]), sys.argv[8]
def rss_mb():
    with open(f"/proc/{worker}/status") as f:
        kb = next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
    return round(kb / 1024, 1)
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "connect-bench-weather", "enable.auto.commit": False})
samples, next_mark = {}, 0
deadline = time.time() + timeout
while time.time() < deadline:
    os.kill(worker, 0)
    committed = c.committed([TopicPartition(topic, p) for p in range(parts)], timeout=10)
    done = sum(max(tp.offset, 0) for tp in committed)
    if done >= next_mark:
        samples[str(done // step * step)] = rss_mb()
        next_mark = (done // step + 1) * step
    if done >= records:
        json.dump(samples, open(trace, "w"))
        sys.exit(0)
    time.sleep(0.2)
sys.exit(1)
PY
t1=$(date +%s.%N)
if [ -n "${profiler:-}" ]; then wait "$profiler" || true; fi
ticks1=$(cpu_ticks)
rss_kb=$(awk '/VmHWM/ {print $2}' "/proc/$worker/status")
rows=$("$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -e "SELECT count(*) FROM kafkapipeline.weatherreport" | awk '$1 ~ /^[0-9]+$/ {print $1; exit}')
"$VENV/bin/cqlsh" "$CASSANDRA_CONTACT_POINTS" "$CASSANDRA_PORT" -e "TRUNCATE kafkapipeline.weatherreport" >&2
# The topic goes too, so repeated runs do not fill the broker's log dirs.
kill -TERM "$worker" 2>/dev/null || true
wait "$worker" 2>/dev/null || true
"$VENV/bin/python" - "$KAFKA_BOOTSTRAP" "$topic" <<'PY' >&2 || log "could not delete topic $topic"
import sys
from confluent_kafka.admin import AdminClient
for future in AdminClient({"bootstrap.servers": sys.argv[1]}).delete_topics([sys.argv[2]], operation_timeout=60).values():
    future.result()
PY
python3 - "$RECORDS" "$t0" "$t1" "$ticks0" "$ticks1" "$hz" "$rss_kb" "$rows" "$TASKS" "$PARTITIONS" "$RUN_DIR/rss.json" <<'PY'
import json, sys
records, t0, t1, c0, c1, hz, rss, rows, tasks, parts, trace = sys.argv[1:]
records = int(records); secs = float(t1) - float(t0); cpu = (int(c1) - int(c0)) / int(hz)
print(json.dumps({"bench": "weather_end_to_end", "records": records, "rows_found": int(rows or 0), "tasks": int(tasks),
                  "partitions": int(parts), "seconds": round(secs, 2), "records_per_s": round(records / secs),
                  "worker_cpu_us_per_record": round(cpu * 1e6 / records, 2), "worker_peak_rss_mb": round(int(rss) / 1024, 1),
                  "worker_rss_mb_at_committed": json.load(open(trace))}))
PY
