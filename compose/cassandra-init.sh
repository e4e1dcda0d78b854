#!/usr/bin/env bash
# One-shot: applies the reference schema (connectors/schema.cql) to the compose Cassandra.
# Every statement is CREATE ... IF NOT EXISTS, so running it again on each `up` is harmless.
# Runs in the cassandra image (it has cqlsh); docker-compose.yml starts it once Cassandra
# is healthy and retries here cover the short window before schema changes are accepted.
#
#   CASSANDRA_HOST (default cassandra)   SCHEMA_FILE (default /schema/schema.cql)
set -euo pipefail
host="${CASSANDRA_HOST:-cassandra}"
schema="${SCHEMA_FILE:-/schema/schema.cql}"
tables=(twitterdata weatherreport meter_data)

[ -r "$schema" ] || { echo "cassandra-init: cannot read $schema" >&2; exit 1; }

for attempt in $(seq 1 30); do
  if cqlsh "$host" -f "$schema"; then
    # cqlsh -f keeps going after a failed statement: check the tables are really there.
    found=$(cqlsh "$host" -e "SELECT table_name FROM system_schema.tables WHERE keyspace_name = 'kafkapipeline'")
    missing=()
    for t in "${tables[@]}"; do
      grep -qw "$t" <<<"$found" || missing+=("$t")
    done
    if [ ${#missing[@]} -eq 0 ]; then
      echo "cassandra-init: schema applied to $host (kafkapipeline: ${tables[*]})"
      exit 0
    fi
    echo "cassandra-init: tables missing after attempt $attempt: ${missing[*]}" >&2
  else
    echo "cassandra-init: cqlsh failed on attempt $attempt" >&2
  fi
  sleep 5
done
echo "cassandra-init: giving up after 30 attempts" >&2
exit 1
