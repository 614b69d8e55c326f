"""Small helpers shared by the bounce family tests."""

from __future__ import annotations

import email
from email import policy
from email.message import Message
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "bounces"


def load(name: str) -> Message:
    """A fixture as the parsers see it (compat32)."""
    return email.message_from_bytes((FIXTURES / name).read_bytes(), policy=policy.compat32)


def message(raw: str) -> Message:
    """A message written inline in a test."""
    return email.message_from_string(raw, policy=policy.compat32)
