"""The engine behind every non-standard (plain text) bounce family.

Most MTAs that do not write RFC 3464 still write the same shape of report: a
preamble, then for each failed recipient a line naming the address followed by
the remote host's words, then a marker and a copy of the original message.
What differs between MTAs is only *data*: how to recognise the report, where
the interesting section begins and ends, and how a recipient line looks. A
family module is therefore one ``TextFamily(...)`` value; this engine does the
reading, and ``parsers.reasons`` does the judging.

Engine rules, in order:

1. The section is the report text between the family's ``start`` marker (or
   the beginning) and the first "copy of the original message follows" marker.
2. A line matching one of the family's ``recipient`` patterns (named group
   ``addr``, optional group ``diag``) opens a recipient block; following lines
   belong to it until the next recipient line.
3. No recipient line at all: the addresses of ``X-Failed-Recipients``, then
   the recipient of the returned original, explain the whole section.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from returnpath.parsers._types import Msg
from returnpath.parsers.base import make_finding
from returnpath.parsers.gates import gate_text, gated_search, may_match
from returnpath.parsers.mime import (
    clean_address,
    first_address,
    header_text,
    original_message,
    original_message_id,
    report_head,
    report_text,
)
from returnpath.parsers.model import Finding
from returnpath.parsers.reason_rules import slug
from returnpath.parsers.smtp_codes import find_command as _command
from returnpath.parsers.smtp_codes import find_status as _status
from returnpath.parsers.vocabulary import Reason

ADDR = r"[^\s<>()\"',;:\[\]@]+@[A-Za-z0-9][A-Za-z0-9.-]*[A-Za-z0-9]"

#: where the copy of the original message begins, in any family's words
ORIGINAL_MARKERS = re.compile(
    r"^\s*(?:"
    r"-{2,}\s*(?:This is a copy of|Below this line is a copy|Original message|Returned message"
    r"|Forwarded message|The header of the original|Original mail|Message text follows"
    r"|Unsent message below|Headers of the original|original message follows|Undelivered message"
    r"|Transcript of session follows|Original Message Headers)"
    r"|-*\s*START OF RETURNED MESSAGE"
    r"|Original message (?:as received )?(?:is )?(?:as )?follows"
    r"|Original message follows\.?"
    r"|The original message (?:was|headers|is) "
    r"|Message headers follow\.?"
    r"|------ The original message"
    r"|\[?Original message header"
    r"|Content-Type: message/rfc822"
    r"|(?:Return-Path|Received|DKIM-Signature|X-Received): "
    r")",
    re.I | re.M,
)

#: recipient lines most MTAs share; families put their own first
COMMON_RECIPIENT_LINES: tuple[re.Pattern[str], ...] = (
    re.compile(rf"^\s*<(?P<addr>{ADDR})>\s*:?\s*(?P<diag>.*)$"),
    re.compile(rf"^\s*[\"']?(?P<addr>{ADDR})[\"']?\s*:?\s*$"),
    re.compile(rf"^\s*(?P<addr>{ADDR}):\s+(?P<diag>\S.*)$"),
    re.compile(rf"<(?P<addr>{ADDR})>\.\.\.\s*(?P<diag>.*)$"),
    re.compile(rf"^\s*(?P<addr>{ADDR})\s*\.\.\.\s*(?P<diag>.*)$"),
    re.compile(rf"^\s*<?(?P<addr>{ADDR})>?\s+(?P<diag>[\[(].*)$"),
    re.compile(rf"\bSMTP=(?P<addr>{ADDR})", re.I),
    # SMTP transcripts: sendmail ">>> RCPT To:<a>", Postfix " In:  RCPT TO:<a>"
    re.compile(rf"^\s*(?:>>>|In:)\s*RCPT TO:\s*<(?P<addr>{ADDR})>", re.I),
    re.compile(
        rf"^\s*(?:Failed |Invalid |Unknown |Original )?(?:recipient|address|rcpt to|rcpt)s?\s*:\s*<?(?P<addr>{ADDR})>?\s*(?P<diag>.*)$",
        re.I,
    ),
    re.compile(
        rf"(?:deliver(?:ed|ing)?|undeliverable|sent|send|addressed|transmitted|reach)"
        rf"(?: (?:your |the )?(?:mail|message|e-?mail))?\s+to:?\s*[<'\"]?(?P<addr>{ADDR})",
        re.I,
    ),
    re.compile(rf"^\s*(?:[*\u2022-]+)\s*<?(?P<addr>{ADDR})>?\s*$"),
    re.compile(rf"\baddressed,\s+<?(?P<addr>{ADDR})>?,", re.I),
    re.compile(rf":\s*<?(?P<addr>{ADDR})>?\s*$"),
)

#: header lines quoted in a report (the original's headers): never a recipient line
_HEADER_LINE_RE = re.compile(
    r"^\s*>?\s*(?:message-id|in-reply-to|references|from|return-path|sender|reply-to|received|date"
    r"|x-[\w-]+|subject|errors-to|list-[\w-]+|delivered-to|envelope-from|mail from|cc|bcc"
    r"|resent-[\w-]+|dkim-signature|content-[\w-]+)\s*:",
    re.I,
)
# reference form: (?<![\d.])[245]\d\d(?![\d.])|\b[245]\.\d{1,3}\.\d{1,3}\b, written to
# start with the digit class (see parsers.smtp_codes._STATUS_RE)
_CODE_RE = re.compile(r"[245](?:(?<![\d.][245])\d\d(?![\d.])|(?<=\b[245])\.\d{1,3}\.\d{1,3}\b)")
_POSTMASTER_RE = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon|root|daemon)@", re.I)


def marker_found(msg: Msg, pattern: re.Pattern[str]) -> bool:
    """``pattern.search(report_text(msg)[:HEAD_SPAN])``, skipped when it cannot match.

    A dozen families scan the same report head with their own case-blind
    regex, and for most messages none matches: the head is lower-cased once
    per message (``mime.report_head``) and each pattern's literal gates are
    tested in it first (``parsers.gates``).
    """
    return gated_search(pattern, *report_head(msg)) is not None


@dataclass(frozen=True)
class TextFamily:
    """One plain-text bounce format, described as data.

    ``senders``/``subjects`` are searched in the From:/Subject: headers,
    ``markers`` in the first 8 kB of the report text, ``headers`` names
    headers whose presence alone is a signature. Detection needs a hit in
    ``markers`` if ``require_marker`` is set, otherwise any hit counts.
    """

    name: str
    senders: re.Pattern[str] | None = None
    subjects: re.Pattern[str] | None = None
    markers: re.Pattern[str] | None = None
    headers: tuple[str, ...] = ()
    #: top-level content types that are themselves a signature (a delivery
    #: report whose machine-readable part was empty or unreadable)
    content_types: tuple[str, ...] = ()
    require_marker: bool = False
    start: re.Pattern[str] | None = None
    end: re.Pattern[str] | None = None
    recipients: tuple[re.Pattern[str], ...] = ()
    use_common_recipients: bool = True
    #: a phrase in the section that says "temporary, still trying"
    delayed: re.Pattern[str] | None = None
    #: the SMTP command this format's failures always answer, overriding what
    #: the text seems to say (Exchange lists directory rejections, i.e. RCPT;
    #: its echo of the envelope would otherwise read as a MAIL FROM failure)
    command: str | None = None
    #: fixed reasons for provider wordings the generic table cannot know,
    #: matched against one recipient's words
    reasons: tuple[tuple[re.Pattern[str], Reason], ...] = field(default=())
    #: the same, matched against the whole report (a notice stating the cause
    #: once, above the per-recipient SMTP detail)
    section_reasons: tuple[tuple[re.Pattern[str], Reason], ...] = field(default=())
    #: words only one MTA's bounce template writes, required on top of every
    #: other sign: they name who wrote a report that is otherwise read like any
    #: other (``families/postfix.py`` and its neighbours)
    signature: re.Pattern[str] | None = None

    def detect(self, msg: Msg) -> bool:
        if self.signature is not None and not marker_found(msg, self.signature):
            return False
        if self.headers and any(h in msg for h in self.headers):
            return True
        if self.content_types and msg.get_content_type() in self.content_types:
            return True
        hit = False
        if self.senders is not None and self.senders.search(header_text(msg, "From")):
            hit = True
        if (
            not hit
            and self.subjects is not None
            and self.subjects.search(header_text(msg, "Subject"))
        ):
            hit = True
        if self.markers is not None:
            if (
                self.require_marker
                and not hit
                and (self.senders is not None or self.subjects is not None)
            ):
                return False  # the marker alone would not do: skip the text scan
            found = marker_found(msg, self.markers)
            if self.require_marker:
                return found and (hit or (self.senders is None and self.subjects is None))
            hit = hit or found
        return hit

    def extract(self, msg: Msg) -> list[Finding]:
        return extract_text_bounce(self, msg)


def section_of(family: TextFamily, text: str) -> str:
    """The report's own words: after ``start``, before the original message."""
    if family.start is not None:
        m = gated_search(family.start, text)
        if m:
            text = text[m.start() :]
    text = text[:_SECTION_SCAN]  # the report is at the top; never scan a 50 MB original
    end = (family.end or ORIGINAL_MARKERS).search(text)
    if end is None and family.end is not None:
        end = ORIGINAL_MARKERS.search(text)
    if end is not None and end.start() > 0:
        text = text[: end.start()]
    return text[:32768]


