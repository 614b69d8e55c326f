"""bench/smtp_wire.py decides issue 16's speed goals: its load must be what it claims
(4 KB DSNs, each naming its own failed recipient), its CPU figure must include the
children `returnpath serve` spawns, and a run must reach its end and write its figures.

Only the bare aiosmtpd is driven here (about two seconds): a run against `returnpath
serve` starts the service and waits for its rows, which is the benchmark's job, not CI's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from bench.smtp_wire import MESSAGE_SIZE, address, build_message, dot_stuffed, main
from bench.smtp_wire import tree_cpu_seconds as tree_cpu
from returnpath.parsers import parse


def test_every_message_is_a_4kb_dsn_naming_its_own_recipient() -> None:
    seen_ids = set()
    for n in (0, 7, 4999, 123456):
        raw = build_message("r1sqlite0abc", n)
        assert len(raw) == MESSAGE_SIZE
        report = parse(raw)
        assert [(f.recipient, f.status) for f in report.findings] == [
            (address("r1sqlite0abc", n), "5.1.1")
        ]
        seen_ids.add(report.message_id)
    assert len(seen_ids) == 4


def test_the_data_payload_is_dot_stuffed_and_terminated() -> None:
    assert dot_stuffed(b".a\r\nb\r\n.c") == b"..a\r\nb\r\n..c\r\n.\r\n"
    assert dot_stuffed(build_message("r", 1)).endswith(b"--BOUNDARY--\r\n.\r\n")


def test_the_cpu_of_a_process_tree_includes_its_children() -> None:
    # the parent only waits; its child burns 0.3 s of CPU, then both idle until stdin closes
    burn = "\n".join(
        [
            "import sys, time",
            "while time.process_time() < 0.3: pass",
            "print('done', flush=True)",
            "sys.stdin.read()",
        ]
    )
    parent = textwrap.dedent(f"""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", {burn!r}], stdout=subprocess.PIPE)
        print(child.stdout.readline().decode().strip(), child.pid, flush=True)
        sys.stdin.read()
    """)
    proc = subprocess.Popen(
        [sys.executable, "-c", parent], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None and proc.stdin is not None
        word, child = proc.stdout.readline().split()
        assert word == "done"
        assert tree_cpu([proc.pid]) >= 0.3
        assert tree_cpu([proc.pid]) - tree_cpu([int(child)]) < 0.3  # the child's, not its own
    finally:
        proc.kill()
        proc.wait(10)


def test_a_quick_run_against_the_bare_aiosmtpd_writes_its_figures(tmp_path: Path) -> None:
    out = tmp_path / "wire"
    argv = ["--targets", "aiosmtpd", "--messages", "40", "--rounds", "1", "--warmup", "4"]
    assert main([*argv, "--out", str(out)]) == 0
    result = json.loads(out.with_suffix(".json").read_text())
    (run,) = result["runs"]
    assert (run["target"], run["accepted_250"], run["errors"]) == ("aiosmtpd", 40, 0)
    assert run["smtp_connections"] == 16
    assert run["ratio_to_aiosmtpd"] == 1.0
    assert run["eod_p99_ms"] >= run["eod_p50_ms"] > 0
    assert run["target_cpu_ms_per_msg"] is not None
    assert "aiosmtpd" in out.with_suffix(".txt").read_text()
