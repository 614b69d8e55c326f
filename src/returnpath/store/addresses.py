"""One way to write an address, everywhere: the key suppressions are looked up by.

Domains are case-insensitive and may be internationalised (stored as IDNA
A-labels); local parts are compared case-insensitively by default, because
virtually every mailbox provider treats them so and a sender who mails
``Alice@`` after ``alice@`` bounced must be stopped.
"""

from __future__ import annotations

import functools
import re


class InvalidAddress(ValueError):
    pass


_PLAIN_TEXT = r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)*"
_PLAIN = re.compile(_PLAIN_TEXT)
# RFC 5321 allows no control character in a path, quoted or not (and PostgreSQL
# cannot store NUL, nor UTF-8 a lone surrogate): refused rather than stored as
# a key nobody can mail.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
# A whole list already in normal form, one address per line: one scan instead of 10,000 calls.
_PLAIN_LINES = re.compile(rf"(?:{_PLAIN_TEXT}\n)*")


# RFC 5321 allows 254 octets in a path; the column is 320 (64 + 1 + 255) for safety.
MAX_LENGTH = 320


def normalise_address(address: str, *, fold_local: bool = True) -> str:
    if len(address) > MAX_LENGTH + 16:  # room for brackets, spaces, "mailto:"
        raise InvalidAddress("address longer than 320 characters")
    if _PLAIN.fullmatch(address):  # already in normal form: the common case of a bulk check
        return address
    addr = address.strip().strip("<>").strip()
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    if addr.count("@") < 1:
        raise InvalidAddress(f"not an email address: {address!r}")
    local, _, domain = addr.rpartition("@")
    local, domain = local.strip(), domain.strip().rstrip(".").lower()
    quoted = len(local) > 2 and local.startswith('"') and local.endswith('"')
    if quoted and not any(c in local[1:-1] for c in ' "\\(),:;<>@[]'):
        local, quoted = local[1:-1], False  # "john" is john: the quotes add nothing
    if (
        not local
        or not domain
        or (not quoted and "@" in local)  # an unquoted local part holds no @ (RFC 5322)
        or (not domain.startswith("[") and "" in domain.split("."))  # an empty label: a..b
        or _CONTROL.search(local) is not None
        or any(c.isspace() for c in domain)
        or (not quoted and any(c.isspace() for c in local))
    ):
        raise InvalidAddress(f"not an email address: {address!r}")
    ascii_domain = _domain(domain)
    if ascii_domain is None:
        raise InvalidAddress(f"bad domain in {address!r}")
    if fold_local:
        local = local.lower()
    normal = f"{local}@{ascii_domain}"
    if len(normal) > MAX_LENGTH:  # IDNA can lengthen a domain
        raise InvalidAddress("address longer than 320 characters")
    return normal


@functools.lru_cache(maxsize=65536)
def _domain(domain: str) -> str | None:
    """IDNA A-label of a (lower-cased) domain; cached: lists repeat few domains many times."""
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return None


def normalise_many(addresses: list[str], *, fold_local: bool = True) -> list[str | None]:
    """``normalise_address`` over a list; None where an entry is not an address.

    A campaign list usually arrives in normal form already: that is checked in
    one regex pass over the joined list, and only otherwise address by address.
    """
    lines = "\n".join(addresses) + "\n"
    if (
        addresses
        and lines.count("\n") == len(addresses)  # no entry hides a line break
        and max(map(len, addresses)) <= MAX_LENGTH
        and _PLAIN_LINES.fullmatch(lines)
    ):
        return list(addresses)
    normal: list[str | None] = []
    for raw in addresses:
        try:
            normal.append(normalise_address(raw, fold_local=fold_local))
        except InvalidAddress:
            normal.append(None)
    return normal


def try_normalise(address: str | None, *, fold_local: bool = True) -> str | None:
    if not address or len(address) > MAX_LENGTH:
        return None
    try:
        return normalise_address(address, fold_local=fold_local)
    except InvalidAddress:
        return None
