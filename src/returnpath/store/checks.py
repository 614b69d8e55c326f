"""The pre-send check: "may I still mail these addresses?", the query every send waits for.

One interface, ``SuppressionChecks``, with one implementation per database,
chosen once when the ``Store`` is made (``db.make_checks``, from the URL):

- ``checks_postgres.PostgresChecks``: asyncpg, its own small pool;
- ``checks_sqlite.SqliteChecks``: aiosqlite, read-only connections of its own.

This is the one read path that sits in front of every message the sending
side sends, so both skip the ORM and speak to the driver; each module says
why its statement has the shape it has. What they share is here: the rows a
single check returns (``Hit``), the members of a bulk answer (written by the
database, ``answer_columns``), and the slicing of a large check into
statements that run on several connections at once, so both cores probe the
index (10,000 addresses on PostgreSQL: ~80 ms in one statement, ~35 ms in
four; bench/api_latency.py).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, Literal, NamedTuple, Protocol

from returnpath.store.cache import TtlCache
from returnpath.store.models import storable, utcnow


class Hit(NamedTuple):
    """One active suppression of an asked address (a stream of '' applies to every stream)."""

    address: str
    stream: str
    kind: str
    reason: str
    source: str
    verified: bool
    created_at: datetime
    expires_at: datetime | None
    note: str | None
    event: str | None  # public id of the event that caused it


class SuppressionChecks(Protocol):
    """The pre-send check on one database. Addresses are normalised ones; with a
    ``stream``, suppressions of that stream and of every stream ('') count, without
    one all of them; ``now`` (default: the clock) decides what has expired."""

    #: Addresses per statement: the API normalises a large check in slices of this size.
    slice_size: int

    async def active(
        self,
        tenant_id: int,
        addresses: Sequence[str],
        stream: str | None,
        now: datetime | None = None,
    ) -> dict[str, list[Hit]]:
        """Active suppressions per asked address (an absent key: mailable)."""
        ...

    async def answers(
        self,
        tenant_id: int,
        addresses: Sequence[str],
        stream: str | None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """What a bulk check says of each suppressed address: the JSON members after
        ``"suppressed":true,`` (kind, reason, stream, since, until) of the one
        suppression ``first`` would pick. An absent key: mailable.

        The database picks that row and writes those members (``answer_columns``):
        a bulk check of 10,000 addresses matches thousands of rows, and decoding
        their timestamps into datetimes, ranking them and encoding them again cost
        this process more than the lookup cost the database. A test holds every
        database's text to orjson's encoding of the rows.
        """
        ...

    def special_changed(self, tenant_id: int) -> None:
        """A domain-wide or erased suppression was added or lifted through this process."""
        ...

    async def close(self) -> None:
        """Close the connections this backend opened."""
        ...


def first(hits: list[Hit]) -> Hit:
    """The suppression to report when several streams stop an address: permanent first, then oldest."""
    if len(hits) == 1:
        return hits[0]
    return min(hits, key=lambda h: (h.expires_at is not None, h.created_at))


# What a check's rows hold: every column and the event's id (a GET), or
# (address, answer members) (a bulk check).
Shape = Literal["full", "answer"]
FULL_COLUMNS = (
    "s.address, s.stream, s.kind, s.reason, s.source, s.verified,"
    " s.created_at, s.expires_at, s.note, e.uid"
)
EVENT_JOIN = " LEFT JOIN event e ON e.id = s.event_id"


def answer_columns(stamp: Callable[[str], str], quote: Callable[[str], str]) -> str:
    """The members of a bulk answer as one SQL text expression: what orjson writes of
    ``{"kind", "reason", "stream", "since", "until"}`` with ``models.ORJSON_TIMES``
    (RFC 3339 in UTC with ``Z``, microseconds only when there are any). ``stamp`` and ``quote`` are the backend's
    SQL for a timestamp's text and a JSON string."""
    return (
        f"""'"kind":' || {quote("s.kind")} || ',"reason":' || {quote("s.reason")}"""
        f""" || ',"stream":' || CASE WHEN s.stream = '' THEN 'null' ELSE {quote("s.stream")} END"""
        f""" || ',"since":"' || {stamp("s.created_at")} || 'Z"'"""
        """ || ',"until":' || CASE WHEN s.expires_at IS NULL THEN 'null'"""
        f""" ELSE '"' || {stamp("s.expires_at")} || 'Z"' END"""
    )


Fetch = Callable[[list[str]], Awaitable[list[Any]]]


async def in_slices(addresses: Sequence[str], size: int, fetch: Fetch) -> list[Any]:
    """The rows of every asked address (each asked once), ``size`` addresses per
    statement, the statements at once."""
    unique = list(dict.fromkeys(addresses))
    if not unique:
        return []
    if len(unique) <= size:
        return await fetch(unique)
    parts = await asyncio.gather(
        *(fetch(unique[i : i + size]) for i in range(0, len(unique), size))
    )
    return [row for part in parts for row in part]


