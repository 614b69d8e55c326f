"""An unknown filter value is a 422 that names the allowed values, not an empty list
(a typo must not read as "nothing happened")."""

from __future__ import annotations

from tests.conftest import StartService


async def test_unknown_filter_values_are_refused_with_the_allowed_ones(
    sqlite_url: str, start_service: StartService
) -> None:
    svc = await start_service(sqlite_url)
    for url, allowed in (
        ("/v1/events?kind=hardbounce", "hard_bounce"),
        ("/v1/events?reason=user_unknown", "userunknown"),
        ("/v1/suppressions?kind=hard", "hard_bounce"),
    ):
        r = await svc.api.get(url)
        assert r.status_code == 422, (url, r.text)
        assert allowed in r.text, (url, r.text)
    for url in (
        "/v1/events?kind=hard_bounce&reason=userunknown",
        "/v1/suppressions?kind=manual&reason=anything-typed-by-hand",
    ):
        r = await svc.api.get(url)
        assert r.status_code == 200 and r.json()["items"] == [], (url, r.text)
