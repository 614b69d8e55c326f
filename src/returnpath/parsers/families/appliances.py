"""Mail servers and gateways that write their own plain-text notices.

Each lists the failed recipient as a *directory* verdict: the reporting
system itself looked the address up and found nobody (or relays a refusal
it received at RCPT time). That is why each sets ``command="RCPT"``: the
same words that, after DATA, would mean a content filter (Sisimai's
``filtered``) mean an unknown user here.

* IBM/Lotus Domino: "Your message ... was not delivered to: ADDRESS
  because: User ... not listed in Domino Directory".
* Ipswitch IMail (SMTP32): "Undeliverable Mail", then a reason line with the
  address ("Invalid final delivery userid: ADDRESS"), then "Original message
  follows."
* Trend Micro InterScan MSS: "Unable to deliver message to <ADDRESS>".
* Verizon Wireless MMS gateway: "Message could not be delivered to mobile",
  the address is the original's To:.
* fml (mailing-list manager): error notices to the list admin ("Loop Alert:
  Duplicated Message-ID in <list@example>", "NOT MEMBER article from ...");
  recognised by its ``X-MLServer`` header together with an ``*-admin@``
  sender, since every list post carries that header too.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family, header_text
from returnpath.parsers.model import Finding
from returnpath.parsers.textbounce import ADDR, TextFamily, extract_text_bounce

DOMINO = TextFamily(
    name="domino",
    subjects=re.compile(r"^DELIVERY (?:FAILURE|REPORT):", re.I),
    markers=re.compile(
        r"was not delivered to:|not listed in (?:Domino|public Name & Address)", re.I
    ),
    require_marker=True,
    start=re.compile(r"was not delivered to:", re.I),
    command="RCPT",
)

IMAIL = TextFamily(
    name="imailserver",
    subjects=re.compile(r"Undeliverable Mail", re.I),
    markers=re.compile(r"^Original message follows\.", re.I | re.M),
    require_marker=True,
    command="RCPT",
)

INTERSCAN = TextFamily(
    name="trendmicro",
    markers=re.compile(r"Message from InterScan Messaging Security", re.I),
    require_marker=True,
    command="RCPT",
    reasons=((re.compile(r"check if address is correct", re.I), "userunknown"),),
)

VERIZON = TextFamily(
    name="verizon",
    senders=re.compile(r"@[\w.-]*vzwpix\.com|MMSC NDR", re.I),
    markers=re.compile(r"Message could not be delivered to mobile", re.I),
    require_marker=True,
    command="RCPT",
    reasons=((re.compile(r"No valid recipients", re.I), "userunknown"),),
)


class Fml:
    """fml's notices to a list's admin: the failing party is the address in angle brackets."""

    name = "fml"
    _text = TextFamily(
        name="fml",
        markers=re.compile(
            r"Duplicated Message-ID|loop condition|Loop Back Warning|"
            r"NOT MEMBER article|not a member of this mailing list|"
            r"reject mail from|reject spammers|Security alert",
            re.I,
        ),
        require_marker=True,
        end=re.compile(r"^\s*Original mail as follows", re.I | re.M),
        recipients=(re.compile(rf"<(?P<addr>{ADDR})>"),),
        use_common_recipients=False,
        section_reasons=(
            (
                re.compile(
                    r"Duplicated Message-ID|loop condition|Loop Back Warning|"
                    r"UNIX FROM Loop",
                    re.I,
                ),
                "systemerror",
            ),
            (
                re.compile(
                    r"NOT MEMBER article|not a member of this mailing list|"
                    r"reject mail from|reject spammers|header may cause mail loop",
                    re.I,
                ),
                "rejected",
            ),
            (re.compile(r"Security alert", re.I), "securityerror"),
        ),
    )

    def detect(self, msg: Msg) -> bool:
        if msg.get("X-MLServer") is None or "-admin@" not in header_text(msg, "From"):
            return False
        return self._text.detect(msg)

    def extract(self, msg: Msg) -> list[Finding]:
        return extract_text_bounce(self._text, msg)


FML = Fml()

FAMILIES: tuple[Family, ...] = (DOMINO, IMAIL, INTERSCAN, VERIZON, FML)