_SECTION_SCAN = 65536


def _excluded(msg: Msg) -> set[str]:
    """Addresses that are the bounce's own parties, never a failed recipient."""
    out: set[str] = set()
    for name in ("From", "To", "Reply-To", "Return-Path", "Sender"):
        addr = first_address(header_text(msg, name))
        if addr:
            out.add(addr.lower())
    return out


def recipient_blocks(
    family: TextFamily, section: str, excluded: set[str], low: str | None = None
) -> list[tuple[str, list[str]]]:
    """``[(address, lines about it), ...]`` in the order the report names them
    (``low``: ``gate_text(section)`` when the caller has it)."""
    patterns: Sequence[re.Pattern[str]] = family.recipients
    if family.use_common_recipients:
        patterns = (*family.recipients, *COMMON_RECIPIENT_LINES)
    # A pattern whose literal gates occur nowhere in the section matches none of its
    # lines: tried on no line (the first pattern that matches a line stays the same).
    if low is None:
        low = gate_text(section)
    if low is not None:
        patterns = [p for p in patterns if may_match(p, section, low)]
    blocks: list[tuple[str, list[str]]] = []
    current: list[str] | None = None
    inline = False  # the recipient line carried its own words: only continuations follow
    # an SMTP dialogue not yet owned by anyone (old sendmail: "While talking to h:",
    # ">>> MAIL From:<s>", "<<< 550 Insecure Mail Relay", then "554 <a>... Remote
    # protocol error"): it explains the recipient line that follows it
    pending: list[str] = []
    for line in section.split("\n"):
        opened = False
        if "@" in line and not _HEADER_LINE_RE.match(line):
            for pat in patterns:
                m = pat.search(line)
                if not m:
                    continue
                addr = clean_address(m.group("addr"))
                low = addr.lower()
                if len(addr) > 254 or low in excluded or _POSTMASTER_RE.match(low):
                    continue  # RFC 5321 caps a path at 256 octets: longer is junk
                existing = next((b for b in blocks if b[0].lower() == low), None)
                if existing is not None:
                    # the address again, inside its own explanation ("<a>... User unknown")
                    current = existing[1]
                    break
                # the whole line: besides the reply it may name the command ("RCPT To:")
                current = [*pending, line.strip()]
                pending = []
                blocks.append((addr, current))
                inline = len(line[m.end("addr") :].strip(" <>.:;,")) >= 10
                opened = True
                break
        if not opened and current is not None:
            if inline and line.strip() and not line[:1].isspace():
                # sendmail: "554 <a@b>... reply" lines; what follows belongs to others
                current = None
            else:
                current.append(line)
                continue
        if not opened and current is None:
            bare = line.lstrip()
            if bare[:16].lower().startswith("while talking to"):
                pending = [bare]
            elif bare.startswith((">>>", "<<<")) and len(pending) < 8:
                pending.append(bare)
    return blocks


