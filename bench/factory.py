"""The bounce factory's full matrix: every reply row × RCPT/DATA × Postfix, Exim, OpenSMTPD.

    .venv/bin/python bench/factory.py [--mta postfix --mta exim ...] [--out FILE]

Runs as root, on loopback only (tests/factory/: real MTAs, a scripted sink).
Each MTA writes its own DSN for each case; returnpath's parsers read it; the
truth is the reply the sink was told to give. Writes bench/results/factory.txt:
accuracy per MTA × scenario (kind, hard/soft class with "delayed" counted as
soft, reason), the hard/soft confusion matrix, false hard bounces, and every
miss (reply text, expected, got, decided_by, family). About 2 minutes.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.factory.mtas import MTA_CLASSES, SKIPS, missing  # noqa: E402
from tests.factory.replies import REPLIES  # noqa: E402
from tests.factory.scenarios import Outcome, cases, run  # noqa: E402

COLUMNS = ("hard_bounce", "soft_bounce", "delayed", "other")
FIXTURES_DIR = REPO / "tests" / "fixtures" / "factory"

#: the DSNs kept as fixtures (tests/fixtures/factory/, tests/factory/test_fixtures.py): one
#: per MTA for a refusal at RCPT and at DATA, a give-up after 4xx, and the failures that
#: are not replies (refused, timeout, TLS required)
FIXTURE_CASES = (
    "postfix.rcpt.g-nosuchuser",
    "postfix.data.ms-quota",
    "postfix.rcpt.pf-greylist-postgrey",
    "postfix.timeout",
    "exim.rcpt.ms-recipientnotfound",
    "exim.data.y-dmarc",
    "exim.refused",
    "exim.tls",
    "opensmtpd.rcpt.o-invalid-rcpt",
    "opensmtpd.data.g-spam-content",
    "opensmtpd.rcpt.g-receiving-rate",
    "opensmtpd.refused",
)


def got_class(kind: str) -> str:
    """hard / soft on the axis that matters ("delayed" is soft: it never suppresses)."""
    if kind == "hard_bounce":
        return "hard"
    return "soft" if kind in ("soft_bounce", "delayed") else "other"


def column(kind: str) -> str:
    return kind if kind in COLUMNS else "other"


def ratio(n: int, d: int) -> str:
    return f"{n / d:.3f}" if d else "-"


def report(outcomes: Sequence[Outcome], seconds: float, mtas: Iterable[str]) -> str:
    lines = [
        "Bounce factory: real MTAs' own DSNs for scripted replies (bench/factory.py)",
        f"{len(REPLIES)} reply rows; {len(outcomes)} cases; run {seconds:.0f} s",
        "kind = exact kind; class = hard vs soft (delayed counted as soft); "
        "reason = one of the accepted reasons (a 4xx row also accepts 'expired')",
        "",
        f"{'mta':10} {'scenario':12} {'cases':>5} {'kind':>6} {'class':>6} {'reason':>6}"
        f" {'false hard':>10} {'no DSN':>6}",
    ]
    groups: dict[tuple[str, str], list[Outcome]] = defaultdict(list)
    for out in outcomes:
        groups[(out.case.mta, out.case.scenario.value)].append(out)
        groups[(out.case.mta, "all")].append(out)
        groups[("all", "all")].append(out)
    for (mta, scenario), outs in sorted(groups.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        n = len(outs)
        lines.append(
            f"{mta:10} {scenario:12} {n:5} {ratio(sum(o.kind_ok for o in outs), n):>6}"
            f" {ratio(sum(got_class(o.kind) == o.case.expected_kind.value[:4] for o in outs), n):>6}"
            f" {ratio(sum(o.reason_ok for o in outs), n):>6}"
            f" {sum(o.false_hard for o in outs):10} {sum(o.dsn is None for o in outs):6}"
        )
    for mta in mtas:
        for scenario, why in SKIPS.get(mta, {}).items():
            lines.append(f"{mta:10} {scenario:12} not run: {why}")
    lines += ["", "Hard/soft confusion (rows: expected; columns: what the parsers said)"]
    for mta in [*sorted({o.case.mta for o in outcomes}), "all"]:
        outs = [o for o in outcomes if mta in ("all", o.case.mta)]
        lines.append(f"  {mta}: {'':14}" + "".join(f"{c:>13}" for c in COLUMNS))
        for expected in ("hard_bounce", "soft_bounce"):
            counts = Counter(column(o.kind) for o in outs if o.case.expected_kind == expected)
            lines.append(f"  {'':8} {expected:14}" + "".join(f"{counts[c]:13}" for c in COLUMNS))
    warn = [o for o in outcomes if o.warnings]
    hard_warn = [o for o in warn if "hard_bounce" in o.warnings]
    lines += [
        "",
        f"Delay warnings (Action: delayed before the give-up): {sum(len(o.warnings) for o in warn)}"
        f" in {len(warn)} cases; read as hard: {len(hard_warn)}",
        "",
        "False hard bounces (the costly mistake):",
    ]
    lines += [
        f"  {o.case.id}: {o.case.reply.text if o.case.reply else ''}"
        for o in outcomes
        if o.false_hard
    ] or ["  none"]
    lines += [
        "",
        "Misses (kind or reason wrong): case | reply | expected | got | decided_by | family",
    ]
    for o in outcomes:
        if o.kind_ok and o.reason_ok:
            continue
        expected = f"{o.case.expected_kind.value}/{'|'.join(sorted(o.case.expected_reasons))}"
        text = o.case.reply.text.replace("\n", " ") if o.case.reply else o.case.scenario.value
        lines.append(
            f"  {o.case.id} | {text} | {expected} | {o.kind}/{o.reason} status={o.status}"
            f" | {o.decided_by} | {o.family}"
        )
    return "\n".join(lines) + "\n"


def write_fixtures() -> int:
    """Run only the FIXTURE_CASES and write their DSNs (bytes as received) and truths."""
    wanted = [c for c in cases(sorted(MTA_CLASSES)) if c.id in FIXTURE_CASES]
    result = run(wanted)
    FIXTURES_DIR.mkdir(parents=True, exist_ok=True)
    truth: dict[str, dict[str, object]] = {}
    for out in result.outcomes:
        if out.dsn is None:
            print(f"{out.case.id}: no DSN", file=sys.stderr)
            return 1
        name = out.case.id.replace(".", "-", 2) + ".eml"
        (FIXTURES_DIR / name).write_bytes(out.dsn)
        truth[name] = {
            "kind": out.case.expected_kind.value,
            "reasons": sorted(out.case.expected_reasons),
            "reply": out.case.reply.text if out.case.reply else None,
            "envelope_recipient": out.case.return_path,
        }
    (FIXTURES_DIR / "expected.json").write_text(json.dumps(truth, indent=2, sort_keys=True) + "\n")
    print(f"{len(truth)} DSNs written to {FIXTURES_DIR}")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mta", action="append", choices=sorted(MTA_CLASSES))
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "factory.txt")
    parser.add_argument(
        "--fixtures",
        action="store_true",
        help=f"only regenerate the kept DSNs in {FIXTURES_DIR.relative_to(REPO)}",
    )
    args = parser.parse_args()
    mtas = args.mta or sorted(MTA_CLASSES)
    for name in mtas:
        why = missing(name)
        if why:
            print(f"{name}: {why}", file=sys.stderr)
            return 1
    if args.fixtures:
        return write_fixtures()
    started = time.monotonic()
    result = run(cases(mtas))
    text = report(result.outcomes, time.monotonic() - started, mtas)
    args.out.write_text(text)
    print(text.split("\nMisses")[0])
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
