"""DKIM on complaint reports (issue 16, item 10), with keys made here and served by us.

Every report is signed in the test with its own RSA or ed25519 key; the public
key is served either by a ``dnsfunc`` the test controls (``Keys``) or by a real
name server on a loopback UDP socket (``NameServer``), which the service's
own lookup (``dkim.TxtLookup``) queries as it would the Internet's.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import dkim as dkimpy
import dns.message
import dns.name
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rdtypes.ANY.TXT
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from dkim.canonicalization import CanonicalizationPolicy
from dkim.crypto import parse_pem_private_key

from returnpath.parsers import parse
from returnpath.store import dkim
from returnpath.store.dkim import TxtLookup, complaint_signers, signers_of, signing_domains
from returnpath.store.policy import Policy
from tests.messages import arf, dsn

SIGNED_HEADERS = [b"from", b"to", b"subject", b"message-id", b"date", b"content-type"]


@dataclass(frozen=True)
class Signer:
    """One domain's DKIM key: signs messages, and knows its TXT record."""

    domain: str
    selector: str
    private: bytes  # as dkimpy takes it
    record: bytes  # the TXT record at selector._domainkey.domain
    algorithm: bytes = b"rsa-sha256"

    @property
    def name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}."

    def sign(self, raw: bytes, *, headers: list[bytes] = SIGNED_HEADERS, **kw: object) -> bytes:
        line = dkimpy.sign(
            raw,
            self.selector.encode(),
            self.domain.encode(),
            self.private,
            include_headers=headers,
            signature_algorithm=self.algorithm,
            **kw,
        )
        return bytes(line) + raw


def rsa_signer(domain: str, selector: str = "s1", bits: int = 2048) -> Signer:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Signer(domain, selector, private, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public))


def ed25519_signer(domain: str, selector: str = "ed") -> Signer:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return Signer(
        domain,
        selector,
        base64.b64encode(seed),
        b"v=DKIM1; k=ed25519; p=" + base64.b64encode(public),
        algorithm=b"ed25519-sha256",
    )


@dataclass
class Keys:
    """dkimpy's ``dnsfunc``, answering from a dict, counting the questions."""

    records: dict[str, bytes] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    def publish(self, *signers: Signer) -> Keys:
        for s in signers:
            self.records[s.name.lower()] = s.record
        return self

    def __call__(self, name: bytes, timeout: float = 5) -> bytes | None:
        self.asked.append(name.decode())
        return self.records.get(name.decode().lower())