_GENERATED_RE = re.compile(rf"\(generated from <?({ADDR})>?\)", re.I)
# ADDR unanchored is quadratic on a long run without '@' (every start position
# rescans the run); a match may only start where a local part can start.
_ADDR_TOKEN_RE = re.compile(rf"(?<![^\s<>()\"',;:\[\]@]){ADDR}")


def _failed_header(msg: Msg) -> list[str]:
    """The addresses of ``X-Failed-Recipients`` (Exim, and MTAs imitating it)."""
    failed = header_text(msg, "X-Failed-Recipients")
    if not failed:
        return []
    return list(dict.fromkeys(clean_address(a) for a in _ADDR_TOKEN_RE.findall(failed)))


def fallback_recipients(msg: Msg, excluded: set[str], section: str = "") -> list[str]:
    """Who failed when the report does not say: X-Failed-Recipients, an alias the report
    expanded ("an undisclosed address (generated from a@b)"), then the original's To."""
    failed = _failed_header(msg)
    if failed:
        return failed
    generated = _GENERATED_RE.findall(section)
    if generated:
        return list(dict.fromkeys(generated))
    orig = original_message(msg)
    if orig is not None:
        for name in ("To", "Delivered-To", "X-Original-To"):
            addr = first_address(header_text(orig, name))
            if addr and addr.lower() not in excluded:
                return [addr]
    for name in ("X-Original-To", "Original-Recipient", "X-Failed-Recipient"):
        addr = first_address(header_text(msg, name))
        if addr and addr.lower() not in excluded and not _POSTMASTER_RE.match(addr):
            return [addr]
    return []


