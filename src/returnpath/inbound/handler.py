"""The aiosmtpd handler: the decisions of the SMTP dialogue, nothing of its protocol.

- RCPT: only our tenants' bounce domains (``550 5.7.1`` otherwise — we never
  relay); one tenant per transaction (``452 4.5.3`` asks the client to send
  the other recipients in a new transaction, as RFC 5321 allows).
- DATA: parse, commit, and only then ``250``. Any storage failure answers
  ``451 4.3.0`` so the sending MTA retries and nothing is lost. A message
  nobody can parse is still stored and accepted: never bounce a bounce.
- Anything else that goes wrong (a bug) answers ``451 4.3.0`` too, through
  aiosmtpd's ``handle_exception`` hook, and logs its traceback.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP, Session

from returnpath.inbound.envelope import TenantEnvelope
from returnpath.parsers import parse
from returnpath.parsers.model import Report
from returnpath.store import metrics
from returnpath.store.db import Store
from returnpath.store.group_commit import GroupCommit
from returnpath.store.ingest import Received, Recorded
from returnpath.store.tenants import DomainDirectory

log = structlog.get_logger("returnpath.inbound")

# Parsing is pure CPU; beyond this size it moves off the event loop.
INLINE_PARSE_LIMIT = 64 * 1024
# A bounce names one return path; a hundred is already generous (RFC 5321 minimum).
MAX_RECIPIENTS = 100


class BounceHandler:
    def __init__(
        self,
        store: Store,
        directory: DomainDirectory,
        *,
        publish: bool = False,
        on_recorded: Callable[[Recorded], None] | None = None,
    ) -> None:
        self.store = store
        self.directory = directory
        self.publish = publish
        self.group = GroupCommit(store, publish=publish)
        self.on_recorded = on_recorded
        self.in_flight = 0

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
        rcpt_tos = tuple(envelope.rcpt_tos)
        self.in_flight += 1
        try:
            report = await _parse(raw, rcpt_tos[0] if rcpt_tos else None)
            received = Received(
                tenant=tenant,
                raw=raw,
                peer=_peer(session.peer),
                mail_from=None if envelope.mail_from is None else _storable(envelope.mail_from),
                rcpt_tos=rcpt_tos,
            )
            try:
                result = await self.group.record(received, report)
            except Exception as exc:
                log.error("store_failed", peer=received.peer, error=repr(exc))
                metrics.SMTP_REPLIES.labels("451").inc()
                return "451 4.3.0 Temporary storage failure, try again later"
        finally:
            self.in_flight -= 1
        log.info(
            "message_accepted",
            message=result.message_uid,
            peer=received.peer,
            tenant=tenant.name,
            size=len(raw),
            family=report.family,
            kinds=report.kinds,
            events=len(result.event_uids),
            suppressed=len(result.suppressed),
            duplicate=result.duplicate,
            ms=round((time.perf_counter() - started) * 1000, 2),
        )
        metrics.SMTP_REPLIES.labels("250").inc()
        metrics.MESSAGES.labels(report.family, str(result.duplicate).lower()).inc()
        metrics.ACCEPT_SECONDS.observe(time.perf_counter() - started)
        if self.on_recorded is not None and not result.duplicate:
            self.on_recorded(result)
        if result.duplicate:
            return f"250 2.0.0 Already have it as {result.message_uid}"
        return f"250 2.0.0 Accepted as {result.message_uid}"

    async def handle_exception(self, error: Exception) -> str:
        """The reply to an error that no hook answered itself (aiosmtpd's hook).

        Without it aiosmtpd answers ``500 Error: (...)``, a permanent failure: the
        remote MTA would bounce the bounce, and it would be lost. An error we did
        not foresee is ours, and may pass: ``451`` makes the MTA try again later.
        """
        log.error("smtp_command_failed", error=repr(error), exc_info=error)
        return "451 4.3.0 Temporary server error, try again later"


async def _parse(raw: bytes, envelope_recipient: str | None) -> Report:
    if len(raw) <= INLINE_PARSE_LIMIT:
        return parse(raw, envelope_recipient)
    return await asyncio.to_thread(parse, raw, envelope_recipient)


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
