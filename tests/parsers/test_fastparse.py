"""``parsers.fastparse`` builds the same Message tree as the stdlib's compat32 parser.

Same means attribute for attribute: headers (raw name/value pairs, in
order), unix-from, payload strings, preamble, epilogue, default type and
the defects recorded. Checked on every corpus file and on generated
messages that hit the feed parser's corner cases: CR/LF/CRLF mixes, header
blocks cut by a boundary, "From " lines, continuation lines first, missing
and repeated boundaries, nested multiparts sharing a boundary, digests,
delivery-status field groups, message/rfc822 parts and junk.
"""

from __future__ import annotations

import email
from email.message import Message
from email.policy import compat32
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returnpath.parsers import cached_message, fastparse

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
MANY = settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def describe(msg: Message) -> dict[str, Any]:
    """Everything the feed parser sets on a message, recursively."""
    payload = msg._payload  # type: ignore[attr-defined]
    return {
        "headers": list(msg._headers),  # type: ignore[attr-defined]
        "unixfrom": msg.get_unixfrom(),
        "preamble": msg.preamble,
        "epilogue": msg.epilogue,
        "default_type": msg.get_default_type(),
        "defects": [(type(d).__name__, str(d)) for d in msg.defects],
        "payload": [describe(p) for p in payload] if isinstance(payload, list) else payload,
    }


def stdlib(text: str) -> Message:
    return email.message_from_string(text, policy=compat32)


def assert_same(text: str) -> None:
    expected = describe(stdlib(text))
    assert describe(fastparse.message_from_string(text)) == expected
    try:
        got = fastparse._Parser(text).parse()
    except fastparse._Fallback:
        return
    assert describe(got) == expected


def corpus_files() -> list[Path]:
    if not CORPUS.is_dir():
        return []
    return sorted(
        p
        for part in ("maildir", "flufl-bounce", "to-be-debugged-because")
        for p in (CORPUS / part).rglob("*")
        if p.is_file()
    )


@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus absent")
def test_same_tree_on_every_corpus_file() -> None:
    for path in corpus_files():
        raw = path.read_bytes()
        expected = describe(email.message_from_bytes(raw, policy=compat32))
        assert describe(fastparse.message_from_bytes(raw)) == expected, path


# -- generated messages ---------------------------------------------------

EOLS = st.sampled_from(["\n", "\r\n", "\r"])
WORDS = st.sampled_from(
    [
        "x",
        "Foo",
        "--",
        "-",
        ":",
        " ",
        "\t",
        "From ",
        "a b",
        "\udce9",
        "=?utf-8?q?a?=",
        "b1",
        "--b1",
        "--b1--",
        "From x",
    ]
)


@st.composite
def line(draw: st.DrawFn) -> str:
    return "".join(draw(st.lists(WORDS, max_size=4)))


@st.composite
def header_block(draw: st.DrawFn, ctype: str | None) -> list[str]:
    names = st.sampled_from(
        ["Subject", "X-A", "content-type", "Content-Transfer-Encoding", "From", "To", "Received"]
    )
    lines: list[str] = []
    if draw(st.booleans()) and draw(st.booleans()):
        lines.append("From sender@example.com Mon Jan  1 00:00:00 2024")
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.integers(0, 9))
        if kind <= 5:
            lines.append(f"{draw(names)}:{draw(line())}")
        elif kind == 6:
            lines.append(" " + draw(line()))  # continuation (first: a defect)
        elif kind == 7:
            lines.append(draw(line()))  # anything at all
        elif kind == 8:
            lines.append("From " + draw(line()))
        else:
            lines.append(":" + draw(line()))
    if ctype is not None:
        lines.insert(draw(st.integers(0, len(lines))), f"Content-Type: {ctype}")
    return lines


