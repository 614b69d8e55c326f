"""The manual's generated reference pages are current, and the hand-written
configuration page names every setting the model has."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from returnpath.settings import Settings

REPO = Path(__file__).resolve().parent.parent


def test_the_generated_reference_pages_are_current() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "reference.py"), "--check"],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr


def test_the_configuration_page_names_every_setting() -> None:
    page = (REPO / "docs" / "configuration.md").read_text()
    named = set(re.findall(r"`(RETURNPATH_[A-Z_]+)`", page))
    internal = {"RETURNPATH_WORKER_INDEX"}  # set by serve for its own children
    missing = {f"RETURNPATH_{n.upper()}" for n in Settings.model_fields} - named - internal
    assert not missing, f"docs/configuration.md does not name {sorted(missing)}"
