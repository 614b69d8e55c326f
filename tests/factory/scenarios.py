"""Scenarios, cases and the run: what each MTA is made to go through, and what must come out.

A *case* is one message through one MTA: one recipient whose local part
names the MTA, the scenario and the reply row (``postfix.rcpt.g-nosuchuser``),
sent from a signed return path (``parsers.signing.make_return_path``) on the
bounce domain. The MTA delivers it to ``reject.test`` & co. (the scripted
sink, a closed port, a server that never answers), fails, and writes its own
DSN to the return path, which the same sink accepts and records. The DSN is
then parsed with ``returnpath.parsers.parse``; the case's expectations come
from the reply row (tests/factory/replies.py) or the scenario (``EXPECT``).

Scenarios and what they must give (kind; reasons accepted):

============  ======================================================  ======================
rcpt          the row's reply answers RCPT TO                         row's kind; row's
                                                                      reason (4xx: or
                                                                      ``expired``)
data          RCPT accepted; the row's reply ends DATA                same
refused       nothing listens on the route's port; the MTA retries    soft; expired,
              until it gives up                                       networkerror
timeout       the server accepts the connection, never answers        soft; expired,
                                                                      networkerror
tls           MAIL FROM gets "530 5.7.0 Must issue a STARTTLS         soft; failedstarttls,
              command first"                                          securityerror
unresolvable  the domain does not exist (NXDOMAIN)                    hard; hostunknown
nullmx        the domain publishes ``MX 0 .`` (RFC 7505)              hard; notaccept
              OpenSMTPD 6.8 knows no null MX: it retries, expires     soft; expired,
              (``MTA_EXPECT``)                                        networkerror
dnsfail       the resolver answers SERVFAIL: the MTA retries until    soft; expired,
              it gives up                                             networkerror,
                                                                      systemerror
============  ======================================================  ======================

The DNS scenarios run each MTA in its own mount namespace whose
/etc/resolv.conf names the tiny DNS server of tests/factory/dns.py on
127.0.0.153; nothing reaches the machine's resolver or the network.

Delay warnings ("Action: delayed", Postfix and Exim) that come before a
give-up are kept beside the final DSN: none of them may be a hard bounce.
"""

from __future__ import annotations

import resource
import smtplib
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from returnpath.parsers import parse
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.signing import make_return_path, verify_return_path
from returnpath.parsers.vocabulary import Reason
from tests.factory.dns import NULLMX_NAME, NXDOMAIN_NAME, SERVFAIL_NAME, DnsServer
from tests.factory.mtas import LIFETIME, MTA_CLASSES, SKIPS, FactoryMTA, lifetime
from tests.factory.replies import REPLIES, Reply
from tests.factory.sink import Phase, ScriptedSink, SilentServer, Step, closed_port
from tests.mta import CLIENT_HELO, LOOPBACK, Received, Route, original_message

BOUNCES = "bounces.example.com"
ROW_INDEX = {reply.id: n for n, reply in enumerate(REPLIES)}
SECRET = b"bounce-factory-test-secret-0001"
KEY_ID = 1
#: one signing time per process: a token carries the hour it was made, so a run that crosses
#: an hour would otherwise submit one return path and look its DSN up under another
SIGNED_AT = datetime.now(UTC)
CAPTURE_HOST = "127.0.0.6"  # where the DSNs go (the sink playing returnpath)
REFUSED_HOST = "127.0.0.2"
SILENT_HOST = "127.0.0.3"
TLS_HOST = "127.0.0.4"
TLS_REPLY = "530 5.7.0 Must issue a STARTTLS command first"


class Scenario(StrEnum):
    RCPT = "rcpt"
    DATA = "data"
    REFUSED = "refused"
    TIMEOUT = "timeout"
    TLS = "tls"
    UNRESOLVABLE = "unresolvable"  # the domain does not exist (NXDOMAIN)
    NULLMX = "nullmx"  # the domain publishes MX 0 . (RFC 7505)
    DNSFAIL = "dnsfail"  # the resolver answers SERVFAIL: a DNS hiccup


