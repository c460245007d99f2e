#!/usr/bin/env bash
# Provides the Docker Compose CLI (github.com/docker/compose/v5, Apache-2.0) at a pinned version in
# .compose/docker-compose, built from the Go module proxy: the tests validate docker-compose.yml and
# compose.dev.yml with `docker-compose config`, which needs no Docker engine. Needs Go; safe to run
# repeatedly (it builds once).
set -euo pipefail

COMPOSE_VERSION=v5.6.0 # the newest that builds with Go 1.26

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/.compose"
bin="$dir/docker-compose"
stamp="$dir/version"

log() { printf 'setup-compose: %s\n' "$*" >&2; }

if [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$COMPOSE_VERSION" ]; then
  log "Docker Compose: $bin already at $COMPOSE_VERSION"
  exit 0
fi
command -v go >/dev/null || { log "Go is needed to build Docker Compose: apt-get install golang"; exit 1; }
log "Docker Compose $COMPOSE_VERSION: building from the Go module proxy (a minute or two)"
# Built inside its own module, so that its go.mod (replace and exclude directives) applies.
src=$(go mod download -json "github.com/docker/compose/v5@$COMPOSE_VERSION" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { log "could not download github.com/docker/compose/v5@$COMPOSE_VERSION"; exit 1; }
mkdir -p "$dir"
(cd "$src" && go build -trimpath -o "$bin" ./cmd) || { log "building Docker Compose failed"; exit 1; }
printf '%s\n' "$COMPOSE_VERSION" > "$stamp"
log "Docker Compose: $("$bin" version)"