@st.composite
def entity(draw: st.DrawFn, depth: int = 0) -> list[str]:
    """The lines of one message or part (headers, separator, body)."""
    choice = draw(st.integers(0, 9 if depth < 3 else 2))
    boundary = draw(st.sampled_from(["b1", "b1", "b2", "(b.*)", "b1 "]))
    ctype = {
        0: None,
        1: "text/plain",
        2: draw(st.sampled_from(["text/html", "application/octet-stream", "bogus"])),
        3: f'multipart/mixed; boundary="{boundary}"',
        4: f"multipart/report; boundary={boundary}",
        5: f"multipart/digest; boundary={boundary}",
        6: "message/rfc822",
        7: "message/delivery-status",
        8: "multipart/alternative",  # no boundary: a defect
        9: f'multipart/mixed; boundary="{boundary}"',
    }[choice]
    lines = draw(header_block(ctype))
    if draw(st.integers(0, 5)):
        lines.append("")  # the blank separator line
    if choice in (3, 4, 5, 9):
        sep = "--" + boundary.strip()
        lines += draw(st.lists(line(), max_size=2))  # preamble
        for _ in range(draw(st.integers(0, 3))):
            lines.append(sep + draw(st.sampled_from(["", " ", "\t", "--", "x", "-- "])))
            if draw(st.booleans()):
                lines += draw(entity(depth + 1))
        if draw(st.integers(0, 3)):
            lines.append(sep + "--" + draw(st.sampled_from(["", " ", "x"])))
        lines += draw(st.lists(line(), max_size=2))  # epilogue
    elif choice == 6:
        lines += draw(entity(depth + 1))
    elif choice == 7:
        for _ in range(draw(st.integers(0, 3))):
            lines += draw(header_block(None))
            lines += [""] * draw(st.integers(0, 2))
    else:
        lines += draw(st.lists(line(), max_size=4))
    return lines


@st.composite
def message_text(draw: st.DrawFn) -> str:
    lines = draw(entity())
    eols = draw(st.lists(EOLS, min_size=len(lines), max_size=len(lines)))
    text = "".join(f"{ln}{eol}" for ln, eol in zip(lines, eols, strict=True))
    if draw(st.booleans()):
        text = text.rstrip("\r\n")  # no line break at the very end
    return text


@MANY
@given(message_text())
def test_same_tree_on_generated_messages(text: str) -> None:
    assert_same(text)


@MANY
@given(st.text(alphabet='\n\r -:\tFrom\x0cab="', max_size=80))
def test_same_tree_on_junk(text: str) -> None:
    assert_same(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "\n",
        "\r\n\r\n",
        "From x\nSubject: a\n\nbody",
        "Subject: a\nFrom x\n\nbody",  # "From " last before a blank line: stdlib reorders
        "Subject: a\nFrom x\nbody",
        "Subject: a\nFrom x",
        " continued\nSubject: a\n\nbody",
        ":\nSubject: a\n\nbody",
        "Content-Type: multipart/mixed; boundary=b\n\n--b\n--b\n--b--\n",
        "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed;"
        " boundary=b\n\n--b\n\nx\n--b--\n--b--\nepilogue\n",
        "Content-Type: multipart/mixed; boundary=b\n\npreamble\n--b--\nafter\n",
        "Content-Type: multipart/mixed; boundary=b\n\n--b\r\nx\r\n--b--",
        "Content-Type: message/delivery-status\n\nA: 1\n\n\nB: 2\nnot a field\n\n",
        "Content-Type: multipart/digest; boundary=b\n\n--b\n\nSubject: x\n\nbody\n--b--\n",
        "Content-Type: multipart/mixed; boundary=b\nContent-Transfer-Encoding: base64\n\n--b--\n",
        "Content-Type: text/plain\n\nform\x0cfeed\n",  # \x0c: splitlines differs, stdlib used
        "Subject: a\r\rbody\rmore\r",
    ],
)
def test_corner_cases(text: str) -> None:
    assert_same(text)


def test_deep_nesting_falls_back_to_the_stdlib() -> None:
    depth = fastparse.MAX_DEPTH + 5
    text = "".join("Content-Type: message/rfc822\n\n" for _ in range(depth)) + "Subject: x\n\nhi\n"
    assert_same(text)


def test_cached_lookups_follow_header_changes() -> None:
    msg = fastparse.message_from_string("Content-Type: text/plain; charset=latin-1\nX-A: 1\n\nhi")
    assert msg.get_content_type() == "text/plain"
    assert msg.get_content_charset() == "latin-1"
    assert "x-a" in msg and msg.get_all("X-A") == ["1"]
    msg.replace_header("Content-Type", "text/html; charset=utf-8")
    assert msg.get_content_type() == "text/html"
    assert msg.get_content_charset() == "utf-8"
    del msg["X-A"]
    assert "x-a" not in msg and msg.get_all("X-A") is None and msg.get("x-a", "d") == "d"
    msg["X-A"] = "2"
    msg.add_header("X-A", "3")
    assert msg.get_all("x-a") == ["2", "3"] and msg["X-A"] == "2"
    msg.set_type("multipart/mixed")
    msg.set_boundary("zz")
    assert msg.get_content_type() == "multipart/mixed" and msg.get_boundary() == "zz"
    msg.set_param("charset", "koi8-r")
    assert msg.get_param("charset") == "koi8-r"
    msg.del_param("charset")
    assert msg.get_param("charset") is None
    msg.set_default_type("message/rfc822")
    del msg["Content-Type"]
    assert msg.get_content_type() == "message/rfc822"


