"""Write the manual's generated reference pages: the API from its OpenAPI document,
the configuration from the settings model.

    .venv/bin/python scripts/reference.py          # rewrites docs/reference/*.md
    .venv/bin/python scripts/reference.py --check  # exit 1 if they are stale

``make test`` runs the check (tests/test_reference_docs.py), so a route or a
setting added without regenerating fails there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

REPO = Path(__file__).resolve().parent.parent
PAGES = REPO / "docs" / "reference"


def _cell(text: object) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def api_page() -> str:
    from returnpath.api.deps import AppState
    from returnpath.api.main import create_app
    from returnpath.store.db import Store

    state = AppState(
        store=Store("sqlite+aiosqlite:///never-opened.db"),  # create_app opens nothing
        admin_key="",
        default_tenant_id=1,
        default_tenant="default",
    )
    spec: dict[str, Any] = create_app(state).openapi()
    lines = [
        "# API reference",
        "",
        "Generated from the service's OpenAPI document by `scripts/reference.py`",
        "(a running `serve` shows the same at `/docs`, and serves it as `/openapi.json`).",
        "",
    ]
    for path, operations in spec["paths"].items():
        for method, op in operations.items():
            lines += [f"## `{method.upper()} {path}`", ""]
            summary = op.get("description") or op.get("summary") or ""
            if summary:
                lines += [" ".join(summary.split()), ""]
            params = op.get("parameters", [])
            if params:
                lines += ["| parameter | in | required | schema |", "| --- | --- | --- | --- |"]
                for p in params:
                    schema = json.dumps(p.get("schema", {}), sort_keys=True)
                    lines.append(
                        f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'}"
                        f" | `{_cell(schema)}` |"
                    )
                lines.append("")
            body = op.get("requestBody", {}).get("content", {})
            if body:
                lines += ["Body: " + ", ".join(f"`{t}`" for t in body), ""]
            answers = op.get("responses", {})
            lines += [
                "Answers: "
                + ", ".join(
                    f"{code} ({_cell(r.get('description', ''))})" for code, r in answers.items()
                ),
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is Literal:
        return " | ".join(f"`{a}`" for a in get_args(annotation))  # _cell escapes the |
    if origin is list:
        return "comma-separated list"
    return f"`{getattr(annotation, '__name__', annotation)}`"


def _unit(field: Any) -> str:
    extra = field.json_schema_extra
    return str(extra.get("unit", "")) if isinstance(extra, dict) else ""


def _bounds(field: Any) -> str:
    """The constraints pydantic enforces (``gt=0``, ``le=64``), as the page shows them."""
    said = []
    for meta in field.metadata:
        for name, sign in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            value = getattr(meta, name, None)
            if value is not None:
                said.append(f"{sign} {value}")
    return ", ".join(said)


def configuration_page() -> str:
    from returnpath.settings import Settings

    lines = [
        "# Configuration reference",
        "",
        "Generated from the settings model (`src/returnpath/settings.py`) by",
        "`scripts/reference.py`: every `RETURNPATH_*` variable, what it does, its type,",
        "unit and default, and when to change it. Set them in the environment or in a",
        "`.env` file in the working directory. An overview with advice:",
        "[Configuration](../configuration.md).",
        "",
        "| variable | default | unit |",
        "| --- | --- | --- |",
    ]
    sections: list[str] = []
    for name, field in Settings.model_fields.items():
        if not field.description:
            raise SystemExit(f"settings.{name} has no description: say what it does")
        if field.default_factory is not None:
            default: object = field.default_factory()  # type: ignore[call-arg]
        else:
            default = field.default
        shown = ",".join(map(str, default)) if isinstance(default, list) else default
        shown_cell = f"`{_cell(shown)}`" if str(shown) else "*(empty)*"
        variable = f"RETURNPATH_{name.upper()}"
        unit = _unit(field)
        lines.append(f"| [`{variable}`](#{variable.lower()}) | {shown_cell} | {unit} |")
        facts = [f"Type: {_type_name(field.annotation)}", f"default: {shown_cell}"]
        if unit:
            facts.append(f"unit: {unit}")
        if _bounds(field):
            facts.append(f"accepted: {_bounds(field)}")
        sections += [
            f"## `{variable}`",
            "",
            " ".join(field.description.split()),
            "",
            "; ".join(facts) + ".",
            "",
        ]
    return "\n".join([*lines, "", *sections]).rstrip() + "\n"


def pages() -> dict[Path, str]:
    return {PAGES / "api.md": api_page(), PAGES / "configuration.md": configuration_page()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    stale = [
        path for path, text in pages().items() if not path.exists() or path.read_text() != text
    ]
    if args.check:
        for path in stale:
            print(f"{path.relative_to(REPO)} is stale: run scripts/reference.py", file=sys.stderr)
        return 1 if stale else 0
    PAGES.mkdir(parents=True, exist_ok=True)
    for path, text in pages().items():
        path.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
