"""The spool on a real file system: what was acknowledged is read back, once, in order."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from returnpath.inbound.spool import (
    Position,
    Spooled,
    SpoolWriter,
    backlog_bytes,
    encode,
    read_batch,
    remove_finished,
    segment_name,
    segments,
    write_checkpoint,
)


def item(n: int, size: int = 100) -> Spooled:
    return Spooled(
        uid=f"uid{n:04d}",
        tenant_id=1,
        tenant_name="default",
        peer="127.0.0.1:1",
        mail_from="\udcffodd@example.net" if n == 0 else None,  # surrogate-escaped byte
        rcpt_tos=(f"b+{n}@bounces.example.com",),
        received_at=datetime(2026, 12, 3, tzinfo=UTC),
        raw=bytes([n % 256]) * size,
    )


def spool_size(directory: Path) -> int:
    return sum(os.path.getsize(directory / segment_name(s)) for s in segments(directory))


def append_raw(path: Path, data: bytes) -> None:
    with open(path, "ab") as f:
        f.write(data)


def read_all(directory: Path, start: Position = Position(0, 0)) -> list[str]:
    return [i.uid for i in read_batch(directory, start, max_items=10_000, max_bytes=1 << 30).items]


async def test_what_was_appended_is_read_back_in_order_across_segments(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, segment_bytes=1000)
    writer.open()
    for n in range(30):
        await writer.append(item(n))
    await writer.close()
    assert len(segments(tmp_path)) > 3  # rotated
    batch = read_batch(tmp_path, Position(0, 0), max_items=10_000, max_bytes=1 << 30)
    assert [i.uid for i in batch.items] == [f"uid{n:04d}" for n in range(30)]
    assert batch.items[0] == item(0)  # every field, the surrogate too
    assert batch.end == writer.position  # read to the end, exactly
    assert read_all(tmp_path, batch.end) == []


async def test_bounds_split_batches_and_a_big_record_still_passes(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path)
    writer.open()
    await writer.append(item(1, size=5000))
    await writer.append(item(2))
    await writer.append(item(3))
    first = read_batch(tmp_path, Position(0, 0), max_items=10, max_bytes=1000)
    assert [i.uid for i in first.items] == ["uid0001"]  # alone, bigger than the bound
    second = read_batch(tmp_path, first.end, max_items=1, max_bytes=1 << 20)
    assert [i.uid for i in second.items] == ["uid0002"]
    assert read_all(tmp_path, second.end) == ["uid0003"]
    await writer.close()


async def test_a_record_being_written_waits_and_a_torn_tail_is_skipped(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path)
    writer.open()
    await writer.append(item(1))
    await writer.close()
    [number] = segments(tmp_path)
    half = encode(item(2))[:60]
    append_raw(tmp_path / segment_name(number), half)  # a crash mid-write: never acknowledged
    # While it is the newest segment, the half record may still be completed: wait.
    batch = read_batch(tmp_path, Position(0, 0), max_items=10, max_bytes=1 << 20)
    assert [i.uid for i in batch.items] == ["uid0001"]
    assert read_all(tmp_path, batch.end) == []
    # A restarted listener opens a new segment: the half record is a torn tail now.
    writer = SpoolWriter(tmp_path)
    writer.open()
    await writer.append(item(3))
    after = read_batch(tmp_path, batch.end, max_items=10, max_bytes=1 << 20)
    assert [i.uid for i in after.items] == ["uid0003"]
    assert after.torn == len(half)
    await writer.close()


async def test_a_corrupted_record_in_a_closed_segment_does_not_stop_the_rest(
    tmp_path: Path,
) -> None:
    writer = SpoolWriter(tmp_path, segment_bytes=300)
    writer.open()
    for n in range(6):
        await writer.append(item(n))
    await writer.close()
    first = segments(tmp_path)[0]
    path = tmp_path / segment_name(first)
    data = bytearray(path.read_bytes())
    data[-5] ^= 0xFF  # the CRC no longer matches
    path.write_bytes(bytes(data))
    uids = read_all(tmp_path)
    assert "uid0005" in uids and len(uids) == 5


async def test_backlog_and_cleanup_follow_the_checkpoint(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path, segment_bytes=500)
    writer.open()
    for n in range(10):
        await writer.append(item(n))
    total = spool_size(tmp_path)
    assert backlog_bytes(tmp_path, writer.position) == total
    batch = read_batch(tmp_path, Position(0, 0), max_items=6, max_bytes=1 << 20)
    write_checkpoint(tmp_path, batch.end)
    assert 0 < backlog_bytes(tmp_path, writer.position) < total
    removed = remove_finished(tmp_path, batch.end)
    assert removed >= 1 and segments(tmp_path)[0] == batch.end.segment
    assert read_all(tmp_path, batch.end) == [f"uid{n:04d}" for n in range(6, 10)]
    rest = read_batch(tmp_path, batch.end, max_items=100, max_bytes=1 << 20)
    write_checkpoint(tmp_path, rest.end)
    assert backlog_bytes(tmp_path, writer.position) == 0
    await writer.close()


async def test_one_sync_serves_every_append_waiting_for_it(tmp_path: Path) -> None:
    import asyncio

    writer = SpoolWriter(tmp_path)
    writer.open()
    calls = 0
    real = os.fdatasync

    def counting(fd: int) -> None:
        nonlocal calls
        calls += 1
        real(fd)

    os.fdatasync = counting  # type: ignore[assignment]
    try:
        await asyncio.gather(*(writer.append(item(n)) for n in range(50)))
    finally:
        os.fdatasync = real
    await writer.close()
    assert calls <= 3, calls  # group sync: not one per message
    assert len(read_all(tmp_path)) == 50
