"""Running `returnpath` as a user does, in a process of its own, for the tests."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(database_url: str, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """``python -m returnpath ARGS`` on ``database_url``; ``settings`` are ``RETURNPATH_*``
    values (``raw_retention_days="0"``). The caller's own RETURNPATH_* variables are left
    out, so a test sees the defaults a user sees."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env["RETURNPATH_DATABASE_URL"] = database_url
    env.update({f"RETURNPATH_{name.upper()}": value for name, value in settings.items()})
    return subprocess.run(
        [sys.executable, "-m", "returnpath", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
