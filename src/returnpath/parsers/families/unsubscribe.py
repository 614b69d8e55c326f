"""Unsubscribe requests sent to a ``mailto:`` List-Unsubscribe address (RFC 2369).

Decision (what counts as an unsubscribe):

1. the message is addressed to an unsubscribe mailbox — a local part that
   starts with ``unsubscribe``/``unsub``/``optout``/``opt-out`` (optionally
   followed by ``+TOKEN`` or ``-TOKEN``), or the list-manager style
   ``NAME-unsubscribe`` / ``NAME-leave``. Families see only the message, not
   the SMTP envelope, so the envelope recipient is read from the trace
   headers the receiving MTA adds (``Delivered-To``, ``X-Original-To``,
   ``Envelope-To``, ``X-Envelope-To``) and then ``To:``; or
2. its subject is an unsubscribe command: "unsubscribe", alone or followed by
   a token (``mailto:u@…?subject=unsubscribe%20TOKEN`` is what senders
   publish and what Gmail, Apple Mail and Outlook send when the user presses
   "Unsubscribe"), in English or a few common translations.

Not taken here: Apple Mail's button (``X-Apple-Unsubscribe: true``), which
the ``arf`` family reads as a complaint of type ``opt-out`` because the
labelled corpus does; and never delivery reports or auto-replies (an
out-of-office answering the unsubscribe mailbox is not a request), which
earlier families or the bounce markers claim.

Verdict: kind ``unsubscribe``, reason ``mailto`` — the reason names the
channel, so routing keys read ``unsubscribe.mailto`` next to the API's
one-click ``unsubscribe.oneclick`` (RFC 8058). The recipient is the sender
(``From:``; ``Sender:``/``Return-Path`` as fallbacks); a token after the
command word in the subject is kept in ``token``.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family
from returnpath.parsers.families._signals import is_delivery_report
from returnpath.parsers.mime import first_address, header_text
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.vocabulary import Reason

NAME = "unsubscribe"
REASON = Reason.MAILTO

# Headers that carry the envelope recipient or the address written by the user.
RECIPIENT_HEADERS: tuple[str, ...] = (
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "To",
)

# Local parts of unsubscribe mailboxes.
UNSUBSCRIBE_LOCAL: re.Pattern[str] = re.compile(
    r"^(?:unsubscribe|unsub|optout|opt-out|list-unsubscribe|remove-me)(?:[+\-=._].*)?$"
    r"|^.+-(?:unsubscribe|unsub|leave|optout)(?:[+\-=].*)?$",
    re.IGNORECASE,
)

# Subjects that are an unsubscribe command, with the token (if any) captured.
UNSUBSCRIBE_SUBJECT: re.Pattern[str] = re.compile(
    r"^\s*(?:unsubscribe|unsub|opt[- ]?out|remove\s+me|"
    r"abmelden|abbestellen|d[ée]sinscription|d[ée]sabonner|se\s+d[ée]sabonner|"
    r"darse\s+de\s+baja|baja|cancelar\s+suscripci[oó]n|annulla\s+iscrizione|"
    r"descadastrar|afmelden|uitschrijven|配信停止|退订|отписаться)"
    r"(?:\s*[:\-]?\s*(?P<token>[A-Za-z0-9_.=+/\-]{6,}))?\s*$",
    re.IGNORECASE,
)

# Auto-Submitted values other than "no" mean a machine wrote this.
_AUTOMATED = re.compile(r"^\s*auto-", re.IGNORECASE)


def _subject(msg: Msg) -> str:
    return header_text(msg, "Subject")


def _to_unsubscribe_mailbox(msg: Msg) -> bool:
    for name in RECIPIENT_HEADERS:
        for value in msg.get_all(name) or []:
            addr = first_address(str(value))
            if addr and UNSUBSCRIBE_LOCAL.match(addr.rsplit("@", 1)[0]):
                return True
    return False


class Unsubscribe:
    """Requests to leave, sent to a mailto: List-Unsubscribe address."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        """Addressed to an unsubscribe mailbox, or an unsubscribe subject; never a report."""
        if _AUTOMATED.search(header_text(msg, "Auto-Submitted")):
            return False
        if not (_to_unsubscribe_mailbox(msg) or UNSUBSCRIBE_SUBJECT.search(_subject(msg))):
            return False
        return not is_delivery_report(msg)

    def extract(self, msg: Msg) -> list[Finding]:
        """One finding naming the person who asked to leave."""
        recipient = None
        for name in ("From", "Sender", "Return-Path"):
            recipient = first_address(header_text(msg, name))
            if recipient:
                break
        match = UNSUBSCRIBE_SUBJECT.search(_subject(msg))
        token = match.group("token") if match else None
        return [
            Finding(
                kind=Kind.UNSUBSCRIBE,
                reason=REASON,
                recipient=recipient,
                token=token,
                diagnostic=header_text(msg, "Subject") or None,
                family=NAME,
            )
        ]


FAMILY: Family = Unsubscribe()