class NameServer:
    """A real name server on 127.0.0.1 (UDP), answering TXT from a dict; ``silent``
    drops every question, as an unreachable or overloaded server would."""

    def __init__(self) -> None:
        self.records: dict[str, bytes] = {}
        self.questions: list[str] = []
        self.silent = False
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.05)
        self.port: int = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def publish(self, *signers: Signer) -> NameServer:
        for s in signers:
            self.records[s.name.lower()] = s.record
        return self

    def lookup(self) -> TxtLookup:
        return TxtLookup(["127.0.0.1"], port=self.port, timeout=1.0)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            self.questions.append(question.name.to_text())
            if self.silent:
                continue
            answer = dns.message.make_response(query)
            record = self.records.get(question.name.to_text().lower())
            if record is None:
                answer.set_rcode(dns.rcode.NXDOMAIN)
            else:
                strings = [record[i : i + 255] for i in range(0, len(record), 255)]
                rdata = dns.rdtypes.ANY.TXT.TXT(dns.rdataclass.IN, dns.rdatatype.TXT, strings)
                answer.answer.append(dns.rrset.from_rdata(question.name, 300, rdata))
            self._sock.sendto(answer.to_wire(), peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._sock.close()


@pytest.fixture
def name_server() -> Iterator[NameServer]:
    server = NameServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def fbl() -> Signer:
    return rsa_signer("fbl.example.net")


@pytest.fixture(scope="module")
def attacker() -> Signer:
    return rsa_signer("attacker.example")


REPORT = arf("angry@example.org")


def test_a_valid_rsa_signature_names_its_domain(fbl: Signer) -> None:
    keys = Keys().publish(fbl)
    assert signing_domains(fbl.sign(REPORT), keys) == {"fbl.example.net"}
    assert keys.asked == ["s1._domainkey.fbl.example.net."]


def test_a_valid_ed25519_signature_names_its_domain() -> None:
    signer = ed25519_signer("FBL.Example.NET")
    assert signing_domains(signer.sign(REPORT), Keys().publish(signer)) == {"fbl.example.net"}


def test_no_signature_names_nobody_and_asks_nothing() -> None:
    keys = Keys()
    assert signing_domains(REPORT, keys) == frozenset()
    assert keys.asked == []


def test_a_bad_signature_names_nobody(fbl: Signer) -> None:
    signed = fbl.sign(REPORT)
    start = signed.index(b" b=") + 3
    flipped = (
        signed[:start] + (b"A" if signed[start : start + 1] != b"A" else b"B") + signed[start + 1 :]
    )
    assert signing_domains(flipped, Keys().publish(fbl)) == frozenset()


def test_a_tampered_body_fails(fbl: Signer) -> None:
    """The signed report names one recipient; the forger swaps in another."""
    signed = fbl.sign(REPORT)
    tampered = signed.replace(b"angry@example.org", b"victim@example.org")
    assert tampered != signed
    keys = Keys().publish(fbl)
    assert signing_domains(signed, keys) == {"fbl.example.net"}
    assert signing_domains(tampered, keys) == frozenset()


def test_a_tampered_from_fails(fbl: Signer) -> None:
    signed = fbl.sign(REPORT)
    tampered = signed.replace(b"From: feedback@fbl.example.net", b"From: feedback@fbl.example.com")
    assert signing_domains(tampered, Keys().publish(fbl)) == frozenset()


def test_a_from_added_above_a_signed_one_fails(fbl: Signer) -> None:
    """Two From headers: the one a reader sees first would not be the signed one."""
    signed = fbl.sign(REPORT)
    assert signing_domains(b"From: other@fbl.example.net\r\n" + signed, Keys().publish(fbl)) == (
        frozenset()
    )


def test_a_key_nobody_publishes_names_nobody(fbl: Signer) -> None:
    assert signing_domains(fbl.sign(REPORT), Keys()) == frozenset()


def test_a_key_of_another_domain_does_not_verify(fbl: Signer, attacker: Signer) -> None:
    """The forger signs with their key but claims d=fbl.example.net: the FBL's key refuses."""
    forged = Signer(fbl.domain, fbl.selector, attacker.private, fbl.record)
    assert signing_domains(forged.sign(REPORT), Keys().publish(fbl)) == frozenset()


def test_the_attackers_own_valid_signature_names_the_attacker(
    fbl: Signer, attacker: Signer
) -> None:
    """A valid signature of the forger's own domain is found, and named for what it is:
    the policy then finds it not aligned with the listed sender (tests/store/test_decide.py)."""
    assert signing_domains(attacker.sign(REPORT), Keys().publish(fbl, attacker)) == {
        "attacker.example"
    }


def test_every_valid_signature_counts_and_bad_ones_do_not(fbl: Signer, attacker: Signer) -> None:
    relay = rsa_signer("relay.example")  # signs, but publishes no key
    signed = relay.sign(fbl.sign(attacker.sign(REPORT)))
    assert signing_domains(signed, Keys().publish(fbl, attacker)) == {
        "fbl.example.net",
        "attacker.example",
    }


def test_a_signature_that_leaves_the_from_unsigned_does_not_count(fbl: Signer) -> None:
    signed = fbl.sign(REPORT, headers=[b"from", b"subject"])
    keys = Keys().publish(fbl)
    assert signing_domains(signed, keys) == {"fbl.example.net"}
    assert signing_domains(sign_leaving_from_out(fbl, REPORT), keys) == frozenset()


def sign_leaving_from_out(signer: Signer, raw: bytes) -> bytes:
    """A valid signature whose h= leaves From out (RFC 6376 forbids it, so dkimpy's sign()
    refuses: this is its sign() without that check, through its own header hashing)."""
    canon = CanonicalizationPolicy.from_c_value(b"relaxed/simple")
    message = dkimpy.DKIM(raw)
    message.signature_algorithm = b"rsa-sha256"
    message.hasher = hashlib.sha256
    include = (b"subject", b"to")
    body_hash = base64.b64encode(hashlib.sha256(canon.canonicalize_body(message.body)).digest())
    fields = [
        (b"v", b"1"),
        (b"a", b"rsa-sha256"),
        (b"c", b"relaxed/simple"),
        (b"d", signer.domain.encode()),
        (b"s", signer.selector.encode()),
        (b"h", b" : ".join(include)),
        (b"bh", body_hash),
        (b"b", b"0" * 60),
    ]
    key = parse_pem_private_key(signer.private)
    header = message.gen_header(fields, include, canon, b"DKIM-Signature", key)
    verified = dkimpy.DKIM(b"DKIM-Signature: " + header + raw)
    assert verified.verify(dnsfunc=Keys().publish(signer))  # valid, From unsigned
    return b"DKIM-Signature: " + header + raw


def test_a_signature_of_part_of_the_body_does_not_count(fbl: Signer) -> None:
    """``l=``: whatever follows the signed length could be the forger's."""
    signed = fbl.sign(REPORT, length=True)
    assert b" l=" in signed.split(b"\r\n\r\n")[0] or b";l=" in signed.split(b"\r\n\r\n")[0]
    assert signing_domains(signed, Keys().publish(fbl)) == frozenset()


def test_rsa_sha1_does_not_count(fbl: Signer) -> None:
    sha1 = Signer(fbl.domain, fbl.selector, fbl.private, fbl.record, algorithm=b"rsa-sha1")
    assert signing_domains(sha1.sign(REPORT), Keys().publish(fbl)) == frozenset()


def test_a_huge_header_block_is_not_verified_at_all(fbl: Signer) -> None:
    """dkimpy's header parser is quadratic in folded lines: past the bound, nothing is read."""
    folded = b"Subject: x" + b"\r\n x" * (dkim.MAX_HEADER_LINES + 1) + b"\r\n"
    signed = fbl.sign(REPORT.replace(b"Subject: Abuse report\r\n", folded))
    keys = Keys().publish(fbl)
    assert signing_domains(signed, keys) == frozenset()
    assert keys.asked == []


def test_a_header_block_within_the_bound_is_verified(fbl: Signer) -> None:
    folded = b"Subject: x" + b"\r\n x" * 200 + b"\r\n"
    signed = fbl.sign(REPORT.replace(b"Subject: Abuse report\r\n", folded))
    assert signing_domains(signed, Keys().publish(fbl)) == {"fbl.example.net"}


@pytest.mark.parametrize(
    "junk",
    [
        b"",
        b"\r\n",
        b"no header at all",
        b"DKIM-Signature: v=1; a=rsa-sha256; d=\r\n\r\nbody",
        b"\x00\xff" * 10,
    ],
)
def test_junk_names_nobody_and_never_raises(junk: bytes) -> None:
    assert signing_domains(junk, Keys()) == frozenset()


def test_signatures_past_the_limit_are_not_tried(fbl: Signer) -> None:
    others = [rsa_signer(f"n{i}.example", bits=1024) for i in range(dkim.MAX_SIGNATURES)]
    raw = fbl.sign(REPORT)
    for other in others:
        raw = other.sign(raw)  # each on top: the FBL's is now past the limit
    keys = Keys().publish(fbl, *others)
    assert signing_domains(raw, keys) == {o.domain for o in others}
    assert len(keys.asked) == dkim.MAX_SIGNATURES


# --- the service's own lookup, against a real name server ------------------------------------


def test_the_lookup_reads_a_key_from_a_name_server(fbl: Signer, name_server: NameServer) -> None:
    name_server.publish(fbl)
    lookup = name_server.lookup()
    assert lookup(fbl.name.encode()) == fbl.record  # longer than 255 octets: split, joined
    assert lookup(b"nobody._domainkey.example.org.") is None
    assert signing_domains(fbl.sign(REPORT), lookup) == {"fbl.example.net"}


def test_answers_are_cached(fbl: Signer, name_server: NameServer) -> None:
    name_server.publish(fbl)
    lookup = name_server.lookup()
    for _ in range(3):
        assert signing_domains(fbl.sign(REPORT), lookup) == {"fbl.example.net"}
    assert name_server.questions == [fbl.name]


def test_a_silent_name_server_costs_a_bounded_wait(fbl: Signer, name_server: NameServer) -> None:
    """Each lookup gives up after its timeout, and all of a message's within the budget:
    the ceiling here is one only a hang would reach."""
    name_server.silent = True
    raw = rsa_signer("b.example", bits=1024).sign(fbl.sign(REPORT))
    started = time.monotonic()
    assert signing_domains(raw, TxtLookup(["127.0.0.1"], port=name_server.port), budget=1.0) == (
        frozenset()
    )
    assert time.monotonic() - started < 30
    assert name_server.questions  # it did ask


# --- who pays: only complaints from listed feedback loops -------------------------------------

LISTED = Policy(feedback_loop_sources=["fbl.example.net"])


async def test_a_listed_feedback_loops_complaint_is_checked_off_the_loop(
    fbl: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = Keys().publish(fbl)
    monkeypatch.setattr(dkim, "LOOKUP", keys)
    signed = fbl.sign(REPORT)
    assert await complaint_signers(signed, parse(signed), LISTED) == {"fbl.example.net"}
    assert keys.asked


@pytest.mark.parametrize(
    ("raw", "policy"),
    [
        (REPORT, Policy()),  # nothing listed
        (REPORT, Policy(feedback_loop_sources=["other.example"])),  # another sender
        (REPORT.replace(b"feedback@fbl.example.net", b"fbl@notfbl.example.net"), LISTED),
    ],
    ids=["nothing-listed", "sender-not-listed", "lookalike-sender"],
)
async def test_other_complaints_cost_no_lookup(
    fbl: Signer, monkeypatch: pytest.MonkeyPatch, raw: bytes, policy: Policy
) -> None:
    keys = Keys().publish(fbl)
    monkeypatch.setattr(dkim, "LOOKUP", keys)
    signed = fbl.sign(raw)
    assert await complaint_signers(signed, parse(signed), policy) == frozenset()
    assert keys.asked == []


async def test_a_bounce_costs_no_lookup(fbl: Signer, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = Keys().publish(fbl)
    monkeypatch.setattr(dkim, "LOOKUP", keys)
    bounce = fbl.sign(
        dsn("gone@example.org").replace(
            b"MAILER-DAEMON@mx.example.net", b"MAILER-DAEMON@fbl.example.net"
        )
    )
    report = parse(bounce)
    assert report.findings and all(f.kind != "complaint" for f in report.findings)
    assert await complaint_signers(bounce, report, LISTED) == frozenset()
    assert keys.asked == []


async def test_a_group_checks_only_the_complaints_that_can_use_it(
    fbl: Signer, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = Keys().publish(fbl)
    monkeypatch.setattr(dkim, "LOOKUP", keys)
    listed = fbl.sign(REPORT)
    unlisted = fbl.sign(arf("x@example.org").replace(b"fbl.example.net", b"other.example"))
    bounce = dsn("gone@example.org")
    group = [(raw, parse(raw), LISTED) for raw in (bounce, listed, unlisted, listed)]
    assert await signers_of(group) == [
        frozenset(),
        {"fbl.example.net"},
        frozenset(),
        {"fbl.example.net"},
    ]
    assert len(keys.asked) == 2  # the two listed complaints, concurrently
    assert await signers_of([]) == []
