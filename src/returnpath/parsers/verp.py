"""Return-path tokens: the part after '+' in our envelope recipient.

Finding a token (``find_token``) and decoding it (``decode_token``) are two
steps on purpose. Finding is about *where*: the SMTP envelope recipient
``b+TOKEN@bounces.example.com`` first; when the caller has no envelope (an
offline parse, a forwarded bounce) the trace headers the receiving MTA wrote
(``Delivered-To``, ``X-Original-To``, ``Envelope-To``), then the return path
of the original message the bounce quotes (its ``Return-Path``, an
``X-Envelope-From``, or ``envelope-from <…>`` in its ``Received`` lines) — that
address is exactly the one we put on the message.

Decoding is about *what*: a chain of decoders, tried in order. Our signed
tokens (``parsers.signing``) are read first, by ``signed_decoder``; other
formats can be added with ``register_decoder``; classic VERP
(``user=example.com``, as Postfix, Exim and Mailman write it) is always the
last resort. Parsers only decode (pure, no secret): verification of a
signature happens in the store with the tenant's secret, so a recipient read
here from a signed token is *unverified* until then.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from returnpath.parsers._types import Msg
from returnpath.parsers.mime import addresses_in, attached_originals
from returnpath.parsers.signing import Status, decode_unverified

__all__ = [
    "Token",
    "decode_token",
    "decode_verp",
    "find_token",
    "register_decoder",
    "signed_decoder",
    "token_of_address",
    "unregister_decoder",
]


@dataclass(frozen=True, slots=True)
class Token:
    """What a return-path token says. ``scheme`` names the decoder that read it."""

    recipient: str | None
    message_id: str | None
    scheme: str = "verp"


Decoder = Callable[[str], Token | None]

# Separator between the fixed local part and the token: the sub-address
# convention (Postfix recipient_delimiter, Exim local_part_suffix). qmail's
# '-' is not accepted: "list-bounces-mary-ann=example.org" cannot be split
# without knowing the fixed part, and we choose our return-path format.
TOKEN_SEPARATOR = "+"

# Trace headers carrying the envelope recipient, most trustworthy first.
ENVELOPE_HEADERS: tuple[str, ...] = (
    "X-Original-To",
    "Delivered-To",
    "Envelope-To",
    "X-Envelope-To",
)

# Headers of an attached original that carry its envelope sender.
ORIGINAL_SENDER_HEADERS: tuple[str, ...] = ("Return-Path", "X-Envelope-From", "Errors-To")

_ENVELOPE_FROM = re.compile(r"envelope-from\s+<?([^\s<>()\"';]+@[A-Za-z0-9.-]+)", re.I)
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$")
# How many attached parts to inspect: the original is among the first few.
_MAX_PARTS = 32


def find_token(msg: Msg, envelope_recipient: str | None) -> str | None:
    """The return-path token for this message, or None.

    The envelope recipient wins; when it carries no token (feedback-loop
    reports go to a fixed address such as ``fbl@``), trace headers of the
    report and then the return path of the original message it carries are
    tried.
    """
    if envelope_recipient:
        token = token_of_address(envelope_recipient)
        if token:
            return token
    for address in _candidate_addresses(msg):
        token = token_of_address(address)
        if token:
            return token
    return None


def token_of_address(address: str) -> str | None:
    """``b+TOKEN@domain`` -> ``TOKEN`` (everything after the first '+')."""
    address = address.strip().strip("<>").strip()
    local = address.rsplit("@", 1)[0] if "@" in address else address
    if TOKEN_SEPARATOR not in local:
        return None
    return local.split(TOKEN_SEPARATOR, 1)[1] or None


_DECODERS: list[tuple[str, Decoder]] = []


def register_decoder(name: str, decoder: Decoder) -> None:
    """Add a token decoder, tried before the ones already registered.

    A decoder returns a Token for a token it understands and None otherwise;
    it must be pure and must not raise (a raise is treated as None).
    """
    unregister_decoder(name)
    _DECODERS.insert(0, (name, decoder))


def unregister_decoder(name: str) -> None:
    """Remove a decoder registered under ``name`` (no-op when absent)."""
    _DECODERS[:] = [(n, d) for n, d in _DECODERS if n != name]


def decode_token(token: str) -> Token | None:
    """Decode with the registered decoders, then classic VERP; None if nobody can."""
    for _name, decoder in _DECODERS:
        try:
            decoded = decoder(token)
        except Exception:  # a plug-in bug must not break parsing
            decoded = None
        if decoded is not None:
            return decoded
    return decode_verp(token)


def decode_verp(token: str) -> Token | None:
    """Classic VERP: ``user=example.com`` -> ``user@example.com``.

    The last '=' separates local part and domain, so local parts that
    themselves contain '=' or '+' survive (``a=b+c=example.com``).
    """
    local, sep, domain = token.rpartition("=")
    if not sep or not local or not _DOMAIN.match(domain):
        return None
    return Token(recipient=f"{local}@{domain.lower()}", message_id=None, scheme="verp")


def _candidate_addresses(msg: Msg) -> Iterable[str]:
    """Addresses that may be our return path, most trustworthy first."""
    # only an address with a '+' can carry a token (``token_of_address``), and every
    # address found in a header value is a piece of it: values without one are skipped
    for name in ENVELOPE_HEADERS:
        for value in msg.get_all(name) or []:
            text = str(value)
            if TOKEN_SEPARATOR in text:
                yield from _addresses(text)
    for original in attached_originals(msg, _MAX_PARTS):
        for name in ORIGINAL_SENDER_HEADERS:
            for value in original.get_all(name) or []:
                text = str(value)
                if TOKEN_SEPARATOR in text:
                    yield from _addresses(text)
        for received in original.get_all("Received") or []:
            text = str(received)
            if TOKEN_SEPARATOR in text:
                yield from _ENVELOPE_FROM.findall(text)


def _addresses(text: str) -> list[str]:
    return addresses_in(text)


def signed_decoder(token: str) -> Token | None:
    """Our signed tokens, read *unverified* (``signing.decode_unverified``): no secret here."""
    result = decode_unverified(token)
    if result.status is Status.NOT_SIGNED:
        return None
    return Token(recipient=result.recipient, message_id=result.message_id, scheme="signed-v1")


register_decoder("signed-v1", signed_decoder)
