#!/usr/bin/env bash
# Provides S3Proxy (org.gaul:s3proxy, Apache-2.0), a real S3-compatible server that the tests run
# over a local directory, as one runnable jar at a pinned version in .s3proxy, taken from Maven
# Central. It needs Java 17 or newer to run and Maven to install. Safe to run repeatedly.
set -euo pipefail

S3PROXY_VERSION=4.1.0 # needs Java >= 17; its filesystem-nio2 backend is the one the tests use

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir="$root/.s3proxy"
jar="$dir/s3proxy-$S3PROXY_VERSION-jar-with-dependencies.jar"

log() { printf 'setup-s3proxy: %s\n' "$*" >&2; }

if [ -s "$jar" ]; then
  log "S3Proxy: $jar already at $S3PROXY_VERSION"
else
  command -v mvn >/dev/null || { log "Maven (mvn) is needed to fetch S3Proxy: apt-get install maven"; exit 1; }
  log "S3Proxy $S3PROXY_VERSION: fetching org.gaul:s3proxy:jar-with-dependencies from Maven Central"
  mkdir -p "$dir"
  out=$(mvn -q -B org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
    -Dartifact="org.gaul:s3proxy:$S3PROXY_VERSION:jar:jar-with-dependencies" \
    -DoutputDirectory="$dir" -Dmdep.overWriteReleases=true 2>&1) ||
    { printf '%s\n' "$out" >&2; log "could not fetch S3Proxy $S3PROXY_VERSION from Maven Central"; exit 1; }
  [ -s "$jar" ] || { log "Maven finished but $jar is missing"; exit 1; }
fi
# The helper looks for this name, so that it need not know the version.
ln -sfn "$(basename "$jar")" "$dir/s3proxy.jar"

if ! command -v java >/dev/null; then
  log "warning: no java on PATH; S3Proxy $S3PROXY_VERSION needs Java 17 or newer (apt-get install openjdk-17-jre-headless)"
fi

log "ready: $dir/s3proxy.jar"
