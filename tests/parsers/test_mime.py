"""The one MIME helper module: headers, addresses, parts, originals, one memo.

It replaced three modules that each answered some of these questions, two of
them differently; the cases they disagreed on are pinned here.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from returnpath.parsers import mime, parse
from returnpath.parsers.fastparse import message_from_bytes
from tests.parsers.bounce_helpers import message

#: what an address is, as a regex (quadratic on long runs: a reference, not the code)
_PIECES = re.compile(r"[\s<>()\"',;:\[\]]+")
_DOMAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]*", re.ASCII)


def _reference(text: str) -> list[str]:
    found = []
    for piece in _PIECES.split(text):
        if piece.count("@") != 1:
            continue
        local, domain = piece.split("@")
        m = _DOMAIN.match(domain)
        if local and m:
            found.append(f"{local}@{m.group(0).rstrip('.-')}")
    return found


def test_a_doubled_at_sign_is_no_address_and_the_next_one_is_found() -> None:
    # the two old readers disagreed: one said "foo@@bar.com", the other "baz@qux.org"
    assert mime.first_address("foo@@bar.com baz@qux.org") == "baz@qux.org"


def test_an_address_with_two_at_signs_is_skipped_whole() -> None:
    # one old reader said "a@b@c.org", the other "a@b": neither is an address
    assert mime.first_address("a@b@c.org, <d@e.org>") == "d@e.org"
    assert mime.addresses_in("a@b@c.org x@y.org") == ["x@y.org"]


def test_an_address_is_cut_out_of_its_wrapping() -> None:
    assert mime.first_address('"Ann" <ann@example.org.>') == "ann@example.org"
    assert mime.first_address("rfc822;bob@example.net") == "bob@example.net"
    assert mime.first_address("\u3000carol@example.com") == "carol@example.com"


@settings(max_examples=2000, deadline=None)
@given(st.text(alphabet="ab9@.-_ <>()\"',;:[]\t\n\r\x0b\x0c\x1c\u00a0\u00e9+=Z", max_size=30))
def test_the_linear_address_scan_agrees_with_its_reference_regex(text: str) -> None:
    expected = _reference(text)
    assert mime.addresses_in(text) == expected
    assert mime.first_address(text) == (expected[0] if expected else None)


def test_a_folded_header_keeps_its_fold() -> None:
    # the Report's subject shows a folded Subject: as written (one reader unfolded it)
    msg = message("Subject: Undelivered Mail\n Returned to Sender\n\nbody\n")
    assert mime.header_text(msg, "Subject") == "Undelivered Mail\n Returned to Sender"


def test_eight_bit_and_encoded_words_are_read_as_text() -> None:
    msg = message_from_bytes(
        "From: =?utf-8?q?J=C3=B6rg?= <j@example.de>\nSubject: Grüße\n\n.\n".encode()
    )
    assert mime.header_text(msg, "From") == "Jörg <j@example.de>"
    assert mime.header_text(msg, "Subject") == "Grüße"


_GLOBAL_HEADERS = (
    b"From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; "
    b"report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\nfailed\n"
    b"--B\nContent-Type: message/global-headers\n\n"
    b"Message-ID: <g1@example.com>\nTo: =?utf-8?q?J=C3=B6rg?= <j@example.de>\n"
    b"--B--\n"
)


def test_rfc_6533_global_headers_are_a_header_part() -> None:
    # message/global-headers was missing from one of the two sets of header-part types
    msg = message_from_bytes(_GLOBAL_HEADERS)
    [original] = mime.attached_originals(msg)
    assert original["Message-ID"] == "<g1@example.com>"
    assert mime.original_message(msg) is original
    assert mime.original_message_id(msg) == "<g1@example.com>"
    assert "Message-ID" not in mime.report_text(msg)


def test_a_report_naming_nobody_is_read_from_its_global_headers() -> None:
    # no Final-Recipient and no address in the text: the original's To: names the recipient
    report = parse(_GLOBAL_HEADERS)
    assert [(f.recipient, f.original_message_id) for f in report.findings] == [
        ("j@example.de", "<g1@example.com>")
    ]


def test_every_answer_is_memoised_in_one_place_on_the_message() -> None:
    msg = message_from_bytes(_GLOBAL_HEADERS)
    mime.header_text(msg, "From")
    mime.attached_originals(msg)
    mime.report_text(msg)
    memos = [k for k in msg.__dict__ if k.startswith("_returnpath_")]
    assert memos == [mime.MEMO]
