"""Bounce domains: validated, added and removed while serve runs, and RETURNPATH_DOMAINS
is the whole list of the default tenant's domains."""

from __future__ import annotations

import asyncio

import aiosmtplib
import pytest

from returnpath.store.db import Store
from returnpath.store.tenants import DEFAULT_TENANT, bounce_domain, ensure_tenant, list_tenants
from tests.conftest import DOMAIN, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn


@pytest.mark.parametrize(
    ("given", "problem"),
    [
        ("b@acme.test", "address"),
        ("not a domain", "host name"),
        ("bounces..acme.test", "host name"),
        ("-bounces.acme.test", "host name"),
        ("bounces.acme_x.test", "host name"),
        ("x" * 64 + ".test", "host name"),
        ("   ", "empty"),
        ("bounces.💩.test", "IDNA 2008"),
    ],
)
def test_what_is_not_a_host_name_is_refused_with_the_reason(given: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        bounce_domain(given)


def test_a_host_name_is_kept_as_mail_servers_write_it() -> None:
    assert bounce_domain(" Bounces.Acme.TEST. ") == "bounces.acme.test"
    assert bounce_domain("bounces.straße.test") == "bounces.xn--strae-oqa.test"
    assert bounce_domain("1bounces.acme.test") == "1bounces.acme.test"


async def test_the_api_refuses_bad_domains_and_removes_good_ones_while_serve_runs(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    r = await svc.api.post("/v1/tenants", json={"name": "acme", "domains": ["b@acme.test"]})
    assert r.status_code == 422 and "address" in r.json()["detail"]
    r = await svc.api.post("/v1/tenants", json={"name": "acme", "domains": ["bounces.acme.test"]})
    assert r.status_code == 201
    assert (await svc.api.put("/v1/tenants/acme/domains/not a domain")).status_code == 422
    assert (await svc.api.put("/v1/tenants/acme/domains/more.acme.test")).status_code == 204
    assert (await svc.api.put("/v1/tenants/nobody/domains/x.acme.test")).status_code == 404
    assert (await svc.api.put(f"/v1/tenants/acme/domains/{DOMAIN}")).status_code == 409
    await send(svc.smtp_port, dsn("a@example.org"), rcpt="b@more.acme.test")

    assert (await svc.api.delete("/v1/tenants/acme/domains/more.acme.test")).status_code == 204
    assert (await svc.api.delete("/v1/tenants/acme/domains/more.acme.test")).status_code == 404
    # the listener's directory reloads within two seconds; then RCPT is refused
    refused = False
    for _ in range(40):
        try:
            await send(svc.smtp_port, dsn("b@example.org"), rcpt="b@more.acme.test")
        except aiosmtplib.SMTPRecipientsRefused as exc:
            [refusal] = exc.recipients
            assert refusal.code == 550
            refused = True
            break
        await asyncio.sleep(0.1)
    assert refused, "a removed domain must stop being accepted"
    tenants = {t["name"]: t["domains"] for t in (await svc.api.get("/v1/tenants")).json()}
    assert tenants["acme"] == ["bounces.acme.test"]


async def test_returnpath_domains_is_the_whole_list_of_the_default_tenant(
    database_url: str,
) -> None:
    store = Store(database_url)
    try:
        await store.create_schema()
        await ensure_tenant(store, DEFAULT_TENANT, ["old.example", "kept.example"], only=True)
        await ensure_tenant(store, "acme", ["bounces.acme.test"])
        await ensure_tenant(store, DEFAULT_TENANT, ["kept.example", "new.example"], only=True)
        domains = {t.name: sorted(d) for t, d in await list_tenants(store)}
        assert domains[DEFAULT_TENANT] == ["kept.example", "new.example"]
        assert domains["acme"] == ["bounces.acme.test"]  # another tenant's are not touched
    finally:
        await store.close()
