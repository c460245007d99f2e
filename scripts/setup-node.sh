#!/usr/bin/env bash
# Node.js 24 LTS for this project. Where the machine's `node` is older, the official Node binary comes
# from the npm registry (the node-linux-<arch> package, the binary the `node` package installs) into
# .node/, and this script puts it first on PATH when sourced:
#
#   source scripts/setup-node.sh    # then node, npm and npx run on Node 24 in this shell
NODE_VERSION=24.22.3

_setup_node() {
  local root major arch bin
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 24 ]; then
    printf 'setup-node: using Node %s from %s\n' "$(node --version)" "$(command -v node)" >&2
    return 0
  fi
  case "$(uname -m)" in
    x86_64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) printf 'setup-node: no Node %s package for %s; install Node 24 yourself\n' "$NODE_VERSION" "$(uname -m)" >&2; return 1 ;;
  esac
  bin="$root/.node/node_modules/node-linux-$arch/bin"
  if [ "$("$bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    printf 'setup-node: Node %s from the npm registry (node-linux-%s) into .node/\n' "$NODE_VERSION" "$arch" >&2
    npm install --no-save --no-audit --no-fund --prefix "$root/.node" "node-linux-$arch@$NODE_VERSION" >&2 || return 1
  fi
  export PATH="$bin:$PATH"
  printf 'setup-node: using Node %s from %s\n' "$(node --version)" "$bin" >&2
}

_setup_node
