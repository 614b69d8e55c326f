"""Where ``parsers.parse`` spends its time, layer by layer. Run by hand, prints a table.

    .venv/bin/python -m bench.parse_speed [--corpus ../shared/corpus] [--rounds 5] [--pure]

Every message file of the corpus is read into memory first, then parsed in
this process, ``--rounds`` times per layer; the best round's CPU time
(``time.process_time``: on a shared machine other jobs inflate wall time,
not our own CPU seconds) gives files/s. Layers:

* ``stdlib compat32``: ``email.message_from_bytes(raw, policy=compat32)``,
  what ``parsers`` used to parse with;
* ``fastparse``: ``parsers.fastparse.message_from_bytes``, the same Message
  tree built from the whole text at once;
* ``parse``: ``parsers.parse`` end to end (MIME, families, reasons), without
  an envelope recipient, as ``bench/corpus_score.py`` runs it;
* ``parse + envelope``: the same with a VERP envelope recipient, as the SMTP
  front end calls it (the token is found without scanning the message).

``parsers`` runs as installed: compiled with mypyc when the build made
extension modules (hatch_build.py), else plain Python; ``--pure`` imports it
from its ``.py`` files even when compiled modules exist, to compare the two.
``gc.freeze()`` follows the imports, as in the service (see
bench/sisimai_compare.py).

Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import email
import gc
import importlib.abc
import importlib.machinery
import importlib.util
import resource
import sys
import time
from collections.abc import Callable, Sequence
from email.policy import compat32
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.mime_layers import DEFAULT_CORPUS, corpus_files  # noqa: E402

ENVELOPE = "b+someone=example.org@bounces.example.com"


class _SourcesOnly(importlib.abc.MetaPathFinder):
    """Imports ``returnpath.parsers`` from its .py files, never from compiled modules."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != "returnpath.parsers" and not name.startswith("returnpath.parsers."):
            return None
        base = REPO.joinpath("src", *name.split("."))
        if base.is_dir():
            return importlib.util.spec_from_file_location(
                name, base / "__init__.py", submodule_search_locations=[str(base)]
            )
        return importlib.util.spec_from_file_location(name, base.with_suffix(".py"))


def best_of(rounds: int, blobs: list[bytes], fn: Callable[[bytes], object]) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.process_time()
        for raw in blobs:
            fn(raw)
        best = min(best, time.process_time() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pure", action="store_true", help="plain Python even when compiled")
    args = ap.parse_args(argv)
    if args.pure:
        sys.meta_path.insert(0, _SourcesOnly())
    import returnpath.parsers as parsers
    from returnpath.parsers import fastparse, parse

    gc.freeze()
    kind = "plain Python" if str(parsers.__file__).endswith(".py") else "compiled with mypyc"
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}; nothing to measure")
        return 0
    blobs = [p.read_bytes() for p in corpus_files(args.corpus)]
    layers: list[tuple[str, Callable[[bytes], object]]] = [
        ("stdlib compat32", lambda raw: email.message_from_bytes(raw, policy=compat32)),
        ("fastparse", fastparse.message_from_bytes),
        ("parse", parse),
        ("parse + envelope", lambda raw: parse(raw, envelope_recipient=ENVELOPE)),
    ]
    print(
        f"{len(blobs)} files, {sum(map(len, blobs)) / 1e6:.1f} MB, best of {args.rounds}, "
        f"parsers {kind}\n"
    )
    print(f"{'layer':<20} {'CPU s':>8} {'files/s':>9} {'µs/file':>9}")
    print("-" * 49)
    for name, fn in layers:
        seconds = best_of(args.rounds, blobs, fn)
        print(
            f"{name:<20} {seconds:>8.3f} {len(blobs) / seconds:>9,.0f} "
            f"{seconds / len(blobs) * 1e6:>9.0f}"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.1f} MB (this process, corpus held in memory)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
