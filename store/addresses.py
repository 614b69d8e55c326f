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


_PLAIN = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9.-]*[a-z0-9]")


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


def try_normalise(address: str | None, *, fold_local: bool = True) -> str | None:
    if not address or len(address) > MAX_LENGTH:
        return None
    try:
        return normalise_address(address, fold_local=fold_local)
    except InvalidAddress:
        return None
