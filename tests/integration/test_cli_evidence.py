"""``returnpath explain``, ``returnpath classify`` and the evidence in ``returnpath parse``:
the real command, in a subprocess, as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from returnpath.explain import as_text, explain_bytes
from tests.messages import arf, dsn

RETURNPATH = [sys.executable, "-m", "returnpath"]
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def _run(*args: str, stdin: str | None = None) -> str:
    out = subprocess.run(
        [*RETURNPATH, *args], capture_output=True, text=True, check=True, input=stdin, timeout=60
    )
    return out.stdout


def test_parse_prints_the_evidence_of_each_finding(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(dsn("one@example.org"))
    [row] = [json.loads(line) for line in _run("parse", str(tmp_path)).splitlines()]
    assert row["decided_by"] == "rules.userunknown.user-unknown"
    assert row["evidence"] == "recipient address rejected: user"


def test_explain_says_how_a_bounce_was_recognised_and_why(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(dsn("one@example.org"))
    text = _run("explain", str(tmp_path / "a.eml"))
    assert "recognised as rfc3464: a standard delivery status notification" in text
    assert "Content-Type: multipart/report; report-type=delivery-status" in text
    assert "finding 1: one@example.org" in text
    assert "hard_bounce / userunknown: the mailbox does not exist" in text
    assert (
        "decided by row rules.userunknown.user-unknown of the reason table: "
        "phrase 'recipient address rejected: user' in the diagnostic"
    ) in text
    assert "status 5.1.1 (the report's status field, also in the diagnostic)" in text


def test_explain_json_gives_the_same_as_data(tmp_path: Path) -> None:
    (tmp_path / "c.eml").write_bytes(arf("complainer@example.org"))
    (tmp_path / "d.eml").write_bytes(dsn("two@example.org", status="4.2.2", diagnostic="452 full"))
    rows = [json.loads(line) for line in _run("explain", "--json", str(tmp_path)).splitlines()]
    by_file = {Path(r["file"]).name: r for r in rows}
    [complaint] = by_file["c.eml"]["findings"]
    assert by_file["c.eml"]["family"] == "arf"
    assert (complaint["kind"], complaint["decided_by"], complaint["evidence"]) == (
        "complaint",
        "family.arf.feedback-type",
        "Feedback-Type: abuse",
    )
    assert complaint["why"] == "the arf family's step feedback-type: Feedback-Type: abuse"
    [soft] = by_file["d.eml"]["findings"]
    assert (soft["reason"], soft["evidence"]) == ("mailboxfull", "4.2.2")
    assert soft["why"] == (
        "row rules.mailboxfull.mailbox-full of the reason table: status 4.2.2, which the row lists"
    )


def test_explain_names_the_header_of_an_auto_reply_and_survives_junk() -> None:
    data = explain_bytes((FIXTURES / "autoreply" / "auto-submitted-vacation.eml").read_bytes())
    [f] = data["findings"]
    assert f["why"].startswith("the rfc3834 family's step header: Auto-Submitted: auto-")
    junk = explain_bytes(b"\x00\xff\xfe garbage")
    assert junk["findings"] == [] and junk["family"] == "unknown"
    assert "recognised as unknown: nothing recognised it" in as_text("junk", junk)


def test_classify_reads_an_argument_or_stdin() -> None:
    one = json.loads(_run("classify", "550 5.1.1 <a@example.org>: No such user here"))
    assert one == {
        "kind": "hard_bounce",
        "reason": "userunknown",
        "status": "5.1.1",
        "smtp_code": "550",
        "fault": "recipient",
        "decided_by": "rules.userunknown.user-unknown",
        "evidence": "no such user here",
    }
    piped = json.loads(_run("classify", "-", "--status", "4.2.2", stdin="452 try later\n"))
    assert (piped["kind"], piped["reason"], piped["fault"]) == (
        "soft_bounce",
        "mailboxfull",
        "recipient",
    )
