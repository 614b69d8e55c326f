"""The one-click link opened in a real browser (Debian's Chromium, driven by Playwright):
a GET shows a page and changes nothing; its button unsubscribes."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.conftest import StartService
from tests.services import in_ci


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Chromium is not installed (apt-get install chromium)"
        if in_ci():
            pytest.fail(message + " (CI=true: browser tests must not skip)")
        pytest.skip(message)
    return path


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    executable = chromium()
    async with async_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start
        browser = await pw.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            yield await browser.new_page()
        finally:
            await browser.close()


async def test_the_link_shows_a_page_whose_button_unsubscribes(
    sqlite_url: str, start_service: StartService, page: Any
) -> None:
    svc = await start_service(sqlite_url)
    minted = await svc.api.post(
        "/v1/return-paths",
        json={"recipient": "ann@example.org", "message_id": "<m1@x>", "stream": "marketing"},
    )
    rp = minted.json()["return_path"]
    base = str(svc.api.base_url).rstrip("/")

    answer = await page.goto(f"{base}/unsubscribe/{rp}")
    assert answer is not None and answer.status == 200
    assert "a**@example.org" in await page.inner_text("body")
    assert "ann@example.org" not in await page.content()  # masked for forwarded links
    # opening the page (what a link scanner does) unsubscribed nobody
    gone = await svc.api.get("/v1/suppressions/ann@example.org")
    assert gone.status_code == 404

    await page.click("button")
    await page.wait_for_load_state()
    assert "You will not get these emails any more." in await page.inner_text("body")
    [row] = (await svc.api.get("/v1/suppressions/ann@example.org?stream=marketing")).json()
    assert row["reason"] == "oneclick" and row["stream"] == "marketing"

    answer = await page.goto(f"{base}/unsubscribe/{rp.replace('b+', 'b+x', 1)}")
    assert answer is not None and answer.status == 404
    assert "not valid" in await page.inner_text("body")
