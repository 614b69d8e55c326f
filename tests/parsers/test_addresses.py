"""One way to write an address, everywhere (the key suppressions are looked up by)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returnpath.parsers.addresses import (
    InvalidAddress,
    normalise_address,
    normalise_domain,
    normalise_many,
    try_normalise,
    try_normalise_domain,
)

# ZERO WIDTH JOINER, allowed by IDNA 2008 only after a virama (RFC 5892 A.2)
ZWJ = "\u200d"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("User@Example.COM", "user@example.com"),
        ("  <user@example.com>  ", "user@example.com"),
        ("user@example.com.", "user@example.com"),  # trailing dot of a fully qualified domain
        ("user@bücher.example", "user@xn--bcher-kva.example"),  # IDNA A-label
        ("user@XN--BCHER-KVA.example", "user@xn--bcher-kva.example"),
        ("mailto:user@example.com", "user@example.com"),
        ('"first last"@example.com', '"first last"@example.com'),  # quotes that matter stay
        ('"john"@example.com', "john@example.com"),  # quotes that do not are dropped
        ("a+tag@example.com", "a+tag@example.com"),
        ('"a@b"@example.com', '"a@b"@example.com'),  # a quoted @ is allowed
        ("user@[192.0.2.1]", "user@[192.0.2.1]"),  # an address literal
    ],
)
def test_normalised_forms(raw: str, expected: str) -> None:
    assert normalise_address(raw) == expected


def test_local_part_case_can_be_kept() -> None:
    assert normalise_address("User@Example.COM", fold_local=False) == "User@example.com"


# The inputs on which the store's and the signer's normalisers disagreed, with the one
# answer now given everywhere (the module docstring says why). None: refused.
DISPUTED = [
    ("a@b@c.org", None),  # an unquoted local part holds no @
    ("user@example..com", None),  # an empty domain label
    ('"a,b"@x.org', '"a,b"@x.org'),  # the quotes make the comma legal: they stay
    ('"A,B"@X.org', '"a,b"@x.org'),
    ("mailto:ann@x.org", "ann@x.org"),  # a mailto: URI names the address
    ("MAILTO:Ann@X.org", "ann@x.org"),
    ("<mailto:ann@x.org>", "ann@x.org"),
    ("MAILTO:@0.0.aa", None),  # nothing left of the local part after the scheme
    ("a\x01b@x.org", None),  # control characters, anywhere
    ("ann@x\x00y.org", None),
    ("ann@x.org\x7f", None),
    ("ann@x<y.org", None),  # specials in a domain
    ("ann@x(y).org", None),
    ("mailto:mailto:ann@x.org", "ann@x.org"),
]


@pytest.mark.parametrize(("raw", "expected"), DISPUTED)
def test_disputed_inputs_have_one_answer(raw: str, expected: str | None) -> None:
    assert try_normalise(raw) == expected
    if expected is None:
        with pytest.raises(InvalidAddress):
            normalise_address(raw)
    else:
        assert normalise_address(raw) == expected
    assert normalise_many([raw]) == [expected]


# IDNA 2008 with UTS 46 mapping (non-transitional), where Python's own "idna" codec
# (IDNA 2003) gave another domain or one no mail server can name. None: refused.
IDNA_2008 = [
    # ß is a letter of its own (IDNA 2003 mapped it to "ss": strasse.de, another domain)
    ("ann@straße.de", "ann@xn--strae-oqa.de"),
    ("ann@STRASSE.de", "ann@strasse.de"),
    ("ann@ẞ.de", "ann@xn--zca.de"),  # capital sharp s: lower case ß, not "ss"
    # final sigma stays final (IDNA 2003: σ)
    ("ann@βόλος.gr", "ann@xn--nxasmm1c.gr"),
    ("ann@βόλοσ.gr", "ann@xn--nxasmq6b.gr"),
    # upper-case Unicode is mapped to lower case by UTS 46 (Σ to σ, not to ς)
    ("ann@BÜCHER.example", "ann@xn--bcher-kva.example"),
    ("ann@ΒΌΛΟΣ.gr", "ann@xn--nxasmq6b.gr"),
    ("ann@İstanbul.tr", "ann@xn--istanbul-o0e.tr"),
    # a joiner is kept where it means something (after a virama) and refused elsewhere
    # (IDNA 2003 deleted it: ab.example)
    (f"ann@क्{ZWJ}ष.example", "ann@xn--11b2ezcw70k.example"),
    (f"ann@a{ZWJ}b.example", None),
    # symbols and emoji are not letters: IDNA 2008 refuses them (IDNA 2003: xn--ls8h.la)
    ("ann@💩.la", None),
    ("ann@☃.com", None),
    # full-width letters and dots are mapped, as UTS 46 says
    ("ann@ｅｘａｍｐｌｅ。com", "ann@example.com"),
    # a domain already in A-labels stays as written (only lower-cased), even one that
    # IDNA 2003 would have produced
    ("ann@xn--strae-oqa.de", "ann@xn--strae-oqa.de"),
    ("ann@XN--ZCA.de", "ann@xn--zca.de"),
    ("ann@xn--ls8h.la", "ann@xn--ls8h.la"),
    # an ASCII domain is only lower-cased: no IDNA 2008 rule is applied to it
    ("ann@Exa_mple.com", "ann@exa_mple.com"),
    ("ann@ab--c.example", "ann@ab--c.example"),
    # one non-ASCII label sends the whole domain through IDNA 2008
    ("ann@exa_mple.bücher.de", None),
    ("ann@-x.bücher.de", None),
]


@pytest.mark.parametrize(("raw", "expected"), IDNA_2008)
def test_internationalised_domains_follow_idna_2008(raw: str, expected: str | None) -> None:
    assert try_normalise(raw) == expected
    assert normalise_many([raw, "ok@example.com"]) == [expected, "ok@example.com"]


def test_a_bounce_and_a_check_naming_one_domain_two_ways_meet() -> None:
    keys = {
        try_normalise(a) for a in ("Ann@Straße.DE", "ann@xn--strae-oqa.de", "mailto:ann@straße.de.")
    }
    assert keys == {"ann@xn--strae-oqa.de"}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Bounces.Example.COM.", "bounces.example.com"),
        ("  bounces.example.com ", "bounces.example.com"),
        ("Straße.example", "xn--strae-oqa.example"),
        ("xn--strae-oqa.example", "xn--strae-oqa.example"),
        ("not a domain", "not a domain"),  # ASCII: lower-cased only, whatever it is
        ("💩.la", None),
        (f"a{ZWJ}b.example", None),
    ],
)
def test_domains_alone_take_the_same_step(raw: str, expected: str | None) -> None:
    assert try_normalise_domain(raw) == expected
    if expected is None:
        with pytest.raises(InvalidAddress):
            normalise_domain(raw)
    else:
        assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "no-at-sign",
        "@example.com",
        "user@",
        "us er@example.com",
        "user@exa mple.com",
        "a@b@example.com",  # an @ in an unquoted local part
        "user@example..com",  # empty domain labels
        "user@.example.com",
        "user@.",
        "user@bü..de",  # empty label past the IDNA step too
        '"a\x00b"@example.com',  # control characters, even quoted
        '"a\nb"@example.com',
        "\ud800@example.com",  # a lone surrogate (JSON can carry one; UTF-8 cannot)
        "user@\udc80.example",
    ],
)
def test_invalid_addresses_are_refused(raw: str) -> None:
    with pytest.raises(InvalidAddress):
        normalise_address(raw)
    # the list's one-regex fast path must not let it through either
    assert normalise_many([raw, "ok@example.com"]) == [None, "ok@example.com"]


def test_a_list_is_normalised_like_each_of_its_addresses() -> None:
    mixed = ["a@example.com", "<B@Example.COM>", "nope", "c@example.com"]
    assert normalise_many(mixed) == ["a@example.com", "b@example.com", None, "c@example.com"]
    plain = [f"user{i}@example.com" for i in range(1000)]
    assert normalise_many(plain) == plain
    assert normalise_many([]) == []


def test_a_list_entry_cannot_smuggle_a_second_line() -> None:
    # The fast path joins the list with line breaks: an entry holding one must not pass as two.
    assert normalise_many(["a@example.com\nb@example.com", "c@example.com"]) == [
        None,
        "c@example.com",
    ]
    assert normalise_many(["a@example.com", "x" * 330 + "@example.com"]) == ["a@example.com", None]


def test_a_domain_lengthened_past_253_octets_by_idna_is_refused() -> None:
    labels = ".".join(["ü" * 20] * 10)  # 209 characters; as A-labels of 28 each, 289
    assert len(f"ann@{labels}.de") < 253
    with pytest.raises(InvalidAddress, match="bad domain"):
        normalise_address(f"ann@{labels}.de")


# Pieces that address-like junk is made of: brackets, quotes, specials, schemes, Unicode
# that IDNA maps or refuses.
_PIECES = st.sampled_from(
    [*'aB."@<> :,;\\\t[]()_-x', "mailto:", "MAILTO:", "ü", "ß", "ẞ", "Σ", "。", ZWJ, "xn--"]
)


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.lists(_PIECES, max_size=16).map("".join), fold=st.booleans())
def test_a_key_is_its_own_key(raw: str, fold: bool) -> None:
    # A stored suppression must be found again by the text it is stored under.
    key = try_normalise(raw, fold_local=fold)
    if key is not None:
        assert normalise_address(key, fold_local=fold) == key
