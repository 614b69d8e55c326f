"""The mypyc build of parsers/ (hatch_build.py): current, in use, and equal to plain Python.

An extension module wins over a ``.py`` file of the same name on import, so a
build older than the sources would silently test (and run) old code: the
editable install records the SHA-256 of every source it compiled in
``parsers/_mypyc_sources.json``, and the first test compares it with the tree.
``make`` rebuilds whenever a file under parsers/ changes; this catches a bare
``pytest`` after an edit.

mypyc checks declared types at run time, so a wrong annotation that plain
Python never noticed becomes a TypeError, i.e. a ``parser error`` Report: the
last test parses the fixtures (and the corpus, when present) in a child
process that imports parsers from its ``.py`` files only, and compares every
Report field with the ones this process computes (compiled when built).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

import returnpath.parsers as parsers
from returnpath.parsers import parse

REPO = Path(__file__).resolve().parents[2]
PACKAGE = Path(parsers.__path__[0])
STAMP = PACKAGE / "_mypyc_sources.json"
FIXTURES = REPO / "tests" / "fixtures"
CORPUS = REPO.parent / "shared" / "corpus"
SKIP_SUFFIXES = {".jsonl", ".md", ".json", ".py"}
REBUILD = "run `make install` (or any make target) to rebuild the compiled parsers"


def _is_compiled(name: str) -> bool:
    return not str(importlib.import_module(name).__file__).endswith(".py")


def _compiler_present() -> bool:
    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    return shutil.which(cc) is not None


def _module_name(path: str) -> str:
    name = path.removeprefix("src/").removesuffix(".py").replace("/", ".")
    return name.removesuffix(".__init__")


def test_compiled_build_matches_the_sources() -> None:
    if not STAMP.exists():
        leftovers = sorted(p.name for p in PACKAGE.rglob("*.so"))
        assert not leftovers, f"compiled modules without a build record: {leftovers}; {REBUILD}"
        pytest.skip("parsers are not compiled here (no build record)")
    record = json.loads(STAMP.read_text())
    if not record["compiled"]:
        leftovers = sorted(p.name for p in PACKAGE.rglob("*.so"))
        assert not leftovers, f"pure-Python install, yet compiled modules: {leftovers}"
        pytest.skip(f"installed as plain Python: {record['reason']}")
    built: dict[str, str] = record["sources"]
    root = REPO
    changed = [
        f
        for f, digest in built.items()
        if not (root / f).exists() or hashlib.sha256((root / f).read_bytes()).hexdigest() != digest
    ]
    assert not changed, f"sources changed since the compiled build: {changed}; {REBUILD}"
    added = sorted(
        p.relative_to(root).as_posix()
        for p in PACKAGE.rglob("*.py")
        if p.relative_to(root).as_posix() not in built
        and p.name
        not in {"model.py", "vocabulary.py", "signing.py", "token_layout.py", "token_signature.py"}
    )
    assert not added, f"modules added since the compiled build: {added}; {REBUILD}"
    interpreted = [f for f in built if not _is_compiled(_module_name(f))]
    assert not interpreted, f"compiled build recorded but not imported: {interpreted}"


def test_the_suite_runs_the_compiled_build_when_a_compiler_is_present() -> None:
    if STAMP.exists() and not json.loads(STAMP.read_text())["compiled"]:
        pytest.skip("the install fell back to plain Python (see the build record)")
    if os.environ.get("RETURNPATH_MYPYC", "auto").lower() == "off":
        pytest.skip("RETURNPATH_MYPYC=off: plain Python asked for")
    if not _compiler_present():
        pytest.skip("no C compiler: the install fell back to plain Python")
    assert _is_compiled("returnpath.parsers"), (
        f"parsers imported from {parsers.__file__}; {REBUILD}"
    )
    for name in (
        "returnpath.parsers.fastparse",
        "returnpath.parsers.mime",
        "returnpath.parsers.textbounce",
        "returnpath.parsers.reasons",
        "returnpath.parsers.families.rfc3464",
    ):
        assert _is_compiled(name), name
    # the output contract stays interpreted: slotted dataclasses the store introspects
    assert not _is_compiled("returnpath.parsers.model")
    assert not _is_compiled("returnpath.parsers.vocabulary")
    assert not _is_compiled("returnpath.parsers.signing")
    assert not _is_compiled("returnpath.parsers.token_layout")
    assert not _is_compiled("returnpath.parsers.token_signature")
    assert _is_compiled("returnpath.parsers.addresses")


# Runs in a child: imports parsers from .py files only, prints every Report.
_PURE = r"""
import importlib.abc, importlib.util, json, os, sys
package = sys.argv[1]
class SourcesOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "returnpath.parsers" and not name.startswith("returnpath.parsers."):
            return None
        base = os.path.join(package, *name.split(".")[2:])
        if os.path.isdir(base):
            return importlib.util.spec_from_file_location(
                name, os.path.join(base, "__init__.py"), submodule_search_locations=[base])
        return importlib.util.spec_from_file_location(name, base + ".py")
