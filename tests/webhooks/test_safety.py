"""What a webhook may not reach, and the API's refusals."""

from __future__ import annotations

import pytest

from returnpath.webhooks.address import is_public
from tests.conftest import StartService
from tests.webhooks.helpers import add_endpoint, bounce, start, wait_for_attempts
from tests.webhooks.receiver import Answer, receiver


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:127.0.0.1",
        "224.0.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


def test_public_addresses_are() -> None:
    assert is_public("93.184.216.34") and is_public("2606:4700::1111")


async def test_a_name_resolving_to_loopback_is_refused_without_the_setting(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, sqlite_url, webhook_allow_private=False)
    async with receiver() as rec:
        for bad in ("ftp://example.org/x", "file:///etc/passwd", "http://user:pw@example.org/"):
            r = await svc.api.post("/v1/webhooks", json={"url": bad})
            assert r.status_code == 422, bad
        # "localhost" passes creation (a name) but is refused at delivery, every time.
        hooks = [
            await add_endpoint(svc, f"http://localhost:{rec.port}/hook"),
            await add_endpoint(svc, f"http://[::ffff:127.0.0.1]:{rec.port}/hook"),
        ]
        await bounce(svc)
        for hook in hooks:
            tried = await wait_for_attempts(svc, hook["id"], 2)
            assert {t["outcome"] for t in tried} == {"refused"}
            assert "RETURNPATH_WEBHOOK_ALLOW_PRIVATE" in tried[0]["error"]
        assert rec.requests == []


async def test_redirects_are_not_followed(sqlite_url: str, start_service: StartService) -> None:
    svc = await start(start_service, sqlite_url)
    async with receiver() as rec, receiver() as elsewhere:
        rec.answer = lambda _r: Answer(307, b"", location=elsewhere.url)
        hook = await add_endpoint(svc, rec.url)
        await bounce(svc)
        tried = await wait_for_attempts(svc, hook["id"], 2)
        assert {t["response_code"] for t in tried} == {307}
        assert {t["outcome"] for t in tried} == {"http_error"}
        assert elsewhere.requests == []


async def test_the_api_is_per_tenant_and_validates(
    database_url: str, start_service: StartService
) -> None:
    svc = await start(start_service, database_url)
    hook = await add_endpoint(svc, "https://hooks.example.org/x")
    assert (
        await svc.api.post("/v1/webhooks", json={"url": "x", "kinds": ["nope"]})
    ).status_code == 422
    r = await svc.api.patch(f"/v1/webhooks/{hook['id']}", json={"kinds": ["complaint"]})
    assert r.status_code == 200 and r.json()["kinds"] == ["complaint"]
    assert (await svc.api.patch("/v1/webhooks/wh_nobody", json={})).status_code == 404
    # Another tenant's key sees none of it.
    r = await svc.api.post("/v1/tenants", json={"name": "other", "domains": ["b.other.test"]})
    assert r.status_code == 201
    r = await svc.api.post("/v1/keys", json={"tenant": "other"})
    key = r.json()["key"]
    other = {"Authorization": f"Bearer {key}"}
    assert (await svc.api.get("/v1/webhooks", headers=other)).json() == []
    assert (await svc.api.get(f"/v1/webhooks/{hook['id']}", headers=other)).status_code == 404
    assert (await svc.api.delete(f"/v1/webhooks/{hook['id']}", headers=other)).status_code == 404
    assert (await svc.api.delete(f"/v1/webhooks/{hook['id']}")).status_code == 204
    assert (await svc.api.get("/v1/webhooks")).json() == []
