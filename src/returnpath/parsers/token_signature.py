"""What a tenant's secret signs in a return-path token, and the hashes a token may carry.

The MAC covers a context string (the format's version, the tenant's bounce
domain, the prefix) and then every character of the local part before the
MAC, so that a token presented on another tenant's domain, or with its prefix
changed, fails even if two tenants shared a secret. Why 65 bits, and why the
hashes are as long as they are: ``signing``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from returnpath.parsers.token_layout import (
    MAC_CHARS,
    MID_HASH_BITS,
    RCPT_HASH_BITS,
    VERSION,
    to_base32,
)


def new_secret() -> bytes:
    """A fresh 32-byte tenant secret."""
    return secrets.token_bytes(32)


def signed_text(tail: str | None, unsigned_head: str) -> str:
    """The token's characters before the MAC: ``[recipient "="] "1" body``."""
    return f"{tail}={unsigned_head}" if tail is not None else unsigned_head


def mac(secret: bytes, domain: str, prefix: str, signed: str) -> str:
    """The MAC's 13 base32 characters over the context and ``signed``."""
    context = f"returnpath-verp-v{VERSION}\0{domain}\0{prefix}\0{signed}".encode()
    digest = hmac.new(secret, context, hashlib.sha256).digest()
    value = int.from_bytes(digest[:9], "big") >> (72 - 5 * MAC_CHARS)
    return to_base32(value, MAC_CHARS)


def recipient_hash(recipient: str) -> bytes:
    """64 bits of SHA-256 of a normalised recipient (no secret: the MAC guards it)."""
    digest = hashlib.sha256(b"returnpath-rcpt\0" + recipient.encode()).digest()
    return digest[: RCPT_HASH_BITS // 8]


def message_id_hash(message_id: str) -> bytes:
    """32 bits of SHA-256 of a message id: a consistency check."""
    data = message_id.encode("utf-8", "surrogatepass")  # hints come from the Internet
    digest = hashlib.sha256(b"returnpath-mid\0" + data).digest()
    return digest[: MID_HASH_BITS // 8]
