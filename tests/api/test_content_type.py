"""A JSON body sent without a JSON content type gets a 415 that says which type."""

from __future__ import annotations

from tests.conftest import StartService


async def test_a_body_without_a_json_content_type_is_told_which_type(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    body = b'{"soft_bounce_threshold": 4}'
    for headers in (
        {},
        {"Content-Type": "text/plain"},
        {"Content-Type": "application/x-www-form-urlencoded"},
    ):
        r = await svc.api.put("/v1/policy", content=body, headers=headers)
        assert r.status_code == 415, (headers, r.text)
        assert "application/json" in r.json()["detail"]
    # the bulk check reads its body from the bytes (fast path): no header needed
    r = await svc.api.post("/v1/suppressions/check", content=b'{"addresses": ["a@example.org"]}')
    assert r.status_code == 200
    # with the header it works; a wrong JSON body is still a 422 with the errors
    r = await svc.api.put("/v1/policy", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    r = await svc.api.put(
        "/v1/policy",
        content=b'{"soft_bounce_threshold": 0}',
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["errors"]
