"""/v1/suppressions/import and /export: whole lists, streamed both ways."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel

from returnpath.api.deps import PolicyDep, Reader, StoreDep, Writer
from returnpath.parsers.addresses import InvalidAddress, normalise_address
from returnpath.store.models import rfc3339
from returnpath.store.policy import Policy
from returnpath.store.transfer import (
    ImportCounts,
    ImportRow,
    export_pages,
    import_batch,
    refresh_statistics,
)

router = APIRouter(prefix="/v1/suppressions", tags=["suppressions"])

BATCH = 2000
CSV_TYPES = {"text/csv", "application/csv"}
NDJSON_TYPES = {
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
}
EXPORT_FIELDS = ("address", "stream", "kind", "reason", "source", "verified", "since", "until")


class ImportResult(BaseModel):
    received: int
    created: int
    updated: int
    unchanged: int
    invalid: int
    errors: list[dict[str, Any]]


async def _line_batches(request: Request) -> AsyncIterator[list[str]]:
    """Complete lines per received chunk: per-line async overhead dominated imports before."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    pending = ""
    async for chunk in request.stream():
        try:
            pending += decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            raise HTTPException(422, "the body is not UTF-8") from exc
        *complete, pending = pending.split("\n")
        if complete:
            yield complete
    pending += decoder.decode(b"", final=True)
    if pending.strip():
        yield [pending]


def _row(fields: dict[str, Any], policy: Policy) -> ImportRow:
    raw = fields.get("address")
    if not isinstance(raw, str) or not raw.strip():
        raise ValueError("missing address")
    try:
        address = normalise_address(raw, fold_local=policy.fold_local_case)
    except InvalidAddress as exc:
        raise ValueError(str(exc)) from exc
    reason = str(fields.get("reason") or "imported").strip()[:64] or "imported"
    stream = str(fields.get("stream") or "").strip()
    if len(stream) > 64:
        raise ValueError("stream longer than 64 characters")
    expires = fields.get("expires_at") or None
    expires_at = None
    if expires is not None:
        try:
            expires_at = datetime.fromisoformat(str(expires).strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"expires_at is not ISO 8601: {expires!r}") from exc
        if expires_at.tzinfo is None:
            expires_at = expires_at.replace(tzinfo=UTC)
    return ImportRow(address=address, reason=reason, stream=stream, expires_at=expires_at)


def _csv_rows(lines: list[str]) -> list[list[str] | str]:
    """Rows of a batch of lines; a line the csv module refuses becomes an error string."""
    try:
        return list(csv.reader(lines))
    except csv.Error:  # rare: find the bad line(s) one by one
        rows: list[list[str] | str] = []
        for line in lines:
            try:
                rows.extend(csv.reader([line]))
            except csv.Error as exc:
                rows.append(f"malformed CSV: {exc}")
        return rows


async def _records(request: Request, fmt: str) -> AsyncIterator[tuple[int, dict[str, Any] | str]]:
    """(line number, fields) or (line number, error) for every non-empty line."""
    header: list[str] | None = None
    number = 0
    async for lines in _line_batches(request):
        if fmt == "csv":
            for cells in _csv_rows([line.rstrip("\r") for line in lines]):
                number += 1
                if isinstance(cells, str):
                    yield number, cells
                    continue
                if not cells or not any(c.strip() for c in cells):
                    continue
                if header is None:
                    header = [c.strip().lower() for c in cells]
                    if "address" not in header:
                        raise HTTPException(422, "the CSV header row must name an 'address' column")
                    continue
                yield number, dict(zip(header, cells, strict=False))
            continue
        for line in lines:
            number += 1
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except ValueError:
                yield number, "not a JSON object"
                continue
            yield (number, value) if isinstance(value, dict) else (number, "not a JSON object")


@router.post(
    "/import",
    response_model=ImportResult,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
            },
        }
    },
)
async def import_suppressions(
    request: Request,
    store: StoreDep,
    who: Writer,
    policy: PolicyDep,
    format_: Annotated[Literal["csv", "ndjson"] | None, Query(alias="format")] = None,
) -> ImportResult:
    """Import a list (CSV with a header row naming at least ``address``; or NDJSON).

    Optional fields: ``reason``, ``stream``, ``expires_at``. Idempotent:
    importing the same file again changes nothing.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fmt = format_ or ("csv" if ctype in CSV_TYPES else "ndjson" if ctype in NDJSON_TYPES else None)
    if fmt is None:
        raise HTTPException(
            415, "send text/csv or application/x-ndjson (or pass ?format=csv|ndjson)"
        )
    counts = ImportCounts()
    batch: list[ImportRow] = []
    batches = 0
    async for number, fields in _records(request, fmt):
        if isinstance(fields, str):
            counts.reject(number, fields)
            continue
        try:
            batch.append(_row(fields, policy))
        except ValueError as exc:
            counts.reject(number, str(exc))
            continue
        if len(batch) >= BATCH:
            await import_batch(store, who.tenant_id, batch, counts, who.actor)
            batches += 1
            if batches & (batches - 1) == 0:  # after batch 1, 2, 4, 8, ...: see refresh_statistics
                await refresh_statistics(store)
            batch = []
    if batch:
        await import_batch(store, who.tenant_id, batch, counts, who.actor)
    if batches:
        await refresh_statistics(store)
    return ImportResult(
        received=counts.received,
        created=counts.created,
        updated=counts.updated,
        unchanged=counts.unchanged,
        invalid=counts.invalid,
        errors=counts.errors,
    )


def _export_record(row: Any) -> dict[str, Any]:
    _id, address, stream, kind, reason, source, verified, since, until = row
    return {
        "address": address,
        "stream": stream,
        "kind": kind,
        "reason": reason,
        "source": source,
        "verified": verified,
        "since": rfc3339(since),
        "until": rfc3339(until) if until else "",
    }


@router.get(
    "/export",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def export_suppressions(
    store: StoreDep,
    who: Reader,
    format_: Annotated[Literal["csv", "ndjson"], Query(alias="format")] = "csv",
) -> StreamingResponse:
    """The whole active list, streamed (constant memory on both sides)."""

    async def body() -> AsyncIterator[str]:
        if format_ == "csv":
            yield ",".join(EXPORT_FIELDS) + "\n"
        async for page in export_pages(store, who.tenant_id):
            buf = io.StringIO()
            if format_ == "csv":
                csv.DictWriter(buf, fieldnames=EXPORT_FIELDS, lineterminator="\n").writerows(
                    _export_record(row) for row in page
                )
            else:
                buf.writelines(json.dumps(_export_record(row)) + "\n" for row in page)
            yield buf.getvalue()

    media = "text/csv; charset=utf-8" if format_ == "csv" else "application/x-ndjson"
    return StreamingResponse(
        body(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="suppressions.{format_}"'},
    )
