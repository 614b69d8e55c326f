"""Challenge-response and whitelist-confirmation notices: not bounces (issue 17).

A challenge-response filter (TMDA, qconfirm, Spam Arrest, Boxbe and their kind) holds
a message from an unknown sender and mails the return path a request to confirm that
a person sent it ("please confirm you are a human", "your message is held pending
verification"). Such notices often borrow a bounce's clothes: sent from
MAILER-DAEMON, under "Returned mail" or "Undeliverable", with ``Auto-Submitted``.
The address is alive and the message is waiting, not refused: one ``auto_reply``
finding (reason ``undefined``: it is not a report of a failure), never a hard or
soft bounce, and never a suppression.

Why the rules are shapes and not one product's template: the products word their
request differently and change it; what every one of them must say is (1) that the
message is held or quarantined until (2) the sender confirms or verifies itself. Both
must appear in the notice's own text (above the copy of the original: a returned
double-opt-in mail of ours says "please confirm" too), and the notice must quote no
failure reply code: an SMTP refusal that asks the sender to verify itself is a bounce.
A real DSN (a ``message/delivery-status`` part) is read by ``rfc3464`` before this.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family
from returnpath.parsers.families.generic import FAMILY as GENERIC
from returnpath.parsers.gates import gated_search
from returnpath.parsers.mime import first_address, header_text, original_message, report_text
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.smtp_codes import find_reply_code
from returnpath.parsers.textbounce import _inline_original_recipient, marker_found, section_of
from returnpath.parsers.vocabulary import Reason

NAME = "challenge"

#: (1) the message is held until something happens
HELD = re.compile(
    r"\b(?:(?:is|has been|was|being) (?:held|quarantined|placed on hold|put on hold)"
    r"|awaiting (?:your )?(?:verification|confirmation)"
    r"|(?:held|pending) (?:pending|until|for) (?:your )?(?:verification|confirmation|you))",
    re.I,
)
#: (2) ... the sender confirms or verifies itself
CONFIRM = re.compile(
    r"\b(?:(?:confirm|verify|prove) (?:that )?you are (?:a )?(?:human|real person|not a robot"
    r"|not a spammer|a person)"
    r"|(?:confirm|verify) (?:your|the) (?:message|e-?mail|identity|address)"
    r"|challenge[- ]response|sender verification request|whitelist(?:ed)? (?:request|confirm))",
    re.I,
)
#: how much of the notice is read
_SPAN = 8192


def _challenge(msg: Msg) -> str | None:
    """The notice's words that show a challenge (held + confirm), or None."""
    if not marker_found(msg, CONFIRM):  # the report head, lower-cased once per message
        return None
    section = section_of(GENERIC, report_text(msg))[:_SPAN]
    confirm = gated_search(CONFIRM, section)
    if confirm is None or gated_search(HELD, section) is None:
        return None
    code = find_reply_code(section)
    if code is not None and code[0] in "45":
        return None  # a refusal that asks for verification is still a refusal
    return confirm.group(0)


class Challenge:
    """One ``auto_reply`` finding for a challenge-response or whitelist notice."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        return _challenge(msg) is not None

    def extract(self, msg: Msg) -> list[Finding]:
        words = _challenge(msg)
        if words is None:
            return []
        orig = original_message(msg)
        # the protected mailbox: the original's recipient (attached or pasted below the
        # notice), else who sent the notice
        recipient = (
            (first_address(header_text(orig, "To")) if orig is not None else None)
            or _inline_original_recipient(report_text(msg), set())
            or first_address(header_text(msg, "From"))
        )
        return [
            Finding(
                kind=Kind.AUTO_REPLY,
                reason=Reason.UNDEFINED,
                recipient=recipient,
                diagnostic=words,
                family=NAME,
                decided_by="family.challenge.held-until-confirmed",
                evidence=words,
            )
        ]


FAMILY: Family = Challenge()
