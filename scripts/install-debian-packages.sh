#!/usr/bin/env bash
# Installs the Debian packages the test suites drive for real: chromium (the Web UI browser test, driven by
# playwright-core; no browser is downloaded from anywhere else), prometheus (for its promtool, which checks
# deploy/prometheus/alerts.yml and the Grafana queries), and for `npm run cluster` and its tests PostgreSQL (the
# cluster's database) and HAProxy (the gRPC load balancer). Idempotent: installs only what is missing. Exits 0 when
# every tool is present afterwards, 1 otherwise.
#
# Arguments narrow it to some packages: `install-debian-packages.sh haproxy postgresql` (what `npm run cluster` asks for).
set -euo pipefail

# tool path → Debian package that ships it
declare -A TOOLS=([/usr/bin/chromium]=chromium [/usr/bin/promtool]=prometheus [/usr/sbin/haproxy]=haproxy
  [/usr/lib/postgresql/*/bin/postgres]=postgresql)

if [[ $# -gt 0 ]]; then
  for tool in "${!TOOLS[@]}"; do
    [[ " $* " == *" ${TOOLS[$tool]} "* ]] || unset "TOOLS[$tool]"
  done
fi

# A path may hold a glob (PostgreSQL's binaries live under their major version).
present() { compgen -G "$1" >/dev/null && [[ -x "$(compgen -G "$1" | head -n1)" ]]; }

missing=()
for tool in "${!TOOLS[@]}"; do
  if present "$tool"; then echo "present: $tool"; else missing+=("${TOOLS[$tool]}"); fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

if [[ "$(id -u)" -eq 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "missing Debian packages: ${missing[*]}; install them as root:" >&2
  echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
fi

status=0
for tool in "${!TOOLS[@]}"; do
  if present "$tool"; then echo "installed: $tool"; else echo "install-debian-packages: $tool is still missing" >&2; status=1; fi
done
exit $status
