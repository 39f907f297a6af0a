#!/usr/bin/env bash
# Debian packages the platform needs; installs only what is missing.
#   bash infra/system.sh       everything the tests and benchmarks use (make test)
#   bash infra/system.sh run   only the database servers (make run)
set -euo pipefail
need=()
if [ "${1:-all}" != run ]; then
  command -v dovecot >/dev/null || need+=(dovecot-imapd)
  command -v mbsync >/dev/null || need+=(isync)
  command -v chromium >/dev/null || need+=(chromium)
fi
command -v pg_ctlcluster >/dev/null || need+=(postgresql)
command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || need+=(mariadb-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
