"""Signed return paths: round trip, the 64-octet budget, and every way to fail."""

from __future__ import annotations

import string
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from returnpath.parsers import signing, verp
from returnpath.parsers.addresses import try_normalise
from returnpath.parsers.signing import (
    MAX_TOKEN_AGE,
    Status,
    decode_unverified,
    make_return_path,
    new_secret,
    verify_return_path,
)
from tests.parsers.test_addresses import DISPUTED, IDNA_2008

DOMAIN = "bounces.example.com"
OTHER_DOMAIN = "bounces.other-tenant.example"
SECRET = b"k" * 32
OLD_SECRET = b"o" * 32
NOW = datetime(2026, 3, 2, 10, 30, tzinfo=UTC)
LONG_RECIPIENT = "very.long.recipient.name.with.parts@subdomain.example-corporation.co.uk"
MID = "<20260302103000.4f1c2a@mail.example.com>"

PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _make(**kwargs: object) -> str:
    args: dict[str, object] = {
        "secret": SECRET,
        "key_id": 2,
        "domain": DOMAIN,
        "recipient": "ann@example.org",
        "now": NOW,
    }
    args.update(kwargs)
    return make_return_path(**args)  # type: ignore[arg-type]


def _verify(address: str, **kwargs: object) -> signing.Verification:
    args: dict[str, object] = {"secrets": {2: SECRET}, "domain": DOMAIN, "now": NOW}
    args.update(kwargs)
    return verify_return_path(address, **args)  # type: ignore[arg-type]


def _local(address: str) -> str:
    return address.rpartition("@")[0]


# --------------------------------------------------------------------------- round trip


def test_round_trip_is_valid_and_carries_everything() -> None:
    address = _make(message_id="<m1@x.example>", stream="news")
    assert address.startswith("b+ann=example.org=1")
    assert address.endswith("@" + DOMAIN)
    result = _verify(address)
    assert result.status is Status.VALID
    assert result.verified
    assert result.recipient == "ann@example.org"
    assert result.recipient_form == "full"
    assert result.message_id == "m1@x.example"
    assert result.message_id_form == "full"
    assert result.stream == "news"
    assert result.key_id == 2
    assert result.issued_at == datetime(2026, 3, 2, 10, tzinfo=UTC)  # floored to the hour


def test_bare_token_verifies_like_the_address() -> None:
    address = _make(message_id=MID)
    token = verp.token_of_address(address)
    assert token is not None
    assert _verify(token).status is Status.VALID
    assert _verify(token, prefix="bounce").status is Status.TAMPERED  # prefix is signed


def test_custom_prefix_round_trips() -> None:
    address = _make(prefix="rp.bounce")
    assert address.startswith("rp.bounce+")
    assert _verify(address).status is Status.VALID
    token = verp.token_of_address(address)
    assert token is not None
    assert _verify(token, prefix="rp.bounce").status is Status.VALID


def test_recipient_is_folded_like_the_suppression_list() -> None:
    address = _make(recipient="<Ann.Smith@Example.ORG>")
    result = _verify(address, recipient_hint="ann.smith@example.org")
    assert result.status is Status.VALID
    assert result.recipient == "ann.smith@example.org"
    assert result.recipient_matches is True


def test_unusual_recipient_is_carried_as_bytes() -> None:
    address = _make(recipient="O'Brien&Co@example.ie")
    assert "o'brien" not in address  # not plain-able: base32 in the body
    result = _verify(address)
    assert result.status is Status.VALID
    assert result.recipient == "o'brien&co@example.ie"


def test_unicode_recipient_round_trips() -> None:
    result = _verify(_make(recipient="jörg@bücher.de"))
    assert result.status is Status.VALID
    assert result.recipient == "jörg@xn--bcher-kva.de"


def test_large_key_id_round_trips() -> None:
    address = _make(key_id=65535)
    result = verify_return_path(address, secrets={65535: SECRET}, domain=DOMAIN, now=NOW)
    assert result.status is Status.VALID
    assert result.key_id == 65535


