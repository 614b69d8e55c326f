"""Every verdict names the row or family step that made it, and what that row matched."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

from returnpath.parsers import parse
from returnpath.parsers.base import EVIDENCE_CAP, make_finding
from returnpath.parsers.model import Kind
from returnpath.parsers.phrase_index import reason_text
from returnpath.parsers.providers import PROVIDERS, provider_decision, provider_reason
from returnpath.parsers.reason_rules import LATE_RULES, RULES, _named, slug
from returnpath.parsers.reasons import decide, reason_for
from returnpath.parsers.steps import REASON_OF
from returnpath.parsers.vocabulary import Reason
from tests.messages import arf, dsn

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"

_ID = re.compile(r"^[a-z0-9]+(?:\.[a-z0-9-]+)+$")


def test_every_row_of_the_reason_tables_has_a_unique_readable_id() -> None:
    ids = [rule.id for rule in RULES + LATE_RULES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for rule in RULES:
        assert rule.id.startswith(f"rules.{rule.reason.value}."), rule.id
    for rule in LATE_RULES:
        assert rule.id.startswith(f"late.{rule.reason.value}."), rule.id
    assert all(_ID.match(i) for i in ids), ids


def test_every_provider_row_has_a_unique_id_naming_its_provider() -> None:
    ids = [i for p in PROVIDERS for i in p.ids]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    for provider in PROVIDERS:
        assert len(provider.ids) == len(provider.rules)
        for pid, (_, reason) in zip(provider.ids, provider.rules, strict=True):
            assert pid.startswith(f"provider.{provider.name}.{reason.value}."), pid
            assert _ID.match(pid), pid
    orange = next(p for p in PROVIDERS if p.name == "orange")
    assert orange.ids[0] == "provider.orange.userunknown.ofr-lpn-416-418"


def test_a_new_row_renames_no_other_row() -> None:
    """Ids come from each row's own content, not from its position."""
    unnamed = tuple(replace(r, id="") for r in RULES)
    new_row = replace(unnamed[3], words=("a brand new phrase",))
    before = [r.id for r in _named("rules", unnamed)]
    after = [r.id for r in _named("rules", (new_row, *unnamed))]
    assert after[0] == f"rules.{new_row.reason.value}.a-brand-new-phrase"
    assert after[1:] == before
    # an explicit id is kept as written
    assert _named("rules", (replace(new_row, id="rules.custom"),))[0].id == "rules.custom"


def test_slugs_drop_regex_syntax() -> None:
    assert slug(r"\b(?:OFR|LPN)\w*_(?:416|418)\b") == "ofr-lpn-416-418"
    assert slug("5.1.1") == "5-1-1"
    assert slug("") == "any"
    assert len(slug("word " * 40)) <= 40


def test_a_phrase_decides_and_is_the_evidence() -> None:
    d = decide("550 5.1.1 <a@b.example>: No such user here", "5.1.1", "550")
    assert (d.reason, d.decided_by, d.evidence) == (
        Reason.USERUNKNOWN,
        "rules.userunknown.user-unknown",
        "no such user here",  # the longest phrase of the row that is in the text
    )


def test_a_status_listed_by_a_row_decides_with_the_status_as_evidence() -> None:
    d = decide(None, "5.2.2")
    assert (d.reason, d.decided_by, d.evidence) == (
        Reason.MAILBOXFULL,
        "rules.mailboxfull.mailbox-full",
        "5.2.2",
    )


def test_the_status_table_and_the_fallbacks_have_ids() -> None:
    assert decide("", "4.4.7").decided_by == "status.4.4.7"
    assert decide("hmm", "5.7.9") == decide("hmm", "5.7.9")  # deterministic
    assert decide("hmm", "5.7.9").decided_by == "status.5.7.9"
    assert decide("what", "5.7.99").decided_by == "subject.7"
    delayed = decide(None, action="delayed")
    assert (delayed.reason, delayed.decided_by, delayed.evidence) == (
        Reason.EXPIRED,
        "fallback.expired",
        "action delayed",
    )
    assert decide(None, action="delivered").decided_by == "fallback.delivered"
    assert decide("something odd").decided_by == "fallback.onhold"
    assert decide(None).decided_by == "fallback.undefined"


def test_a_regex_row_gives_the_text_it_matched() -> None:
    d = decide("the mailbox of this person is completely full now")
    assert d.decided_by == "rules.mailboxfull.mailbox-full"
    assert d.evidence == "mailbox of this person is completely full"


