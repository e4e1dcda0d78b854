# Shared settings for the local stack scripts (sourced, not executed).
# Every endpoint can be overridden from the environment, so the same tests run against a
# real Kafka / Cassandra / Schema Registry (e.g. the docker compose stack).
INTEGRATION_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$INTEGRATION_DIR/.." && pwd)"
CASSINK_CACHE="${CASSINK_CACHE:-$HOME/.cache/cassink}"
STACK_DIR="${STACK_DIR:-$INTEGRATION_DIR/.stack}"
# The jars of the stack's servers (Kafka, Cassandra, Apicurio Registry), resolved by Maven.
export STACK_JARS="${STACK_JARS:-$CASSINK_CACHE/stack}"
VENV="${CASSINK_VENV:-$CASSINK_CACHE/venv}"

# Services the caller already points at are used as they are (not started locally); decided
# once, by the first script, before the defaults below fill the variables in.
if [ -z "${STACK_SKIP+x}" ]; then
  skip=()
  [ -n "${KAFKA_BOOTSTRAP:-}" ] && skip+=(kafka)
  [ -n "${CASSANDRA_CONTACT_POINTS:-}" ] && skip+=(cassandra)
  [ -n "${SCHEMA_REGISTRY_URL:-}" ] && skip+=(registry)
  STACK_SKIP="$(IFS=,; echo "${skip[*]:-}")"
fi
export STACK_SKIP

# Where the local stack listens (STACK_*: to run a second local stack beside a first one).
# The public variables, when set by the caller, name real services that replace local ones.
export KAFKA_BOOTSTRAP="${KAFKA_BOOTSTRAP:-${STACK_KAFKA:-127.0.0.1:9092}}"
export CASSANDRA_CONTACT_POINTS="${CASSANDRA_CONTACT_POINTS:-127.0.0.1}"
export CASSANDRA_PORT="${CASSANDRA_PORT:-${STACK_CQL_PORT:-9042}}"
export SCHEMA_REGISTRY_URL="${SCHEMA_REGISTRY_URL:-${STACK_REGISTRY:-http://127.0.0.1:8081/apis/ccompat/v7}}"

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# Brings the local stack up and registers a teardown for the end of the calling script, but
# only for a stack this script started: a stack that was already running is left running.
stack_up_for_this_script() {
  if "$INTEGRATION_DIR/stack.sh" status >/dev/null 2>&1; then
    log "using the local stack that is already running"
    STACK_OWNED=0
  else
    "$INTEGRATION_DIR/stack.sh" up
    STACK_OWNED=1
  fi
}
stack_down_if_owned() {
  if [ "${STACK_OWNED:-0}" = 1 ]; then "$INTEGRATION_DIR/stack.sh" down; fi
}
