#!/usr/bin/env bash
# Prepares a fresh machine (Node 20+ and npm present) for the project: pnpm at the pinned version, the
# workspace's dependencies, and (where one can be had) a Docker engine with the job images. Idempotent: a second
# run only checks. Without Docker the emulator simulates jobs and the container tests are skipped, unless
# HTC_REQUIRE_DOCKER=1 (CI sets it) makes a missing engine an error.
set -euo pipefail
cd "$(dirname "$0")/.."

export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1

want_pnpm=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm -v 2>/dev/null || true)" != "$want_pnpm" ]; then
  echo "bootstrap: installing pnpm $want_pnpm with npm"
  npm install --global "pnpm@$want_pnpm" >/dev/null
fi

# better-sqlite3 compiles from source when no prebuilt binary is reachable; it needs Node's headers.
if [ -z "${npm_config_nodedir:-}" ] && [ -d /usr/include/node ]; then export npm_config_nodedir=/usr; fi

echo "bootstrap: pnpm install"
# The filter only quiets the native build's chatter; with pipefail a failing install still fails here.
pnpm install --frozen-lockfile --reporter=append-only | { grep -vE '^\.\.\./.*(install|Building|gyp|CC|CXX|make|SOLINK|COPY|TOUCH|ACTION|AR|LINK|rm) ' || true; }

# The dashboard's browser tests drive Debian's Chromium (playwright-core downloads no browser here; HTC_CHROMIUM
# names another binary).
if [ -z "${HTC_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(uname)" = Linux ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing chromium (the dashboard's browser tests)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  else
    echo "bootstrap: no chromium on PATH: the dashboard's browser tests will fail (install Debian's chromium, or set HTC_CHROMIUM)" >&2
  fi
fi

if [ "${HTC_REQUIRE_DOCKER:-0}" = 1 ]; then
  bash scripts/docker/ensure-engine.sh
  bash images/build.sh
else
  bash scripts/docker/ensure-engine.sh --optional
  bash images/build.sh --optional
fi