def test_new_secret_is_32_random_bytes() -> None:
    first, second = new_secret(), new_secret()
    assert len(first) == 32
    assert first != second


# --------------------------------------------------------------------------- budget


def test_long_recipient_and_message_id_stay_within_64_octets() -> None:
    address = _make(recipient=LONG_RECIPIENT, message_id=MID, stream="marketing")
    assert len(_local(address)) <= 64
    assert LONG_RECIPIENT not in address
    result = _verify(address, recipient_hint=LONG_RECIPIENT, message_id_hint=MID)
    assert result.status is Status.VALID
    assert result.recipient_form == "hash"
    assert result.recipient == LONG_RECIPIENT  # attributed through the matching hint
    assert result.message_id_form == "hash"
    assert result.message_id_matches is True


def test_recipient_beats_message_id_for_space() -> None:
    recipient = "firstname.lastname@some-company.example"  # 39 characters
    address = _make(recipient=recipient, message_id=MID)
    result = _verify(address)
    assert result.status is Status.VALID
    assert result.recipient == recipient
    assert result.message_id_form == "dropped"
    assert result.message_id is None
    # nothing to compare a message-id hint against: not a mismatch
    hinted = _verify(address, message_id_hint="<other@x>")
    assert hinted.status is Status.VALID
    assert hinted.message_id_matches is None


@pytest.mark.parametrize(
    ("kwargs", "form"),
    [
        ({"message_id": "<a@b>"}, "full"),
        ({"message_id": MID}, "hash"),
        ({}, "none"),
    ],
)
def test_message_id_forms(kwargs: dict[str, str], form: str) -> None:
    result = _verify(_make(**kwargs))
    assert result.status is Status.VALID
    assert result.message_id_form == form


_local_chars = string.ascii_letters + string.digits + "._+-=!#$%&'*/?^`{|}~"
_recipients = st.builds(
    lambda local, domain: f"{local}@{domain}",
    st.text(alphabet=_local_chars, min_size=1, max_size=64)
    | st.text(
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs")), min_size=1, max_size=40
    ),
    st.from_regex(r"[a-z0-9]{1,20}(\.[a-z0-9-]{1,20}){1,4}\.[a-z]{2,6}", fullmatch=True),
).filter(lambda a: try_normalise(a) is not None)  # an address, as parsers.addresses sees it
_message_ids = st.none() | st.text(
    alphabet=string.ascii_letters + string.digits + ".@$-_=", min_size=1, max_size=120
)
_streams = st.none() | st.text(
    alphabet=string.ascii_lowercase + string.digits + "-_.", min_size=1, max_size=16
)


@PROPS
@given(
    recipient=_recipients,
    message_id=_message_ids,
    stream=_streams,
    key_id=st.integers(0, 65535),
)
def test_local_part_never_exceeds_64_octets_and_round_trips(
    recipient: str, message_id: str | None, stream: str | None, key_id: int
) -> None:
    address = make_return_path(
        secret=SECRET,
        key_id=key_id,
        domain=DOMAIN,
        recipient=recipient,
        message_id=message_id,
        stream=stream,
        now=NOW,
    )
    local = _local(address)
    assert len(local.encode()) <= 64
    assert local == local.lower() and local.isascii()
    assert ".." not in local and not local.startswith(".") and not local.endswith(".")
    result = verify_return_path(
        address.upper(),
        secrets={key_id: SECRET},
        domain=DOMAIN,
        now=NOW,
        recipient_hint=recipient,
        message_id_hint=message_id,
    )
    assert result.status is Status.VALID, result.detail
    assert result.recipient == try_normalise(recipient)
    assert result.stream == stream


def test_prefix_too_long_is_refused() -> None:
    with pytest.raises(ValueError, match="no room"):
        _make(prefix="p" * 40, stream="x" * 16, key_id=65535)
    with pytest.raises(ValueError, match="prefix"):
        _make(prefix="b+x")
    with pytest.raises(ValueError, match="prefix"):
        _make(prefix=".b")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"secret": b"short"},
        {"key_id": -1},
        {"key_id": 65536},
        {"domain": "not a domain"},
        {"recipient": "nobody"},
        {"stream": "x" * 17},
        {"stream": "has space"},
        {"now": datetime(2024, 1, 1, tzinfo=UTC)},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        _make(**kwargs)


