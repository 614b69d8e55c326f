"""The listener's fast path for everyday SMTP paths (and the null path ``<>``) answers
exactly what aiosmtpd's parser answers (the stdlib's RFC 5322 header parser), on
generated paths."""

from __future__ import annotations

import random

from aiosmtpd.smtp import SMTP

from returnpath.inbound.server import PLAIN_PATH, ReturnpathSMTP


class _Handler:
    pass


def _generated(rng: random.Random) -> str:
    if rng.random() < 0.6:  # near the everyday shape, with every kind of tail
        local = "".join(rng.choice("abZ.+-_!=/") for _ in range(rng.randint(0, 6)))
        domain = "".join(rng.choice("ab.-1") for _ in range(rng.randint(0, 8)))
        tail = rng.choice(
            ["", " SIZE=10", "  BODY=8BITMIME ", "\tX", " ", "x", " A B", " (c) X", "(c)",
             " \x0bX", "\x0c", " é", " \x00", "  \t ", " SMTPUTF8 RET=HDRS"]
        )  # fmt: skip
        return f"<{local}@{domain}>{tail}" if rng.random() < 0.8 else f"<>{tail}"
    return "".join(rng.choice('ab.-_+@<> \t"[]:=Z!1()\x0b\x00é') for _ in range(rng.randint(0, 14)))


def test_the_fast_path_agrees_with_aiosmtpds_parser_wherever_it_answers() -> None:
    smtp = SMTP(_Handler())
    rng = random.Random(5321)
    answered = 0
    for _ in range(60_000):
        arg = _generated(rng)
        ours = ReturnpathSMTP._getaddr(smtp, arg)  # type: ignore[arg-type]
        if arg.startswith("<>") or PLAIN_PATH.match(arg):
            answered += 1
            assert ours == SMTP._getaddr(smtp, arg), arg
    assert answered > 3_000  # the generator reaches the fast path often
