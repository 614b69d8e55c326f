"""The command line as an operator runs it: a real process, real signals."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.messages import dsn
from tests.services import free_port

RETURNPATH = [sys.executable, "-m", "returnpath"]


def _serve(tmp_path: Path, **env_vars: str) -> tuple[subprocess.Popen[str], int, int]:
    """``returnpath serve`` as an operator starts it: a clean environment, free ports, JSON logs."""
    smtp_port, api_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env |= {
        "RETURNPATH_SMTP_PORT": str(smtp_port),
        "RETURNPATH_API_PORT": str(api_port),
        "RETURNPATH_LOG_FORMAT": "json",
        **{f"RETURNPATH_{k.upper()}": v for k, v in env_vars.items()},
    }
    proc = subprocess.Popen(
        [*RETURNPATH, "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return proc, smtp_port, api_port


def _log_until(proc: subprocess.Popen[str], event: str) -> list[dict[str, object]]:
    """The JSON log lines up to the first with this event."""
    assert proc.stdout is not None
    lines: list[dict[str, object]] = []
    while not any(line.get("event") == event for line in lines):
        raw = proc.stdout.readline()
        assert raw, f"serve exited before logging {event}"
        if raw.startswith("{"):
            lines.append(json.loads(raw))
    return lines


def test_serve_starts_on_defaults_accepts_mail_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    proc, smtp_port, api_port = _serve(tmp_path)
    try:
        lines = _log_until(proc, "ready")
        # No key configured: one is generated and printed, and it works.
        key = next(line["api_key"] for line in lines if line.get("event") == "generated_admin_key")
        import smtplib

        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
            client.sendmail("", ["b@bounces.localhost"], dsn("sigterm@example.org"))
        # The 250 means spooled; the stage (a child process) records it a moment later.
        for _ in range(300):
            r = httpx.get(
                f"http://127.0.0.1:{api_port}/v1/suppressions/sigterm@example.org",
                headers={"Authorization": f"Bearer {key}"},
            )
            if r.status_code == 200:
                break
            time.sleep(0.05)
        assert r.status_code == 200
        # One scrape shows every process of this serve: the stage (a child) counted it.
        scrape = httpx.get(f"http://127.0.0.1:{api_port}/metrics").text
        assert 'returnpath_messages_total{duplicate="false",family="rfc3464"} 1.0' in scrape
        assert 'returnpath_smtp_replies_total{code="250"} 1.0' in scrape
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        rest = proc.stdout.read()
        assert '"event": "stopped"' in rest
    finally:
        if proc.poll() is None:
            proc.kill()
    # The default database is a SQLite file in the working directory, and it kept the row.
    with sqlite3.connect(tmp_path / "returnpath.db") as db:
        assert db.execute(
            "select kind from suppression where address='sigterm@example.org'"
        ).fetchone() == ("hard_bounce",)


def test_sigterm_during_an_open_session_answers_421(tmp_path: Path) -> None:
    proc, smtp_port, _ = _serve(tmp_path, api_key="k", shutdown_grace="0.5")
    try:
        for _ in range(1200):  # a start on a busy machine may take seconds
            try:
                sock = socket.create_connection(("127.0.0.1", smtp_port), timeout=10)
                break
            except OSError:
                time.sleep(0.05)
        with sock:
            f = sock.makefile("rb")
            assert f.readline().startswith(b"220")
            sock.sendall(b"EHLO client.example\r\n")
            while not f.readline().startswith(b"250 "):
                pass
            proc.send_signal(signal.SIGTERM)
            assert f.readline().startswith(b"421 4.3.2")
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


def test_parse_prints_one_json_line_per_finding(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(dsn("one@example.org"))
    (tmp_path / "junk.eml").write_bytes(b"\x00\xff\xfe garbage")
    out = subprocess.run(
        [*RETURNPATH, "parse", str(tmp_path)], capture_output=True, text=True, check=True
    )
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    by_file = {Path(str(r["file"])).name: r for r in rows}
    assert by_file["a.eml"]["recipient"] == "one@example.org"
    assert by_file["a.eml"]["kind"] == "hard_bounce"
    assert by_file["a.eml"]["status"] == "5.1.1"
    assert by_file["a.eml"]["smtp_code"] == "550"
    assert by_file["junk.eml"]["kind"] == "unknown" and by_file["junk.eml"]["recipient"] is None
    for field in (
        "file",
        "recipient",
        "kind",
        "reason",
        "status",
        "smtp_code",
        "diagnostic",
        "remote_mta",
        "feedback_type",
        "original_message_id",
    ):
        assert all(field in r for r in rows)
    # One table: every line has the same keys in the same order, each once, the file
    # first and the report's error last (null unless the message could not be read).
    pairs = [json.loads(line, object_pairs_hook=list) for line in out.stdout.splitlines()]
    keys = [k for k, _ in pairs[0]]
    assert keys[0] == "file" and keys[-1] == "error" and len(set(keys)) == len(keys)
    assert all([k for k, _ in row] == keys for row in pairs)
    assert by_file["a.eml"]["error"] is None


def test_workers_share_the_ports_and_stop_together(tmp_path: Path) -> None:
    proc, smtp_port, api_port = _serve(tmp_path, workers="2", shutdown_grace="1")
    try:
        lines = _log_until(proc, "workers_started")
        key = next(line["api_key"] for line in lines if line.get("event") == "generated_admin_key")
        [child] = next(line["pids"] for line in lines if line.get("event") == "workers_started")  # type: ignore[misc]
        headers = {"Authorization": f"Bearer {key}"}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the child binds the same ports a moment later
            try:
                if httpx.get(f"http://127.0.0.1:{api_port}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        import smtplib

        for i in range(20):  # new connections: the kernel spreads them over both processes
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=10) as client:
                client.sendmail(
                    "", ["b@bounces.localhost"], dsn(f"w{i}@example.org", message_id=f"<w{i}@x>")
                )
        # One stage records both workers' spools.
        for _ in range(300):
            r = httpx.get(
                f"http://127.0.0.1:{api_port}/v1/suppressions",
                headers=headers,
                params={"limit": 100},
            )
            if len(r.json()["items"]) == 20:
                break
            time.sleep(0.05)
        for _ in range(10):  # and both answer the API with the one key
            r = httpx.get(
                f"http://127.0.0.1:{api_port}/v1/suppressions",
                headers=headers,
                params={"limit": 100},
            )
            assert r.status_code == 200 and len(r.json()["items"]) == 20
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=40) == 0
        with contextlib.suppress(ChildProcessError):
            os.waitpid(int(child), 0)  # type: ignore[call-overload]
        with pytest.raises(ProcessLookupError):
            os.kill(int(child), 0)  # type: ignore[call-overload]
    finally:
        if proc.poll() is None:
            proc.kill()
