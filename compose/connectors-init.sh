#!/usr/bin/env bash
# One-shot: creates or updates the connectors on the compose worker, one
# `PUT /connectors/<name>/config` per file (idempotent: an unchanged config is left alone).
# The shipped connectors/*.json point at local services (contactPoints 127.0.0.1, registry
# http://127.0.0.1:8081, so they run unchanged against integration/run.sh); here those
# loopback addresses are rewritten on the fly to the compose services.
#
#   connectors-init.sh FILE.json...
#   WORKER_URL (default http://cassink:8083)
#   CASSANDRA_CONTACT_POINTS (default cassandra)
#   SCHEMA_REGISTRY_URL (default http://schema-registry:8081)
set -euo pipefail
worker="${WORKER_URL:-http://cassink:8083}"
contact_points="${CASSANDRA_CONTACT_POINTS:-cassandra}"
registry="${SCHEMA_REGISTRY_URL:-http://schema-registry:8081}"
[ $# -gt 0 ] || { echo "usage: connectors-init.sh FILE.json..." >&2; exit 2; }

log() { printf 'connectors-init: %s\n' "$*" >&2; }

# docker-compose.yml waits for the worker's health check; this covers a worker restarted in
# between and lets the script run on its own.
for attempt in $(seq 1 60); do
  curl -fsS -o /dev/null "$worker/health" && break
  [ "$attempt" -eq 60 ] && { log "worker $worker is not healthy after 120s"; exit 1; }
  sleep 2
done

for file in "$@"; do
  name=$(jq -er '.name' "$file") || { log "$file: no .name"; exit 1; }
  config=$(jq -ec --arg name "$name" --arg cp "$contact_points" --arg sr "$registry" '
      def loopback: test("^(https?://)?(127\\.0\\.0\\.1|localhost)([:/]|$)");
      .config + {name: $name}
      | if (.contactPoints // "") | loopback then .contactPoints = $cp else . end
      | with_entries(if (.key | endswith("schema.registry.url")) and (.value | loopback)
                     then .value = $sr else . end)' "$file") \
    || { log "$file: no .config object"; exit 1; }

  current=$(curl -fsS "$worker/connectors/$name/config" 2>/dev/null || echo 'null')
  if jq -en --argjson a "$current" --argjson b "$config" '$a == $b' >/dev/null; then
    log "$name: unchanged"
    continue
  fi
  resp=$(mktemp)
  code=$(curl -sS -o "$resp" -w '%{http_code}' -X PUT -H 'Content-Type: application/json' \
           --data "$config" "$worker/connectors/$name/config") || code=000
  case "$code" in
    201) log "$name: created from $file (contactPoints=$(jq -r '.contactPoints // "-"' <<<"$config"))" ;;
    200) log "$name: updated from $file" ;;
    *)   log "$name: PUT $worker/connectors/$name/config answered $code: $(cat "$resp")"; exit 1 ;;
  esac
  rm -f "$resp"
done

curl -fsS "$worker/connectors?expand=status" | jq -c 'to_entries[] | {
  name: .key, connector: .value.status.connector.state,
  tasks: [.value.status.tasks[]?.state] }' || true
