"""Snapshot every Report the parsers give, to prove a refactoring changed nothing.

    python scripts/snapshot_reports.py --out /tmp/before.jsonl
    ... move code ...
    python scripts/snapshot_reports.py --compare /tmp/before.jsonl

Inputs: every file of ``../shared/corpus`` (when present) and of ``tests/fixtures``,
each as written and in ten mechanical variants (LF, CRLF, first half, first 2 kB,
upper case, lower case, 8-bit junk appended, headers removed, the message twice,
with an envelope recipient). One JSON line per (file, variant) holds the whole
Report. ``--pure`` runs the .py sources even where compiled modules exist. ``--compare`` prints the first differences and exits 1 when any line
differs; ``--ignore-field family`` leaves a field out of the comparison (for a
change that renames families on purpose).
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "tests" / "fixtures"
ENVELOPE = "b+tok@bounces.example.com"


class _SourcesOnly(importlib.abc.MetaPathFinder):
    """Imports the parsers from their .py files even where compiled modules exist."""

    def __init__(self, prefix: str, root: Path) -> None:
        self.prefix, self.root = prefix, root

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if name != self.prefix and not name.startswith(self.prefix + "."):
            return None
        base = self.root.joinpath(*name.split(".")[self.prefix.count(".") + 1 :])
        if base.is_dir():
            return importlib.util.spec_from_file_location(
                name, base / "__init__.py", submodule_search_locations=[str(base)]
            )
        return importlib.util.spec_from_file_location(name, base.with_suffix(".py"))


def _parse(pure: bool) -> Callable[..., Any]:
    if pure:
        for prefix in ("returnpath.parsers", "parsers"):
            try:
                spec = importlib.util.find_spec(prefix)
            except ImportError:
                continue
            if spec and spec.submodule_search_locations:
                root = Path(next(iter(spec.submodule_search_locations)))
                sys.modules.pop(prefix, None)
                sys.meta_path.insert(0, _SourcesOnly(prefix, root))
                break
    try:
        from returnpath.parsers import parse
    except ImportError:  # the layout before one package
        from returnpath.parsers import parse  # type: ignore[no-redef]
    if pure and not str(sys.modules[parse.__module__].__file__).endswith(".py"):
        raise SystemExit("--pure: the parsers still came from a compiled module")
    return parse  # type: ignore[no-any-return]


def _headers_removed(raw: bytes) -> bytes:
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return raw[at + len(sep) :]
    return raw


VARIANTS: dict[str, Callable[[bytes], bytes]] = {
    "as-is": lambda raw: raw,
    "lf": lambda raw: raw.replace(b"\r\n", b"\n"),
    "crlf": lambda raw: raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"),
    "half": lambda raw: raw[: len(raw) // 2],
    "2k": lambda raw: raw[:2048],
    "upper": lambda raw: raw.upper(),
    "lower": lambda raw: raw.lower(),
    "junk": lambda raw: raw + b"\n\xff\xfe\x80 caf\xe9 \x00 end\n",
    "no-headers": _headers_removed,
    "twice": lambda raw: raw + b"\n" + raw,
}


def inputs() -> Iterator[tuple[str, bytes]]:
    for base in (CORPUS, FIXTURES):
        if not base.is_dir():
            continue
        for path in sorted(p for p in base.rglob("*") if p.is_file()):
            if path.suffix in {".json", ".jsonl", ".md"} or path.name.startswith("LICENSE"):
                continue
            yield f"{base.name}/{path.relative_to(base)}", path.read_bytes()


def snapshot(pure: bool = False) -> Iterator[dict[str, Any]]:
    parse = _parse(pure)
    for name, raw in inputs():
        for variant, make in VARIANTS.items():
            report = parse(make(raw))
            yield {"file": name, "variant": variant, "report": _plain(report)}
        report = parse(raw, envelope_recipient=ENVELOPE)
        yield {"file": name, "variant": "envelope", "report": _plain(report)}


def _plain(report: Any) -> dict[str, Any]:
    data = asdict(report)
    data["findings"] = [f.to_dict() for f in report.findings]
    return data


def _without(line: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    if not fields:
        return line
    report = {k: v for k, v in line["report"].items() if k not in fields}
    report["findings"] = [
        {k: v for k, v in f.items() if k not in fields} for f in line["report"]["findings"]
    ]
    return {**line, "report": report}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path)
    ap.add_argument("--compare", type=Path)
    ap.add_argument("--ignore-field", action="append", default=[])
    ap.add_argument("--pure", action="store_true", help="plain Python even when compiled")
    args = ap.parse_args()
    lines = list(snapshot(args.pure))
    if args.out:
        with args.out.open("w") as out:
            for line in lines:
                out.write(json.dumps(line, sort_keys=True, ensure_ascii=False) + "\n")
        print(f"{len(lines)} Reports written to {args.out}")
    if args.compare:
        ignore = set(args.ignore_field)
        before = [json.loads(x) for x in args.compare.read_text().splitlines()]
        if len(before) != len(lines):
            print(f"{len(before)} Reports before, {len(lines)} now")
        differ = 0
        for old, new in zip(before, lines, strict=False):
            if _without(old, ignore) != _without(json.loads(json.dumps(new)), ignore):
                differ += 1
                if differ <= 10:
                    print(f"DIFF {old['file']} [{old['variant']}]")
                    print("  before:", json.dumps(old["report"], sort_keys=True)[:600])
                    print("  now:   ", json.dumps(new["report"], sort_keys=True)[:600])
        print(f"{len(lines)} Reports compared, {differ} differ")
        return 1 if differ or len(before) != len(lines) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
