"""``returnpath import`` of a large mbox: rate, and memory that stays flat.

Generates an mbox of N DSNs (about 1.3 KB each, with distinct Message-IDs: 60 % hard
bounces, 30 % soft bounces, three per address, 10 % delivery reports), creates a
SQLite store, and runs ``returnpath import --json FILE`` as an operator would, in a
process of its own. While it runs, the progress lines it writes (every 10 s when
standard error is not a terminal) are read, and at each one the process's resident
memory (VmRSS) is sampled: memory after 10 % of the messages against memory at the
end shows whether it grows with the file. Peak RSS is the kernel's figure for the
whole run (``wait4``'s ru_maxrss).

    .venv/bin/python -m bench.import_mbox [--messages 1000000] [--keep DIR]

The test suite runs it with a few hundred messages (tests/importer/test_bench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from tests.messages import dsn

PROGRESS = re.compile(r": ([\d,]+) messages, ")


def message(i: int) -> bytes:
    slot = i % 10
    mid = f"<bench-{i}@mx.example.net>"
    if slot < 6:
        return dsn(f"hard-{i}@example.org", message_id=mid)
    if slot < 9:
        return dsn(
            f"soft-{i // 10}@example.org",
            status="4.2.2",
            diagnostic="452 4.2.2 <{r}>: Mailbox full",
            message_id=mid,
        )
    return dsn(
        f"ok-{i}@example.org",
        status="2.0.0",
        action="delivered",
        diagnostic="250 2.0.0 Ok",
        message_id=mid,
    )


def write_mbox(path: Path, count: int) -> int:
    with open(path, "wb", buffering=1 << 20) as out:
        for i in range(count):
            out.write(b"From MAILER-DAEMON Mon Nov 23 10:00:01 2026\n")
            out.write(message(i).replace(b"\r\n", b"\n"))
            out.write(b"\n")
    return path.stat().st_size


def create_store(url: str) -> None:
    import asyncio

    from returnpath.store.db import Store

    async def create() -> None:
        store = Store(url)
        try:
            await store.create_schema()
        finally:
            await store.close()

    asyncio.run(create())


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run(count: int, folder: Path) -> dict[str, Any]:
    mbox = folder / "bench.mbox"
    started = time.perf_counter()
    size = write_mbox(mbox, count)
    generated = time.perf_counter() - started
    url = f"sqlite+aiosqlite:///{folder / 'returnpath.db'}"
    create_store(url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env |= {
        "RETURNPATH_DATABASE_URL": url,
        "RETURNPATH_DOMAINS": "bounces.example.com",
        "RETURNPATH_SPOOL_DIR": str(folder / "spool"),
        "RETURNPATH_LOG_FORMAT": "json",
        "RETURNPATH_LOG_LEVEL": "warning",
    }
    samples: list[tuple[int, int]] = []  # (messages done, VmRSS KiB)
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "returnpath", "import", "--json", str(mbox)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    def watch() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            found = PROGRESS.search(line)
            if found:
                samples.append((int(found.group(1).replace(",", "")), rss_kib(proc.pid)))

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    reader.join(5)
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}): {out[-2000:]}")
    summary = json.loads(out.strip().splitlines()[-1])
    tenth = next((s for s in samples if s[0] >= count // 10), samples[0] if samples else (0, 0))
    return {
        "messages": count,
        "mbox_mb": size / 1e6,
        "generate_s": generated,
        "import_s": seconds,
        "rate": count / seconds,
        "new": summary["new"],
        "rss_tenth_mib": tenth[1] / 1024,
        "rss_tenth_at": tenth[0],
        "rss_end_mib": (samples[-1][1] if samples else 0) / 1024,
        "peak_rss_mib": usage.ru_maxrss / 1024,
        "db_mb": (folder / "returnpath.db").stat().st_size / 1e6,
        "samples": samples,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work in this folder and keep it")
    args = parser.parse_args(argv)
    folder = args.keep or Path(tempfile.mkdtemp(prefix="returnpath-bench-import-"))
    folder.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    try:
        result = run(args.messages, folder)
    finally:
        if args.keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    r = result
    print(
        f"returnpath import of an mbox of {r['messages']:,} DSNs ({r['mbox_mb']:,.0f} MB) into"
        f" SQLite; Python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())};"
        f" load average {load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
        f" ({os.cpu_count()} cores, shared with other work)"
    )
    print(
        f"  import: {r['import_s']:,.1f} s wall, {r['rate']:,.0f} messages/s (process start included);"
        f" {r['new']:,} new; store {r['db_mb']:,.0f} MB; generating the file took {r['generate_s']:,.1f} s"
    )
    print(
        f"  memory: VmRSS {r['rss_tenth_mib']:,.0f} MiB after {r['rss_tenth_at']:,} messages,"
        f" {r['rss_end_mib']:,.0f} MiB at the last progress line; peak {r['peak_rss_mib']:,.0f} MiB"
    )
    print(
        "  samples (messages: VmRSS MiB): "
        + ", ".join(f"{m:,}: {k / 1024:.0f}" for m, k in r["samples"])
    )
    return result


if __name__ == "__main__":
    main()
