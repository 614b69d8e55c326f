"""A headers-only part is parsed once when both readers see the same text."""

from __future__ import annotations

import base64

from returnpath.parsers import mime
from returnpath.parsers.fastparse import message_from_bytes

_DSN = (
    b"From: MAILER-DAEMON@mx.example.net\nContent-Type: multipart/report; "
    b"report-type=delivery-status; boundary=B\n\n--B\nContent-Type: text/plain\n\nfailed\n"
    b"--B\nContent-Type: text/rfc822-headers\n%s\n%s\n--B--\n"
)
_HEADERS = b"Message-ID: <m1@example.com>\nReturn-Path: <b+tok@example.com>\n"


def test_plain_headers_part_is_parsed_once() -> None:
    msg = message_from_bytes(_DSN % (b"", _HEADERS))
    original = mime.original_message(msg)
    assert original is not None and original["Message-ID"] == "<m1@example.com>"
    assert mime.attached_originals(msg) == [original]
    assert mime.attached_originals(msg)[0] is original


def test_encoded_headers_part_read_by_both() -> None:
    msg = message_from_bytes(
        _DSN % (b"Content-Transfer-Encoding: base64\n", base64.encodebytes(_HEADERS))
    )
    original = mime.original_message(msg)
    found = mime.attached_originals(msg)
    assert original is not None and original["Message-ID"] == "<m1@example.com>"
    assert found and found[0]["Return-Path"] == "<b+tok@example.com>"
