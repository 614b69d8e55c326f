"""Reaching the real PostgreSQL and RabbitMQ of this machine (or CI's).

Locally a missing service skips its tests; in CI (``CI=true``) it fails them,
so a broken CI machine can never pass by skipping.
"""

from __future__ import annotations

import os
import socket

import pytest

PG_DSN = os.environ.get("RETURNPATH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_URL = os.environ.get("RETURNPATH_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672/")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def require(service: str, host: str, port: int) -> None:
    if _reachable(host, port):
        return
    message = f"{service} is not reachable on {host}:{port}"
    if in_ci():
        pytest.fail(message + " (CI=true: service tests must not skip)")
    pytest.skip(message)


def require_postgres() -> None:
    require("PostgreSQL", "127.0.0.1", 5432)


def require_rabbitmq() -> None:
    require("RabbitMQ", "127.0.0.1", 5672)
