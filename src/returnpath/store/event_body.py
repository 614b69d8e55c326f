"""The published event: a versioned JSON document (schema: schemas/event.v1.json).

Consumers deduplicate on ``id`` (also the AMQP ``message_id``). Fields are
only ever added within a version; a rename or removal is a new version.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from returnpath.store.models import rfc3339

VERSION = 1
#: additions within a version: 1 = ``decided_by`` and ``evidence`` (issue 17); 2 = ``effect``,
#: ``effect_reason`` and ``effect_detail`` (issue 11). A consumer that reads version 1 reads
#: every minor of it; absent means 0.
MINOR = 2


def routing_key(kind: str, reason: str) -> str:
    return f"{kind}.{reason}"


FIELDS = (
    "kind",
    "reason",
    "recipient",
    "status",
    "smtp_code",
    "diagnostic",
    "remote_mta",
    "reporting_mta",
    "feedback_type",
    "original_message_id",
    "family",
    "stream",
    "verified",
    "decided_by",
    "evidence",
    "effect",
    "effect_reason",
    "effect_detail",
)


def event_body(event: Mapping[str, Any], tenant: str, message_uid: str) -> dict[str, Any]:
    """The JSON document for an event row (as written by store.ingest)."""
    return {
        "version": VERSION,
        "minor": MINOR,
        "id": event["uid"],
        "tenant": tenant,
        "created_at": rfc3339(event["created_at"]),
        **{name: event[name] for name in FIELDS},
        "message": message_uid,
    }