# --------------------------------------------------------------------------- failures


def _flip(address: str, index: int) -> str:
    local, _, domain = address.rpartition("@")
    c = local[index]
    replacement = "b" if c != "b" else "c"
    if c == "=":
        replacement = "."
    return f"{local[:index]}{replacement}{local[index + 1 :]}@{domain}"


def test_every_flipped_character_is_rejected() -> None:
    address = _make(message_id="<a@b>", stream="tx")
    local = _local(address)
    for index in range(len(local)):
        result = _verify(_flip(address, index))
        assert not result.verified, (index, result)
        if index >= len("b+"):
            assert result.status in {
                Status.TAMPERED,
                Status.MALFORMED,
                Status.NOT_SIGNED,
                Status.UNKNOWN_KEY,
            }


@PROPS
@given(data=st.data())
def test_any_single_substitution_is_never_valid(data: st.DataObject) -> None:
    address = _make(
        recipient=data.draw(_recipients), message_id=data.draw(_message_ids), stream="news"
    )
    local, _, domain = address.rpartition("@")
    index = data.draw(st.integers(0, len(local) - 1))
    char = data.draw(st.sampled_from(string.ascii_lowercase + string.digits + "=.+-"))
    if char == local[index]:
        return
    mutated = f"{local[:index]}{char}{local[index + 1 :]}@{domain}"
    assert _verify(mutated).status is not Status.VALID


@pytest.mark.parametrize(("recipient", "key"), DISPUTED + IDNA_2008)
def test_a_recipient_is_carried_as_the_suppression_list_keys_it(
    recipient: str, key: str | None
) -> None:
    # One normaliser (parsers.addresses) for the token and for the list: a bounce
    # attributed through the token finds the suppression a check looks up.
    if key is None:
        with pytest.raises(ValueError, match="not an email address"):
            _make(recipient=recipient)
        return
    address = _make(recipient=recipient)
    result = _verify(address, recipient_hint=recipient)
    assert result.status is Status.VALID
    assert result.recipient == key
    assert _verify(address, recipient_hint=key).status is Status.VALID


def test_a_mailto_prefix_names_the_address() -> None:
    # hypothesis once found 'MAILTO:@0.0.aa', which left an empty local part: refused
    # (ValueError), like any string that is not an address; a mailto: URI names one.
    assert _make(recipient="mailto:Ann@Example.org") == _make(recipient="ann@example.org")
    with pytest.raises(ValueError):
        _make(recipient="MAILTO:@0.0.aa")


def test_an_internationalised_bounce_domain_is_signed_in_idna_2008_a_labels() -> None:
    address = _make(domain="Straße.example")
    assert address.endswith("@xn--strae-oqa.example")
    for domain in ("xn--strae-oqa.example", "straße.example", "STRASSE.example"):
        status = _verify(address, domain=domain).status
        assert status is (Status.VALID if domain != "STRASSE.example" else Status.TAMPERED)
    with pytest.raises(ValueError, match="not a bounce domain"):
        _make(domain="💩.example")


def test_tampered_token_keeps_carried_fields_hidden() -> None:
    address = _make()
    forged = address.replace("ann=example.org", "bob=example.org")
    result = _verify(forged)
    assert result.status is Status.TAMPERED
    assert result.recipient is None
    assert decode_unverified(forged).recipient == "bob@example.org"  # anyone can write it
    assert not decode_unverified(forged).verified


def test_expired_token() -> None:
    address = _make()
    later = NOW + MAX_TOKEN_AGE + timedelta(hours=1)
    result = _verify(address, now=later)
    assert result.status is Status.EXPIRED
    assert not result.verified
    assert result.recipient == "ann@example.org"  # authentic, but stale
    assert _verify(address, now=NOW + timedelta(days=44)).status is Status.VALID
    assert _verify(address, now=later, max_age=timedelta(days=60)).status is Status.VALID
    assert _verify(address, now=NOW + timedelta(days=2), max_age=timedelta(days=1)).status is (
        Status.EXPIRED
    )


