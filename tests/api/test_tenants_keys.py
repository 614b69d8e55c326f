"""Tenants, scoped keys and isolation: a key of tenant A never sees tenant B."""

from __future__ import annotations

import httpx

from tests.cli import run_cli
from tests.conftest import Running, StartService
from tests.integration.test_smtp_loop import send
from tests.messages import dsn


def client_for(svc: Running, key: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=str(svc.api.base_url), headers={"Authorization": f"Bearer {key}"}
    )


async def new_tenant(svc: Running, name: str, domain: str) -> tuple[str, str]:
    """Creates a tenant; returns (write key, read-only key)."""
    r = await svc.api.post("/v1/tenants", json={"name": name, "domains": [domain]})
    assert r.status_code == 201, r.text
    write = (await svc.api.post("/v1/keys", json={"tenant": name})).json()
    read = (await svc.api.post("/v1/keys", json={"tenant": name, "read_only": True})).json()
    assert write["scope"] == "write" and read["scope"] == "read"
    return write["key"], read["key"]


async def test_a_new_tenants_domain_is_accepted_at_once_and_its_bounces_are_its_own(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    write_key, _ = await new_tenant(svc, "acme", "bounces.acme.test")
    await send(svc.smtp_port, dsn("lost@example.org"), rcpt="b@bounces.acme.test")

    async with client_for(svc, write_key) as acme:
        [row] = (await acme.get("/v1/suppressions/lost@example.org")).json()
        assert row["reason"] == "userunknown"
        assert len((await acme.get("/v1/events")).json()["items"]) == 1
    # The default tenant (admin key) sees nothing of acme's.
    assert (await svc.api.get("/v1/suppressions/lost@example.org")).status_code == 404
    assert (await svc.api.get("/v1/events")).json()["items"] == []


async def test_tenant_isolation_on_every_route(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    a_key, _ = await new_tenant(svc, "a", "bounces.a.test")
    b_key, _ = await new_tenant(svc, "b", "bounces.b.test")
    await send(svc.smtp_port, dsn("secret@example.org"), rcpt="x@bounces.b.test")
    async with client_for(svc, a_key) as a, client_for(svc, b_key) as b:
        [b_event] = (await b.get("/v1/events")).json()["items"]
        assert (await b.get("/v1/suppressions/secret@example.org")).status_code == 200
        # A sees nothing of B: 404 (never 403), empty lists, unsuppressed checks.
        assert (await a.get("/v1/suppressions/secret@example.org")).status_code == 404
        assert (await a.delete("/v1/suppressions/secret@example.org")).status_code == 404
        assert (await a.get("/v1/suppressions")).json()["items"] == []
        assert (await a.get("/v1/events")).json()["items"] == []
        assert (await a.get(f"/v1/events/{b_event['id']}")).status_code == 404
        assert (await a.get(f"/v1/events/{b_event['id']}/raw")).status_code == 404
        check = (
            await a.post("/v1/suppressions/check", json={"addresses": ["secret@example.org"]})
        ).json()
        assert check["results"][0]["suppressed"] is False
        # A's own manual suppression does not leak into B either.
        assert (await a.put("/v1/suppressions/only-a@example.org", json={})).status_code == 201
        assert (await b.get("/v1/suppressions/only-a@example.org")).status_code == 404
        # B's data is untouched by A's attempts.
        assert (await b.get("/v1/suppressions/secret@example.org")).status_code == 200


async def test_read_only_keys_get_403_on_every_change(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    write_key, read_key = await new_tenant(svc, "ro", "bounces.ro.test")
    await send(svc.smtp_port, dsn("r@example.org"), rcpt="x@bounces.ro.test")
    async with client_for(svc, read_key) as ro:
        assert (await ro.get("/v1/suppressions/r@example.org")).status_code == 200
        assert (
            await ro.post("/v1/suppressions/check", json={"addresses": ["r@example.org"]})
        ).status_code == 200
        [event] = (await ro.get("/v1/events")).json()["items"]
        changes = [
            ro.put("/v1/suppressions/x@example.org", json={}),
            ro.delete("/v1/suppressions/r@example.org"),
            ro.put("/v1/policy", json={}),
            ro.get(f"/v1/events/{event['id']}/raw"),
            ro.post("/v1/tenants", json={"name": "z", "domains": ["z.test"]}),
            ro.post("/v1/keys", json={"tenant": "ro"}),
        ]
        for pending in changes:
            r = await pending
            assert r.status_code == 403, (r.request.method, r.request.url, r.status_code)
            assert r.headers["content-type"] == "application/problem+json"
    async with client_for(svc, write_key) as rw:
        # A write key is still not an admin key.
        assert (await rw.get("/v1/tenants")).status_code == 403
        assert (await rw.delete("/v1/suppressions/r@example.org")).status_code == 204


async def test_revoked_keys_are_refused_and_conflicts_are_409(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    write_key, read_key = await new_tenant(svc, "rev", "bounces.rev.test")
    keys = (await svc.api.get("/v1/keys", params={"tenant": "rev"})).json()
    assert len(keys) == 2 and all("key" not in k for k in keys)
    key_id = write_key.split("_")[1]
    async with client_for(svc, write_key) as c:
        assert (await c.get("/v1/suppressions")).status_code == 200
        assert (await svc.api.delete(f"/v1/keys/{key_id}")).status_code == 204
        assert (await c.get("/v1/suppressions")).status_code == 401
    assert (await svc.api.delete("/v1/keys/nope")).status_code == 404
    r = await svc.api.post("/v1/tenants", json={"name": "rev", "domains": ["other.test"]})
    assert r.status_code == 409
    r = await svc.api.post("/v1/tenants", json={"name": "thief", "domains": ["bounces.rev.test"]})
    assert r.status_code == 409 and "already belongs" in r.json()["detail"]
    assert (await svc.api.post("/v1/keys", json={"tenant": "ghost"})).status_code == 404
    # A tampered key (a live key's id with a wrong secret) is refused.
    tampered = read_key[:-4] + ("AAAA" if not read_key.endswith("AAAA") else "BBBB")
    async with client_for(svc, read_key) as good, client_for(svc, tampered) as bad:
        assert (await good.get("/v1/suppressions")).status_code == 200
        assert (await bad.get("/v1/suppressions")).status_code == 401


async def test_an_internationalised_bounce_domain_is_kept_as_mail_servers_write_it(
    sqlite_url: str, start_service: StartService
) -> None:
    """IDNA 2008 A-labels: bounces.xn--strae-oqa.test, the name an MTA delivers to, not
    IDNA 2003's bounces.strasse.test (another domain); what IDNA 2008 refuses is a 422."""
    svc = await start_service(sqlite_url)
    r = await svc.api.post("/v1/tenants", json={"name": "ss", "domains": ["Bounces.Straße.test."]})
    assert r.status_code == 201, r.text
    assert r.json()["domains"] == ["bounces.xn--strae-oqa.test"]
    key = (await svc.api.post("/v1/keys", json={"tenant": "ss"})).json()["key"]
    await send(svc.smtp_port, dsn("lost@example.org"), rcpt="b@bounces.xn--strae-oqa.test")
    async with client_for(svc, key) as ss:
        assert (await ss.get("/v1/suppressions/lost@example.org")).status_code == 200
        minted = await ss.post(
            "/v1/return-paths", json={"recipient": "a@example.org", "domain": "bounces.straße.test"}
        )
        assert minted.json()["domain"] == "bounces.xn--strae-oqa.test"
        assert minted.json()["return_path"].endswith("@bounces.xn--strae-oqa.test")
        emoji = await ss.post(
            "/v1/return-paths", json={"recipient": "a@example.org", "domain": "💩.test"}
        )
        assert emoji.status_code == 422
    r = await svc.api.post("/v1/tenants", json={"name": "emoji", "domains": ["bounces.💩.test"]})
    assert r.status_code == 422 and "IDNA 2008" in r.json()["detail"]


async def test_cli_manages_tenants_and_keys_while_serve_runs(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    created = run_cli(
        sqlite_url,
        "tenants",
        "create",
        "cli-co",
        "--domain",
        "bounces.cli.test",
        "--domain",
        "b2.cli.test",
    )
    assert created.returncode == 0, created.stderr
    listed = run_cli(sqlite_url, "tenants", "list").stdout
    assert "cli-co\tb2.cli.test,bounces.cli.test" in listed
    assert run_cli(sqlite_url, "tenants", "create", "cli-co", "--domain", "x.test").returncode == 1
    # domains one at a time; a bad one is one line and exit 1, no traceback
    assert run_cli(sqlite_url, "tenants", "add-domain", "cli-co", "b3.cli.test").returncode == 0
    assert "b3.cli.test" in run_cli(sqlite_url, "tenants", "list").stdout
    assert run_cli(sqlite_url, "tenants", "remove-domain", "cli-co", "b3.cli.test").returncode == 0
    bad = run_cli(sqlite_url, "tenants", "add-domain", "cli-co", "b@cli.test")
    assert bad.returncode == 1 and "address" in bad.stderr and "Traceback" not in bad.stderr
    gone = run_cli(sqlite_url, "tenants", "remove-domain", "cli-co", "b3.cli.test")
    assert gone.returncode == 1 and "no domain" in gone.stderr
    assert "cli-co\tb2.cli.test,bounces.cli.test" in run_cli(sqlite_url, "tenants", "list").stdout

    made = run_cli(sqlite_url, "keys", "create", "--tenant", "cli-co")
    key = made.stdout.strip().splitlines()[-1]
    assert key.startswith("rp_")
    ro = (
        run_cli(sqlite_url, "keys", "create", "--tenant", "cli-co", "--read-only")
        .stdout.strip()
        .splitlines()[-1]
    )

    # The running service accepts the new domain and the new keys without a restart.
    await send(svc.smtp_port, dsn("cli@example.org"), rcpt="b@b2.cli.test")
    async with client_for(svc, key) as c:
        assert (await c.get("/v1/suppressions/cli@example.org")).status_code == 200
    async with client_for(svc, ro) as c:
        assert (await c.put("/v1/suppressions/x@example.org", json={})).status_code == 403

    key_id = key.split("_")[1]
    listing = run_cli(sqlite_url, "keys", "list", "--tenant", "cli-co").stdout
    assert key_id in listing and key not in listing and "write" in listing and "read" in listing
    assert run_cli(sqlite_url, "keys", "revoke", key_id).returncode == 0
    assert "revoked" in run_cli(sqlite_url, "keys", "list").stdout
    assert run_cli(sqlite_url, "keys", "revoke", "nope").returncode == 1


async def test_cli_prints_and_rotates_the_signing_key(
    sqlite_url: str, start_service: StartService
) -> None:
    import base64

    from returnpath.parsers.signing import verify_return_path

    svc = await start_service(sqlite_url)
    first = run_cli(sqlite_url, "tenants", "signing-key", "default")
    assert first.returncode == 0, first.stderr
    key_id, secret_b64 = first.stdout.strip().splitlines()[-1].split()
    # What the API signs, the printed secret verifies: the relay can sign locally with it.
    rp = (await svc.api.post("/v1/return-paths", json={"recipient": "x@example.org"})).json()[
        "return_path"
    ]
    verdict = verify_return_path(
        rp, secrets={int(key_id): base64.b64decode(secret_b64)}, domain=rp.split("@")[1]
    )
    assert verdict.verified
    rotated = (
        run_cli(sqlite_url, "tenants", "signing-key", "default", "--rotate")
        .stdout.strip()
        .splitlines()[-1]
    )
    assert int(rotated.split()[0]) == int(key_id) + 1
    assert run_cli(sqlite_url, "tenants", "signing-key", "nobody").returncode == 1
