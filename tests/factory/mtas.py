"""The MTAs of the bounce factory: Postfix, Exim and OpenSMTPD, private and on loopback.

Postfix is Debian's package (``apt-get install postfix``). Exim and OpenSMTPD
conflict with it as packages, so scripts/side-mtas.sh extracts their .debs
under ``$RETURNPATH_MTAS`` (default /opt/returnpath-mtas) and they run side by
side. All three get the same short life for a deferred message
(``LIFETIME``) and client timeouts of a few seconds, so that "4xx until the
MTA gives up", "connection refused" and "server never answers" end in a
final DSN within about half a minute.

OpenSMTPD 6.8 compiles its spool (/var/spool/smtpd) and control socket
(/run/smtpd.sock) in, and takes its Reporting-MTA from the host name. So it
runs in its own mount and UTS namespace (``unshare -mu``): a private spool
and /run bind-mounted over those paths, and the host name ``mx.example.net``.
Its client timeouts are compiled in too (300 s waiting for a greeting), which
is why the "timeout" scenario is not run against it (``SKIPS``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tests.factory.dns import NULLMX_NAME, NXDOMAIN_NAME, RESOLV_CONF, SERVFAIL_NAME
from tests.mta import (
    HOSTNAME,
    LOOPBACK,
    PrivateExim,
    PrivatePostfix,
    Route,
    _kill_tree,
    _Managed,
    _run,
    free_port,
    postfix_binary,
    route_target,
    submit,
    wait_for_port,
)

LIFETIME = 20  # seconds a deferred message stays queued before the MTA gives up
MTAS_ROOT = Path(os.environ.get("RETURNPATH_MTAS", "/opt/returnpath-mtas"))
EXIM = MTAS_ROOT / "exim" / "usr" / "sbin" / "exim4"
SMTPD = MTAS_ROOT / "opensmtpd" / "usr" / "sbin" / "smtpd"

#: scenarios an MTA cannot be made to play here, and why (tests/factory/scenarios.py)
SKIPS: dict[str, dict[str, str]] = {
    "opensmtpd": {
        "timeout": "OpenSMTPD 6.8's client timeouts are compiled in (300 s for the greeting)",
    },
}


def missing(name: str) -> str | None:
    """Why MTA ``name`` cannot run on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "private MTA instances must be started as root"
    if name == "postfix":
        return None if postfix_binary() else "postfix is not installed (apt-get install postfix)"
    if name == "exim":
        return None if os.access(EXIM, os.X_OK) else f"no {EXIM} (run scripts/side-mtas.sh)"
    if name == "opensmtpd":
        if shutil.which("unshare") is None:
            return "unshare(1) is missing (util-linux)"
        return None if os.access(SMTPD, os.X_OK) else f"no {SMTPD} (run scripts/side-mtas.sh)"
    return f"unknown MTA {name!r}"


def lifetime(name: str, messages: int) -> int:
    """Seconds a deferred message may stay queued, for ``messages`` submitted at once.

    OpenSMTPD 6.8 works through one relay's queue slowly (its per-host and
    per-route connection limits are compiled in, and ``limit mta`` is gone
    from its grammar): with a fixed 20 s a message refused for good at RCPT
    could expire before its first attempt. Its lifetime grows with the batch.
    """
    return LIFETIME + messages // 8 if name == "opensmtpd" else LIFETIME


#: the domains the MTAs resolve through tests/factory/dns.py (every other route is an address)
DNS_DOMAINS = (NXDOMAIN_NAME, NULLMX_NAME, SERVFAIL_NAME)


def with_private_resolver(root: Path, command: str) -> list[str]:
    """``command`` (a shell line) in a mount namespace whose /etc/resolv.conf names DNS_HOST."""
    resolv = root / "resolv.conf"
    resolv.write_text(RESOLV_CONF)
    return [
        "unshare",
        "--mount",
        "sh",
        "-c",
        f"mount --bind {resolv} /etc/resolv.conf && {command}",
    ]


class FactoryPostfix(PrivatePostfix):
    name = "postfix"
    warns = True  # sends "Action: delayed" warnings before giving up

    def __init__(self, routes: Mapping[str, Route], lifetime: int = LIFETIME) -> None:
        super().__init__(
            routes,
            settings={
                "maximal_queue_lifetime": f"{lifetime}s",
                "bounce_queue_lifetime": f"{lifetime}s",
                "delay_warning_time": "4s",
                "smtp_connect_timeout": "3s",
                "smtp_helo_timeout": "4s",
                "default_destination_concurrency_limit": "20",
                "default_process_limit": "60",
                # MX lookups for DNS_DOMAINS only: every other route is an [address]
                "smtp_dns_support_level": "enabled",
                "smtp_host_lookup": "dns",
            },
        )

    def main_cf(self) -> dict[str, str]:
        settings = super().main_cf()
        dns_routes = ", ".join(f"{domain}=smtp:" for domain in DNS_DOMAINS)
        settings["transport_maps"] = settings["transport_maps"].replace(
            "{ ", f"{{ {dns_routes}, ", 1
        )
        return settings

    def start(self) -> FactoryPostfix:
        """As PrivatePostfix.start, with the master (and so every daemon) on our resolver."""
        self.configure()
        _run([self.postfix, "-c", str(self.etc), "check"])
        _run(with_private_resolver(self.root, f"exec {self.postfix} -c {self.etc} start"))
        self.started = True
        wait_for_port(self.port)
        return self


