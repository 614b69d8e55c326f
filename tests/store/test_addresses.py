"""One way to write an address, everywhere (the key suppressions are looked up by)."""

from __future__ import annotations

import pytest

from returnpath.store.addresses import InvalidAddress, normalise_address, normalise_many


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
        '"a\x00b"@example.com',  # control characters, even quoted
        '"a\nb"@example.com',
        "\ud800@example.com",  # a lone surrogate (JSON can carry one; UTF-8 cannot)
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
