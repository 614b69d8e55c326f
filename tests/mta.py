"""Real MTAs on loopback, for tests and for regenerating tests/fixtures/mta/.

Three pieces:

* ``Sink``: an aiosmtpd server in its own thread that plays the remote
  mail server. It answers RCPT per local part (``gone`` 550 5.1.1, ``later``
  451 4.3.0, ``blocked`` 554 5.7.1) and accepts and records everything else,
  so it can also stand in for returnpath when capturing the DSNs themselves.
* ``PrivatePostfix``: a throw-away Postfix instance (own main.cf/master.cf,
  queue, log) that listens on one loopback port and may deliver only to the
  loopback routes it is given; everything else fails with ``error:``.
* ``PrivateExim``: the same for an Exim binary extracted from the Debian
  package (see scripts/capture-mta-dsns.py); Debian's exim4 package would
  replace Postfix, so it is never installed.

Nothing here listens on or connects to anything but 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pwd
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Self

from aiosmtpd.controller import Controller

LOOPBACK = "127.0.0.1"
HOSTNAME = "mx.example.net"  # never the machine's own name in a generated DSN
CLIENT_HELO = "client.example.net"

#: what the sink says to RCPT TO, by local part (everything else: 250)
REPLIES: dict[str, str] = {
    "gone": "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown in virtual mailbox table",
    "later": "451 4.3.0 <{rcpt}>: Temporary lookup failure",
    "blocked": "554 5.7.1 <{rcpt}>: Recipient address rejected: Rejected due to local policy",
}


def postfix_binary() -> str | None:
    return shutil.which("postfix") or (
        "/usr/sbin/postfix" if os.access("/usr/sbin/postfix", os.X_OK) else None
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


#: where a route points: a port on 127.0.0.1, or (address, port) for another loopback address
Route = int | tuple[str, int]


def route_target(route: Route) -> tuple[str, int]:
    return (LOOPBACK, route) if isinstance(route, int) else route


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {LOOPBACK}:{port}") from None
            time.sleep(0.05)


# --- the remote server ---------------------------------------------------------------


@dataclass
class Received:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


@dataclass
class _Handler:
    replies: Mapping[str, str]
    received: list[Received] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        local = address.rsplit("@", 1)[0].lower()
        reply = self.replies.get(local)
        if reply is not None:
            return reply.format(rcpt=address)
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        with self.cond:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw))
            self.cond.notify_all()
        return "250 2.0.0 Ok: queued"


class Sink:
    """The "remote" server: rejects by local part, records what it accepts."""

    def __init__(self, replies: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.handler = _Handler(dict(REPLIES if replies is None else replies))
        self._controller = Controller(
            self.handler,
            hostname=LOOPBACK,
            port=self.port,
            server_hostname="sink.reject.test",
            decode_data=False,
            data_size_limit=10 * 1024 * 1024,
        )

    def start(self) -> Sink:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def __enter__(self) -> Sink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def received(self) -> list[Received]:
        with self.handler.cond:
            return list(self.handler.received)

    def wait_for(self, count: int, timeout: float) -> list[Received]:
        """Block until ``count`` messages were accepted (or raise TimeoutError)."""
        with self.handler.cond:
            ok = self.handler.cond.wait_for(
                lambda: len(self.handler.received) >= count, timeout=timeout
            )
            if not ok:
                raise TimeoutError(
                    f"sink got {len(self.handler.received)} of {count} messages in {timeout}s"
                )
            return list(self.handler.received)


# --- a message to submit -------------------------------------------------------------


def original_message(sender: str, recipients: list[str], n: int = 1) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Example Sender <{sender}>"
    msg["To"] = ", ".join(recipients)
    msg["Subject"] = f"returnpath real-MTA test message {n}"
    msg["Date"] = format_datetime(dt.datetime.now(dt.UTC).replace(microsecond=0))
    msg["Message-ID"] = f"<mta-test-{n}.{int(time.time())}@sender.example.com>"
    msg.set_content("Hello,\n\nthis message exists to be bounced.\n")
    return msg.as_bytes()


def submit(port: int, sender: str, recipients: list[str], raw: bytes | None = None) -> None:
    """Hand one message to an MTA's smtpd on loopback."""
    body = raw if raw is not None else original_message(sender, recipients)
    with smtplib.SMTP(LOOPBACK, port, local_hostname=CLIENT_HELO, timeout=30) as client:
        refused = client.sendmail(sender, recipients, body)
        if refused:
            raise RuntimeError(f"MTA refused {refused}")


# --- processes -----------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (from /proc), so that only our own processes are ended."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if int(fields[1]) == pid:
            out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _kill_tree(pid: int) -> None:
    for child in _children(pid):
        _kill_tree(child)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)


def _run(cmd: list[str], timeout: float = 30) -> str:
    proc = subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    if proc.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}"
        )
    return proc.stdout + proc.stderr


# --- Postfix -------------------------------------------------------------------------


