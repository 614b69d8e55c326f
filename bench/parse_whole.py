"""``returnpath parse`` as users run it, against Sisimai as its users run it. Run by hand.

    .venv/bin/python -m bench.parse_whole [--corpus ../shared/corpus] [--copies 5] [--rounds 7]

Every message file of the corpus, the list given ``--copies`` times, parsed by one
process from start to exit:

* ``returnpath parse FILE...`` (the installed console script), JSON Lines written
  to a file, as ``returnpath parse DIR > out.jsonl``;
* Sisimai 4.25 (Debian ``libsisimai-perl``) in one ``perl`` process over the same
  list: ``Sisimai->make`` per file with nothing printed (its cheapest whole process),
  and ``Sisimai->dump`` per file printed to a file (its own JSON output, through
  whichever JSON backend the machine has).

Beside them, the in-process ratio of bench/sisimai_compare.py over the same list:
``parsers.parse`` in this process (imports and ``gc.freeze`` done before the clock
starts) against ``Sisimai->make`` timed inside perl (perl's start-up and ``use
Sisimai`` left out).

Each round runs the five measurements one after the other, in an order rotated per
round; the table gives each one's median and best over the rounds, as wall time and
as CPU time (user + system of the process: what other jobs on a shared machine inflate
least). The ratios are of medians. ``parsers`` runs as installed: compiled by mypyc
(``make install``) or plain Python (``RETURNPATH_MYPYC=off``); the header says which.

Not a test: nothing here asserts a speed. Writes bench/results/parse_whole.txt.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.sisimai_compare import (  # noqa: E402
    DEFAULT_CORPUS,
    build_kind,
    corpus_files,
    sisimai_available,
)

RESULT = REPO / "bench" / "results" / "parse_whole.txt"
RETURNPATH = Path(sys.executable).with_name("returnpath")

# Reads file names on stdin. "make": parse each, print nothing; "dump": print each
# file's JSON; "timed": parse each with the clock inside perl (start-up excluded) and
# print "wall cpu". vacation/delivered as in bench/sisimai_compare.py.
PERL = r"""
use strict; use warnings; no warnings 'once';
use Sisimai; use Time::HiRes qw(time);
my $mode = shift @ARGV;
my @files = map { chomp; $_ } <STDIN>;
my $how = Sisimai->can('rise') ? 'rise' : 'make';
open(my $olderr, '>&', \*STDERR); open(STDERR, '>', '/dev/null');
my ($t0, @c0) = (time, times);
for my $f (@files) {
    if ($mode eq 'dump') {
        my $json = eval { Sisimai->dump($f, 'vacation' => 1, 'delivered' => 1) };
        print $json, "\n" if defined $json;
    } else {
        eval { Sisimai->$how($f, 'vacation' => 1, 'delivered' => 1) };
    }
}
my ($t1, @c1) = (time, times);
open(STDERR, '>&', $olderr);
printf STDERR "%.6f %.6f\n", $t1 - $t0, ($c1[0] + $c1[1]) - ($c0[0] + $c0[1]) if $mode eq 'timed';
"""


@dataclass
class Series:
    """One measurement over the rounds: wall and CPU seconds of each round."""

    label: str
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    note: str = ""

    def median_wall(self) -> float:
        return statistics.median(self.wall)

    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def whole_process(command: list[str], stdin: str, out: Path) -> tuple[float, float, int]:
    """(wall s, CPU s, bytes written) of one process from start to exit, stdout to ``out``."""
    with out.open("wb") as sink:
        cpu0, start = _children_cpu(), time.perf_counter()
        subprocess.run(command, input=stdin.encode(), stdout=sink, check=True, timeout=600)
        wall, cpu = time.perf_counter() - start, _children_cpu() - cpu0
    return wall, cpu, out.stat().st_size


def in_process_ours(files: list[Path]) -> tuple[float, float]:
    """(wall s, CPU s) of parsers.parse over the list in this process, reading each file."""
    from returnpath.parsers import parse

    cpu0, start = time.process_time(), time.perf_counter()
    for path in files:
        parse(path.read_bytes())
    return time.perf_counter() - start, time.process_time() - cpu0


def in_process_sisimai(names: str) -> tuple[float, float]:
    """(wall s, CPU s) of Sisimai->make over the list, timed inside perl."""
    done = subprocess.run(
        ["perl", "-e", PERL, "timed"],
        input=names,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    wall, cpu = done.stderr.split()[-2:]
    return float(wall), float(cpu)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--copies", type=int, default=5, help="times the file list is repeated")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--out", type=Path, default=RESULT)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}; nothing to measure")
        return 1
    if not RETURNPATH.exists():
        print(f"{RETURNPATH} not found: install the project first (make install)")
        return 1
    if not sisimai_available():
        print("Sisimai not available (perl -MSisimai failed); apt-get install libsisimai-perl")
        return 1
    corpus = corpus_files(args.corpus)
    files = corpus * args.copies
    names = "".join(f"{p}\n" for p in files)
    version = subprocess.run(
        ["perl", "-MSisimai", "-e", "print $Sisimai::VERSION"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    json_backend = subprocess.run(
        ["perl", "-MJSON", "-e", "print JSON->backend"], capture_output=True, text=True
    ).stdout.strip()

    import returnpath.parsers  # noqa: F401  (imported before any clock, as in the service)

    gc.freeze()
    ours = Series("returnpath parse FILE... > out.jsonl")
    make = Series(f"Sisimai {version}: make each, print nothing")
    dump = Series(f"Sisimai {version}: dump each > out.json ({json_backend or 'JSON'})")
    ours_in = Series("parsers.parse in one warm process")
    make_in = Series(f"Sisimai {version} make, timed inside perl")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"

        def run_ours() -> None:
            wall, cpu, size = whole_process([str(RETURNPATH), "parse", *map(str, files)], "", out)
            ours.wall.append(wall)
            ours.cpu.append(cpu)
            ours.note = f"{size / 1e6:.1f} MB, {sum(1 for _ in out.open('rb'))} lines"

        def run_make() -> None:
            wall, cpu, _ = whole_process(["perl", "-e", PERL, "make"], names, out)
            make.wall.append(wall)
            make.cpu.append(cpu)

        def run_dump() -> None:
            wall, cpu, size = whole_process(["perl", "-e", PERL, "dump"], names, out)
            dump.wall.append(wall)
            dump.cpu.append(cpu)
            dump.note = f"{size / 1e6:.1f} MB"

        def run_ours_in() -> None:
            wall, cpu = in_process_ours(files)
            ours_in.wall.append(wall)
            ours_in.cpu.append(cpu)

        def run_make_in() -> None:
            wall, cpu = in_process_sisimai(names)
            make_in.wall.append(wall)
            make_in.cpu.append(cpu)

        steps: list[Callable[[], None]] = [run_ours, run_make, run_dump, run_ours_in, run_make_in]
        load_before = os.getloadavg()
        started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        for round_ in range(args.rounds):
            shift = round_ % len(steps)
            for step in steps[shift:] + steps[:shift]:
                step()
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
        load_after = os.getloadavg()

    n = len(files)
    rows = [ours, make, dump, ours_in, make_in]
    lines = [
        f"{len(corpus)} corpus files x {args.copies} = {n} parses per run, {args.rounds} rounds"
        " interleaved (order rotated per round); median [best] per run",
        f"parsers {build_kind()}; Python {platform.python_version()}; {started};"
        f" load average {load_before[0]:.2f} before, {load_after[0]:.2f} after ({os.cpu_count()} cores)",
        "",
        f"{'run':<56} {'wall s':>14} {'msgs/s':>8} {'CPU s':>14} {'msgs/s':>8}",
        "-" * 104,
    ]
    for row in rows:
        wall, cpu = row.median_wall(), row.median_cpu()
        lines.append(
            f"{row.label:<56} {wall:>6.3f} [{min(row.wall):.3f}] {n / wall:>8,.0f}"
            f" {cpu:>6.3f} [{min(row.cpu):.3f}] {n / cpu:>8,.0f}"
        )
        if row.note:
            lines.append(f"{'':<4}output: {row.note}")

    def ratio(a: Series, b: Series) -> str:
        return f"{b.median_wall() / a.median_wall():.2f}x wall, {b.median_cpu() / a.median_cpu():.2f}x CPU"

    lines += [
        "",
        "ratios (Sisimai time / returnpath time, medians):",
        f"  whole process, against Sisimai make printing nothing: {ratio(ours, make)}",
        f"  whole process, against Sisimai dump printing JSON:    {ratio(ours, dump)}",
        f"  in one warm process (parse vs make):                  {ratio(ours_in, make_in)}",
        "",
        f"command: {Path(sys.executable).relative_to(REPO) if Path(sys.executable).is_relative_to(REPO) else sys.executable}"
        f" -m bench.parse_whole --copies {args.copies} --rounds {args.rounds}",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
