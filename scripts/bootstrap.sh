#!/usr/bin/env bash
# Node.js and the project's dependencies. Installs Node.js from Debian when it is missing
# (Debian 13 ships Node 20; on older releases install Node.js 20+ yourself first), then runs
# `npm ci` on a fresh clone or when package-lock.json changed since the last install.
# `--test-tools` (scripts/test.sh) also installs what the suite drives besides Node: Debian's
# chromium and a CJK font (the console's browser test), kubectl (rendering the k8s overlays).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--test-tools" ]; then
  missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  fc-list 2>/dev/null | grep -qi -e 'wenquanyi' -e 'noto sans cjk' || missing+=(fonts-wqy-zenhei)
  command -v kubectl >/dev/null 2>&1 || missing+=(kubectl)
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "[bootstrap] installing ${missing[*]} with apt" >&2
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null; } ||
      echo "[bootstrap] WARNING: could not install ${missing[*]}; the tests that need them say so and skip" >&2
  fi
fi
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "[bootstrap] installing Node.js and npm with apt" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nodejs npm >/dev/null
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "ceb179 needs Node.js 20 or newer; this machine has $(node --version). Install Node.js 20+ and run again." >&2
  exit 1
fi
stamp=node_modules/.ceb179-lock-hash
hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$hash" ]; then
  echo "[bootstrap] npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$hash" > "$stamp"
fi