@MANY
@given(
    st.lists(
        st.sampled_from([*'ab;= \t<>/X-"*\\,.\u00a0', "text/plain", "charset", '"x;y"']),
        max_size=16,
    ).map("".join)
)
def test_simple_content_type_params_match_the_stdlib(value: str) -> None:
    reference = Message()
    reference["Content-Type"] = value
    fast = cached_message._simple_params(value)
    if fast is not None:
        assert fast == reference.get_params(None, "content-type", unquote=False)
    msg = fastparse.message_from_string(f"Content-Type: {value}\n\nbody")
    plain = stdlib(f"Content-Type: {value}\n\nbody")
    for name in ("charset", "boundary", "x"):
        assert msg.get_param(name) == plain.get_param(name)
    assert msg.get_params() == plain.get_params()
    assert msg.get_content_charset() == plain.get_content_charset()


# --------------------------------------------------------------------------- copied methods


def test_cached_message_is_initialised_as_the_stdlib_does() -> None:
    assert list(vars(cached_message.CachedMessage()).items()) == list(vars(Message()).items())
    policy = compat32.clone(linesep="\r\n")
    mine, theirs = cached_message.CachedMessage(policy=policy), Message(policy)
    assert list(vars(mine).items()) == list(vars(theirs).items())


def _parts(msg: Message) -> list[Message]:
    return list(msg.walk())


@pytest.mark.parametrize("path", corpus_files()[::7] or [None])
def test_copied_methods_answer_as_the_stdlibs(path: Path | None) -> None:
    if path is None:
        pytest.skip("corpus not found")
    raw = path.read_bytes()
    for variant in (raw, raw + b"\n\xe9t\xe9\n"):
        for part in _parts(fastparse.message_from_bytes(variant)):
            assert part.is_multipart() is Message.is_multipart(part)
            assert part.keys() == Message.keys(part)
            assert part.get_boundary() == Message.get_boundary(part)
            assert part.get_boundary("x") == Message.get_boundary(part, "x")
            for args in ((), (None, True), (0,), (0, True)):
                try:
                    expected: Any = Message.get_payload(part, *args)
                except Exception as exc:
                    expected = type(exc)
                try:
                    got: Any = part.get_payload(*args)
                except Exception as exc:
                    got = type(exc)
                assert got == expected
    for cte in (
        "",
        "7bit",
        "8bit",
        "binary",
        "base64",
        "quoted-printable",
        "x-uue",
        " base64",
        "BASE64",
        "x-unknown",
    ):
        for body in ("text\n", "aGk=\n", "caf=C3=A9\n", "", "caf\u00e9\n", "\udce9\n"):
            part = cached_message.CachedMessage()
            if cte:
                part["Content-Transfer-Encoding"] = cte
            part.set_payload(body)
            assert part.get_payload(decode=True) == Message.get_payload(part, decode=True)
            assert part.get_payload() == Message.get_payload(part)
    leaf, multi = cached_message.CachedMessage(), cached_message.CachedMessage()
    leaf.set_payload("text")
    with pytest.raises(TypeError):
        leaf.attach(Message())
    multi.attach(leaf)
    multi.attach(leaf)
    assert multi.get_payload() == [leaf, leaf]


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet='ab"<>\\ ', max_size=8))
def test_unquote_is_the_stdlibs(value: str) -> None:
    from email.utils import unquote

    assert cached_message._unquote(value) == unquote(value)
    # get_param and get_boundary apply it as Message does
    msg = fastparse.message_from_string(f"Content-Type: multipart/mixed; boundary={value!r}\n\nx")
    plain = email.message_from_string(f"Content-Type: multipart/mixed; boundary={value!r}\n\nx")
    assert msg.get_param("boundary") == plain.get_param("boundary")
    assert msg.get_boundary() == plain.get_boundary()


def test_an_rfc2231_parameter_comes_back_as_the_stdlibs_triple() -> None:
    """``get_param`` unquotes the value of an RFC 2231 (charset, language, value)
    triple itself, as ``Message.get_param`` does: pinned against the stdlib."""
    text = (
        "Content-Type: text/plain; name*=utf-8'en'%22caf%C3%A9%22;"
        " title*0*=us-ascii''a%20; title*1=\"<b>\"\n\nx"
    )
    fast = fastparse.message_from_string(text)
    plain = email.message_from_string(text)
    for name in ("name", "title"):
        assert fast.get_param(name) == plain.get_param(name)
        assert isinstance(fast.get_param(name), tuple)
        assert fast.get_param(name, unquote=False) == plain.get_param(name, unquote=False)
    assert fast.get_params() == plain.get_params()
    assert fast.get_params(unquote=False) == plain.get_params(unquote=False)
