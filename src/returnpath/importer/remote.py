"""Mail servers as sources: the URL, the password and the TLS context.

The URL names the server and, for IMAP, the folder; TLS is on unless the URL
says otherwise, and never silently dropped:

==========================  ==============================  ============
URL                         connection                      default port
==========================  ==============================  ============
``imap://`` ``imaps://``    TLS from the first byte         993
``imap+starttls://``        plain, then STARTTLS (required)  143
``imap+plain://``           no TLS at all                   143
``pop3://`` ``pop3s://``    TLS from the first byte         995
``pop3+starttls://``        plain, then STLS (required)     110
``pop3+plain://``           no TLS at all                   110
==========================  ==============================  ============

TLS first by default because RFC 8314 (2018) recommends it over STARTTLS for
mail access. The password is never on the command line, where ``ps`` and the
shell's history show it: it comes from an environment variable or a file.
"""

from __future__ import annotations

import os
import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

DEFAULT_PASSWORD_ENV = "RETURNPATH_IMPORT_PASSWORD"

_SCHEMES: dict[str, tuple[str, str, int]] = {
    # scheme -> (protocol, TLS mode, default port)
    "imap": ("imap", "tls", 993),
    "imaps": ("imap", "tls", 993),
    "imap+starttls": ("imap", "starttls", 143),
    "imap+plain": ("imap", "plain", 143),
    "pop3": ("pop3", "tls", 995),
    "pop3s": ("pop3", "tls", 995),
    "pop3+starttls": ("pop3", "starttls", 110),
    "pop3+plain": ("pop3", "plain", 110),
}


def is_remote(text: str) -> bool:
    return text.split("://", 1)[0].lower() in _SCHEMES and "://" in text


def masked(text: str) -> str:
    """``text`` as it may be repeated in a message: a password typed into a URL hidden."""
    scheme, sep, rest = text.partition("://")
    authority, slash, path = rest.partition("/")
    userinfo, at, host = authority.rpartition("@")
    if sep and at and ":" in userinfo:
        return f"{scheme}://{userinfo.split(':', 1)[0]}:***@{host}{slash}{path}"
    return text


@dataclass(frozen=True, slots=True)
class Remote:
    protocol: str  # imap or pop3
    tls: str  # tls, starttls or plain
    user: str
    host: str
    port: int
    folder: str  # IMAP only; INBOX when the URL names none

    @property
    def label(self) -> str:
        """The URL as it may be shown: no password ever was in it."""
        scheme = {"tls": "", "starttls": "+starttls", "plain": "+plain"}[self.tls]
        where = f"/{self.folder}" if self.protocol == "imap" else ""
        return f"{self.protocol}{scheme}://{self.user}@{self.host}:{self.port}{where}"


def parse_url(text: str) -> Remote:
    """ValueError saying what is wrong, in words an operator can act on."""
    scheme, _, rest = text.partition("://")
    known = _SCHEMES.get(scheme.lower())
    if known is None:
        raise ValueError(f"unknown scheme {scheme!r}: use one of {', '.join(_SCHEMES)}")
    protocol, tls, default_port = known
    # the user may itself hold an @ (bounces@example.com): the host follows the last one
    authority, _, path = rest.partition("/")
    userinfo, at, hostport = authority.rpartition("@")
    if not at or not userinfo:
        raise ValueError(f"{scheme}:// needs a user: {scheme}://USER@HOST[:PORT]")
    if ":" in userinfo:
        raise ValueError(
            "never put the password in the URL (ps and the shell history show it):"
            f" set {DEFAULT_PASSWORD_ENV}, or use --password-env / --password-file"
        )
    parsed = urlsplit(f"//{hostport}")
    try:
        port = parsed.port or default_port
    except ValueError as exc:
        raise ValueError(f"bad port in {hostport!r}") from exc
    if not parsed.hostname:
        raise ValueError(f"no host in {text!r}")
    folder = unquote(path).strip("/") or "INBOX"
    if protocol == "pop3" and path.strip("/"):
        raise ValueError("POP3 has one maildrop per user: no folder after the host")
    return Remote(protocol, tls, unquote(userinfo), parsed.hostname, port, folder)


def read_password(env: str | None, file: Path | None) -> str:
    """From ``--password-file`` (first line), else the environment variable."""
    if file is not None:
        try:
            lines = file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(
                f"cannot read the password file {file}: {exc.strerror or exc}"
            ) from exc
        if not lines or not lines[0]:
            raise ValueError(f"the password file {file} is empty")
        return lines[0]
    name = env or DEFAULT_PASSWORD_ENV
    value = os.environ.get(name)
    if not value:
        raise ValueError(
            f"no password: set the environment variable {name}, or use --password-file"
        )
    return value


def tls_context(ca_file: Path | None, insecure: bool) -> ssl.SSLContext:
    """The system's CAs (or ``ca_file``'s) with host names checked; ``insecure`` checks
    nothing: for a test server or a machine whose certificate you know."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
