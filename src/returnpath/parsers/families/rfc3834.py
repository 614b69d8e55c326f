"""Auto-replies (RFC 3834): vacation notices, out-of-office, autoresponders.

Recognised by headers first (``Auto-Submitted: auto-replied`` — or
``auto-generated``/``auto-notified``: any automaton answering the return path
that is not a delivery report —, ``X-Autoreply``, ``X-Autorespond``,
``Precedence: auto_reply``, Apple's ``X-Apple-Action``), then by subject
lines in the languages mail clients localise them to.

The hard part is what *not* to take: RFC 3834 §3.1.7 asks DSNs to carry
``Auto-Submitted: auto-replied`` too, so a message that looks like a delivery
report (multipart/report, a delivery-status part, From: MAILER-DAEMON or
postmaster, a bounce subject, ``X-Failed-Recipients``) is refused here and
left to the bounce families. Weak hints (Exchange's
``X-Auto-Response-Suppress``, ``Precedence: bulk``) count only together with
a vacation subject, because ordinary and list mail carries them as well.

The recipient of an auto-reply is its ``From:`` address (the mailbox that
answered); ``Return-Path`` is the fallback, as a responder may send from a
no-reply address with ``Return-Path: <>``.

Reason ``vacation`` (kind ``auto_reply``), except when the reply says the
mailbox is retired ("this inbox is no longer in use"): such a mailbox will
never read our mail, so it is reported as kind ``soft_bounce``, reason
``suspend`` — Sisimai labels these so — and repeated, it suppresses.
"""

from __future__ import annotations

import re

from returnpath.parsers._types import Msg
from returnpath.parsers.base import Family
from returnpath.parsers.families._signals import is_delivery_report
from returnpath.parsers.mime import all_parts, first_address, header_text, leaf_text
from returnpath.parsers.model import Finding, Kind
from returnpath.parsers.vocabulary import Reason

NAME = "rfc3834"

# Header -> pattern of a value that by itself proves an automatic reply.
STRONG_HEADERS: dict[str, re.Pattern[str]] = {
    # auto-generated and auto-notified too: whatever automaton answered our
    # mail, once it is known not to be a delivery report it is a reply.
    "Auto-Submitted": re.compile(r"^\s*auto-(?:replied|generated|notified)", re.I),
    "X-Autoreply": re.compile(r"^\s*(?!no\b|false\b|0\b)\S", re.I),
    "X-Autorespond": re.compile(r"\S"),
    "X-Autoresponder": re.compile(r"\S"),
    "X-Auto-Reply": re.compile(r"^\s*(?!no\b|false\b|0\b)\S", re.I),
    "Precedence": re.compile(r"^\s*auto[_-]reply\b", re.I),
    "X-Apple-Action": re.compile(r"vacation", re.I),
    "X-Vacation": re.compile(r"\S"),
}

# Header -> pattern of a value that needs a vacation subject to count.
WEAK_HEADERS: dict[str, re.Pattern[str]] = {
    "X-Auto-Response-Suppress": re.compile(r"OOF|AutoReply|All", re.I),
    "Precedence": re.compile(r"^\s*(?:bulk|junk)\b", re.I),
}

# Vacation subjects. Mail clients prefix the original subject with these
# (``Automatic reply: Re: offer``) or send them alone; a reply prefix
# (Re:, AW:, SV:, ...) in front is tolerated.
SUBJECT_PATTERNS: tuple[str, ...] = (
    # English
    r"auto(?:matic)?[- ]?(?:reply|response|responder|answer)",
    r"auto\s*:",
    r"out\s+of\s+(?:the\s+)?office",
    r"\booo\b",
    r"away\s+from\s+(?:the\s+|my\s+)?(?:office|desk|email)",
    r"\bon\s+(?:vacation|holiday|leave|annual\s+leave|parental\s+leave)",
    r"vacation\s+(?:reply|notice|message|response)",
    r"\baway\s+until\b",
    r"\babsence\s+(?:notice|notification)",
    # German
    r"abwesenheits?(?:notiz|nachricht|meldung)",
    r"automatische\s+(?:antwort|rückantwort|rueckantwort)",
    r"au(?:ß|ss)er\s+haus",
    r"nicht\s+im\s+büro",
    r"\bim\s+urlaub\b",
    # French
    r"réponse\s+automatique|reponse\s+automatique",
    r"message\s+d['’]absence",
    r"absent(?:e)?\s+du\s+bureau",
    r"\ben\s+congés?\b",
    # Spanish
    r"respuesta\s+autom[aá]tica",
    r"fuera\s+de\s+(?:la\s+)?oficina",
    r"\bde\s+vacaciones\b",
    r"respuesta\s+de\s+ausencia",
    # Italian
    r"risposta\s+automatica",
    r"fuori\s+(?:ufficio|sede)",
    r"\bin\s+ferie\b",
    # Portuguese
    r"resposta\s+autom[aá]tica",
    r"fora\s+do\s+escrit[oó]rio",
    r"\bem\s+f[eé]rias\b",
    r"\baus[eê]ncia\b",
    # Dutch
    r"automatisch\s+(?:antwoord|bericht)",
    r"\bafwezig(?:heid)?\b",
    r"\bop\s+vakantie\b",
    # Nordic, Polish, Czech, Turkish, Finnish
    r"\bautosvar\b|automatisk\s+svar|frånvaro|fraværende",
    r"automatyczna\s+odpowied[zź]|poza\s+biurem|nieobecno[sś][cć]",
    r"automatick[aá]\s+odpov[eě]ď",
    r"otomatik\s+(?:yan[ıi]t|cevap)",
    r"automaattinen\s+vastaus",
    # Japanese, Chinese, Korean
    r"自動応答|自動返信|自動送信|不在(?:通知|のお知らせ|中)|休暇",
    r"自动回复|自動回覆|自動回復|自动答复|自动应答|休假|不在办公室",
    r"자동\s*응답|부재",
    # Russian, Ukrainian
    r"автоответ|автоматический\s+ответ|нет\s+на\s+месте|в\s+отпуске|вне\s+офиса",
    r"автовідповідь|автоматична\s+відповідь",
)
VACATION_SUBJECT: re.Pattern[str] = re.compile("|".join(SUBJECT_PATTERNS), re.IGNORECASE)

