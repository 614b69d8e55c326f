"""The ordered list of families. Order matters: specific before generic.

Complaints first (an ARF report is unambiguous and must never be read as a
bounce); Amazon SES events (JSON, whose footer would look like an unsubscribe
link); then standard DSNs; then the non-standard MTAs, each recognised by its
own signature; then auto-replies and unsubscribe requests, which refuse
anything that looks like a delivery report; the generic plain-text bounce
reader last, because it trusts only "this is a bounce" headers.
"""

from __future__ import annotations

from parsers.base import Family
from parsers.families import (
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
    google.GROUPS,
    google.GMAIL,
    exchange.FAMILY,
    james.FAMILY,
    *japan.FAMILIES,
    *appliances.FAMILIES,
    rfc3834.FAMILY,
    unsubscribe.FAMILY,
    generic.FAMILY,
)
