#!/usr/bin/env bash
# Start PostgreSQL and RabbitMQ on this machine if they are down, and wait until they answer.
set -uo pipefail

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; }
if ! pg_up; then
  echo "starting PostgreSQL"
  for v in $(ls /etc/postgresql 2>/dev/null); do
    pg_ctlcluster --skip-systemctl-redirect "$v" main start || true
  done
fi
for _ in $(seq 60); do pg_up && break; sleep 1; done
pg_up || { echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

rabbit_up() { timeout 30 rabbitmqctl -q await_startup >/dev/null 2>&1; }
if ! rabbit_up; then
  echo "starting RabbitMQ"
  rabbitmq-server -detached || true
  for _ in $(seq 60); do rabbit_up && break; sleep 2; done
fi
rabbit_up || { echo "RabbitMQ is not reachable on 127.0.0.1:5672" >&2; exit 1; }
echo "services: PostgreSQL and RabbitMQ are up"
