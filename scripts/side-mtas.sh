#!/usr/bin/env bash
# Exim and OpenSMTPD side by side with Postfix, for the bounce factory (tests/factory/).
#
# Debian's exim4-daemon-light and opensmtpd packages each conflict with postfix (installing
# one removes the others), so their binaries are extracted from the .debs into
# $RETURNPATH_MTAS (default /opt/returnpath-mtas) and run privately on loopback by the tests:
#   $RETURNPATH_MTAS/exim/usr/sbin/exim4        (tests/mta.py PrivateExim)
#   $RETURNPATH_MTAS/opensmtpd/usr/sbin/smtpd   (tests/factory/mtas.py PrivateOpenSMTPD)
# Needs root and apt-get; does nothing when both binaries are already there.
set -uo pipefail

DEST="${RETURNPATH_MTAS:-/opt/returnpath-mtas}"
if [ -x "$DEST/exim/usr/sbin/exim4" ] && [ -x "$DEST/opensmtpd/usr/sbin/smtpd" ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "side-mtas: root and apt-get needed to extract Exim and OpenSMTPD into $DEST" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# the run-time libraries of both binaries (none of them conflicts with postfix)
libs="libidn12 libevent-2.1-7 libgnutls-dane0 libdb5.3 libssl3 libpcre2-8-0 libnsl2"
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $libs >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends $libs >/dev/null; } \
  || { echo "side-mtas: could not install $libs" >&2; exit 1; }

getent group Debian-exim >/dev/null || groupadd --system Debian-exim
getent passwd Debian-exim >/dev/null \
  || useradd --system --gid Debian-exim --no-create-home --shell /usr/sbin/nologin Debian-exim
for name in opensmtpd opensmtpq; do
  getent group "$name" >/dev/null || groupadd --system "$name"
  getent passwd "$name" >/dev/null \
    || useradd --system --gid "$name" --home-dir /var/lib/opensmtpd/empty --no-create-home \
         --shell /usr/sbin/nologin "$name"
done
mkdir -p /var/lib/opensmtpd/empty /var/spool/smtpd  # smtpd's chroot, and its spool's mount point

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(
  cd "$work" && chmod 777 . \
    && apt-get download exim4-daemon-light opensmtpd >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null 2>&1 && apt-get download exim4-daemon-light opensmtpd >/dev/null; }
) || { echo "side-mtas: apt-get download failed" >&2; exit 1; }
mkdir -p "$DEST"
dpkg-deb -x "$work"/exim4-daemon-light_*.deb "$DEST/exim"
dpkg-deb -x "$work"/opensmtpd_*.deb "$DEST/opensmtpd"
if ldd "$DEST/exim/usr/sbin/exim4" "$DEST/opensmtpd/usr/sbin/smtpd" | grep "not found" >&2; then
  echo "side-mtas: a library is missing (above)" >&2
  exit 1
fi
echo "side-mtas: Exim and OpenSMTPD extracted under $DEST"
