"""One-click unsubscribe (RFC 8058): the List-Unsubscribe-Post target.

Put ``List-Unsubscribe: <https://HOST/unsubscribe/RETURN_PATH>`` and
``List-Unsubscribe-Post: List-Unsubscribe=One-Click`` on marketing mail,
where RETURN_PATH is the message's signed return path. Mailbox providers
POST ``List-Unsubscribe=One-Click`` there, without credentials: the signed
token is the credential. A valid token becomes an ``unsubscribe`` event
(reason ``oneclick``) and suppression, exactly as if the recipient had
mailed an unsubscribe request; repeated POSTs change nothing.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from returnpath.api.deps import StateDep
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.verp import token_of_address
from returnpath.parsers.vocabulary import Reason
from returnpath.store.ingest import Received, record
from returnpath.store.tenants import DomainDirectory
from returnpath.store.verification import attribute_address

router = APIRouter(tags=["unsubscribe"])

ONE_CLICK = b"List-Unsubscribe=One-Click"


@router.post("/unsubscribe/{return_path}", response_class=PlainTextResponse)
async def one_click(return_path: str, request: Request, state: StateDep) -> PlainTextResponse:
    """Unsubscribe the recipient named by a signed return path (no API key: the signature is the key)."""
    body = await request.body()
    if ONE_CLICK not in body:
        raise HTTPException(422, "expected the RFC 8058 body 'List-Unsubscribe=One-Click'")
    domain = return_path.rpartition("@")[2]
    tenant = await DomainDirectory(state.store).tenant_for(domain) if domain else None
    token = token_of_address(return_path)
    if tenant is None or token is None:
        raise HTTPException(404, "unknown unsubscribe link")
    verdict = await attribute_address(state.store, tenant.id, return_path, max_age_days=400)
    if not verdict.verified or not verdict.recipient:
        raise HTTPException(404, "unknown unsubscribe link")
    peer = request.client.host if request.client else None
    evidence = (
        f"POST /unsubscribe/{return_path} HTTP/1.1\r\n"
        f"User-Agent: {request.headers.get('user-agent', '')}\r\nX-Peer: {peer}\r\n\r\n"
    ).encode() + ONE_CLICK
    report = Report(
        findings=(
            Finding(
                kind=Kind.UNSUBSCRIBE,
                reason=Reason.ONECLICK,
                recipient=verdict.recipient,
                token=token,
                family="oneclick",
            ),
        ),
        family="oneclick",
    )
    received = Received(
        tenant=tenant, raw=evidence, peer=peer, mail_from=None, rcpt_tos=(return_path,)
    )
    result = await record(state.store, received, report, publish=state.publish)
    if state.on_recorded is not None and not result.duplicate:
        state.on_recorded()
    return PlainTextResponse("You are unsubscribed.\n")
