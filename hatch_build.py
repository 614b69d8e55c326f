"""Hatchling build hook: compile ``parsers/`` to C extension modules with mypyc.

mypyc (part of mypy, which already type-checks this code) turns type-annotated
Python modules into CPython C extensions: the same source, the same semantics,
but native calls between compiled functions, unboxed ints and bools, and no
bytecode dispatch. On the corpus the compiled parsers run about 1.4x faster
than the interpreted ones with identical Reports (``bench/parse_speed.py``
against ``bench/parse_speed.py --pure``).

Why our own hook of some forty lines rather than the ``hatch-mypyc`` plugin:
hatch-mypyc (last release 2023) renames ``pyproject.toml`` away for the whole
compilation (~40 s), which breaks any pytest, mypy or uv run in the same tree
meanwhile, and it cannot fall back to pure Python when there is no C compiler.
This hook uses the two documented interfaces it needs and nothing else:
hatchling's ``BuildHookInterface`` and mypyc's ``mypycify`` (the entry point
mypyc documents for build systems), whose setuptools extensions are built in a
subprocess running in a scratch directory.

``RETURNPATH_MYPYC`` chooses: ``auto`` (default: compile; without a working
compiler warn and install pure Python, which behaves identically, only
slower), ``required`` (the Dockerfile: a failed compilation fails the build),
``off`` (pure Python; compiled modules left in the tree are removed).

Standard wheels (``pip install .``) carry the extension modules next to the
``.py`` files. Editable installs (``make``) put them into the source tree, where
they shadow the ``.py`` files (an extension module wins over a ``.py`` file on
import), together with ``parsers/_mypyc_sources.json``, the build record: the
SHA-256 of every source compiled, which ``tests/parsers/test_compiled.py``
compares against the tree so that a stale build is never tested (or, after a
pure-Python install, why nothing was compiled). The Makefile rebuilds whenever
a file under ``parsers/`` changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

PACKAGE = "src/returnpath/parsers"
#: Left interpreted. model.py: the output contract, frozen slotted dataclasses
#: that the store, the API and parsers/__init__ introspect (``__slots__``,
#: ``dataclasses.replace``); mypyc would make them native classes without
#: ``__slots__``; vocabulary.py belongs to the same contract (the Reason enum).
#: signing.py: a public API that promises never to raise whatever it is given, where
#: compiled code would raise TypeError on an argument of the wrong type; token_layout.py
#: and token_signature.py were split out of it (the token's bits, its MAC) and stay with
#: it, so that signing behaves as one piece; none is on the parsing path (only a token's
#: decoding uses them).
INTERPRETED = {
    f"{PACKAGE}/model.py",
    f"{PACKAGE}/vocabulary.py",
    f"{PACKAGE}/signing.py",
    f"{PACKAGE}/token_layout.py",
    f"{PACKAGE}/token_signature.py",
}
#: The shared library of the compiled group is named after the group's last component, inside
#: its package (mypyc.common.shared_lib_name): returnpath/parsers__mypyc.*.so, so that the wheel
#: installs one top-level name
GROUP = "returnpath.parsers"
STAMP = f"{PACKAGE}/_mypyc_sources.json"

_COMPILE = """
import sys
from setuptools import setup
from mypyc.build import mypycify
out, tmp, files = sys.argv[1], sys.argv[2], sys.argv[3:]
setup(
    name="returnpath-parsers",
    ext_modules=mypycify(
        ["--ignore-missing-imports", *files], opt_level="3", group_name="{group}", target_dir=tmp
    ),
    script_args=["build_ext", "--build-lib", out, "--build-temp", tmp],
)
"""


def sources(root: Path) -> list[str]:
    """The modules compiled, as paths relative to the project root."""
    found = sorted(p.relative_to(root).as_posix() for p in (root / PACKAGE).rglob("*.py"))
    return [f for f in found if f not in INTERPRETED]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def artefacts(root: Path) -> list[Path]:
    """Compiled modules and the stamp in the source tree (left by editable builds)."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    found = [
        *(root / "src/returnpath").glob("parsers__mypyc*"),
        *(root / PACKAGE).rglob(f"*{suffix}"),
    ]
    stamp = root / STAMP
    return found + ([stamp] if stamp.exists() else [])


class MypycBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        mode = os.environ.get("RETURNPATH_MYPYC", "auto").lower()
        if mode not in {"auto", "required", "off"}:
            raise ValueError(f"RETURNPATH_MYPYC={mode!r}: expected auto, required or off")
        if version == "editable":
            # Whatever happens next, no compiled module of an earlier build may
            # remain in the tree to shadow the sources. (Standard wheels never
            # see these files: hatchling leaves out what .gitignore lists.)
            for path in artefacts(root):
                path.unlink()
        if mode == "off":
            self._record(root, version, {"compiled": False, "reason": "RETURNPATH_MYPYC=off"})
            return
        files = sources(root)
        with tempfile.TemporaryDirectory(prefix="returnpath-mypyc-") as scratch:
            out = Path(scratch) / "lib"
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    _COMPILE.format(group=GROUP),
                    str(out),
                    str(Path(scratch) / "tmp"),
                    *(str(root / f) for f in files),
                ],
                cwd=scratch,  # no pyproject.toml here for setuptools to read
                capture_output=True,
                text=True,
            )
            if done.returncode:
                if mode == "required":
                    raise RuntimeError(f"mypyc compilation failed:\n{done.stdout}\n{done.stderr}")
                self.app.display_warning(
                    "mypyc compilation failed; installing the parsers as pure Python "
                    f"(identical results, slower). Output:\n{done.stderr[-2000:]}"
                )
                reason = (done.stderr.strip().splitlines() or ["unknown"])[-1][:300]
                self._record(root, version, {"compiled": False, "reason": reason})
                return
            built = [p for p in out.rglob("*") if p.is_file()]
            if version == "editable":
                for path in built:
                    shutil.copy2(path, root / "src" / path.relative_to(out))
                digests = {f: digest(root / f) for f in files}
                self._record(root, version, {"compiled": True, "sources": digests})
            else:
                keep = self._keep = Path(tempfile.mkdtemp(prefix="returnpath-mypyc-wheel-"))
                for path in built:
                    rel = path.relative_to(out)
                    (keep / rel).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(path, keep / rel)
                    build_data["force_include"][str(keep / rel)] = rel.as_posix()
        build_data["pure_python"] = False
        build_data["infer_tag"] = True

    _keep: Path | None = None

    def _record(self, root: Path, version: str, what: dict[str, Any]) -> None:
        """The build record of an editable install (read by tests/parsers/test_compiled.py)."""
        if version == "editable":
            (root / STAMP).write_text(json.dumps(what, indent=1, sort_keys=True) + "\n")

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        if self._keep is not None:
            shutil.rmtree(self._keep, ignore_errors=True)
