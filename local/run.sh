#!/usr/bin/env bash
# Entry point of every npm script: make sure the machine has what the stack needs
# (Debian packages, node_modules), then hand over to the Deno stack scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
bash local/ensure-deps.sh "$1"
exec node_modules/.bin/deno run --allow-all --no-prompt --config=deno.json local/stack/main.ts "$@"