def by_address(rows: list[Any]) -> dict[str, list[Hit]]:
    found: dict[str, list[Hit]] = {}
    for row in rows:
        hit = Hit._make(row)
        found.setdefault(hit.address, []).append(hit)
    return found


def domain_key(address: str) -> str:
    """The key of a domain-wide suppression covering ``address`` (``@example.com``).

    No address key starts with ``@`` (an address has a local part), so the two kinds
    of rows share the table and its index without meeting.
    """
    return "@" + address.rpartition("@")[2]


#: the prefix of an erased address's key (store.erase): no address starts with it
#: and holds no '@' after it, so it meets no address key either
ERASED_PREFIX = "sha256:"


def erased_key(address: str) -> str:
    """The key an address's suppressions keep after it was erased: a hash, so that the
    address is still never mailed and no longer stored (pseudonymous: an address
    someone already knows can be tested against it, which is what the check needs)."""
    return ERASED_PREFIX + hashlib.sha256(address.encode("utf-8", "surrogateescape")).hexdigest()


class Special(NamedTuple):
    """Which keys besides its own a tenant's check must probe for each address."""

    domains: bool  # it has domain-wide suppressions (@example.com)
    erased: bool  # it has suppressions of erased addresses (sha256:...)


NOTHING_SPECIAL = Special(False, False)

#: how long a tenant's ``Special`` is believed (seconds); a change made through this
#: process is seen at once (``special_changed``)
SPECIAL_TTL = 2.0


def keys_of(address: str, special: Special) -> list[str]:
    keys = [address]
    if special.domains and not address.startswith("@"):
        keys.append(domain_key(address))
    if special.erased and not address.startswith(ERASED_PREFIX):
        keys.append(erased_key(address))
    return keys


class SlicedChecks:
    """``active`` and ``answers`` for a backend that answers one slice of addresses per
    query: a backend gives ``slice_size``, ``_fetch`` (its SQL, its driver) and
    ``_special`` (which other keys the tenant's rows use).

    Domain-wide suppressions (``@example.com``) and erased addresses' suppressions
    (``sha256:…``) are probed only for a tenant that has some: the others pay a cached
    flag per check, not a key more per address."""

    slice_size: int
    _flags: TtlCache[int, Special] | None = None

    def _fetch(self, tenant_id: int, stream: str | None, now: datetime, shape: Shape) -> Fetch:
        raise NotImplementedError

    async def _special(self, tenant_id: int) -> Special:
        raise NotImplementedError

    async def _special_cached(self, tenant_id: int) -> Special:
        if self._flags is None:
            self._flags = TtlCache(SPECIAL_TTL)
        return await self._flags.get(tenant_id, lambda: self._special(tenant_id))

    def special_changed(self, tenant_id: int) -> None:
        if self._flags is not None:
            self._flags.forget(tenant_id)

    async def active(
        self,
        tenant_id: int,
        addresses: Sequence[str],
        stream: str | None,
        now: datetime | None = None,
    ) -> dict[str, list[Hit]]:
        stream = None if stream is None else storable(stream)  # as the column holds it
        fetch = self._fetch(tenant_id, stream, now or utcnow(), "full")
        special = await self._special_cached(tenant_id)
        if special == NOTHING_SPECIAL:
            return by_address(await in_slices(addresses, self.slice_size, fetch))
        keys = {a: keys_of(a, special) for a in addresses}
        asked = [k for ks in keys.values() for k in ks]
        found = by_address(await in_slices(asked, self.slice_size, fetch))
        hits: dict[str, list[Hit]] = {}
        for address, mine in keys.items():
            rows = [hit for key in mine for hit in found.get(key, ())]
            if rows:
                hits[address] = rows
        return hits

    async def answers(
        self,
        tenant_id: int,
        addresses: Sequence[str],
        stream: str | None,
        now: datetime | None = None,
    ) -> dict[str, str]:
        """An address suppressed by itself and by its domain (or its erased key) is
        answered with its own suppression first."""
        stream = None if stream is None else storable(stream)  # as the column holds it
        fetch = self._fetch(tenant_id, stream, now or utcnow(), "answer")
        special = await self._special_cached(tenant_id)
        if special == NOTHING_SPECIAL:
            return {row[0]: row[1] for row in await in_slices(addresses, self.slice_size, fetch)}
        keys = {a: keys_of(a, special) for a in addresses}
        rows = await in_slices([k for ks in keys.values() for k in ks], self.slice_size, fetch)
        found = {row[0]: row[1] for row in rows}
        answers: dict[str, str] = {}
        for address, mine in keys.items():
            answer = next((found[k] for k in mine if k in found), None)
            if answer is not None:
                answers[address] = answer
        return answers
