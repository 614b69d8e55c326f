"""Issue 11: the configuration reference says, for every setting, what it does, its unit,
its default and when to change it; it is generated from the settings model, so the
model's descriptions are where that is kept (tests/test_reference_docs.py keeps the page
current)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from returnpath.settings import Settings

REPO = Path(__file__).resolve().parent.parent
INTERNAL = {"worker_index"}  # set by serve for its own children


def _reference() -> ModuleType:
    spec = importlib.util.spec_from_file_location("reference", REPO / "scripts" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_setting_says_what_it_does_and_numbers_their_unit() -> None:
    vague = {
        name: field.description
        for name, field in Settings.model_fields.items()
        if len((field.description or "").split()) < 8
    }
    assert not vague, f"describe what these do and when to change them: {vague}"
    unitless = [
        name
        for name, field in Settings.model_fields.items()
        if field.annotation in (int, float)
        and name not in INTERNAL
        and not (isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("unit"))
    ]
    assert not unitless, f"give these a unit (json_schema_extra={{'unit': ...}}): {unitless}"


def test_the_generated_page_shows_each_description_default_and_unit() -> None:
    page = _reference().configuration_page()
    for name, field in Settings.model_fields.items():
        variable = f"RETURNPATH_{name.upper()}"
        section = page.split(f"## `{variable}`\n", 1)[1].split("\n## ", 1)[0]
        assert " ".join((field.description or "").split()) in section
        assert "default: " in section
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("unit"):
            assert f"unit: {extra['unit']}" in section
    assert "`sqlite+aiosqlite:///./returnpath.db`" in page
    assert "accepted: > 0, ≤ 10000" in page  # relay_batch_size's bounds
