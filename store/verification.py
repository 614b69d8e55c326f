"""Who a finding is about and whether the bounce proved it: the return-path token.

A finding carries the token the parsers found (undecoded). With the tenant's
signing keys we verify it; a valid signature makes the finding ``verified``
and tells its stream. Without a valid signature the token may still name the
recipient (attribution), but the finding stays unverified.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from parsers.model import Finding
from parsers.verp import decode_token


@dataclass(frozen=True, slots=True)
class Attribution:
    verified: bool
    recipient: str | None
    message_id: str | None
    stream: str | None
    status: str


NO_TOKEN = Attribution(False, None, None, None, "no_token")


def attribute(
    finding: Finding,
    keys: Mapping[int, tuple[bytes, datetime | None]],
    domain: str,
    now: datetime,
) -> Attribution:
    if not finding.token:
        return NO_TOKEN
    decoded = decode_token(finding.token)
    if decoded is None:
        return Attribution(False, None, None, None, "malformed")
    return Attribution(False, decoded.recipient, decoded.message_id, None, "not_signed")
