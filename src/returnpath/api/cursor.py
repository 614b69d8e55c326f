"""Opaque cursors: the last row id seen, so pages stay stable while rows are added."""

from __future__ import annotations

import base64

from fastapi import HTTPException


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


def decode(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = text.partition(":")
        if version != "v1":
            raise ValueError(version)
        return int(value)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, "invalid cursor: pass back next_cursor as given") from exc