class _Managed:
    """``with``: start, and stop even when starting failed half-way (temp dirs, daemons)."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()


class PrivatePostfix(_Managed):
    """One private Postfix instance under a temp directory.

    ``routes`` maps a recipient domain to a loopback port: the transport map
    sends that domain to ``smtp:[127.0.0.1]:port``; any other domain gets
    ``error:`` so that nothing ever leaves the machine. The short queue
    lifetimes make a 4.x deferral expire within about a minute.
    """

    def __init__(
        self,
        routes: Mapping[str, Route],
        *,
        settings: Mapping[str, str] | None = None,
    ) -> None:
        binary = postfix_binary()
        if binary is None:
            raise RuntimeError("postfix is not installed")
        self.postfix = binary
        self.postconf = str(Path(binary).with_name("postconf"))
        self.routes = dict(routes)
        self.extra = dict(settings or {})
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="returnpath-postfix-"))
        self.root.chmod(0o755)  # the postfix user must reach data/ and the log
        self.etc = self.root / "etc"
        self.started = False

    # configuration

    def main_cf(self) -> dict[str, str]:
        transport = ", ".join(
            f"{domain}=smtp:[{host}]:{port}"
            for domain, (host, port) in ((d, route_target(r)) for d, r in self.routes.items())
        )
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.root / "queue"),
            "data_directory": str(self.root / "data"),
            "maillog_file": str(self.root / "log" / "maillog"),
            "maillog_file_prefixes": str(self.root),
            "myhostname": HOSTNAME,
            "mydomain": "example.net",
            "myorigin": "$myhostname",
            "mydestination": "",
            "inet_interfaces": LOOPBACK,
            "inet_protocols": "ipv4",
            "mynetworks": "127.0.0.0/8",
            "smtp_bind_address": LOOPBACK,
            "smtp_dns_support_level": "disabled",
            "transport_maps": f"inline:{{ {transport} }}",
            # no route, no delivery: never look anything up, never connect elsewhere
            "default_transport": "error:no delivery outside the test routes",
            "relay_transport": "error:no delivery outside the test routes",
            "local_transport": "error:no local delivery",
            "relayhost": "",
            "alias_maps": "",
            "alias_database": "",
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtputf8_enable": "yes",
            "smtpd_banner": "$myhostname ESMTP",
            "queue_run_delay": "2s",
            "minimal_backoff_time": "2s",
            "maximal_backoff_time": "4s",
            "maximal_queue_lifetime": "30s",
            "bounce_queue_lifetime": "30s",
            "delay_warning_time": "4s",
            "smtp_connect_timeout": "5s",
        }
        settings.update(self.extra)
        return settings

    def configure(self) -> None:
        for sub in ("etc", "queue", "data", "log"):
            (self.root / sub).mkdir(exist_ok=True)
        postfix_user = pwd.getpwnam("postfix")
        os.chown(self.root / "data", postfix_user.pw_uid, postfix_user.pw_gid)
        shutil.copy("/etc/postfix/master.cf", self.etc / "master.cf")
        (self.etc / "main.cf").write_text("# private instance for returnpath tests\n")
        _run([self.postconf, "-c", str(self.etc), "-e", *self._assignments()])
        conf = ["-c", str(self.etc)]
        _run([self.postconf, *conf, "-F", "*/*/chroot = n"])
        # no listener but ours: the default smtpd on port 25 and any other inet service go
        for service in self.inet_listeners():
            _run([self.postconf, *conf, "-M#", f"{service}/inet"])
        _run(
            [
                self.postconf,
                *conf,
                "-M",
                f"{LOOPBACK}:{self.port}/inet = {LOOPBACK}:{self.port} inet n - n - - smtpd",
            ]
        )
        # no pickup: nothing is dropped into maildrop/
        _run([self.postconf, *conf, "-M#", "pickup/unix"])

    def _assignments(self) -> list[str]:
        return [f"{k}={v}" for k, v in self.main_cf().items()]

    # life cycle

    def start(self) -> PrivatePostfix:
        self.configure()
        _run([self.postfix, "-c", str(self.etc), "check"])
        _run([self.postfix, "-c", str(self.etc), "start"])
        self.started = True
        wait_for_port(self.port)
        return self

    def master_pid(self) -> int | None:
        pid_file = self.root / "queue" / "pid" / "master.pid"
        try:
            return int(pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def stop(self, timeout: float = 10.0) -> None:
        """``postfix stop``, then wait for the master; kill our own tree if it hangs."""
        try:
            if self.started:
                pid = self.master_pid()
                with contextlib.suppress(Exception):
                    _run([self.postfix, "-c", str(self.etc), "stop"], timeout=timeout)
                if pid is not None:
                    deadline = time.monotonic() + timeout
                    while _alive(pid) and time.monotonic() < deadline:
                        time.sleep(0.05)
                    if _alive(pid):
                        _kill_tree(pid)
                self.started = False
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    # looking inside

    def log(self) -> str:
        try:
            return (self.root / "log" / "maillog").read_text(errors="replace")
        except OSError:
            return ""

    def submit(self, sender: str, recipients: list[str], raw: bytes | None = None) -> None:
        submit(self.port, sender, recipients, raw)

    def inet_listeners(self) -> list[str]:
        """The master.cf services of type inet that are enabled: where Postfix listens."""
        out = _run([self.postconf, "-c", str(self.etc), "-M"])
        return [line.split()[0] for line in out.splitlines() if line.split()[1:2] == ["inet"]]


# --- Exim ----------------------------------------------------------------------------

EXIM_CONFIG = """\
# private Exim for returnpath fixtures: loopback only, manual routes only
exim_path = {binary}
primary_hostname = {hostname}
qualify_domain = example.net
exim_user = Debian-exim
exim_group = Debian-exim
never_users = root
local_interfaces = <; 127.0.0.1.{port}
daemon_smtp_ports = {port}
disable_ipv6 = true
spool_directory = {root}/spool
log_file_path = {root}/log/%slog
pid_file_path = {root}/exim.pid
host_lookup =
rfc1413_hosts =
acl_smtp_rcpt = acl_check_rcpt
acl_smtp_data = acl_check_data
message_size_limit = 10M
ignore_bounce_errors_after = 30s
timeout_frozen_after = 2m
delay_warning = {delay_warning}
delay_warning_condition = {delay_warning_condition}
smtp_banner = $primary_hostname ESMTP Exim $version_number $tod_full

