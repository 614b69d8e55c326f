"""The published event: a versioned JSON document (schema: schemas/event.v1.json).

Consumers deduplicate on ``id`` (also the AMQP ``message_id``). Fields are
only ever added within a version; a rename or removal is a new version.
"""

from __future__ import annotations

from typing import Any

from store.models import Event

VERSION = 1


def routing_key(kind: str, reason: str) -> str:
    return f"{kind}.{reason}"


def event_body(event: Event, tenant: str, message_uid: str) -> dict[str, Any]:
    return {
        "version": VERSION,
        "id": event.uid,
        "tenant": tenant,
        "created_at": event.created_at.isoformat(),
        "kind": event.kind,
        "reason": event.reason,
        "recipient": event.recipient,
        "status": event.status,
        "smtp_code": event.smtp_code,
        "diagnostic": event.diagnostic,
        "remote_mta": event.remote_mta,
        "reporting_mta": event.reporting_mta,
        "feedback_type": event.feedback_type,
        "original_message_id": event.original_message_id,
        "family": event.family,
        "stream": event.stream,
        "verified": event.verified,
        "message": message_uid,
    }