def test_token_from_the_future_is_outside_its_window() -> None:
    address = _make(now=NOW + timedelta(days=3))
    assert _verify(address).status is Status.EXPIRED
    assert _verify(_make(now=NOW + timedelta(hours=1))).status is Status.VALID  # clock skew


def test_rotation_grace_period_then_retirement() -> None:
    old = _make(secret=OLD_SECRET, key_id=1)
    new = _make(secret=SECRET, key_id=2)
    during = {1: OLD_SECRET, 2: SECRET}
    after = {2: SECRET}
    assert _verify(old, secrets=during).status is Status.VALID
    assert _verify(new, secrets=during).status is Status.VALID
    retired = _verify(old, secrets=after)
    assert retired.status is Status.UNKNOWN_KEY
    assert retired.key_id == 1
    assert not retired.verified
    assert _verify(new, secrets=after).status is Status.VALID


def test_key_id_pointing_at_the_wrong_secret_is_tampered() -> None:
    address = _make(secret=OLD_SECRET, key_id=2)
    assert _verify(address).status is Status.TAMPERED


def test_foreign_domain_is_tampered() -> None:
    address = _make()
    token = verp.token_of_address(address)
    assert token is not None
    moved = f"b+{token}@{OTHER_DOMAIN}"
    # even a tenant that (wrongly) shares the secret does not accept it
    assert _verify(moved, domain=OTHER_DOMAIN).status is Status.TAMPERED
    assert _verify(token, domain=OTHER_DOMAIN).status is Status.TAMPERED
    # an address on another domain than the one it is checked against
    assert _verify(moved).status is Status.TAMPERED


def test_case_insensitive() -> None:
    address = _make(message_id="<Mixed.Case@X>", stream="news")
    upper = address.upper()
    result = _verify(upper)
    assert result.status is Status.VALID
    assert result.recipient == "ann@example.org"
    assert result.message_id == "Mixed.Case@X"  # bytes in base32 keep their case
    assert _verify(address.title()).status is Status.VALID
    assert _verify(address, domain=DOMAIN.upper() + ".").status is Status.VALID


# --------------------------------------------------------------------------- hints


def test_recipient_hash_with_matching_and_mismatching_hint() -> None:
    address = _make(recipient=LONG_RECIPIENT)
    unhinted = _verify(address)
    assert unhinted.status is Status.UNATTRIBUTED
    assert not unhinted.verified
    assert unhinted.recipient is None
    assert unhinted.recipient_hash is not None and len(unhinted.recipient_hash) == 16

    matching = _verify(address, recipient_hint=LONG_RECIPIENT.upper())
    assert matching.status is Status.VALID
    assert matching.recipient_matches is True
    assert matching.recipient == LONG_RECIPIENT

    other = _verify(address, recipient_hint="someone.else@example.org")
    assert other.status is Status.MISMATCH
    assert other.recipient_matches is False
    assert other.recipient is None
    assert not other.verified

    junk = _verify(address, recipient_hint="not an address")
    assert junk.status is Status.MISMATCH


def test_full_recipient_with_mismatching_hint() -> None:
    address = _make()
    assert _verify(address, recipient_hint="ANN@example.org").status is Status.VALID
    result = _verify(address, recipient_hint="bob@example.org")
    assert result.status is Status.MISMATCH
    assert result.recipient == "ann@example.org"  # what we sent to, authentic
    assert result.recipient_matches is False


@pytest.mark.parametrize("message_id", ["<a@b>", MID])  # carried in full, hashed
def test_message_id_hint(message_id: str) -> None:
    address = _make(message_id=message_id)
    matching = _verify(address, message_id_hint=message_id.strip("<>"))
    assert matching.status is Status.VALID
    assert matching.message_id_matches is True
    other = _verify(address, message_id_hint="<other@example.net>")
    assert other.status is Status.MISMATCH
    assert other.message_id_matches is False


# --------------------------------------------------------------------------- junk


