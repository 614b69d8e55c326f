"""The allowlist (issue 14): an address or a whole @domain whose findings are recorded but
never suppress. Allowlisting lifts what the entry covers (audited), later bounces are
recorded without suppressing, taking the entry off lets them act again; bad entries get
a clear 422. SQLite and PostgreSQL, through SMTP as the mail arrives."""

from __future__ import annotations

from tests.conftest import StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn


async def test_allowlisted_addresses_and_domains_are_never_suppressed(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    await send(svc.smtp_port, dsn("vip@partner.example", message_id="<a1@mx>"))
    await send(svc.smtp_port, dsn("one@seed.example", message_id="<a2@mx>"))
    await send(svc.smtp_port, dsn("two@seed.example", message_id="<a3@mx>"))
    await send(svc.smtp_port, dsn("sub@x.seed.example", message_id="<a4@mx>"))
    await svc.settle()
    for address in ("vip@partner.example", "one@seed.example", "sub@x.seed.example"):
        assert (await svc.api.get(f"/v1/suppressions/{address}")).status_code == 200, address

    vip = await svc.api.put("/v1/allowlist/VIP@Partner.Example", json={"note": "our CEO"})
    assert vip.status_code == 201, vip.text
    assert vip.json()["entry"] == "vip@partner.example" and vip.json()["lifted"] == 1
    seed = await svc.api.put("/v1/allowlist/@seed.example")  # no body at all
    assert seed.status_code == 201 and seed.json()["lifted"] == 2, seed.text
    again = await svc.api.put("/v1/allowlist/@SEED.example.", json={})
    assert again.status_code == 200 and again.json()["lifted"] == 0
    for address in ("vip@partner.example", "one@seed.example", "two@seed.example"):
        assert (await svc.api.get(f"/v1/suppressions/{address}")).status_code == 404, address
    # a subdomain is not the domain
    assert (await svc.api.get("/v1/suppressions/sub@x.seed.example")).status_code == 200
    history = (await svc.api.get("/v1/suppressions/vip@partner.example/history")).json()
    assert history[0]["what"] == "remove" and history[0]["reason"].startswith("allowlisted")

    # later bounces are recorded, and suppress nothing
    await send(svc.smtp_port, dsn("vip@partner.example", message_id="<b1@mx>"))
    await send(svc.smtp_port, dsn("three@seed.example", message_id="<b2@mx>"))
    await svc.settle()
    for address in ("vip@partner.example", "three@seed.example"):
        assert (await svc.api.get(f"/v1/suppressions/{address}")).status_code == 404, address
        events = (await svc.api.get("/v1/events", params={"recipient": address})).json()
        last = events["items"][-1]
        assert last["kind"] == "hard_bounce", address
        assert (last["effect"], last["effect_reason"]) == ("recorded", "allowlisted"), last

    listed = (await svc.api.get("/v1/allowlist", params={"limit": 1})).json()
    assert [i["entry"] for i in listed["items"]] == ["@seed.example"]
    rest = (await svc.api.get("/v1/allowlist", params={"cursor": listed["next_cursor"]})).json()
    assert [i["entry"] for i in rest["items"]] == ["vip@partner.example"]
    assert rest["next_cursor"] is None
    assert (await svc.api.get("/v1/allowlist/vip@partner.example")).json()["note"] == "our CEO"

    # off the list: the next bounce acts again
    assert (await svc.api.delete("/v1/allowlist/vip@partner.example")).status_code == 204
    assert (await svc.api.delete("/v1/allowlist/vip@partner.example")).status_code == 404
    await send(svc.smtp_port, dsn("vip@partner.example", message_id="<c1@mx>"))
    await svc.settle()
    assert (await svc.api.get("/v1/suppressions/vip@partner.example")).status_code == 200

    for bad in ("not-an-address", "@", "@not a domain", "@[127.0.0.1]"):
        refused = await svc.api.put(f"/v1/allowlist/{bad}")
        assert refused.status_code == 422, bad
