#!/usr/bin/env bash
# Runs every test: installs what is missing, brings the local stack up, runs the unit,
# integration and conformance tests, and brings the stack down again.
#
#   integration/test.sh
#
# Point KAFKA_BOOTSTRAP / CASSANDRA_CONTACT_POINTS / SCHEMA_REGISTRY_URL at real services to
# run the same tests against them; the matching local component is then not started.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/env.sh"

"$INTEGRATION_DIR/install.sh"
stack_up_for_this_script
trap stack_down_if_owned EXIT

cd "$REPO_DIR"
log "unit and integration tests (cargo)"
cargo test --workspace --no-fail-fast -- --test-threads="${TEST_THREADS:-2}"

log "conformance and end-to-end tests (python cassandra-driver, confluent-kafka, schemathesis)"
"$VENV/bin/python" -m pytest -q "$INTEGRATION_DIR/conformance"

# --- web console browser tests (integration/ui): a worker on the stack, headless Chromium ---
log "web console tests (playwright-core, headless Chromium; screenshots in target/ui-screenshots)"
cargo build --quiet -p cassink
node --test "$INTEGRATION_DIR/ui"
# --- end of the web console browser tests ---
