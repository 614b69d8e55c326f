"""The aiosmtpd handler: the decisions of the SMTP dialogue, nothing of its protocol.

- RCPT: only our tenants' bounce domains (``550 5.7.1`` otherwise — we never
  relay); one tenant per transaction (``452 4.5.3`` asks the client to send
  the other recipients in a new transaction, as RFC 5321 allows).
- DATA: the message with its envelope is appended to the spool and synced to
  disk, and only then ``250`` (``inbound.spool``). Parsing and recording
  happen after, in the stage (``returnpath.stage``). A message nobody can
  parse is accepted like any other: never bounce a bounce.
- When the stage is too far behind (``spool_max_backlog``), ``451 4.3.2``:
  the sending MTA keeps the message and retries, instead of our spool
  growing without end. A spool that cannot be written answers ``451 4.3.0``.
- Anything else that goes wrong (a bug) answers ``451 4.3.0`` too, through
  aiosmtpd's ``handle_exception`` hook, and logs its traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Session

from returnpath.inbound.envelope import TenantEnvelope
from returnpath.inbound.spool import Spooled, SpoolWriter, backlog_bytes
from returnpath.store import metrics
from returnpath.store.models import new_uid, utcnow
from returnpath.store.tenants import DomainDirectory

log = structlog.get_logger("returnpath.inbound")

# A bounce names one return path; a hundred is already generous (RFC 5321 minimum).
MAX_RECIPIENTS = 100


class BounceHandler:
    def __init__(
        self,
        spool: SpoolWriter,
        directory: DomainDirectory,
        *,
        max_backlog: int,
        backlog_every: float = 0.2,
    ) -> None:
        self.spool = spool
        self.directory = directory
        self.max_backlog = max_backlog
        self.backlog_every = backlog_every
        self.backlog = 0
        self.in_flight = 0
        self._watcher: asyncio.Task[None] | None = None

    def watch_backlog(self) -> None:
        """Start reading how far the stage is behind (a few stat calls, five times a second)."""
        self._watcher = asyncio.create_task(self._watch(), name="spool-backlog")

    async def _watch(self) -> None:
        while True:
            self.backlog = backlog_bytes(self.spool.directory, self.spool.position)
            metrics.SPOOL_BACKLOG_BYTES.set(self.backlog)
            await asyncio.sleep(self.backlog_every)

    async def close(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        await self.spool.close()

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: TenantEnvelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        address = _storable(address)
        domain = address.rpartition("@")[2]
        if not domain:
            return "550 5.1.3 Bad recipient address syntax"
        try:
            tenant = await self.directory.tenant_for(domain)
        except Exception:
            log.exception("domain_lookup_failed", domain=domain)
            return "451 4.3.0 Temporary lookup failure, try again later"
        if tenant is None:
            return "550 5.7.1 Relaying denied: not a bounce domain of this server"
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        if envelope.tenant is not None and envelope.tenant.id != tenant.id:
            return "452 4.5.3 Too many recipients: send to this domain in a new transaction"
        envelope.tenant = tenant
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: TenantEnvelope) -> str:
        started = time.perf_counter()
        raw = envelope.original_content or b""
        tenant = envelope.tenant
        if tenant is None:  # cannot happen: aiosmtpd takes DATA only after an accepted RCPT
            raise RuntimeError("DATA in a transaction without a tenant")
        peer = _peer(session.peer)
        if self.backlog > self.max_backlog:
            log.warning("spool_backlog_full", peer=peer, backlog=self.backlog)
            metrics.SMTP_REPLIES.labels("451").inc()
            return "451 4.3.2 System busy, try again later"
        item = Spooled(
            uid=new_uid(),
            tenant_id=tenant.id,
            tenant_name=tenant.name,
            peer=peer,
            mail_from=None if envelope.mail_from is None else _storable(envelope.mail_from),
            rcpt_tos=tuple(envelope.rcpt_tos),
            received_at=utcnow(),
            raw=raw,
        )
        self.in_flight += 1
        try:
            await self.spool.append(item)
        except OSError as exc:
            log.error("spool_write_failed", peer=peer, error=repr(exc))
            metrics.SMTP_REPLIES.labels("451").inc()
            return "451 4.3.0 Temporary storage failure, try again later"
        finally:
            self.in_flight -= 1
        seconds = time.perf_counter() - started
        # At debug: the stage's message_recorded line tells the whole story once (it
        # carries the peer, the size and the verdict); two info lines per message
        # would double the log volume and cost the listener CPU on its hot path.
        log.debug(
            "message_accepted",
            message=item.uid,
            peer=peer,
            tenant=tenant.name,
            size=len(raw),
            ms=round(seconds * 1000, 2),
        )
        metrics.SMTP_REPLIES.labels("250").inc()
        metrics.ACCEPT_SECONDS.observe(seconds)
        return f"250 2.0.0 Accepted as {item.uid}"

    async def handle_exception(self, error: Exception) -> str:
        """The reply to an error that no hook answered itself (aiosmtpd's hook).

        Without it aiosmtpd answers ``500 Error: (...)``, a permanent failure: the
        remote MTA would bounce the bounce, and it would be lost. An error we did
        not foresee is ours, and may pass: ``451`` makes the MTA try again later.
        """
        log.error("smtp_command_failed", error=repr(error), exc_info=error)
        return "451 4.3.0 Temporary server error, try again later"


def _storable(address: str) -> str:
    """The address as text the database can hold.

    With SMTPUTF8 on, aiosmtpd decodes envelope addresses as UTF-8 with
    ``surrogateescape``: a byte that is not UTF-8 (a broken client) becomes a lone
    surrogate, which no UTF-8 database column takes; the message would get a 451
    that no retry can cure. Such bytes are kept visibly as ``\\xNN`` instead.
    """
    if address.isascii():
        return address
    return address.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _peer(peer: Any) -> str | None:
    if isinstance(peer, tuple) and peer:
        return f"{peer[0]}:{peer[1]}" if len(peer) > 1 else str(peer[0])
    return str(peer) if peer else None
