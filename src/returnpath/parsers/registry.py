"""The ordered list of families: ``parsers.parse`` tries them top to bottom, and
the first that recognises a message and reads findings from it names it.
Order matters: specific before generic.

Complaints first (an ARF report is unambiguous and must never be read as a
bounce); Amazon SES events (JSON, whose footer would look like an unsubscribe
link); then standard DSNs; then challenge-response notices, which dress as
bounces but report a held message, not a refused one. Auto-replies and unsubscribe requests come next,
ahead of the heuristic bounce readers: they refuse anything that looks like a
delivery report (``families._signals.is_delivery_report``), so no bounce is
lost to them, while an out-of-office reply that quotes an error ("Error
message below: 550 ...") is no longer taken for a bounce by a text family
that trusts body markers alone (the labelled corpus gives the same verdicts
either way; their header checks are also cheaper than the body scans). Then
the providers and appliances with formats of their own, each recognised by
its own signature; then the common MTAs, whose plain-text bounces the
generic reader reads and whose template's words name them; the generic
plain-text bounce reader, which trusts only "this is a bounce" headers; and
last the fallback, for a delivery failure nobody could read.
"""

from __future__ import annotations

from returnpath.parsers.base import Family
from returnpath.parsers.families import (
    amazonses,
    arf,
    challenge,
    courier,
    domino,
    exchange,
    exim,
    ezweb,
    fallback,
    fml,
    generic,
    gmail,
    googlegroups,
    imail,
    interscan,
    james,
    kddi,
    opensmtpd,
    postfix,
    qmail,
    rfc3464,
    rfc3834,
    sendmail,
    unsubscribe,
    verizon,
)

FAMILIES: tuple[Family, ...] = (
    arf.FAMILY,
    amazonses.FAMILY,
    rfc3464.FAMILY,
    challenge.FAMILY,
    rfc3834.FAMILY,
    unsubscribe.FAMILY,
    googlegroups.FAMILY,
    gmail.FAMILY,
    exchange.FAMILY,
    james.FAMILY,
    kddi.FAMILY,
    ezweb.FAMILY,
    domino.FAMILY,
    imail.FAMILY,
    interscan.FAMILY,
    verizon.FAMILY,
    fml.FAMILY,
    postfix.FAMILY,
    exim.FAMILY,
    sendmail.FAMILY,
    qmail.FAMILY,
    courier.FAMILY,
    opensmtpd.FAMILY,
    generic.FAMILY,
    fallback.FAMILY,
)
