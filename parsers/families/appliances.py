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
"""

from __future__ import annotations

import re

from parsers.textbounce import TextFamily

DOMINO = TextFamily(
    name="domino",
    subjects=re.compile(r"^DELIVERY (?:FAILURE|REPORT):", re.I),
    markers=re.compile(r"was not delivered to:|not listed in (?:Domino|public Name & Address)",
                       re.I),
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

FAMILIES = (DOMINO, IMAIL, INTERSCAN, VERIZON)
