"""mbox, Maildir and .eml folders: recorded as SMTP mail is, once, resumably."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import pytest

from tests.importer.conftest import (
    Database,
    Importing,
    bounce,
    findings,
    write_maildir,
    write_mbox,
)


def _source(fmt: str, folder: Path, messages: list[bytes]) -> Path:
    if fmt == "mbox":
        return write_mbox(folder / "bounces.mbox", messages)
    if fmt == "maildir":
        return write_maildir(folder / "Maildir", messages)
    eml = folder / "eml"
    eml.mkdir()
    for n, raw in enumerate(messages):
        (eml / f"{n:03d}.eml").write_bytes(raw)
    (eml / "README.txt").write_text("not a message: only .eml files are read")
    return eml


@pytest.mark.parametrize("fmt", ["mbox", "maildir", "eml"])
def test_each_kind_of_archive_is_detected_and_recorded_as_smtp_mail_would_be(
    fmt: str, importing: Importing, tmp_path: Path
) -> None:
    messages = [bounce(n) for n in range(5)]
    summary = importing.run(str(_source(fmt, tmp_path, messages)))
    assert summary["sources"][0]["kind"] == fmt
    assert (summary["messages"], summary["new"], summary["failed"]) == (5, 5, 0)
    assert findings(summary) == {("hard_bounce", "userunknown"): 5}
    db = importing.db
    # the same rows SMTP mail makes: the raw message, its event, the suppression
    assert db.counts()["message"] == 5
    rows = db.query("SELECT recipient, kind, reason FROM event ORDER BY recipient")
    assert rows == [(f"user{n}@example.org", "hard_bounce", "userunknown") for n in range(5)]
    suppressed = db.query("SELECT address FROM suppression ORDER BY address")
    assert [a for (a,) in suppressed] == [f"user{n}@example.org" for n in range(5)]
    # stored raw, the envelope recovered from the headers, arrival from the mailbox
    [(raw, rcpt_tos, received_at)] = db.query(
        "SELECT raw, rcpt_tos, received_at FROM message WHERE header_message_id = '<dsn-1@mx.example.net>'"
    )
    assert b"Final-Recipient: rfc822; user1@example.org" in bytes(raw)
    assert "bounce@bounces.example.com" in rcpt_tos
    assert str(received_at).startswith("2026-")


def test_an_mbox_keeps_its_escaped_from_lines_and_splits_only_at_separators(
    importing: Importing, tmp_path: Path
) -> None:
    tricky = bounce(7).replace(b"This is the mail system", b"From here on, this is the mail system")
    summary = importing.run(str(write_mbox(tmp_path / "x.mbox", [bounce(6), tricky])))
    assert summary["new"] == 2
    [(raw,)] = importing.db.query(
        "SELECT raw FROM message WHERE header_message_id = '<dsn-7@mx.example.net>'"
    )
    assert b"\nFrom here on, this is the mail system" in bytes(raw)


def test_importing_the_same_mailbox_twice_creates_nothing_new(
    any_db: Database, tmp_path: Path
) -> None:
    importing = Importing(any_db, tmp_path / "spool")
    messages = [bounce(n) for n in range(6)]
    mbox = write_mbox(tmp_path / "a.mbox", messages)
    first = importing.run(str(mbox))
    after_first = any_db.counts()
    again = importing.run(str(mbox))
    assert (first["new"], again["new"], again["duplicates"]) == (6, 0, 6)
    # the same messages kept in another form: the envelope recovered is the same, so is
    # the dedup key
    maildir = importing.run(str(write_maildir(tmp_path / "Maildir", messages)))
    assert (maildir["new"], maildir["duplicates"]) == (0, 6)
    assert any_db.counts() == after_first


def test_dry_run_prints_the_summary_and_writes_nothing(
    importing: Importing, tmp_path: Path
) -> None:
    mbox = write_mbox(tmp_path / "a.mbox", [bounce(n) for n in range(4)] + [bounce(0)])
    before = importing.db.counts()
    preview = importing.run("--dry-run", str(mbox))
    assert preview["dry_run"] is True
    assert (preview["new"], preview["duplicates"]) == (4, 1)  # the copy inside the archive
    assert findings(preview) == {("hard_bounce", "userunknown"): 4}
    assert importing.db.counts() == before
    assert not (importing.spool / "imports").exists()  # no checkpoint either
    importing.run(str(mbox))
    after = importing.db.counts()
    preview = importing.run("--dry-run", str(mbox))
    assert (preview["new"], preview["duplicates"]) == (0, 5)
    assert importing.db.counts() == after


def test_an_import_killed_midway_resumes_after_its_last_committed_group(
    importing: Importing, tmp_path: Path
) -> None:
    total = 300
    mbox = write_mbox(tmp_path / "big.mbox", (bounce(n) for n in range(total)))
    proc = importing.popen("--batch", "5", str(mbox))
    checkpoints = importing.spool / "imports"
    deadline = time.monotonic() + 120
    while not (checkpoints.is_dir() and any(checkpoints.glob("*.json"))):
        assert proc.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    recorded = importing.db.counts()["message"]
    assert 0 < recorded < total
    summary = importing.run(str(mbox))
    # resumed: the groups committed before the kill were not read again
    assert summary["messages"] <= total - recorded + 5
    counts = importing.db.counts()
    assert counts["message"] == counts["event"] == total  # each once
    assert importing.db.query("SELECT count(DISTINCT recipient) FROM event") == [(total,)]
    assert not any(checkpoints.glob("*.json"))  # read to its end: nothing left to resume


def test_ctrl_c_stops_after_the_group_in_flight_and_says_how_to_resume(
    importing: Importing, tmp_path: Path
) -> None:
    mbox = write_mbox(tmp_path / "big.mbox", (bounce(n) for n in range(300)))
    proc = importing.popen("--batch", "5", str(mbox))
    checkpoints = importing.spool / "imports"
    deadline = time.monotonic() + 120
    while not (checkpoints.is_dir() and any(checkpoints.glob("*.json"))):
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert '"interrupted": true' in out
    # what it said it recorded is what the store holds
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["interrupted"] is True and 0 < summary["new"] < 300
    assert importing.db.counts()["message"] == summary["new"]
    assert any(checkpoints.glob("*.json"))  # kept for the next run (resuming: the kill test)


def test_a_path_that_is_not_there_is_one_line_and_nothing_is_read(importing: Importing) -> None:
    said = importing.fails("nowhere.mbox")
    assert said == "returnpath: nowhere.mbox: no such file or folder: nowhere.mbox"
