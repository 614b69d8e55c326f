"""DKIM on complaint reports: which domains demonstrably sent a feedback-loop report.

A complaint from a listed feedback loop suppresses without a signed return
path (``Policy.feedback_loop_sources``). Its From header is no evidence —
anyone can write ``From: fbl@listed.example`` — so the policy trusts it only
when the report carries a valid DKIM signature aligned with that sender
(``policy.feedback_loop_vouched``). This module finds the signers: the ``d=``
of every valid signature (``signing_domains``), for the reports that can use
one (``complaint_signers``).

Why each choice:

* **dkimpy** verifies (RFC 6376, ed25519 RFC 8463): a maintained library, in
  use in mail filters for years; canonicalisation and key records are not
  ours to get wrong. Stricter than RFC 6376 requires, a signature counts here
  only if it signs the From header (else it vouches for a message whose
  sender anyone could change), covers the whole body (no ``l=``: a forger
  could append a report of their own) and is not ``rsa-sha1`` (RFC 8301).
  RSA keys under 1024 bits are refused (dkimpy's ``minkey``).
* **Only complaints from listed feedback loops pay.** A report without a
  complaint, or whose From is not within a listed domain, cannot be trusted
  by a signature, so it costs no DNS lookup and no RSA: a flood of forged
  complaints from unlisted senders costs nothing but their parse.
* **Bounded in time and size.** Each key lookup waits at most
  ``DNS_TIMEOUT``; at most ``MAX_SIGNATURES`` signatures are tried, within
  ``BUDGET`` for the whole message. dkimpy's header parser appends every
  folded line to a bytes object (time quadratic in the folding): a header
  block beyond ``MAX_HEADER_LINES`` lines or ``MAX_HEADER_BYTES`` is not
  verified at all. A feedback loop's own headers are a few dozen lines (the
  complained-of message is in the body).
* **Never on the event loop.** Parsing, hashing and RSA run in a worker
  thread (``asyncio.to_thread``); the lookups there are blocking dnspython
  calls, bounded as above. Answers are cached (dnspython's LRU cache, by
  TTL): a feedback loop signs with one key for months.
* **Loaded on first use.** dkimpy, dnspython and PyNaCl are imported by the
  first report that needs them (imports inside ``signing_domains`` and ``TxtLookup``): a service
  whose tenants list no feedback loop never pays their start-up time.
* **Failure is "no signer", never an error.** A missing key, a timeout, a
  malformed signature or a parser error in dkimpy leave the complaint
  recorded and untrusted; nothing is lost and nothing raises.

Tests serve their own keys: ``signing_domains`` takes dkimpy's ``dnsfunc``,
and ``TxtLookup`` can be pointed at a name server the test runs.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import structlog

from returnpath.parsers.model import Kind, Report
from returnpath.store.policy import Policy, domain_of, listed_feedback_loop

if TYPE_CHECKING:
    import dns.resolver

log = structlog.get_logger("returnpath.dkim")

DNS_TIMEOUT = 3.0  # seconds, one key lookup
BUDGET = 6.0  # seconds, every lookup of one message
MAX_SIGNATURES = 4
MAX_HEADER_LINES = 2_000
MAX_HEADER_BYTES = 256 * 1024
MIN_RSA_BITS = 1024

NO_SIGNERS: frozenset[str] = frozenset()

#: dkimpy's ``dnsfunc``: the TXT record at a name (``selector._domainkey.domain.``), or None.
DnsFunc = Callable[..., bytes | None]

# dkimpy reports every failed signature at ERROR on its logger; a forged complaint is an
# expected event, not an error of ours: the outcome is logged once per report, below.
_DKIMPY_LOG = logging.getLogger("returnpath.dkim.dkimpy")
_DKIMPY_LOG.addHandler(logging.NullHandler())
_DKIMPY_LOG.propagate = False


class TxtLookup:
    """Key records through dnspython, each lookup bounded, answers cached.

    The system's resolver by default (``/etc/resolv.conf``, read on first
    use); ``nameservers`` and ``port`` name another (a test's own server).
    Never raises: a failed lookup is None, which dkimpy reports as a missing
    key, and the signature does not count.
    """

    def __init__(
        self,
        nameservers: Sequence[str] | None = None,
        port: int = 53,
        timeout: float = DNS_TIMEOUT,
    ) -> None:
        self.nameservers = list(nameservers) if nameservers is not None else None
        self.port = port
        self.timeout = timeout
        self._resolver: dns.resolver.Resolver | None = None
        self._lock = threading.Lock()

    def _get_resolver(self) -> dns.resolver.Resolver:
        import dns.resolver  # on first use: see "Loaded on first use"

        with self._lock:
            if self._resolver is None:
                resolver = dns.resolver.Resolver(configure=self.nameservers is None)
                if self.nameservers is not None:
                    resolver.nameservers = self.nameservers
                    resolver.port = self.port
                resolver.cache = dns.resolver.LRUCache(1024)
                self._resolver = resolver
            return self._resolver

    def __call__(self, name: bytes, timeout: float = DNS_TIMEOUT) -> bytes | None:
        try:
            answer = self._get_resolver().resolve(
                name.decode("ascii"),
                "TXT",
                lifetime=min(timeout, self.timeout),
                raise_on_no_answer=False,
                search=False,
            )
        except Exception:  # dns.exception.DNSException (every failure of a lookup), bad names
            return None
        if answer.rrset is None:
            return None
        for record in answer.rrset:
            return b"".join(record.strings)
        return None


#: The lookup the service uses (tests may replace it with one aimed at their own server).
LOOKUP: DnsFunc = TxtLookup()


def header_block(raw: bytes) -> bytes:
    """The message's header section (all of it when no empty line ends it)."""
    ends = [i for i in (raw.find(b"\n\r\n"), raw.find(b"\n\n")) if i >= 0]
    return raw[: min(ends) + 1] if ends else raw


def signing_domains(
    raw: bytes,
    dnsfunc: DnsFunc,
    *,
    budget: float = BUDGET,
    max_signatures: int = MAX_SIGNATURES,
) -> frozenset[str]:
    """The ``d=`` (lower case) of every valid signature on ``raw`` that counts here.

    Blocking (DNS, RSA): call it in a thread. Never raises.
    """
    head = header_block(raw)
    if len(head) > MAX_HEADER_BYTES or head.count(b"\n") > MAX_HEADER_LINES:
        return frozenset()
    deadline = time.monotonic() + budget

    def bounded(name: bytes, timeout: float = DNS_TIMEOUT) -> bytes | None:
        left = deadline - time.monotonic()
        return dnsfunc(name, timeout=min(timeout, left)) if left > 0 else None

    import dkim  # dkimpy, on first use: see "Loaded on first use"

    try:
        verifier = dkim.DKIM(raw, logger=_DKIMPY_LOG, minkey=MIN_RSA_BITS, timeout=DNS_TIMEOUT)
        count = sum(1 for name, _ in verifier.headers if name.lower() == b"dkim-signature")
    except Exception:  # dkimpy refuses the header block: no signature can be checked
        return frozenset()
    signers: set[str] = set()
    for idx in range(min(count, max_signatures)):
        try:
            valid = verifier.verify(idx=idx, dnsfunc=bounded)
        except Exception:  # DKIMException on bad input, or a dkimpy bug: not a signer
            continue
        fields = verifier.signature_fields
        if (
            valid
            and b"from" in verifier.include_headers
            and b"l" not in fields
            and fields.get(b"a", b"").lower() != b"rsa-sha1"
        ):
            signers.add(domain_of(verifier.domain.decode("ascii", "replace")))
    signers.discard("")
    return frozenset(signers)


def wants_signature(report: Report, policy: Policy) -> bool:
    """Only a complaint from a listed feedback loop can be trusted by its signature."""
    return any(f.kind == Kind.COMPLAINT for f in report.findings) and (
        listed_feedback_loop(policy, report.sender) is not None
    )


async def complaint_signers(raw: bytes, report: Report, policy: Policy) -> frozenset[str]:
    """``signing_domains`` for a report that can use it, off the event loop; else none."""
    if not wants_signature(report, policy):
        return frozenset()
    signers = await asyncio.to_thread(signing_domains, raw, LOOKUP)
    log.info("complaint report DKIM", sender=report.sender, signers=sorted(signers))
    return signers


async def signers_of(
    messages: Sequence[tuple[bytes, Report, Policy]],
) -> list[frozenset[str]]:
    """``complaint_signers`` of a group, in order, concurrently: the usual group (bounces,
    unlisted complaints) is answered without a task, a thread or a lookup."""
    found = [NO_SIGNERS] * len(messages)
    wanted = [
        i for i, (_, report, policy) in enumerate(messages) if wants_signature(report, policy)
    ]
    if wanted:
        checked = await asyncio.gather(*(complaint_signers(*messages[i]) for i in wanted))
        for i, signers in zip(wanted, checked, strict=True):
            found[i] = signers
    return found
