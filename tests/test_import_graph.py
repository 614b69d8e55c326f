"""The package's modules import one another without a circle.

A circle can be held open by an import moved into a function or to the end of a
module, and then breaks on the next reordering. Every import statement counts
here, wherever it stands, so such a circle fails this test.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"


def _modules() -> dict[str, Path]:
    found = {}
    for path in SRC.rglob("*.py"):
        name = ".".join(path.relative_to(SRC).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (``from package import module`` names the
    module, not the package)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    sub = f"{node.module}.{alias.name}"
                    deps.add(sub if sub in modules else node.module)
            elif isinstance(node, ast.Import):
                deps.update(alias.name for alias in node.names)
        graph[name] = {d for d in deps if d in modules and d != name}
    return graph


def _circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    circles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in sorted(graph[node]):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while (member := stack.pop()) != node:
                component.append(member)
            component.append(node)
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def test_no_module_imports_itself_back_through_others() -> None:
    graph = _graph(_modules())
    assert "returnpath.parsers.signing" in graph["returnpath.parsers.verp"]  # the graph is read
    assert _circles(graph) == []


def test_a_circle_would_be_found() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _circles(graph) == [["a", "b", "c"]]


# What the command line may not import when it does not touch the database: each of these
# cost `returnpath --help` and a one-file `returnpath parse` seconds before (issue 17, 11).
_HEAVY = (
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "aiosqlite",
    "asyncpg",
    "fastapi",
    "starlette",
    "uvicorn",
    "aio_pika",
    "pydantic",
    "pydantic_settings",
    "prometheus_client",
    "structlog",
    "rich",
)
_FIXTURE = Path(__file__).resolve().parent / "fixtures" / "bounces" / "domino.eml"


def _imported_by(*args: str, stdin: bytes = b"", cwd: Path | None = None) -> set[str]:
    """Every module the real ``python -m returnpath ARGS`` process imported (-X importtime
    prints one line per module on standard error); the command must succeed."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "returnpath", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        cwd=cwd,
        env=env,
    )
    stderr = done.stderr.decode()
    assert done.returncode == 0, stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def _top(modules: set[str]) -> set[str]:
    return {name.split(".", 1)[0] for name in modules}


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("parse", "--help"),
        ("parse", str(_FIXTURE)),
        ("parse", "-"),
        ("tenants", "--help"),
        ("tenants", "list", "--help"),
        ("serve", "--help"),
    ],
)
def test_commands_that_do_not_touch_the_database_start_without_its_stack(
    args: tuple[str, ...],
) -> None:
    modules = _imported_by(*args, stdin=_FIXTURE.read_bytes())
    assert "typer" in modules  # the listing is read
    if args[0] == "parse" and args[1] != "--help":
        assert "returnpath.parsers" in modules
    assert _top(modules) & set(_HEAVY) == set()


def test_the_listing_shows_the_stack_when_a_command_loads_it(tmp_path: Path) -> None:
    """The check above can fail: ``requeue`` reads its settings and the stage's store."""
    modules = _imported_by("requeue", cwd=tmp_path)
    assert {"pydantic", "pydantic_settings", "sqlalchemy"} <= _top(modules)
