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

# Postfix, the real MTA of the end-to-end DSN test (tests/integration/test_real_postfix.py
# runs a private instance on loopback; the system one is never configured or started).
if ! command -v postfix >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Postfix for the end-to-end DSN test"
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  install_postfix() { apt-get install -y -q --no-install-recommends postfix >/dev/null 2>&1; }
  install_postfix || { apt-get update -q >/dev/null 2>&1 && install_postfix; } \
    || echo "Postfix could not be installed: the end-to-end DSN test will skip" >&2
fi

# Exim and OpenSMTPD beside Postfix, for the bounce factory (tests/integration/test_bounce_factory.py,
# bench/factory.py): their Debian packages would remove Postfix, so scripts/side-mtas.sh extracts
# the binaries under /opt/returnpath-mtas. With CI=true the factory test fails if they are missing.
if [ "$(id -u)" = 0 ]; then
  bash "$(dirname "$0")/side-mtas.sh" || echo "Exim/OpenSMTPD not extracted: the bounce factory test will fail in CI" >&2
fi

# Chromium, the real browser of the web-page tests (tests/integration/test_unsubscribe_page.py,
# driven by Playwright through executable_path: no browser download). With CI=true those tests
# fail if it is missing.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Chromium for the web-page tests"
  export DEBIAN_FRONTEND=noninteractive
  install_chromium() { apt-get install -y -q --no-install-recommends chromium >/dev/null 2>&1; }
  install_chromium || { apt-get update -q >/dev/null 2>&1 && install_chromium; } \
    || echo "Chromium could not be installed: the web-page tests will fail in CI" >&2
fi

# Dovecot, the real IMAP and POP3 server of the importer's tests (tests/importer/dovecot.py
# starts a private instance on loopback; the system one is never configured or started).
# With CI=true those tests fail if it is missing.
if ! command -v dovecot >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Dovecot for the importer's IMAP and POP3 tests"
  export DEBIAN_FRONTEND=noninteractive
  install_dovecot() { apt-get install -y -q --no-install-recommends dovecot-imapd dovecot-pop3d >/dev/null 2>&1; }
  install_dovecot || { apt-get update -q >/dev/null 2>&1 && install_dovecot; } \
    || echo "Dovecot could not be installed: the importer's IMAP/POP3 tests will fail in CI" >&2
fi
