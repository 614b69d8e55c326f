"""Development score beside a left-out score: how much of the verdict is fit to the samples.

    .venv/bin/python bench/corpus_folds.py [--corpus DIR] [--out FILE]

Writes ``bench/results/corpus_folds.txt`` (or ``--out``) and prints it.

Method (issue 17, "discipline that measures generalisation"). The phrase rows of
``parsers.reason_rules`` (``RULES`` and ``LATE_RULES``) were written over years partly
from the very samples of the corpus. For each family of the ground truth (``family``:
``postfix``, ``exim``, ``rhost-google``, ...), the *fold* of that family is the table
without every phrase and regex that

* occurs in that family's files (lower case, whitespace collapsed, decoded parts too),
* occurs in no file of any other family, and
* has no documented source outside the corpus (``reason_rules.SOURCED_WORDS``:
  an MTA's source or documentation, a provider's published error reference).

Such a phrase could only have been learned from that family's samples; a phrase that
another family shows too would have been written anyway. Each family's files are
then parsed with its own fold's tables and the predictions of all folds are scored
together by ``tools/score_corpus.py`` (``--delayed-is-soft``) as
``bench/corpus_score.py`` does: the *left-out* figure. Phrases of Sisimai's reason
modules count as sample-fit here when only one family shows them (Sisimai wrote them
from the same public samples), so the left-out figure is a pessimistic estimate.
Not covered: provider tables (``parsers.providers``, each row from a provider's
documentation) and the families' own fixed reasons (``TextFamily.reasons``).

Also reported: the hard/soft confusion matrix (expected class x predicted kind, per
expected record paired by recipient) for both, and non-bounces flagged.
"""

from __future__ import annotations

import argparse
import dataclasses
import email
import importlib
import json
import subprocess
import sys
import time
from collections import Counter, defaultdict
from email.policy import compat32
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from returnpath.parsers import parse, phrase_index, reason_rules, reasons  # noqa: E402
from returnpath.parsers.model import Kind  # noqa: E402
from returnpath.parsers.reason_rules import Rule  # noqa: E402

TRUTHS = ("ground_truth.jsonl", "ground_truth_flufl.jsonl")
CLASSES = ("hard_bounce", "soft_bounce", "complaint", "auto_reply", "delivered")
#: a bound on the work: a corpus many times larger than the development one is an error
MAX_FILES = 5000


def _texts(corpus: Path, files: list[str]) -> dict[str, str]:
    """Each file as the phrase tables could see it: raw and decoded parts, lower case,
    whitespace collapsed, continuation reply codes dropped (``reason_text``)."""
    out: dict[str, str] = {}
    for name in files:
        raw = (corpus / name).read_bytes()
        pieces = [raw.decode("utf-8", "replace")]
        msg = email.message_from_bytes(raw, policy=compat32)
        for part in msg.walk():
            if part.is_multipart():
                continue
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                pieces.append(payload.decode("utf-8", "replace"))
        text = " ".join(" ".join(pieces).lower().split())
        out[name] = text + " " + phrase_index._join_reply_lines(text)
    return out


def _family_only(
    texts: dict[str, str], family_of: dict[str, str]
) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per family: the unsourced phrases and regexes found in its files and no other's."""
    fams_of_word: dict[str, set[str]] = defaultdict(set)
    fams_of_regex: dict[str, set[str]] = defaultdict(set)
    rows = (*reason_rules.RULES, *reason_rules.LATE_RULES)
    words = {w for r in rows for w in r.words} - reason_rules.SOURCED_WORDS
    regexes = {rx.pattern: rx for r in rows for _, rx in r.regexes}
    for name, text in texts.items():
        fam = family_of[name]
        for w in words:
            if w in text:
                fams_of_word[w].add(fam)
        for pattern, rx in regexes.items():
            if rx.search(text):
                fams_of_regex[pattern].add(fam)
    drop_words: dict[str, set[str]] = defaultdict(set)
    drop_regexes: dict[str, set[str]] = defaultdict(set)
    for w, fams in fams_of_word.items():
        if len(fams) == 1:
            drop_words[next(iter(fams))].add(w)
    for pattern, fams in fams_of_regex.items():
        if len(fams) == 1:
            drop_regexes[next(iter(fams))].add(pattern)
    return drop_words, drop_regexes


