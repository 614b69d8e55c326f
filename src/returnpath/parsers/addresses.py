"""One way to write an address, everywhere: the key suppressions are looked up by.

The sender's check, the bounce's recipient, the signed return path's recipient
and the tenant's bounce domain all pass through here, so that a bounce naming
an address one way and a check naming it another way meet on one key. Pure:
no I/O, nothing of ours imported (the parsers, the store and the API use it).

Domains are case-insensitive and may be internationalised. An ASCII domain is
only lower-cased (the common case, kept fast: a domain already in A-label form
was converted by whoever wrote it, and stays as written). A domain with any
non-ASCII character goes whole through UTS 46 mapping and IDNA 2008 (the
``idna`` package, non-transitional), as mail servers and browsers convert it:
``Straße.de`` is ``xn--strae-oqa.de``, not the ``strasse.de`` of Python's own
``idna`` codec, which implements IDNA 2003 and names another domain. What IDNA
2008 refuses (symbols and emoji, a joiner out of context, a label with a
leading hyphen) is not an address: no mail server can deliver to it.

Local parts are compared case-insensitively by default (``fold_local``),
because virtually every mailbox provider treats them so and a sender who mails
``Alice@`` after ``alice@`` bounced must be stopped.

Inputs on which two earlier normalisers disagreed (the store's and the
signer's), and the answer kept, mostly the suppression list's, which is what
a check is answered from:

========================  =====================  ====================================
input                     answer                 why
========================  =====================  ====================================
``a@b@c.org``             refused                an unquoted local part holds no
                                                 ``@`` (RFC 5322 3.4.1)
``user@example..com``     refused                a domain has no empty label
``"a,b"@x.org``           ``"a,b"@x.org``        quotes that make the local part
                                                 legal stay; quotes that add nothing
                                                 go (``"john"@x.org`` is ``john@x.org``)
``mailto:ann@x.org``      ``ann@x.org``          a ``mailto:`` URI names the address
                                                 (List-Unsubscribe, imported lists);
                                                 ``:`` is not legal unquoted in a
                                                 local part, so nothing is lost
``MAILTO:@x.org``         refused                after the URI scheme no local part
                                                 is left
control characters,       refused                RFC 5321 allows none in a path, and
NUL, lone surrogates                             PostgreSQL cannot store NUL, nor
(local part or domain)                           UTF-8 a lone surrogate
``ann@x<y.org``,          refused                no domain holds an RFC 5322 special
``ann@x(y).org``                                 (an address literal has its brackets)
========================  =====================  ====================================

The last row, and stripping every ``mailto:`` in front (not only the first),
are new: with them every key is its own key, so that a stored suppression is
found again by the text it is stored under.
"""

from __future__ import annotations

import functools
import re

import idna


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
# Characters that a quoted local part needs its quotes for (RFC 5322 3.2.3 specials and space).
_NEEDS_QUOTES = ' "\\(),:;<>@[]'
# What no domain holds: an empty label (the trailing dot is gone by then), whitespace, a
# control character, an RFC 5322 special (an address literal has its brackets). One scan.
_BAD_DOMAIN = re.compile(r'^\.|\.\.|[\s\x00-\x1f\x7f\ud800-\udfff()<>\[\]:;@\\,"]')
_BAD_LITERAL = re.compile(r"[\s\x00-\x1f\x7f\ud800-\udfff]")
_SPACE = re.compile(r"\s")  # str.isspace, as one scan
_MAILTO = "mailto:"

# RFC 5321 allows 254 octets in a path; the column is 320 (64 + 1 + 255) for safety.
MAX_LENGTH = 320


def normalise_address(address: str, *, fold_local: bool = True) -> str:
    """The key of an address; raises InvalidAddress when it is not one."""
    if len(address) > MAX_LENGTH + 16:  # room for brackets, spaces, "mailto:"
        raise InvalidAddress("address longer than 320 characters")
    if _PLAIN.fullmatch(address):  # already in normal form: the common case of a bulk check
        return address
    addr = address.strip().strip("<>").strip()
    while addr[: len(_MAILTO)].lower() == _MAILTO:  # so that no key starts with one either
        addr = addr[len(_MAILTO) :]
    if "@" not in addr:
        raise InvalidAddress(f"not an email address: {address!r}")
    local, _, domain = addr.rpartition("@")
    local, domain = local.strip(), domain.strip().rstrip(".")
    quoted = len(local) > 2 and local.startswith('"') and local.endswith('"')
    if quoted and not any(c in local[1:-1] for c in _NEEDS_QUOTES):
        local, quoted = local[1:-1], False  # "john" is john: the quotes add nothing
    if (
        not local
        or not domain
        or (not quoted and "@" in local)  # an unquoted local part holds no @ (RFC 5322)
        or (_BAD_LITERAL if domain.startswith("[") else _BAD_DOMAIN).search(domain) is not None
        or _CONTROL.search(local) is not None
        or (not quoted and _SPACE.search(local) is not None)
    ):
        raise InvalidAddress(f"not an email address: {address!r}")
    ascii_domain = domain.lower() if domain.isascii() else _a_labels(domain)
    if ascii_domain is None:
        raise InvalidAddress(f"bad domain in {address!r}")
    if fold_local:
        local = local.lower()
    normal = f"{local}@{ascii_domain}"
    if len(normal) > MAX_LENGTH:  # IDNA can lengthen a domain
        raise InvalidAddress("address longer than 320 characters")
    return normal


def normalise_domain(domain: str) -> str:
    """The key of a domain (a tenant's bounce domain, a return path's domain).

    Only the domain step of ``normalise_address``: whitespace and a trailing dot
    stripped, ASCII lower-cased, anything else IDNA 2008; raises InvalidAddress
    when IDNA 2008 refuses it. Whether an ASCII domain is a host name is the
    caller's question (a return path asks it, a tenant's domain list does not).
    """
    dom = domain.strip().rstrip(".")
    if dom.isascii():
        return dom.lower()
    ascii_domain = _a_labels(dom)
    if ascii_domain is None:
        raise InvalidAddress(f"not a domain under IDNA 2008: {domain!r}")
    return ascii_domain


def try_normalise_domain(domain: str) -> str | None:
    """``normalise_domain``, or None where it refuses."""
    try:
        return normalise_domain(domain)
    except InvalidAddress:
        return None


@functools.lru_cache(maxsize=65536)
def _a_labels(domain: str) -> str | None:
    """A non-ASCII domain in IDNA 2008 A-labels after UTS 46 mapping, or None.

    Cached: lists repeat few domains many times.
    """
    try:
        return idna.encode(domain, uts46=True).decode("ascii").rstrip(".")
    except UnicodeError:  # idna.IDNAError and its kinds
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
    """``normalise_address``, or None for no address or one it refuses."""
    if not address or len(address) > MAX_LENGTH:
        return None
    try:
        return normalise_address(address, fold_local=fold_local)
    except InvalidAddress:
        return None