#: "the following recipients ...:" then indented bare names (AOL screen names, local users)
_BARE_LIST_RE = re.compile(
    r"(?:recipient|address|user)(?:\(s\)|s|es)?\b[^\n]*:[ \t]*\n(?:[ \t]*\n)?"
    r"((?:[ \t]+[A-Za-z0-9][A-Za-z0-9._+-]{0,63}[ \t]*(?:\n|$))+)",
    re.I,
)


def _bare_local_recipients(msg: Msg, section: str) -> list[str]:
    """Bare local parts listed as failed, qualified with the reporting system's domain.

    A name without a domain in a notice is local to the system that wrote it
    (AOL lists screen names: ``screenname`` from ``MAILER-DAEMON@aol.com`` is
    ``screenname@aol.com``). Last resort: only when nothing else names anyone.
    """
    m = _BARE_LIST_RE.search(section)
    if m is None:
        return []
    sender = first_address(header_text(msg, "From"))
    if not sender:
        return []
    domain = sender.rpartition("@")[2].lower()
    names = [line.strip() for line in m.group(1).split("\n") if line.strip()]
    return [f"{n}@{domain}" for n in names if not _POSTMASTER_RE.match(f"{n}@")]


#: the local parts a reporting system sends its notices from: RFC 5321 4.5.1's
#: postmaster, the MTAs' MAILER-DAEMON (sendmail, Postfix, Exim) and MAIL-DAEMON,
#: MDaemon's "MDaemon"
_REPORTER_RE = re.compile(r"^(?:mailer-?daemon|mail-daemon|postmaster|mdaemon)@", re.I)
_ORIGINAL_SENDER_RE = re.compile(r"^(?:from|sender|return-path|reply-to)\s*:(.*)$", re.I | re.M)


def _own_parties(msg: Msg, text: str) -> set[str]:
    """The returned message's sender addresses (From, Sender, Return-Path, Reply-To), from
    its attached copy or from the header lines pasted after the original-message marker."""
    out: set[str] = set()
    orig = original_message(msg)
    if orig is not None:
        for name in ("From", "Sender", "Return-Path", "Reply-To"):
            addr = first_address(header_text(orig, name))
            if addr:
                out.add(addr.lower())
    m = ORIGINAL_MARKERS.search(text)
    if m is not None:
        for found in _ORIGINAL_SENDER_RE.finditer(text, m.end(), m.end() + 20000):
            addr = first_address(found.group(1))
            if addr:
                out.add(addr.lower())
    return out


def _inline_original_recipient(text: str, excluded: set[str]) -> str | None:
    """``To:`` of an original message pasted after the marker."""
    m = ORIGINAL_MARKERS.search(text)
    if not m:
        return None
    for line in text[m.end() : m.end() + 20000].split("\n"):
        if line.lower().startswith("to:"):
            addr = first_address(line[3:])
            if addr and addr.lower() not in excluded:
                return addr
    return None


