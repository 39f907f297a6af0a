#!/usr/bin/env bash
# Start PostgreSQL and MariaDB on 127.0.0.1 if they are down; say how otherwise.
set -uo pipefail
fail=0
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "PostgreSQL is down; starting it"
  if command -v pg_ctlcluster >/dev/null && ls /etc/postgresql >/dev/null 2>&1; then
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  fi
  for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  pg_isready -q -h 127.0.0.1 -p 5432 || { echo "error: PostgreSQL at 127.0.0.1:5432 is not reachable." \
    "Start it (pg_ctlcluster ... main start) or: docker compose -f docker-compose.localstack.yml up -d postgres" >&2; fail=1; }
fi
if ! mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1; then
  echo "MariaDB is down; starting it"
  if [ -x /usr/sbin/mariadbd ]; then
    mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null || true
    start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || true
  fi
  for _ in $(seq 30); do mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1 && break; sleep 1; done
  mysqladmin --protocol=tcp -h 127.0.0.1 -P 3306 -uroot ping >/dev/null 2>&1 || { echo "error: MariaDB at" \
    "127.0.0.1:3306 is not reachable. Start it (start-stop-daemon ... mariadbd) or:" \
    "docker compose -f docker-compose.localstack.yml up -d mysql" >&2; fail=1; }
fi
exit $fail
