"""What an import did, by kind and reason: printed at the end, or as JSON (``--json``)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.vocabulary import Reason

#: failures named one by one in the summary; more are only counted
MAX_NAMED = 20


def findings_of(report: Report) -> tuple[Finding, ...]:
    """As the store records them: a message without findings is one ``unknown`` event."""
    return report.findings or (
        Finding(kind=Kind.UNKNOWN, reason=Reason.UNDEFINED, family=report.family),
    )


@dataclass
class Summary:
    dry_run: bool = False
    sources: list[dict[str, Any]] = field(default_factory=list)
    messages: int = 0
    new: int = 0
    duplicates: int = 0
    failed: int = 0
    suppressed: int = 0
    findings: Counter[tuple[str, str]] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    interrupted: bool = False

    def start(self, kind: str, label: str) -> None:
        self.sources.append({"kind": kind, "source": label, "messages": 0})

    def add_new(self, report: Report, suppressed: int) -> None:
        self._count()
        self.new += 1
        self.suppressed += suppressed
        for finding in findings_of(report):
            self.findings[finding.kind.value, finding.reason or Reason.UNDEFINED.value] += 1

    def add_duplicate(self) -> None:
        self._count()
        self.duplicates += 1

    def add_failed(self, ref: str) -> None:
        self._count()
        self.failed += 1
        if len(self.failures) < MAX_NAMED:
            self.failures.append(ref)

    def _count(self) -> None:
        self.messages += 1
        if self.sources:
            self.sources[-1]["messages"] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "interrupted": self.interrupted,
            "sources": self.sources,
            "messages": self.messages,
            "new": self.new,
            "duplicates": self.duplicates,
            "failed": self.failed,
            "suppressed": self.suppressed,
            "findings": [
                {"kind": kind, "reason": reason, "count": count}
                for (kind, reason), count in sorted(self.findings.items())
            ],
            "failures": self.failures,
        }

    def render(self) -> str:
        verb = "would import" if self.dry_run else "imported"
        lines = [
            f"{verb} {self.messages:,} messages: {self.new:,} new, {self.duplicates:,} already"
            f" stored, {self.failed:,} failed"
            + ("" if self.dry_run else f"; {self.suppressed:,} addresses suppressed")
        ]
        for source in self.sources:
            lines.append(f"  {source['kind']:<8} {source['source']}: {source['messages']:,}")
        if self.findings:
            width = max(len(kind) for kind, _ in self.findings)
            lines.append("findings of the new messages, by kind and reason:")
            for (kind, reason), count in sorted(self.findings.items(), key=lambda x: (-x[1], x[0])):
                lines.append(f"  {kind:<{width}}  {reason:<20} {count:>9,}")
        for ref in self.failures:
            lines.append(f"  failed: {ref}")
        if self.failed > len(self.failures):
            lines.append(f"  ... and {self.failed - len(self.failures):,} more failed")
        if self.interrupted:
            lines.append("interrupted: run the same command again to resume")
        return "\n".join(lines)