EXIM_DNS_ROUTER = f"""\
dns_lookup:
  driver = dnslookup
  domains = {" : ".join(DNS_DOMAINS)}
  transport = remote_smtp
  no_more
"""


class FactoryExim(PrivateExim):
    name = "exim"
    warns = True

    def __init__(self, routes: Mapping[str, Route], lifetime: int = LIFETIME) -> None:
        super().__init__(
            str(EXIM),
            routes,
            retry_give_up=f"{lifetime}s",
            delay_warning="4s:1h",
            transport_options="  connect_timeout = 3s\n  command_timeout = 4s",
            extra_routers=EXIM_DNS_ROUTER,
        )
        self.command_prefix = with_private_resolver(self.root, 'exec "$0" "$@"')


OPENSMTPD_CONFIG = """\
# private OpenSMTPD for the returnpath bounce factory: loopback only, manual routes only
queue ttl {lifetime}s
bounce warn-interval 1h
listen on {loopback} port {port}
{actions}
"""


class PrivateOpenSMTPD(_Managed):
    """``smtpd -d`` in its own mount/UTS namespace, relaying each route to a loopback port."""

    name = "opensmtpd"
    warns = False  # warn-interval beyond the lifetime: every DSN it sends is final

    def __init__(self, routes: Mapping[str, Route], lifetime: int = LIFETIME) -> None:
        self.binary = str(SMTPD)
        self.lifetime = lifetime
        self.routes = dict(routes)
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="returnpath-opensmtpd-"))
        self.root.chmod(0o755)
        self.conf = self.root / "smtpd.conf"
        self.proc: subprocess.Popen[bytes] | None = None

    def configure(self) -> None:
        (self.root / "spool").mkdir(mode=0o711)
        (self.root / "spool").chmod(0o711)  # smtpd refuses any other mode
        (self.root / "run").mkdir()
        actions = []
        for n, (domain, route) in enumerate(self.routes.items()):
            host, port = route_target(route)
            actions.append(
                f'action "route{n}" relay host "smtp://{host}:{port}" helo {HOSTNAME}\n'
                f'match from any for domain "{domain}" action "route{n}"'
            )
        actions.append(
            'action "dns" relay helo mx.example.net\n'
            f'match from any for domain {{ {", ".join(DNS_DOMAINS)} }} action "dns"'
        )
        (self.root / "resolv.conf").write_text(RESOLV_CONF)
        self.conf.write_text(
            OPENSMTPD_CONFIG.format(
                lifetime=self.lifetime,
                loopback=LOOPBACK,
                port=self.port,
                actions="\n".join(actions),
            )
        )

    def start(self) -> PrivateOpenSMTPD:
        self.configure()
        _run([self.binary, "-n", "-f", str(self.conf)])
        Path("/var/spool/smtpd").mkdir(parents=True, exist_ok=True)  # the mount point
        inner = (
            f"hostname {HOSTNAME}"
            f" && mount --bind {self.root / 'spool'} /var/spool/smtpd"
            f" && mount --bind {self.root / 'run'} /run"
            f" && mount --bind {self.root / 'resolv.conf'} /etc/resolv.conf"
            f" && exec {self.binary} -d -f {self.conf}"
        )
        self.proc = subprocess.Popen(
            ["unshare", "--mount", "--uts", "sh", "-c", inner],
            stdin=subprocess.DEVNULL,
            stdout=(self.root / "log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        try:
            if self.proc is not None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    _kill_tree(self.proc.pid)
                    self.proc.wait(timeout)
                self.proc = None
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        try:
            return (self.root / "log").read_text(errors="replace")
        except OSError:
            return ""

    def submit(self, sender: str, recipients: list[str], raw: bytes | None = None) -> None:
        submit(self.port, sender, recipients, raw)


FactoryMTA = FactoryPostfix | FactoryExim | PrivateOpenSMTPD

MTA_CLASSES: dict[str, type[FactoryPostfix] | type[FactoryExim] | type[PrivateOpenSMTPD]] = {
    "postfix": FactoryPostfix,
    "exim": FactoryExim,
    "opensmtpd": PrivateOpenSMTPD,
}
