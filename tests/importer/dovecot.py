"""A private Dovecot (Debian's dovecot-imapd and dovecot-pop3d) for the importer's tests.

A throwaway configuration on loopback ports, users in a passwd-file, TLS with a
certificate of a throwaway CA (trustme), mail in Maildirs under the test's own
folder. Started in the foreground (``dovecot -F``) so the test owns the process
and stops it. Missing Dovecot: skipped locally, a failure in CI.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.services import free_port, in_ci

PASSWORD = "s3cret-for-tests"
USERS = tuple(f"bounces{n}" for n in range(1, 11))


@dataclass
class Dovecot:
    root: Path
    ca_file: Path
    imap: int  # STARTTLS or plain
    imaps: int
    pop3: int
    pop3s: int
    process: subprocess.Popen[bytes] | None = None
    _next_user: int = 0

    def user(self) -> str:
        """A user no other test has used: each test starts with empty mailboxes."""
        name = USERS[self._next_user]
        self._next_user += 1
        return name

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["dovecot", "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.imap), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"Dovecot did not start: {self.log()}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.process = None

    def kick(self, user: str) -> None:
        """Disconnect the user's sessions, as a server restarting or a proxy timing out does."""
        conf = str(self.root / "dovecot.conf")
        subprocess.run(["doveadm", "-c", conf, "kick", user], check=True, capture_output=True)

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


def _config(root: Path, d: Dovecot, uid: int, gid: int, login_user: str) -> str:
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {login_user}
default_login_user = {login_user}
first_valid_uid = {uid}
first_valid_gid = {gid}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {d.imap}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {d.imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {d.pop3}
  }}
  inet_listener pop3s {{
    address = 127.0.0.1
    port = {d.pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
"""


@pytest.fixture(scope="module")
def dovecot() -> Iterator[Dovecot]:
    if shutil.which("dovecot") is None:
        message = "Dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)"
        if in_ci():
            pytest.fail(message + " (CI=true: service tests must not skip)")
        pytest.skip(message)
    # not under pytest's folders: those are private to root, and the mail user must reach
    # its home (Dovecot answers "Temporary authentication failure" otherwise)
    root = Path(tempfile.mkdtemp(prefix="returnpath-dovecot-"))
    root.chmod(0o755)
    ca = trustme.CA()
    ca.cert_pem.write_to_path(str(root / "ca.pem"))
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(root / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(root / "cert.pem"))
    for name in ("run", "state", "home"):
        (root / name).mkdir()
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in USERS))
    if os.geteuid() == 0:  # mail is never owned by root: nobody's
        nobody = pwd.getpwnam("nobody")
        uid, gid, login_user = nobody.pw_uid, nobody.pw_gid, "dovenull"
        os.chown(root / "home", uid, gid)
    else:
        uid, gid = os.getuid(), os.getgid()
        login_user = pwd.getpwuid(uid).pw_name
    d = Dovecot(root, root / "ca.pem", free_port(), free_port(), free_port(), free_port())
    (root / "dovecot.conf").write_text(_config(root, d, uid, gid, login_user))
    d.start()
    try:
        yield d
    finally:
        d.stop()
        shutil.rmtree(root, ignore_errors=True)
