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

import html
import urllib.parse

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse, PlainTextResponse

from returnpath.api.deps import AppState, StateDep
from returnpath.parsers.model import Finding, Kind, Report
from returnpath.parsers.verp import token_of_address
from returnpath.parsers.vocabulary import Reason
from returnpath.store.ingest import Received, record
from returnpath.store.tenants import DomainDirectory, TenantRef
from returnpath.store.verification import attribute_address

router = APIRouter(tags=["unsubscribe"])

ONE_CLICK = b"List-Unsubscribe=One-Click"


# A page, not an action: link scanners and prefetchers GET every URL in a message,
# and RFC 8058 makes the unsubscribe a POST for that reason. A person who clicks the
# link in a mail client gets this page; its button sends the same POST a mailbox
# provider sends. No script, no external resource (CSP below), works without CSS.
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>{title}</title>
<style>body{{font:16px/1.5 system-ui,sans-serif;max-width:32em;margin:3em auto;padding:0 1em}}
button{{font:inherit;padding:.5em 1.2em;cursor:pointer}}</style>
</head><body>
<h1>{title}</h1>
{body}
</body></html>
"""
_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _page(status: int, title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        _PAGE.format(title=html.escape(title), body=body), status_code=status, headers=_HEADERS
    )


def masked(address: str) -> str:
    """``ann@example.org`` → ``a**@example.org``: enough for its owner to recognise,
    not the whole address for whoever the link was forwarded to."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}{'*' * max(2, len(local) - 1)}@{domain}"


async def _verify(return_path: str, state: AppState) -> tuple[TenantRef, str, str] | None:
    domain = return_path.rpartition("@")[2]
    tenant = await DomainDirectory(state.store).tenant_for(domain) if domain else None
    token = token_of_address(return_path)
    if tenant is None or token is None:
        return None
    verdict = await attribute_address(state.store, tenant.id, return_path, max_age_days=400)
    if not verdict.verified or not verdict.recipient:
        return None
    return tenant, verdict.recipient, token


@router.get("/unsubscribe/{return_path}", response_class=HTMLResponse)
async def confirm_page(return_path: str, state: StateDep) -> HTMLResponse:
    """The page a person sees on opening the link: a button that unsubscribes."""
    verified = await _verify(return_path, state)
    if verified is None:
        return _page(404, "Unknown unsubscribe link", "<p>This link is not valid (any more).</p>")
    action = "/unsubscribe/" + urllib.parse.quote(return_path, safe="@+=")
    return _page(
        200,
        "Unsubscribe",
        f"<p>Stop these emails to <strong>{html.escape(masked(verified[1]))}</strong>?</p>"
        f'<form method="post" action="{html.escape(action)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>',
    )


@router.post("/unsubscribe/{return_path}", response_class=PlainTextResponse)
async def one_click(return_path: str, request: Request, state: StateDep) -> Response:
    """Unsubscribe the recipient named by a signed return path (no API key: the signature is the key)."""
    body = await request.body()
    if ONE_CLICK not in body:
        raise HTTPException(422, "expected the RFC 8058 body 'List-Unsubscribe=One-Click'")
    verified = await _verify(return_path, state)
    if verified is None:
        raise HTTPException(404, "unknown unsubscribe link")
    tenant, recipient, token = verified
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
                recipient=recipient,
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
    if "text/html" in request.headers.get("accept", ""):  # the page's button, in a browser
        return _page(200, "Unsubscribed", "<p>You will not get these emails any more.</p>")
    return PlainTextResponse("You are unsubscribed.\n")
