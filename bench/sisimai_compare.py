"""Sisimai (Perl) against ``parsers.parse`` over the same files. Run by hand.

    .venv/bin/python bench/sisimai_compare.py [--corpus ../shared/corpus] [--rounds 3]

Installs nothing: it needs ``perl -MSisimai`` to work already (Debian:
``apt-get install libsisimai-perl``) and says so otherwise. Sisimai runs in
one perl process over the whole file list (``Sisimai->rise`` on 5.x,
``Sisimai->make`` on 4.x, vacation replies included) and times itself with
Time::HiRes, so perl's start-up is not counted against it; the wall time of
the process is printed too. Ours runs in this process. Both read each file
from disk (page cache) inside the timed loop. Printed: both rates, their
ratio, how many files each decoded into at least one record, and peak RSS
(ours: this process, which also holds the interpreter and the parsers;
Sisimai: the perl child), and whether ``parsers`` ran compiled (mypyc, see
hatch_build.py) or as plain Python.

After importing the parsers, ours calls ``gc.freeze()``, as the service does
after start-up (returnpath/service.py) and ``returnpath parse`` does: the
tables built at import leave the collector's sight. Measured on the compiled
parsers its effect is within noise (instructions per round, callgrind: no
change); on plain Python the lead measured up to 8 % in an earlier session.
"""

from __future__ import annotations

import argparse
import gc
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO.parent / "shared" / "corpus"
SKIP_SUFFIXES = {".jsonl", ".md", ".json", ".py"}

# Reads file names on stdin; prints "decoded elapsed_seconds" for the best round.
PERL = r"""
use strict; use warnings; no warnings 'once';
use Sisimai; use Time::HiRes qw(time);
my $rounds = shift @ARGV;
my @files = map { chomp; $_ } <STDIN>;
my $how = Sisimai->can('rise') ? 'rise' : 'make';
open(my $olderr, '>&', \*STDERR); open(STDERR, '>', '/dev/null');
my ($best, $decoded) = (1e9, 0);
for (1 .. $rounds) {
    my $n = 0; my $t0 = time;
    for my $f (@files) {
        my $v = eval { Sisimai->$how($f, 'vacation' => 1, 'delivered' => 1) };
        $n++ if ref $v eq 'ARRAY' && @$v;
    }
    my $dt = time - $t0;
    if ($dt < $best) { $best = $dt; $decoded = $n; }
}
open(STDERR, '>&', $olderr);
printf "%d %.6f %s\n", $decoded, $best, $Sisimai::VERSION;
"""


def corpus_files(root: Path) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in SKIP_SUFFIXES and not p.name.startswith("LICENSE")
    )


def sisimai_available() -> bool:
    try:
        done = subprocess.run(["perl", "-MSisimai", "-e", "1"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def run_sisimai(files: list[Path], rounds: int) -> tuple[int, float, float, str, int]:
    """(decoded files, best seconds, wall seconds, version, child peak RSS KiB)."""
    start = time.perf_counter()
    done = subprocess.run(
        ["perl", "-e", PERL, str(rounds)],
        input="".join(f"{p}\n" for p in files),
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - start
    decoded, seconds, version = done.stdout.split()
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return int(decoded), float(seconds), wall, version, child_rss


def run_ours(files: list[Path], rounds: int) -> tuple[int, float]:
    """(decoded files, best seconds) for parsers.parse, reading each file in the loop."""
    sys.path.insert(0, str(REPO))
    from returnpath.parsers import parse

    gc.freeze()  # as the service after start-up (see the module docstring)
    best, decoded = float("inf"), 0
    for _ in range(rounds):
        n = 0
        start = time.perf_counter()
        for path in files:
            if parse(path.read_bytes()).findings:
                n += 1
        elapsed = time.perf_counter() - start
        if elapsed < best:
            best, decoded = elapsed, n
    return decoded, best


def build_kind() -> str:
    """How ``parsers`` was imported: compiled by mypyc, or plain Python."""
    import returnpath.parsers as parsers

    where = str(parsers.__file__)
    return "plain Python" if where.endswith(".py") else "compiled with mypyc"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"corpus not found at {args.corpus}; nothing to measure")
        return 0
    files = corpus_files(args.corpus)
    if not files:
        print(f"no message files under {args.corpus}")
        return 0
    print(f"{len(files)} files, best of {args.rounds} rounds\n")

    ours_decoded, ours_s = run_ours(files, args.rounds)
    ours_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    ours_rate = len(files) / ours_s
    print(f"{'parser':<24} {'msgs/s':>9} {'decoded':>8} {'peak RSS':>10}")
    print("-" * 54)
    print(
        f"{'returnpath parsers':<24} {ours_rate:>9,.0f} {ours_decoded:>8} {ours_rss / 1024:>7.1f} MB"
    )

    if not sisimai_available():
        print("\nSisimai not available (perl -MSisimai failed); install libsisimai-perl to compare")
        return 0
    sis_decoded, sis_s, wall, version, sis_rss = run_sisimai(files, args.rounds)
    sis_rate = len(files) / sis_s
    label = f"Sisimai {version}"
    print(f"{label:<24} {sis_rate:>9,.0f} {sis_decoded:>8} {sis_rss / 1024:>7.1f} MB")
    print(f"\nratio ours/Sisimai: {ours_rate / sis_rate:.2f}x")
    print(f"(parsers: {build_kind()})")
    print(f"(perl process wall time for {args.rounds} rounds incl. start-up: {wall:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