#: the recipient domain of the scenarios without a reply row (each routed to its own server);
#: a reply row's domain is ROW.SCENARIO.test, on an address of its own (``reply_host``)
DOMAINS: dict[Scenario, str] = {
    Scenario.REFUSED: "refused.test",
    Scenario.TIMEOUT: "silent.test",
    Scenario.TLS: "tls.test",
    Scenario.UNRESOLVABLE: NXDOMAIN_NAME,
    Scenario.NULLMX: NULLMX_NAME,
    Scenario.DNSFAIL: SERVFAIL_NAME,
}


def reply_host(case: Case) -> str:
    """The loopback address that serves this case's reply, and only it.

    Every MTA keeps state per remote IP, and a batch of scripted failures to
    one IP sets it off: a 421 makes Postfix throttle the destination (other
    messages then fail with "delivery temporarily suspended" and the 421's
    text), Exim records a host retry and reuses a connection across messages
    for the same IP, OpenSMTPD suspends a host after a temporary failure and
    gives up on one that "rejects all mails". So each (scenario, row) gets an
    address of its own: 127.1.x.y for RCPT, 127.2.x.y for DATA.
    """
    assert case.reply is not None
    n = ROW_INDEX[case.reply.id] + 1
    net = 1 if case.scenario is Scenario.RCPT else 2
    return f"127.{net}.{n // 256}.{n % 256}"


#: expectations of the scenarios that do not take a reply row
EXPECT: dict[Scenario, tuple[Kind, frozenset[Reason]]] = {
    Scenario.REFUSED: (Kind.SOFT_BOUNCE, frozenset({Reason.EXPIRED, Reason.NETWORKERROR})),
    Scenario.TIMEOUT: (Kind.SOFT_BOUNCE, frozenset({Reason.EXPIRED, Reason.NETWORKERROR})),
    Scenario.TLS: (Kind.SOFT_BOUNCE, frozenset({Reason.FAILEDSTARTTLS, Reason.SECURITYERROR})),
    Scenario.UNRESOLVABLE: (Kind.HARD_BOUNCE, frozenset({Reason.HOSTUNKNOWN})),
    Scenario.NULLMX: (Kind.HARD_BOUNCE, frozenset({Reason.NOTACCEPT})),
    Scenario.DNSFAIL: (
        Kind.SOFT_BOUNCE,
        frozenset({Reason.EXPIRED, Reason.NETWORKERROR, Reason.SYSTEMERROR}),
    ),
}

#: where an MTA reports a scenario otherwise, by its own (documented) design: the truth of its
#: DSN is what the MTA did. OpenSMTPD 6.8 has no RFC 7505 support: a null MX is "no usable
#: MX" to it, retried until the queue lifetime ends, and reported as an expiry.
MTA_EXPECT: dict[tuple[str, Scenario], tuple[Kind, frozenset[Reason]]] = {
    ("opensmtpd", Scenario.NULLMX): (
        Kind.SOFT_BOUNCE,
        frozenset({Reason.EXPIRED, Reason.NETWORKERROR}),
    ),
}

#: scenarios where the remote side only ever failed temporarily: never a hard bounce
TEMPORARY = frozenset({Scenario.REFUSED, Scenario.TIMEOUT, Scenario.DNSFAIL})
DNS_SCENARIOS = frozenset({Scenario.UNRESOLVABLE, Scenario.NULLMX, Scenario.DNSFAIL})


@dataclass(frozen=True, slots=True)
class Case:
    mta: str
    scenario: Scenario
    reply: Reply | None = None

    @property
    def id(self) -> str:
        row = f".{self.reply.id}" if self.reply else ""
        return f"{self.mta}.{self.scenario}{row}"

    @property
    def domain(self) -> str:
        if self.reply is not None:
            return f"{self.reply.id}.{self.scenario}.test"
        return DOMAINS[self.scenario]

    @property
    def recipient(self) -> str:
        return f"{self.id}@{self.domain}"

    @property
    def return_path(self) -> str:
        return make_return_path(
            secret=SECRET,
            key_id=KEY_ID,
            domain=BOUNCES,
            recipient=self.recipient,
            now=SIGNED_AT,
        )

    @property
    def temporary(self) -> bool:
        if (self.mta, self.scenario) in MTA_EXPECT:
            return MTA_EXPECT[(self.mta, self.scenario)][0] is not Kind.HARD_BOUNCE
        return self.scenario in TEMPORARY or (self.reply is not None and self.reply.temporary)

    @property
    def expected_kind(self) -> Kind:
        if self.reply is not None:
            return self.reply.kind
        return MTA_EXPECT.get((self.mta, self.scenario), EXPECT[self.scenario])[0]

    @property
    def expected_reasons(self) -> frozenset[Reason]:
        if self.reply is None:
            return MTA_EXPECT.get((self.mta, self.scenario), EXPECT[self.scenario])[1]
        if self.reply.temporary:  # the MTA gave up: its own words may say "expired"
            return frozenset({self.reply.reason, Reason.EXPIRED})
        return frozenset({self.reply.reason})


