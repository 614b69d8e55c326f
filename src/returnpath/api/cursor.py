"""Opaque cursors: the last row id seen, so pages stay stable while rows are added."""

from __future__ import annotations

import base64

from fastapi import HTTPException


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"v1:{last_id}".encode()).decode().rstrip("=")


# No row id of either backend exceeds a signed 64-bit integer: a larger number in a
# cursor is no position, and the databases refused it with an overflow (a 500 before).
MAX_ID = 2**63 - 1


def decode(cursor: str | None, ceiling: int = MAX_ID) -> int:
    """The last row id a cursor names, at most ``ceiling`` (``Store.max_row_id``):
    a position past the largest id the columns can hold is past every row, and
    the database must not be asked about a number its column type cannot take."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        version, _, value = text.partition(":")
        if version != "v1":
            raise ValueError(version)
        last_id = int(value)
        if not 0 <= last_id <= MAX_ID:
            raise ValueError(value)
        return min(last_id, ceiling)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HTTPException(422, "invalid cursor: pass back next_cursor as given") from exc
