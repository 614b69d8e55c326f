"""The Python recipes of docs/adopting.md, run as written against a real ``serve``.

The page's ``python`` blocks are executed as they stand; the test then sends a
marketing message through a real SMTP server (an aiosmtpd sink on loopback) with
``send``, unsubscribes with the one-click URL the message carries, and asks
``mailable`` for the marketing and the transactional stream. A recipe that no
longer matches the API fails here.
"""

from __future__ import annotations

import asyncio
import re
import smtplib
import urllib.parse
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from tests.conftest import ADMIN_KEY, StartService
from tests.services import free_port

PAGE = Path(__file__).resolve().parents[2] / "docs" / "adopting.md"


def recipes() -> dict[str, Any]:
    blocks = re.findall(r"```python\n(.*?)```", PAGE.read_text(), re.S)
    assert len(blocks) == 2, "docs/adopting.md: the send and the check recipe"
    namespace: dict[str, Any] = {}
    for block in blocks:
        exec(compile(block, str(PAGE), "exec"), namespace)
    return namespace


class Keep:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        return "250 OK"


async def test_the_adopters_recipes_work_against_a_real_serve(
    sqlite_url: str, start_service: StartService
) -> None:
    r = recipes()
    svc = await start_service(sqlite_url)
    api = str(svc.api.base_url).rstrip("/")
    keep = Keep()
    port = free_port()
    sink = Controller(keep, hostname="127.0.0.1", port=port)
    sink.start()
    try:
        msg = EmailMessage()
        msg["From"] = "news@example.com"
        msg["To"] = "ann@example.org"
        msg["Subject"] = "Our news"
        msg["Message-ID"] = "<m1@example.com>"
        msg.set_content("Hello")

        def send() -> str:
            with smtplib.SMTP("127.0.0.1", port) as smtp:
                return str(r["send"](smtp, api, ADMIN_KEY, api, msg))

        rp = await asyncio.to_thread(send)
        [envelope] = keep.envelopes
        assert envelope.mail_from == rp and rp.endswith("@bounces.example.com")
        sent = (envelope.original_content or b"").decode()
        assert f"<{api}/unsubscribe/{rp}>" in sent and "List-Unsubscribe=One-Click" in sent
        both = ["ann@example.org", "bob@example.org"]
        assert await asyncio.to_thread(r["mailable"], api, ADMIN_KEY, both, "marketing") == set(
            both
        )
        # the provider's one-click POST to the URL in the header
        path = urllib.parse.urlsplit(f"{api}/unsubscribe/{rp}").path
        answer = await svc.api.post(
            path,
            content=b"List-Unsubscribe=One-Click",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Authorization": ""},
        )
        assert answer.status_code in (200, 202, 204), answer.text
        got = await asyncio.to_thread(r["mailable"], api, ADMIN_KEY, both, "marketing")
        assert got == {"bob@example.org"}
        # the unsubscribe was from marketing: receipts still go out
        got = await asyncio.to_thread(r["mailable"], api, ADMIN_KEY, both, "transactional")
        assert got == set(both)
        # an outage is CheckUnavailable, never "everything is mailable"
        dead = "http://127.0.0.1:9"
        try:
            await asyncio.to_thread(r["mailable"], dead, ADMIN_KEY, both)
        except r["CheckUnavailable"]:
            pass
        else:
            raise AssertionError("an unreachable check must raise CheckUnavailable")
    finally:
        sink.stop()