# Reply/forward prefixes and bracketed tags a vacation phrase may follow and
# still count as "the subject starts with it".
_PREFIX = r"^\s*(?:(?:re|aw|sv|vs|antw|wg|fw|fwd|tr|rif|r|ref|res|enc)\s*:\s*|\[[^\]]*\]\s*)*"
VACATION_SUBJECT_START: re.Pattern[str] = re.compile(
    _PREFIX + "(?:" + "|".join(SUBJECT_PATTERNS) + ")", re.IGNORECASE
)

# Automated system mail that carries Auto-Submitted but answers nobody:
# sudo's security notices, cron output.
SYSTEM_NOTICES: re.Pattern[str] = re.compile(
    r"security\s+information\s+for|^\s*cron\s+<", re.IGNORECASE
)

# Body phrases of an auto-reply that announces a retired mailbox, with the
# verdict they give. Checked in order; the first hit wins.
RETIRED_MAILBOX: tuple[tuple[re.Pattern[str], Kind, Reason], ...] = (
    (
        re.compile(
            r"no\s+longer\s+(?:in\s+use|active|monitored|being\s+monitored|accepts?\s+mail)|"
            r"(?:mailbox|inbox|account|address)\s+(?:is|has\s+been)\s+"
            r"(?:closed|deactivated|disabled|decommissioned|retired|inactive|not\s+monitored)|"
            r"wird\s+nicht\s+mehr\s+(?:genutzt|verwendet|gelesen)|"
            r"n['’]est\s+plus\s+(?:utilisée?|active|consultée?)|"
            r"ya\s+no\s+(?:está\s+en\s+uso|se\s+utiliza|est[aá]\s+activa)",
            re.IGNORECASE,
        ),
        Kind.SOFT_BOUNCE,
        Reason.SUSPEND,
    ),
)

# How much of the body is read for the diagnostic and the retired-mailbox check.
BODY_CHARS = 4000
DIAGNOSTIC_CHARS = 300


def _has_any(msg: Msg, table: dict[str, re.Pattern[str]]) -> bool:
    return any(
        msg.get(name) is not None and pattern.search(header_text(msg, name))
        for name, pattern in table.items()
    )


def _body_text(msg: Msg) -> str:
    """The first text/plain part (or the first text part at all), truncated."""
    fallback = ""
    for part in all_parts(msg):
        if part.is_multipart():
            continue
        ctype = part.get_content_type()
        if ctype == "text/plain":
            return leaf_text(part, BODY_CHARS)
        if ctype.startswith("text/") and not fallback:
            fallback = re.sub(r"<[^>]*>", " ", leaf_text(part, BODY_CHARS))
    return fallback


def _in_reply_to(msg: Msg) -> str | None:
    """RFC 3834 §3.1.4: the reply names the message it answers in In-Reply-To."""
    value = header_text(msg, "In-Reply-To").split()
    return value[0] if value else None


class Rfc3834:
    """Automatic replies that are not delivery reports."""

    name = NAME

    def detect(self, msg: Msg) -> bool:
        """An automatic reply that is not a delivery report.

        Proof is a strong header, or a vacation subject that either leads the
        subject line or comes with a weak header ("Kijitora is out of the office"
        with ``X-Auto-Response-Suppress``).
        """
        subject = header_text(msg, "Subject")
        if SYSTEM_NOTICES.search(subject):
            return False
        leads = bool(VACATION_SUBJECT_START.search(subject))
        if not (
            leads
            or _has_any(msg, STRONG_HEADERS)
            or (_has_any(msg, WEAK_HEADERS) and VACATION_SUBJECT.search(subject))
        ):
            return False
        # After a leading "Automatic reply:" the rest is our own subject quoted
        # back, whatever words it holds; bounce subjects lead with their own.
        return not is_delivery_report(msg, by_subject=not leads)

    def extract(self, msg: Msg) -> list[Finding]:
        """One finding: the mailbox that answered."""
        recipient = first_address(header_text(msg, "From")) or first_address(
            header_text(msg, "Return-Path")
        )
        body = _body_text(msg)
        kind, reason = Kind.AUTO_REPLY, Reason.VACATION
        for pattern, verdict_kind, verdict_reason in RETIRED_MAILBOX:
            if pattern.search(body):
                kind, reason = verdict_kind, verdict_reason
                break
        diagnostic = " ".join(body.split())[:DIAGNOSTIC_CHARS] or None
        return [
            Finding(
                kind=kind,
                reason=reason,
                recipient=recipient,
                diagnostic=diagnostic,
                original_message_id=_in_reply_to(msg),
                family=NAME,
            )
        ]


FAMILY: Family = Rfc3834()
