#!/usr/bin/env bash
# End-to-end benchmark, side by side: cassink, a real Kafka Connect worker and a hand-written
# Python pipeline (confluent-kafka + cassandra-driver) move the same RECORDS (default 1,000,000)
# weather reports from the same broker into the same Cassandra, ROUNDS (default 3) times,
# interleaved. Prints one JSON document on stdout (per system: median, min and max of every
# figure, and every raw round; the cassink/peer ratios; the settings used); logs go to stderr,
# the runs' files to $STACK_DIR/bench. What is measured and how: integration/bench/bench.py and
# the README's Performance section. Uses the local stack unless KAFKA_BOOTSTRAP /
# CASSANDRA_CONTACT_POINTS point elsewhere.
#
#   integration/bench.sh [> bench.json]
#   RECORDS=50000 ROUNDS=1 integration/bench.sh         # a quick look
#   SYSTEMS=cassink,cassink-b BENCH_CASSINK_B=path/to/other/cassink ROUNDS=5 integration/bench.sh
#
# Shared:  RECORDS ROUNDS TASKS (3) PARTITIONS (6) SYSTEMS (cassink,connect,python; cassink-b)
#          BENCH_TIMEOUT (1800 s a run) BENCH_STALL_S (180 s without a commit) SAMPLE_S (0.5)
#          BENCH_STOP_GRACE_S (15, SIGTERM -> SIGKILL) BENCH_SKIP_INSTALL=1 (skip install.sh)
# cassink: BENCH_CASSINK (default target/release/cassink, built here), BENCH_CASSINK_B and
#          BENCH_WORKER_PROPERTIES_B (cassink-b: another build, other settings), REST_PORT
#          (18083), BENCH_WORKER_PROPERTIES (lines appended to the worker's properties),
#          BENCH_PROFILE=FILE (perf profile of round 1's first BENCH_PROFILE_SECONDS=10)
# Connect: BENCH_CONNECT_HEAP (1g, -Xmx), BENCH_CONNECT_JVM_OPTS (-XX:+UseG1GC), BENCH_CONNECT_JAVA,
#          BENCH_CONNECT_PORT (18084), BENCH_CONNECT_PROPERTIES (worker lines), BENCH_CONNECT_LIB,
#          BENCH_CONNECT_CONNECTOR_JSON (another connector, e.g. a Cassandra sink, instead of
#          FileStreamSink)
# Python:  BENCH_PY_PROCESSES (TASKS), BENCH_PY_BATCH (500), BENCH_PY_CONCURRENCY (64)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

if [ "${BENCH_SKIP_INSTALL:-0}" != 1 ]; then "$INTEGRATION_DIR/install.sh" >&2; fi
stack_up_for_this_script >&2
trap 'stack_down_if_owned >&2' EXIT
"$INTEGRATION_DIR/stack.sh" schema >&2
cd "$REPO_DIR"
if [ -z "${BENCH_CASSINK:-}" ]; then cargo build --quiet --release -p cassink; fi

export RUN_DIR="$STACK_DIR/bench"
rm -rf "$RUN_DIR"; mkdir -p "$RUN_DIR"
export CASSINK_CACHE BENCH_PYTHON="$VENV/bin/python"
"$VENV/bin/python" -B "$INTEGRATION_DIR/bench/bench.py"  # -B: no __pycache__ in the tree
