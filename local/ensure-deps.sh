#!/usr/bin/env bash
# Installs what the local stack needs and is missing:
#   - Debian packages: PostgreSQL 15 with pgTAP, pg_cron and plpgsql_check, pg_prove,
#     and (for the test suite) Chromium;
#   - npm packages, with `npm ci` when node_modules is missing or older than the lock file.
# As root on Debian it installs them; otherwise it stops and prints the command to run.
set -euo pipefail
cd "$(dirname "$0")/.."
purpose="${1:-}"

packages=(postgresql-15 postgresql-client-15 postgresql-15-pgtap postgresql-15-cron
          postgresql-15-plpgsql-check libtap-parser-sourcehandler-pgtap-perl)
case "$purpose" in
  test) packages+=(chromium) ;;
  bench) packages+=(wrk) ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  cmd="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "✗ Missing Debian packages: ${missing[*]}" >&2
    echo "  Install them, then run this again:" >&2
    echo "    sudo sh -c '$cmd'" >&2
    exit 1
  fi
fi

if [ ! -x node_modules/.bin/deno ] || [ ! -x node_modules/.bin/supabase ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm packages (npm ci)…"
  npm ci --no-audit --no-fund --loglevel=error
fi