sys.meta_path.insert(0, SourcesOnly())
import returnpath.parsers as parsers
assert parsers.__file__.endswith(".py"), parsers.__file__
cases = json.load(sys.stdin)
print(json.dumps([repr(parsers.parse(bytes.fromhex(raw), rcpt)) for raw, rcpt in cases]))
"""


def _variants(raw: bytes) -> list[tuple[bytes, str | None]]:
    end = raw.find(b"\n\n")
    head, body = (raw[:end], raw[end:]) if end >= 0 else (raw, b"")
    return [
        (raw, None),
        (raw, "b+ann=example.org@bounces.example.com"),
        (raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), None),
        (raw[: len(raw) // 2], None),
        (head.replace(b": ", b": \xe9\xff ") + body, None),  # 8-bit headers: Header objects
        (raw + b"\n\xff\xfe\x80 junk \xe9\n", None),
    ]


def test_plain_python_gives_the_same_reports() -> None:
    files = sorted(p for p in FIXTURES.rglob("*") if p.is_file())
    if CORPUS.is_dir():
        files += sorted(
            p
            for p in CORPUS.rglob("*")
            if p.is_file() and p.suffix not in SKIP_SUFFIXES and not p.name.startswith("LICENSE")
        )
    cases = [(raw, rcpt) for p in files for raw, rcpt in _variants(p.read_bytes())]
    here = [repr(parse(raw, rcpt)) for raw, rcpt in cases]
    done = subprocess.run(
        [sys.executable, "-c", _PURE, str(PACKAGE)],
        input=json.dumps([(raw.hex(), rcpt) for raw, rcpt in cases]),
        capture_output=True,
        text=True,
        check=True,
        cwd=REPO,
    )
    pure = json.loads(done.stdout)
    differ = [(i, a, b) for i, (a, b) in enumerate(zip(here, pure, strict=True)) if a != b]
    assert not differ, f"{len(differ)} of {len(cases)} Reports differ, first: {differ[0]}"
    assert not [r for r in here if "error='parser error" in r]


def test_entry_points_take_any_buffer_and_never_raise() -> None:
    """Compiled code checks declared argument types on entry: parse() and
    parse_message() take Any, so they answer as plain Python does."""
    from returnpath.parsers import parse_message

    raw = (FIXTURES / "bounces" / "postfix-dsn-5.1.1.eml").read_bytes()
    expected = repr(parse(raw))
    assert repr(parse(bytearray(raw))) == expected
    assert repr(parse(memoryview(raw))) == expected
    for junk in ("text", None, 42, [raw]):
        assert parse(junk).error
        assert parse_message(junk).error
    assert parse(raw, envelope_recipient=b"b+x@y").family  # a Report, not a TypeError
