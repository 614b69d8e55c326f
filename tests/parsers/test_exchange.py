"""Exchange 2003-era plain-text non-delivery reports."""

from __future__ import annotations

from returnpath.parsers.families.exchange import FAMILY
from tests.parsers.bounce_helpers import load, message


def test_recipient_is_the_unreached_one_not_the_original_to() -> None:
    msg = load("exchange2003.eml")
    assert FAMILY.detect(msg)
    [f] = FAMILY.extract(msg)
    assert (f.recipient, f.reason, f.kind.value) == (
        "left.company@corp.example.com",
        "userunknown",
        "hard_bounce",
    )


def test_x400_gateway_address() -> None:
    msg = message(
        "From: postmaster@corp.example\nSubject: Undeliverable: hi\n\n"
        "Your message\n  To: x\ndid not reach the following recipient(s):\n\n"
        "c=US;a= ;p=Corp;o=Gw;dda:SMTP=old.user@corp.example; on Fri, 4 Oct 2002\n"
        "    The recipient name is not recognized\n"
    )
    assert [f.recipient for f in FAMILY.extract(msg)] == ["old.user@corp.example"]


def _ndr(details: str):  # type: ignore[no-untyped-def]
    return message(
        "From: postmaster@corp.example\nSubject: Undeliverable: hi\n\n"
        "Your message\n  To: x\ndid not reach the following recipient(s):\n\n"
        "user@corp.example on 4/29/01 11:34:45 PM\n" + details
    )


def test_msexch_error_numbers_name_the_cause() -> None:
    [f] = FAMILY.extract(
        _ndr(
            "    The recipient name is not recognized\n"
            "    MSEXCH:IMS:CORP:SITE:SRV 0 (000C05A6) Unknown Recipient\n"
        )
    )
    assert (f.reason, f.kind.value) == ("userunknown", "hard_bounce")
    [f] = FAMILY.extract(_ndr("    MSEXCH:IMS:CORP:SITE:SRV 0 (00120270) Too Many Hops\n"))
    assert f.reason == "networkerror"


def test_not_found_without_a_number_or_command_is_a_refusal() -> None:
    [f] = FAMILY.extract(_ndr("    Recipient Not Found\n    MSEXCH:IMC:CORP:SITE:SRV\n"))
    assert (f.reason, f.kind.value) == ("filtered", "soft_bounce")