begin acl

acl_check_rcpt:
  accept hosts = 127.0.0.1
  deny message = relay not permitted

acl_check_data:
  accept

begin routers

{routers}

begin transports

remote_smtp:
  driver = smtp
  interface = 127.0.0.1
  allow_localhost = true
  hosts_try_auth =
  hosts_avoid_tls = *
{transport_options}

begin retry

*  *  F,{retry_give_up},2s

begin rewrite
"""

EXIM_ROUTER = """\
route_{n}:
  driver = manualroute
  domains = {domain}
  transport = remote_smtp
  self = send
  route_list = * {host}::{port} byname
"""

EXIM_FALLBACK = """\
nowhere:
  driver = redirect
  allow_fail
  data = :fail: no delivery outside the test routes
"""


class PrivateExim(_Managed):
    """An Exim daemon from an extracted binary, with a queue runner every 3 s."""

    def __init__(
        self,
        binary: str,
        routes: Mapping[str, Route],
        *,
        retry_give_up: str = "30s",
        delay_warning: str = "6s:1h",
        delay_warnings: bool = True,
        transport_options: str = "",
        extra_routers: str = "",
        command_prefix: Sequence[str] = (),
    ) -> None:
        self.extra_routers = extra_routers
        self.command_prefix = list(command_prefix)
        self.binary = binary
        self.delay_warnings = delay_warnings
        self.transport_options = transport_options
        self.routes = dict(routes)
        self.retry_give_up = retry_give_up
        self.delay_warning = delay_warning
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="returnpath-exim-"))
        self.root.chmod(0o755)
        self.conf = self.root / "exim.conf"
        self.proc: subprocess.Popen[bytes] | None = None

    def configure(self) -> None:
        exim = pwd.getpwnam("Debian-exim")
        for sub in ("spool", "log"):
            (self.root / sub).mkdir(exist_ok=True)
            os.chown(self.root / sub, exim.pw_uid, exim.pw_gid)
            (self.root / sub).chmod(0o750)
        routers = "\n".join(
            EXIM_ROUTER.format(n=n, domain=domain, host=host, port=port)
            for n, (domain, (host, port)) in enumerate(
                (d, route_target(r)) for d, r in self.routes.items()
            )
        )
        self.conf.write_text(
            EXIM_CONFIG.format(
                binary=self.binary,
                hostname=HOSTNAME,
                port=self.port,
                root=self.root,
                routers=routers + "\n" + self.extra_routers + "\n" + EXIM_FALLBACK,
                retry_give_up=self.retry_give_up,
                delay_warning=self.delay_warning,
                delay_warning_condition="true" if self.delay_warnings else "false",
                transport_options=self.transport_options,
            )
        )

    def start(self) -> PrivateExim:
        self.configure()
        _run([self.binary, "-C", str(self.conf), "-bV"])
        # -bdf: stay in the foreground, so that the daemon is our child and its pid is known
        self.proc = subprocess.Popen(
            [*self.command_prefix, self.binary, "-C", str(self.conf), "-bdf", "-q3s"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "log" / "stderr").open("wb"),
        )
        wait_for_port(self.port)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        try:
            if self.proc is not None:
                pid = self.proc.pid
                with contextlib.suppress(ProcessLookupError):
                    self.proc.terminate()
                try:
                    self.proc.wait(timeout)
                except subprocess.TimeoutExpired:
                    _kill_tree(pid)
                    self.proc.wait(timeout)
                self.proc = None
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("mainlog", "paniclog", "rejectlog", "stderr"):
            with contextlib.suppress(OSError):
                parts.append((self.root / "log" / name).read_text(errors="replace"))
        return "\n".join(parts)

    def submit(self, sender: str, recipients: list[str], raw: bytes | None = None) -> None:
        submit(self.port, sender, recipients, raw)


@contextlib.contextmanager
def sink(replies: Mapping[str, str] | None = None) -> Iterator[Sink]:
    with Sink(replies) as s:
        yield s