def extract_text_bounce(family: TextFamily, msg: Msg) -> list[Finding]:
    """Run the engine for one family (see the module docstring)."""
    text = report_text(msg)
    section = section_of(family, text)
    section_low = gate_text(section)  # lower-cased once for every gated search below
    excluded = _excluded(msg)
    blocks = recipient_blocks(family, section, excluded, section_low)
    if not blocks:
        # the failed address may be the bounce's own To: (mail to oneself, forwarding);
        # but an address the MTA itself lists as failed (X-Failed-Recipients) outranks
        # a bounced sender's address quoted in the remote reply ("<sender>... Please
        # use the smtp server of your ISP" when the report names a bare local part)
        loose = recipient_blocks(family, section, set(), section_low)
        failed = _failed_header(msg)
        if failed:
            wanted = {a.lower() for a in failed}
            blocks = [b for b in loose if b[0].lower() in wanted] or [(a, []) for a in failed]
        else:
            blocks = loose
    if len(blocks) > 1:
        # the returned message's own sender, quoted in the transcript ("<<< 250 2.1.0
        # <sender>... Sender ok") or the notice, and the reporting host's daemon are not
        # failed recipients when the report names a real one beside them
        senders = _own_parties(msg, text)
        kept = [b for b in blocks if b[0].lower() not in senders and not _REPORTER_RE.match(b[0])]
        blocks = kept or blocks
    if not blocks:
        addrs = fallback_recipients(msg, excluded, section)
        if not addrs:
            addr = _inline_original_recipient(text, excluded)
            addrs = [addr] if addr else _bare_local_recipients(msg, section)
        blocks = [(a, []) for a in addrs]
    if not blocks:
        return []
    action = (
        "delayed"
        if family.delayed is not None and gated_search(family.delayed, section, section_low)
        else None
    )
    orig_id = original_message_id(msg)
    findings = []
    named = {a.lower() for a, _ in blocks}
    for addr, lines in blocks:
        own = "\n".join(lines)
        diag = own.strip()
        if not diag or (len(blocks) == 1 and not _CODE_RE.search(diag)):
            # one recipient and no SMTP reply next to it: the report's own words explain
            diag = f"{diag}\n{section}" if diag else section
        forced, decided_by, evidence = _forced(family, section, section_low, diag)
        command = (
            family.command or _command(diag) or (_command(section) if len(blocks) == 1 else None)
        )
        alias = _expanded_from(own, excluded | named)
        # read before make_finding collapses the lines: a status may stand only at the
        # start of one ("host: mx.example.jp\n5.1.1 <a>... User Unknown")
        status = _status(diag)
        findings.append(
            make_finding(
                family.name,
                addr,
                diag,
                status=status,
                action=action,
                reason=forced,
                command=command,
                original_message_id=orig_id,
                original_recipient=alias,
                decided_by=decided_by,
                evidence=evidence,
            )
        )
        if alias:
            # the address the sender actually mailed, which an alias or forward expanded
            # to the failing one: the only one the sender's list knows
            named.add(alias.lower())
            findings.append(
                make_finding(
                    family.name,
                    alias,
                    diag,
                    status=status,
                    action=action,
                    reason=forced,
                    command=command,
                    original_message_id=orig_id,
                    decided_by=decided_by,
                    evidence=evidence,
                )
            )
    return findings


def _forced(
    family: TextFamily, section: str, section_low: str | None, diag: str
) -> tuple[Reason | None, str | None, str | None]:
    """The reason the family's own ``section_reasons`` (the whole section) or ``reasons``
    (the recipient's lines) give, with its step id (``family.<name>.<reason>.<slug of the
    pattern>``) and the matched text; ``(None, None, None)`` when none matches."""
    for pattern, reason in family.section_reasons:
        m = gated_search(pattern, section, section_low)
        if m is not None:
            return reason, _step_id(family, pattern, reason), m.group(0)
    if family.reasons:
        diag_low = gate_text(diag)
        for pattern, reason in family.reasons:
            m = gated_search(pattern, diag, diag_low)
            if m is not None:
                return reason, _step_id(family, pattern, reason), m.group(0)
    return None, None, None


def _step_id(family: TextFamily, pattern: re.Pattern[str], reason: Reason) -> str:
    return f"family.{family.name}.{reason.value}.{slug(pattern.pattern)}"


_EXPANDED_RE = re.compile(rf"\(expanded from:?\s*<?({ADDR})>?\s*\)", re.I)


def _expanded_from(lines: str, known: set[str]) -> str | None:
    """The alias a recipient was expanded from ("a@x (expanded from: b@y)"), if new."""
    m = _EXPANDED_RE.search(lines)
    if m is None:
        return None
    alias = clean_address(m.group(1))
    return None if alias.lower() in known else alias