@pytest.mark.parametrize(
    ("text", "status"),
    [
        ("", Status.NOT_SIGNED),
        ("user=example.org", Status.NOT_SIGNED),  # classic VERP
        ("b+user=example.org@" + DOMAIN, Status.NOT_SIGNED),
        ("no-reply@example.com", Status.NOT_SIGNED),
        ("1" + "a" * 18, Status.NOT_SIGNED),  # too short to be ours
        ("1" + "a" * 40, Status.MALFORMED),  # ours in shape, not in content
        ("1" + "7" * 40, Status.MALFORMED),
        ("ann=example.org=1" + "a" * 40, Status.MALFORMED),
        ("b+1" + "a" * 80 + "@" + DOMAIN, Status.NOT_SIGNED),  # longer than a local part
        ("bé+1" + "a" * 30, Status.NOT_SIGNED),
    ],
)
def test_junk_gets_a_status(text: str, status: Status) -> None:
    assert _verify(text).status is status
    assert decode_unverified(text).status is status


@PROPS
@given(text=st.text(max_size=200) | st.text(alphabet="1abcxyz234567=.+@-", max_size=80))
def test_junk_never_raises(text: str) -> None:
    result = _verify(text, recipient_hint=text, message_id_hint=text)
    assert isinstance(result, signing.Verification)
    assert not result.verified
    decoded = decode_unverified(text)
    assert not decoded.verified
    assert verp.decode_token(text) is None or isinstance(verp.decode_token(text), verp.Token)


def test_verify_with_odd_arguments_does_not_raise() -> None:
    address = _make()
    assert _verify(address, domain="not a domain").status is Status.TAMPERED
    assert _verify(address, secrets={2: b""}).status is Status.UNKNOWN_KEY
    assert _verify(123).status is Status.NOT_SIGNED  # type: ignore[arg-type]
    naive = NOW.replace(tzinfo=None)
    assert _verify(address, now=naive).status is Status.VALID
    hashed = _make(recipient=LONG_RECIPIENT, message_id=MID)
    surrogate = "x\udc80@example.org"
    assert _verify(hashed, recipient_hint=surrogate).status is Status.MISMATCH
    assert _verify(hashed, recipient_hint=LONG_RECIPIENT, message_id_hint=surrogate).status is (
        Status.MISMATCH
    )


# --------------------------------------------------------------------------- decoding


def test_decode_unverified_reads_without_a_secret() -> None:
    address = _make(message_id="<a@b>", stream="news")
    result = decode_unverified(address.upper())
    assert result.status is Status.UNVERIFIED
    assert not result.verified
    assert result.recipient == "ann@example.org"
    assert result.message_id == "a@b"
    assert result.stream == "news"
    assert result.key_id == 2


def test_classic_verp_decoder_does_not_misread_a_signed_token() -> None:
    token = verp.token_of_address(_make())
    assert token is not None
    assert verp.decode_verp(token) is None  # the head is not a domain: declined


def test_signed_tokens_are_read_by_the_verp_registry_before_classic_verp() -> None:
    token = verp.token_of_address(_make(message_id="<a@b>"))
    assert token is not None
    assert verp.decode_token(token) == verp.Token("ann@example.org", "a@b", "signed-v1")
    assert verp.decode_token("user=example.org") == verp.Token("user@example.org", None, "verp")
    hashed = verp.token_of_address(_make(recipient=LONG_RECIPIENT))
    assert hashed is not None
    assert verp.signed_decoder(hashed) == verp.Token(None, None, "signed-v1")
    assert verp.signed_decoder("user=example.org") is None  # not ours: the next decoder's


def test_a_token_is_evidence_for_45_days_as_the_readme_says() -> None:
    assert timedelta(days=45) == MAX_TOKEN_AGE
    address = _make()
    # issued at 10:00 (the hour is carried), checked at 10:30 + 45 days less an hour
    assert _verify(address, now=NOW + timedelta(days=45, hours=-1)).status is Status.VALID
    assert _verify(address, now=NOW + timedelta(days=45)).status is Status.EXPIRED
