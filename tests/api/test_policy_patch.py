"""PATCH /v1/policy: a JSON merge patch (RFC 7396) changes only what it names."""

from __future__ import annotations

import asyncio

from tests.conftest import StartService

MERGE = {"Content-Type": "application/merge-patch+json"}


async def test_a_patch_changes_only_what_it_names(
    database_url: str, start_service: StartService
) -> None:
    svc = await start_service(database_url)
    put = await svc.api.put(
        "/v1/policy", json={"soft_bounce_threshold": 5, "complaints_all_streams": True}
    )
    assert put.status_code == 200
    r = await svc.api.patch("/v1/policy", content=b'{"soft_bounce_window_days": 7}', headers=MERGE)
    assert r.status_code == 200, r.text
    policy = (await svc.api.get("/v1/policy")).json()
    assert policy["soft_bounce_threshold"] == 5  # a PUT would have reset these
    assert policy["complaints_all_streams"] is True
    assert policy["soft_bounce_window_days"] == 7
    # null: back to the documented default
    r = await svc.api.patch("/v1/policy", content=b'{"soft_bounce_threshold": null}', headers=MERGE)
    assert r.json()["soft_bounce_threshold"] == 3
    assert r.json()["soft_bounce_window_days"] == 7
    # a map merges key by key; null removes one key
    r = await svc.api.patch(
        "/v1/policy", content=b'{"long_hold_days": {"suspend": 120}}', headers=MERGE
    )
    assert r.json()["long_hold_days"] == {"suspend": 120, "mailboxfull": 60}
    r = await svc.api.patch(
        "/v1/policy", content=b'{"long_hold_days": {"suspend": null}}', headers=MERGE
    )
    assert r.json()["long_hold_days"] == {"mailboxfull": 60}
    assert (await svc.api.get("/v1/policy")).json()["long_hold_days"] == {"mailboxfull": 60}


async def test_a_wrong_patch_says_what_to_fix_and_changes_nothing(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    before = (await svc.api.get("/v1/policy")).json()
    r = await svc.api.patch("/v1/policy", content=b'{"soft_bounce_threshold": 2}')
    assert r.status_code == 415 and "merge-patch+json" in r.text
    r = await svc.api.patch(
        "/v1/policy",
        content=b'{"soft_bounce_threshold": 2}',
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 415
    for body in (b"{", b"[1]", b'{"soft_bounce_threshold": 0}', b'{"no_such_field": 1}'):
        r = await svc.api.patch("/v1/policy", content=body, headers=MERGE)
        assert r.status_code == 422, (body, r.text)
    assert (await svc.api.get("/v1/policy")).json() == before


async def test_patches_of_different_fields_at_once_all_hold(
    database_url: str, start_service: StartService
) -> None:
    """Read and write in one transaction: no patch undoes another that ran meanwhile."""
    svc = await start_service(database_url)
    for round_ in range(5):
        threshold, window = 4 + round_, 10 + round_
        answers = await asyncio.gather(
            svc.api.patch("/v1/policy", json={"soft_bounce_threshold": threshold}, headers=MERGE),
            svc.api.patch("/v1/policy", json={"soft_bounce_window_days": window}, headers=MERGE),
            svc.api.patch(
                "/v1/policy", json={"complaints_all_streams": round_ % 2 == 0}, headers=MERGE
            ),
        )
        assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
        policy = (await svc.api.get("/v1/policy")).json()
        assert policy["soft_bounce_threshold"] == threshold
        assert policy["soft_bounce_window_days"] == window
        assert policy["complaints_all_streams"] is (round_ % 2 == 0)
