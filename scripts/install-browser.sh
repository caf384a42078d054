#!/usr/bin/env bash
# Installs the browser the Web UI test (test/integration/web-ui.test.ts) drives: Debian's chromium package at
# /usr/bin/chromium. Idempotent: does nothing when it is already there. No browser is downloaded from anywhere
# else (playwright-core only drives it). Exits 0 when /usr/bin/chromium is present afterwards, 1 otherwise.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian's chromium package (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium
elif command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing at $CHROMIUM; install it as root:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
else
  echo "chromium is missing at $CHROMIUM and this is not a Debian/Ubuntu system with apt-get." >&2
  echo "Install a Chromium build so that $CHROMIUM exists (e.g. your distribution's chromium package)." >&2
fi

if [[ -x "$CHROMIUM" ]]; then
  echo "chromium installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
echo "install-browser: $CHROMIUM is still missing" >&2
exit 1
