"""Who a finding is about and whether the bounce proved it: the return-path token.

A finding carries the token the parsers found (undecoded). With the tenant's
signing keys we verify it (``parsers.signing``); a valid signature makes the
finding ``verified``, names the recipient we actually sent to (which beats
a forwarded Final-Recipient), and tells the stream. Anything else leaves the
finding unverified — the token may still *name* the recipient when the
report names none, but it is never trusted for that.

Unsubscribes (mailed to the return path as RFC 2369's ``mailto:``, or posted
as RFC 8058's one-click) are judged like every other finding: only a valid
token makes them count (``policy.untrusted_because``), and then for the recipient the
token was issued for, not for the request's From. The token is the proof, as
the one-click POST (which has no From at all) already assumed: whoever holds
the message can unsubscribe the address it was sent to, from its stream, and
nobody else. Requiring the From to equal that address as well would refuse
people who read their mail through an alias or a forward, and proves nothing
a forger could not write. A token carrying only a hash of the recipient is
the exception: the From is then the only name on offer, and it must hash to
the token's (``verify_return_path``'s ``recipient_hint``). People unsubscribe
from mail read long after it was sent: unsubscribes accept tokens up to
``UNSUBSCRIBE_TOKEN_AGE`` old, the age the one-click route has always allowed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from returnpath.parsers import signing
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.signing import MAX_TOKEN_AGE
from returnpath.parsers.verp import decode_token
from returnpath.parsers.vocabulary import Reason
from returnpath.store.db import Store
from returnpath.store.models import utcnow
from returnpath.store.tenants import load_context

#: How old a token an unsubscribe may present (the one-click route's 400 days).
UNSUBSCRIBE_TOKEN_AGE = timedelta(days=400)


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
    max_age: timedelta = MAX_TOKEN_AGE,
) -> Attribution:
    if not finding.token:
        return NO_TOKEN
    if finding.kind == Kind.UNSUBSCRIBE:
        max_age = max(max_age, UNSUBSCRIBE_TOKEN_AGE)
    live = {
        kid: secret
        for kid, (secret, retire_at) in keys.items()
        if retire_at is None or retire_at > now
    }
    result = signing.verify_return_path(
        finding.token, secrets=live, domain=domain, max_age=max_age, now=now
    )
    if result.status is signing.Status.UNATTRIBUTED and finding.recipient:
        # The token carries only a hash of the recipient: the report's own recipient must match it.
        result = signing.verify_return_path(
            finding.token,
            secrets=live,
            domain=domain,
            max_age=max_age,
            now=now,
            recipient_hint=finding.recipient,
        )
    if result.verified:
        return Attribution(
            True, result.recipient or finding.recipient, result.message_id, result.stream, "valid"
        )
    if result.status is not signing.Status.NOT_SIGNED:
        # Signed but not valid (tampered, expired, foreign, retired key): name, never trust.
        return Attribution(False, result.recipient, result.message_id, None, str(result.status))
    decoded = decode_token(finding.token)
    if decoded is None:
        return Attribution(False, None, None, None, "malformed")
    return Attribution(False, decoded.recipient, decoded.message_id, None, "not_signed")


async def attribute_address(
    store: Store, tenant_id: int, address: str, *, max_age_days: int | None = None
) -> Attribution:
    """Verify a whole return-path address with the tenant's keys (the API's /verify, one-click)."""
    local, _, domain = address.strip().strip("<>").rpartition("@")
    token = local.split("+", 1)[1] if "+" in local else ""
    async with store.read() as session:
        context = await load_context(session, tenant_id)
    return attribute(
        Finding(kind=Kind.UNKNOWN, reason=Reason.UNDEFINED, token=token or None),
        context.signing_keys,
        domain.lower(),
        utcnow(),
        max_age=timedelta(days=max_age_days) if max_age_days else MAX_TOKEN_AGE,
    )
