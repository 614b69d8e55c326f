"""The stage's child process runs with exactly the settings of the serve that started it."""

from __future__ import annotations

from pathlib import Path

import pytest

from returnpath.settings import Settings
from returnpath.stage_process import PARENT, child_environment


def test_every_setting_reaches_the_child_whatever_way_serve_got_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = Settings(
        _env_file=None,  # type: ignore[call-arg]
        domains=["a.example", "b.example"],
        database_url=f"sqlite:///{tmp_path / 'x.db'}",
        db_timeout=2.5,
        relay_linger=0.3,
        stage="process",
        log_format="json",
    )
    env = child_environment(given)
    assert env[PARENT].isdigit()
    for key in [k for k in env if k.startswith("RETURNPATH_")]:
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        if key.startswith("RETURNPATH_"):
            monkeypatch.setenv(key, value)
    child = Settings(_env_file=None)  # type: ignore[call-arg]
    assert child.model_dump() | {"spool_dir": ""} == given.model_dump() | {"spool_dir": ""}
    assert child.spool_root == (tmp_path / "x.spool").resolve()