def _without(rows: tuple[Rule, ...], words: set[str], regexes: set[str]) -> tuple[Rule, ...]:
    return tuple(
        dataclasses.replace(
            r,
            words=tuple(w for w in r.words if w not in words),
            regexes=tuple((g, rx) for g, rx in r.regexes if rx.pattern not in regexes),
        )
        for r in rows
    )


def _use_tables(rules: tuple[Rule, ...], late: tuple[Rule, ...]) -> None:
    """Make the decision read these tables: the index and the decision are rebuilt from
    ``reason_rules`` (``base`` reaches both through their modules)."""
    reason_rules.RULES, reason_rules.LATE_RULES = rules, late
    importlib.reload(phrase_index)
    importlib.reload(reasons)


def _rows(name: str, report_findings: list[object], error: str | None) -> list[dict[str, object]]:
    if not report_findings:
        return [{"file": name, "kind": Kind.UNKNOWN.value, "error": error}]
    return [
        {
            "file": name,
            "recipient": f.recipient,  # type: ignore[attr-defined]
            "kind": f.kind.value,  # type: ignore[attr-defined]
            "reason": f.reason,  # type: ignore[attr-defined]
        }
        for f in report_findings
    ]


def _predict(corpus: Path, files: list[str]) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    for name in files:
        report = parse((corpus / name).read_bytes())
        out.extend(_rows(name, list(report.findings), report.error))
    return out


