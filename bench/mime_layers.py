"""How fast can each MIME layer read the corpus? Run by hand, prints a table.

    .venv/bin/python bench/mime_layers.py [--corpus ../shared/corpus] [--rounds 3]

Every file of the corpus is read into memory first; then each layer parses
every message and walks its parts (content type of each part), as a parser
must before it can look at anything. Layers: the stdlib with
``policy.compat32`` (what ``parsers`` uses), the stdlib with
``policy.default`` (the modern API), flanker (``flanker.mime.from_string``;
its DecodingError failures are counted, not fatal), and ``parsers.parse``
end to end. The best of ``--rounds`` rounds is reported, to damp noise on a
shared machine. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import io
import sys
import time
import warnings
from collections.abc import Callable
from email import policy
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SKIP_SUFFIXES = {".jsonl", ".md", ".json", ".py"}


def corpus_files(root: Path) -> list[Path]:
    """Message files under ``root`` (labels, licences and READMEs left out)."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in SKIP_SUFFIXES and not p.name.startswith("LICENSE")
    )


def stdlib(pol: policy.Policy) -> Callable[[bytes], int]:
    def run(raw: bytes) -> int:
        msg = email.message_from_bytes(raw, policy=pol)
        return sum(1 for part in msg.walk() if part.get_content_type())

    return run


def flanker_layer() -> Callable[[bytes], int] | None:
    """flanker's parser, imported quietly (its first import rebuilds ply tables noisily)."""
    try:
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(io.StringIO()),
            contextlib.redirect_stderr(io.StringIO()),
        ):
            warnings.simplefilter("ignore")
            from flanker import mime
    except Exception as exc:  # not installed or broken: report and go on
        print(f"flanker unavailable: {exc!r}", file=sys.stderr)
        return None

    def run(raw: bytes) -> int:
        msg = mime.from_string(raw)
        return sum(1 for part in msg.walk(with_self=True) if part.content_type)

    return run


def returnpath_layer() -> Callable[[bytes], int]:
    sys.path.insert(0, str(REPO))
    from returnpath.parsers import parse

    def run(raw: bytes) -> int:
        return len(parse(raw).findings)

    return run


def measure(run: Callable[[bytes], int], messages: list[bytes], rounds: int) -> tuple[float, int]:
    """Best wall time over ``rounds`` and the number of messages that raised."""
    best = float("inf")
    failures = 0
    for _ in range(rounds):
        failures = 0
        start = time.perf_counter()
        for raw in messages:
            try:
                run(raw)
            except Exception:  # flanker's DecodingError and friends
                failures += 1
        best = min(best, time.perf_counter() - start)
    return best, failures


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}; nothing to measure")
        return 0
    files = corpus_files(args.corpus)
    messages = [p.read_bytes() for p in files]
    if not messages:
        print(f"no message files under {args.corpus}")
        return 0
    size = sum(len(m) for m in messages)
    print(f"{len(messages)} files, {size / 1e6:.1f} MB, best of {args.rounds} rounds\n")

    layers: list[tuple[str, Callable[[bytes], int] | None]] = [
        ("stdlib compat32", stdlib(policy.compat32)),
        ("stdlib policy.default", stdlib(policy.default)),
        ("flanker from_string", flanker_layer()),
        ("parsers.parse (end to end)", returnpath_layer()),
    ]
    print(f"{'layer':<28} {'msgs/s':>9} {'ms/msg':>8} {'failed':>7}")
    print("-" * 55)
    for name, run in layers:
        if run is None:
            print(f"{name:<28} {'n/a':>9}")
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds, failures = measure(run, messages, args.rounds)
        rate = len(messages) / seconds
        print(f"{name:<28} {rate:>9,.0f} {1000 / rate:>8.3f} {failures:>7}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
