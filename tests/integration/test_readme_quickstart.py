"""The README's "Try it", run verbatim on a fresh clone, as a new user runs it.

The block under "## Try it" is taken from the clone's README.md and run by bash with
job control on (as in a terminal, where ``kill %1`` stops the whole job). The clone is
of the committed HEAD: in CI that is the tree under test; locally, commit first. It
installs from scratch (`make serve` on a fresh clone: a new .venv, the locked
dependencies, the mypyc compile), so it takes a minute or two; it is bounded at ten.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.services import in_ci

REPO = Path(__file__).resolve().parents[2]
PORTS = (2525, 8025)  # the defaults the README's block uses


def try_it_block(readme: str) -> str:
    section = readme.split("\n## Try it\n", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the README's Try it has no sh block"
    return match.group(1)


def _port_in_use(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_the_readme_quick_start_works_verbatim_on_a_fresh_clone(tmp_path: Path) -> None:
    busy = [p for p in PORTS if _port_in_use(p)]
    if busy:
        message = f"ports {busy} are taken: the README's defaults must be free for this test"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    clone = tmp_path / "returnpath"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=120)
    block = try_it_block((clone / "README.md").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env.pop("VIRTUAL_ENV", None)
    proc = subprocess.Popen(
        ["bash", "-m", "-c", block],
        cwd=clone,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        text=True,
    )
    try:
        out, _ = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        # whatever the block started (make, serve, its stage) must not outlive it
        subprocess.run(["pkill", "-KILL", "-f", f"{clone}/.venv/bin/returnpath"], check=False)
    tail = out[-4000:]
    assert proc.returncode == 0, tail
    # the suppression, once the stage recorded it
    assert re.search(r'"address":\s*"nobody@example.org"', out), tail
    # the check: nobody is suppressed, somebody is not
    check = next(line for line in out.splitlines() if '"results"' in line or "somebody" in line)
    assert "nobody@example.org" in check and "somebody@example.org" in check, check
    # the offline parse: one JSON line, a hard bounce of nobody@example.org
    parsed = [line for line in out.splitlines() if line.startswith('{"file"')]
    assert parsed and '"hard_bounce"' in parsed[0] and "nobody@example.org" in parsed[0], tail
    assert "Traceback" not in out, tail
    # kill %1 stopped the server: the ports are free again
    assert not any(_port_in_use(p) for p in PORTS), tail
