"""Import of a large suppression list over HTTP, then its export: time and peak memory.

    .venv/bin/python -m bench.import_export [--db sqlite|postgres|both] [--rows 1000000]

Starts ``returnpath serve`` on a fresh database, streams a generated CSV
(chunked, never held in memory on either side) to ``POST
/v1/suppressions/import``, then reads ``GET /v1/suppressions/export`` back
and counts rows. Reports rows/s and the server's peak RSS (VmHWM) before and
after, which is what "constant memory" means here. Loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx

from bench.common import (
    ServiceProc,
    machine,
    print_table,
    temp_database,
    utc_stamp,
    write_json,
)


async def csv_body(rows: int, chunk_rows: int = 20_000) -> AsyncIterator[bytes]:
    yield b"address,reason,stream\n"
    for start in range(0, rows, chunk_rows):
        end = min(rows, start + chunk_rows)
        yield "".join(
            f"user{i}@example{i % 97}.com,imported,\n" for i in range(start, end)
        ).encode()


async def run(kind: str, rows: int) -> dict[str, Any]:
    async with temp_database(kind) as db:
        service = ServiceProc(db)
        service.start()
        try:
            base = f"http://127.0.0.1:{service.api_port}"
            headers = {"Authorization": f"Bearer {service.api_key}"}
            rss_before = service.memory().get("VmHWM", 0)
            async with httpx.AsyncClient(base_url=base, headers=headers, timeout=3600) as client:
                started = time.perf_counter()
                r = await client.post(
                    "/v1/suppressions/import",
                    content=csv_body(rows),
                    headers={"content-type": "text/csv"},
                )
                import_s = time.perf_counter() - started
                r.raise_for_status()
                counts = r.json()
                rss_import = service.memory().get("VmHWM", 0)
                started = time.perf_counter()
                exported = 0
                async with client.stream(
                    "GET", "/v1/suppressions/export", params={"format": "csv"}
                ) as resp:
                    async for line in resp.aiter_lines():
                        if line:
                            exported += 1
                export_s = time.perf_counter() - started
                rss_export = service.memory().get("VmHWM", 0)
                started = time.perf_counter()
                again = (
                    await client.post(
                        "/v1/suppressions/import",
                        content=csv_body(rows),
                        headers={"content-type": "text/csv"},
                    )
                ).json()
                reimport_s = time.perf_counter() - started
        finally:
            service.stop()
    return {
        "db": kind,
        "rows": rows,
        "created": counts["created"],
        "import_s": round(import_s, 2),
        "import_rows_per_s": round(rows / import_s),
        "reimport_unchanged": again["unchanged"],
        "reimport_s": round(reimport_s, 2),
        "exported": exported - 1,
        "export_s": round(export_s, 2),
        "export_rows_per_s": round((exported - 1) / export_s) if export_s else None,
        "peak_rss_mib_start": round(rss_before / 1024, 1),
        "peak_rss_mib_after_import": round(rss_import / 1024, 1),
        "peak_rss_mib_after_export": round(rss_export / 1024, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    kinds = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = [asyncio.run(run(kind, args.rows)) for kind in kinds]
    print_table(
        results,
        [
            ("db", "db"),
            ("rows", "rows"),
            ("import_s", "import s"),
            ("import_rows_per_s", "rows/s"),
            ("reimport_s", "re-import s"),
            ("export_s", "export s"),
            ("export_rows_per_s", "export rows/s"),
            ("peak_rss_mib_start", "RSS start MiB"),
            ("peak_rss_mib_after_import", "after import"),
            ("peak_rss_mib_after_export", "after export"),
        ],
    )
    write_json(
        "import_export",
        {"benchmark": "import_export", "at": utc_stamp(), "machine": machine(), "results": results},
    )


if __name__ == "__main__":
    main()
