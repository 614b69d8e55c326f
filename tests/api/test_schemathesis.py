"""Property-based fuzzing of the whole API from its own OpenAPI spec: no input yields a 500."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.services import free_port

KEY = "fuzz-admin-key"


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``returnpath serve`` process on a throwaway SQLite file."""
    workdir: Path = tmp_path_factory.mktemp("fuzz")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env |= {
        "RETURNPATH_API_PORT": str(port),
        "RETURNPATH_SMTP_PORT": str(free_port()),
        "RETURNPATH_API_KEY": KEY,
        "RETURNPATH_LOG_LEVEL": "warning",
    }
    log = workdir / "serve.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "returnpath", "serve"],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        yield base
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        # A 500 is logged with its traceback even when the client gave up: none may appear.
        stderr = log.read_text()
        assert "Traceback" not in stderr, stderr[-3000:]


def test_no_generated_request_makes_the_api_fail(live_api: str) -> None:
    """Every operation, 40 generated requests each (valid and invalid), with the admin key."""
    api = schemathesis.openapi.from_url(f"{live_api}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 20  # the spec really lists the API
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def call(case: schemathesis.Case) -> None:
            if case.query and "wait" in case.query:
                case.query["wait"] = (
                    0  # long-polling is tested on its own; here it only slows the fuzz
                )
            if case.path == "/v1/events/stream":
                # A stream never ends: only its answer's status is fuzzed here (the
                # events are read in tests/api/test_event_stream.py).
                kwargs = case.as_transport_kwargs(
                    base_url=live_api, headers={"Authorization": f"Bearer {KEY}"}
                )
                with requests.request(**kwargs, stream=True, timeout=30) as streamed:
                    assert streamed.status_code < 500, (case.formatted_path, streamed.text[:500])
                return
            response = case.call(
                base_url=live_api, headers={"Authorization": f"Bearer {KEY}"}, timeout=30
            )
            assert response.status_code < 500, (
                case.method,
                case.formatted_path,
                response.text[:500],
            )

        call()