def _scorer_lines(corpus: Path, truth: str, preds: Path) -> list[str]:
    scorer = corpus.parent / "tools" / "score_corpus.py"
    done = subprocess.run(
        [
            sys.executable,
            str(scorer),
            str(corpus / truth),
            str(corpus),
            str(preds),
            "--delayed-is-soft",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    return done.stdout.splitlines()


def _summary(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith(("recipient_f1", "negatives", "ALL"))]


def _family_line(line: str) -> tuple[str, str] | None:
    """``(family, its figures)`` from one per-family line of the scorer, else None."""
    parts = line.split()
    if len(parts) < 9 or not parts[1].isdigit() or parts[0] == "ALL":
        return None
    return parts[0], " ".join(parts[1:])


def _confusion(corpus: Path, truth: str, rows: list[dict[str, object]]) -> Counter[tuple[str, str]]:
    """(expected class, predicted kind) per expected bounce record, paired by recipient."""
    by_file: dict[str, list[dict[str, object]]] = defaultdict(list)
    for r in rows:
        by_file[str(r["file"])].append(r)
    matrix: Counter[tuple[str, str]] = Counter()
    for line in (corpus / truth).read_text().splitlines():
        exp = json.loads(line)
        if exp["class"] not in ("hard_bounce", "soft_bounce"):
            continue
        names = {str(a).lower() for a in [exp["recipient"], *(exp.get("recipient_alt") or [])] if a}
        preds = [p for p in by_file.get(exp["file"], []) if p["kind"] != "unknown"]
        match = [p for p in preds if str(p.get("recipient") or "").lower() in names]
        got = match[0] if match else (preds[0] if preds else None)
        kind = str(got["kind"]) if got else "nothing"
        matrix[(exp["class"], "soft_bounce" if kind == "delayed" else kind)] += 1
    return matrix


def _matrix_lines(matrix: Counter[tuple[str, str]]) -> list[str]:
    others = sorted({k for _, k in matrix} - {"hard_bounce", "soft_bounce"})
    kinds = ["hard_bounce", "soft_bounce", *others]
    lines = ["  expected \\ predicted  " + "  ".join(f"{k:>12}" for k in kinds)]
    for exp in ("hard_bounce", "soft_bounce"):
        lines.append(f"  {exp:21}  " + "  ".join(f"{matrix[(exp, k)]:>12}" for k in kinds))
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=REPO.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, default=REPO / "bench" / "results" / "corpus_folds.txt")
    args = ap.parse_args()
    corpus: Path = args.corpus.resolve()
    if not (corpus / TRUTHS[0]).is_file():
        print(f"corpus not found at {corpus}; nothing to score")
        return 0
    started = time.monotonic()
    family_of: dict[str, str] = {}
    for truth in TRUTHS:
        for line in (corpus / truth).read_text().splitlines():
            rec = json.loads(line)
            family_of.setdefault(rec["file"], rec["family"])
    files = sorted(family_of)[:MAX_FILES]
    texts = _texts(corpus, files)
    drop_words, drop_regexes = _family_only(texts, family_of)

    dev_rows = _predict(corpus, files)
    base_rules, base_late = reason_rules.RULES, reason_rules.LATE_RULES
    fold_rows: list[dict[str, object]] = []
    by_family: dict[str, list[str]] = defaultdict(list)
    for name in files:
        by_family[family_of[name]].append(name)
    try:
        for fam, names in sorted(by_family.items()):
            words, regexes = drop_words.get(fam, set()), drop_regexes.get(fam, set())
            if words or regexes:
                _use_tables(
                    _without(base_rules, words, regexes), _without(base_late, words, regexes)
                )
            fold_rows.extend(_predict(corpus, names))
            if words or regexes:
                _use_tables(base_rules, base_late)
    finally:
        _use_tables(base_rules, base_late)
    if _predict(corpus, files) != dev_rows:  # the folds must leave nothing behind
        raise SystemExit("the full tables do not give the development predictions again")

    tmp = Path("/tmp/returnpath-corpus-folds")
    tmp.mkdir(parents=True, exist_ok=True)
    out: list[str] = [
        "corpus folds: development score beside the left-out score (bench/corpus_folds.py)",
        f"files={len(files)} families={len(by_family)} "
        f"sample-fit phrases (one family only, no documented source)="
        f"{sum(len(v) for v in drop_words.values())} regexes="
        f"{sum(len(v) for v in drop_regexes.values())} "
        f"families with any={len(set(drop_words) | set(drop_regexes))}",
        "columns of ALL: files records detect rcpt_P rcpt_R rcpt_F1 reason class",
    ]
    per_family: dict[str, dict[str, str]] = {"dev": {}, "left-out": {}}
    for label, rows in (("dev", dev_rows), ("left-out", fold_rows)):
        preds = tmp / f"{label}.jsonl"
        preds.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
        for truth in TRUTHS:
            out.append(f"== {label} {truth}")
            lines = _scorer_lines(corpus, truth, preds)
            out.extend(_summary(lines))
            for line in lines:
                found = _family_line(line)
                if found and truth == TRUTHS[0]:
                    per_family[label][found[0]] = found[1]
            if truth == TRUTHS[0]:
                out.append(" hard/soft confusion (expected class x predicted kind):")
                out.extend(_matrix_lines(_confusion(corpus, truth, rows)))
    out.append("families whose figures fall when their own sample-fit phrases are left out")
    out.append("  (files records detect rcpt_P rcpt_R rcpt_F1 reason class: dev -> left-out)")
    for fam, dev in sorted(per_family["dev"].items()):
        left = per_family["left-out"].get(fam)
        if left and left != dev:
            out.append(f"  {fam:24} {dev}  ->  {left}")
    worst = sorted(
        ((len(drop_words.get(f, ())) + len(drop_regexes.get(f, ())), f) for f in by_family),
        reverse=True,
    )[:10]
    out.append(
        "families with the most sample-fit phrases: " + ", ".join(f"{f}={n}" for n, f in worst)
    )
    out.append(f"elapsed_s={time.monotonic() - started:.1f}")
    text = "\n".join(out) + "\n"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