@dataclass
class Outcome:
    case: Case
    dsn: bytes | None = None  # the final DSN, as received
    kind: str = "none"  # what the parsers said ("none": no DSN came, "unknown": no finding)
    reason: str = "none"
    status: str | None = None
    family: str = "none"
    decided_by: str | None = None
    verified: bool = False  # the DSN came back to a valid signed return path
    warnings: list[str] = field(default_factory=list)  # kinds of "Action: delayed" DSNs

    @property
    def kind_ok(self) -> bool:
        return self.kind == self.case.expected_kind.value

    @property
    def reason_ok(self) -> bool:
        return self.reason in {r.value for r in self.case.expected_reasons}

    @property
    def false_hard(self) -> bool:
        """A hard bounce where the truth is soft (the costly mistake), warnings included."""
        wrong_final = self.kind == Kind.HARD_BOUNCE and self.case.expected_kind != Kind.HARD_BOUNCE
        return wrong_final or (self.case.temporary and Kind.HARD_BOUNCE.value in self.warnings)


def cases(
    mtas: Iterable[str],
    rcpt_rows: Sequence[Reply] = REPLIES,
    data_rows: Sequence[Reply] = REPLIES,
    scenarios: Iterable[Scenario] = (
        Scenario.REFUSED,
        Scenario.TIMEOUT,
        Scenario.TLS,
        Scenario.UNRESOLVABLE,
        Scenario.NULLMX,
        Scenario.DNSFAIL,
    ),
) -> list[Case]:
    out: list[Case] = []
    for mta in mtas:
        skips = SKIPS.get(mta, {})
        out += [Case(mta, Scenario.RCPT, row) for row in rcpt_rows]
        out += [Case(mta, Scenario.DATA, row) for row in data_rows]
        out += [Case(mta, s) for s in scenarios if s.value not in skips]
    return out


def _is_warning(mta: FactoryMTA, raw: bytes) -> bool:
    return mta.warns and b"action: delayed" in raw.lower()


def _read(case: Case, raw: bytes) -> tuple[Finding | None, str]:
    report = parse(raw, envelope_recipient=case.return_path)
    mine = [f for f in report.findings if (f.recipient or "").lower() == case.recipient.lower()]
    found = mine or list(report.findings)
    return (found[0] if found else None), report.family


def _submit_all(mta: FactoryMTA, batch: list[Case]) -> None:
    """All of one MTA's messages over one SMTP connection (a new one every 100 messages)."""
    for start in range(0, len(batch), 100):
        with smtplib.SMTP(LOOPBACK, mta.port, local_hostname=CLIENT_HELO, timeout=30) as client:
            for n, case in enumerate(batch[start : start + 100], start):
                sender = case.return_path
                refused = client.sendmail(
                    sender, [case.recipient], original_message(sender, [case.recipient], n)
                )
                if refused:
                    raise RuntimeError(f"{mta.name} refused {refused}")


@dataclass
class Run:
    outcomes: list[Outcome]
    logs: dict[str, str]  # each MTA's log, for a failure's message
    seconds: float


