"""Recording a message straight through the store, as the stage does, for store tests."""

from __future__ import annotations

from datetime import timedelta

from returnpath.parsers import parse
from returnpath.store.db import Store
from returnpath.store.ingest import Received, record
from returnpath.store.models import utcnow
from returnpath.store.tenants import TenantRef
from tests.conftest import DOMAIN


async def record_raw(
    store: Store, tenant: TenantRef, raw: bytes, *, days: float = 0, publish: bool = False
) -> str:
    """Parse and record ``raw`` as received ``days`` ago at the bounce domain; its uid."""
    received = Received(
        tenant=tenant,
        raw=raw,
        peer=None,
        mail_from="",
        rcpt_tos=(f"b@{DOMAIN}",),
        received_at=utcnow() - timedelta(days=days),
    )
    return (await record(store, received, parse(raw), publish=publish)).message_uid