def test_a_provider_row_decides_with_its_id_and_match() -> None:
    diagnostic = "550 5.1.1 <x@orange.fr>: OFR_416 [416] Adresse inconnue"
    found = provider_decision(diagnostic, "smtp-in.orange.fr")
    assert found == (
        Reason.USERUNKNOWN,
        "provider.orange.userunknown.ofr-lpn-416-418",
        "OFR_416",
    )
    assert provider_reason(diagnostic, "smtp-in.orange.fr") == Reason.USERUNKNOWN
    f = make_finding("rfc3464", "x@orange.fr", diagnostic, status="5.1.1")
    assert (f.decided_by, f.evidence) == (found[1], "OFR_416")


def test_a_forced_reason_names_the_family_step() -> None:
    f = make_finding("somefamily", "a@example.org", "it failed", reason=Reason.SUSPEND)
    assert (f.decided_by, f.evidence) == ("family.somefamily.forced", None)
    named = make_finding(
        "somefamily",
        "a@example.org",
        "it failed",
        reason=Reason.SUSPEND,
        decided_by="family.somefamily.suspend.x",
        evidence="x",
    )
    assert (named.decided_by, named.evidence) == ("family.somefamily.suspend.x", "x")


def test_evidence_is_bounded_and_keeps_the_end_of_a_long_match() -> None:
    f = make_finding(
        "x", "a@example.org", "d", reason=Reason.FILTERED, decided_by="family.x", evidence="y" * 999
    )
    assert f.evidence is not None and len(f.evidence) == EVIDENCE_CAP
    assert f.evidence.startswith("...")


def test_reason_for_is_decide_without_the_evidence() -> None:
    for diagnostic, status in (
        ("550 5.1.1 user unknown", "5.1.1"),
        ("452 4.2.2 mailbox full", "4.2.2"),
        ("554 5.7.1 blocked using zen.spamhaus.org", "5.7.1"),
        ("connection timed out", None),
    ):
        assert reason_for(diagnostic, status) == decide(diagnostic, status).reason


def test_a_dsn_finding_carries_its_row_and_phrase() -> None:
    [f] = parse(dsn("gone@example.org")).findings
    assert f.kind == Kind.HARD_BOUNCE
    assert f.decided_by == "rules.userunknown.user-unknown"
    assert f.evidence is not None and f.evidence in (f.diagnostic or "").lower()


def test_an_arf_complaint_is_decided_by_its_feedback_type() -> None:
    [f] = parse(arf("complainer@example.org")).findings
    assert f.kind == Kind.COMPLAINT
    assert (f.decided_by, f.evidence) == ("family.arf.feedback-type", "Feedback-Type: abuse")


def test_an_auto_reply_names_the_header_that_proved_it() -> None:
    [f] = parse((FIXTURES / "autoreply" / "auto-submitted-vacation.eml").read_bytes()).findings
    assert f.decided_by == "family.rfc3834.header"
    assert f.evidence is not None and f.evidence.startswith("Auto-Submitted: auto-")


def _messages() -> list[Path]:
    files = [p for p in FIXTURES.rglob("*") if p.is_file()]
    if (CORPUS / "maildir").is_dir():
        files += [
            p
            for p in CORPUS.rglob("*")
            if p.is_file()
            and p.suffix not in (".jsonl", ".md")
            and not p.name.startswith("LICENSE")
        ]
    return sorted(files)


def test_no_finding_of_the_corpus_or_the_fixtures_lacks_its_evidence() -> None:
    """Over every message we have: ``decided_by`` is set, a table's id agrees with the
    reason the finding carries, and a phrase given as evidence is in the diagnostic."""
    seen = 0
    for path in _messages():
        for f in parse(path.read_bytes()).findings:
            seen += 1
            assert f.decided_by, (path, f)
            implied = REASON_OF.get(f.decided_by)
            assert implied is None or implied == f.reason, (path, f.decided_by, f.reason)
            if f.decided_by.startswith(("rules.", "late.")) and f.evidence not in (
                f.status,
                f.smtp_code,
            ):
                assert f.evidence and f.evidence in reason_text(f.diagnostic), (path, f)
            assert f.evidence is None or len(f.evidence) <= EVIDENCE_CAP
    # the fixtures alone hold over fifty findings; the shared corpus, when present, ~550 more
    assert seen > (500 if (CORPUS / "maildir").is_dir() else 50), seen


def test_the_steps_of_each_text_family_have_unique_ids() -> None:
    """A TextFamily's own ``reasons`` and ``section_reasons`` rows are named like the
    tables' (``family.<name>.<reason>.<slug>``): two rows of one family never share one."""
    from returnpath.parsers.registry import FAMILIES
    from returnpath.parsers.textbounce import TextFamily, _step_id

    for family in FAMILIES:
        if isinstance(family, TextFamily):
            rows = (*family.section_reasons, *family.reasons)
            ids = [_step_id(family, pattern, reason) for pattern, reason in rows]
            assert len(ids) == len(set(ids)), ids
            assert all(_ID.match(i) for i in ids), ids