def run(all_cases: Sequence[Case], *, timeout: float | None = None) -> Run:
    """Start the servers and the MTAs the cases name, send every case, collect every DSN.

    Waits until every case has its final DSN or ``timeout`` seconds passed
    (default: the longest queue lifetime plus a minute); a case without a DSN
    is an outcome of kind "none": a failure, not a hang.
    """
    began = time.monotonic()
    # one listening socket per reply case, plus the MTAs' connections to them
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < 8192:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
    script: dict[str, Step] = {}
    for case in all_cases:
        if case.reply is not None:
            phase = Phase.RCPT if case.scenario is Scenario.RCPT else Phase.DATA
            script[case.id.lower()] = Step(phase, case.reply.wire(case.recipient))
    by_return_path = {case.return_path.lower(): case for case in all_cases}
    finals: dict[Case, Received] = {}
    warnings: dict[Case, list[Received]] = {case: [] for case in all_cases}
    mta_names = sorted({case.mta for case in all_cases})
    lifetimes = {n: lifetime(n, sum(c.mta == n for c in all_cases)) for n in mta_names}
    if timeout is None:
        timeout = max(lifetimes.values(), default=LIFETIME) + 60.0

    replied = [c for c in all_cases if c.reply is not None]
    reply_hosts = sorted({reply_host(c) for c in replied})
    with (
        ScriptedSink(script, capture_domain=BOUNCES, hosts=reply_hosts or [LOOPBACK]) as sink,
        ScriptedSink({}, capture_domain=BOUNCES, hosts=[CAPTURE_HOST]) as capture,
        ScriptedSink({}, capture_domain=BOUNCES, mail_reply=TLS_REPLY, hosts=[TLS_HOST]) as tls,
        SilentServer(SILENT_HOST) as silent,
        DnsServer() if any(c.scenario in DNS_SCENARIOS for c in all_cases) else nullcontext(),
    ):
        # one loopback address per kind of server, and per reply (``reply_host``)
        routes: dict[str, Route] = {
            "tls.test": (TLS_HOST, tls.port),
            "silent.test": (SILENT_HOST, silent.port),
            "refused.test": (REFUSED_HOST, closed_port()),
            BOUNCES: (CAPTURE_HOST, capture.port),
        }
        for case in replied:
            routes[case.domain] = (reply_host(case), sink.port)
        started: list[FactoryMTA] = []
        logs: dict[str, str] = {}
        lock = threading.Lock()

        def start(name: str) -> FactoryMTA:
            mta = MTA_CLASSES[name](routes, lifetimes[name])
            with lock:
                started.append(mta)
            mta.start()
            return mta

        try:
            with ThreadPoolExecutor(len(mta_names)) as pool:
                mtas = dict(zip(mta_names, pool.map(start, mta_names), strict=True))
                list(
                    pool.map(
                        lambda name: _submit_all(
                            mtas[name], [c for c in all_cases if c.mta == name]
                        ),
                        mta_names,
                    )
                )

            def settle(received: list[Received]) -> bool:
                for msg in received[len(seen) :]:
                    seen.append(msg)
                    for rcpt in msg.rcpt_tos:
                        case = by_return_path.get(rcpt.lower())
                        if case is None:
                            continue
                        if _is_warning(mtas[case.mta], msg.data):
                            warnings[case].append(msg)
                        else:
                            finals.setdefault(case, msg)
                return len(finals) == len(all_cases)

            seen: list[Received] = []
            deadline = time.monotonic() + timeout
            while not settle(capture.received) and time.monotonic() < deadline:
                capture.wait_until(lambda r: len(r) > len(seen), min(2.0, timeout))
        finally:
            logs.update({mta.name: mta.log() for mta in started})
            for mta in started:
                mta.stop()

    outcomes = []
    for case in all_cases:
        out = Outcome(case)
        for warning in warnings[case]:
            finding, _ = _read(case, warning.data)
            out.warnings.append(finding.kind.value if finding else "unknown")
        msg = finals.get(case)
        if msg is not None:
            out.dsn = msg.data
            [rcpt] = [r for r in msg.rcpt_tos if r.lower() == case.return_path.lower()]
            out.verified = verify_return_path(
                rcpt, secrets={KEY_ID: SECRET}, domain=BOUNCES, recipient_hint=case.recipient
            ).verified
            finding, out.family = _read(case, msg.data)
            if finding is None:
                out.kind = out.reason = "unknown"
            else:
                out.kind, out.reason = finding.kind.value, finding.reason.value
                out.status, out.decided_by = finding.status, finding.decided_by
        outcomes.append(out)
    return Run(outcomes, logs, time.monotonic() - began)
