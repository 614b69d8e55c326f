"""The ordered list of families. Order matters: specific before generic.

Complaints first (an ARF report is unambiguous and must never be read as a
bounce); Amazon SES events (JSON, whose footer would look like an unsubscribe
link); then standard DSNs. Auto-replies and unsubscribe requests come next,
ahead of the heuristic bounce readers: they refuse anything that looks like a
delivery report (``_hints.is_delivery_report``), so no bounce is lost to
them, while an out-of-office reply that quotes an error ("Error message
below: 550 ...") is no longer taken for a bounce by a text family that
trusts body markers alone (the labelled corpus gives the same verdicts
either way; their header checks are also cheaper than the body scans). Then the non-standard MTAs, each recognised by
its own signature; the generic plain-text bounce reader last, because it
trusts only "this is a bounce" headers.
"""

from __future__ import annotations

from returnpath.parsers.base import Family
from returnpath.parsers.families import (
    amazonses,
    appliances,
    arf,
    exchange,
    generic,
    google,
    james,
    japan,
    rfc3464,
    rfc3834,
    unsubscribe,
)

FAMILIES: tuple[Family, ...] = (
    arf.FAMILY,
    amazonses.FAMILY,
    rfc3464.FAMILY,
    rfc3834.FAMILY,
    unsubscribe.FAMILY,
    google.GROUPS,
    google.GMAIL,
    exchange.FAMILY,
    james.FAMILY,
    *japan.FAMILIES,
    *appliances.FAMILIES,
    generic.FAMILY,
)
