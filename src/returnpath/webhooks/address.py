"""Where a webhook may go: the defence against server-side request forgery.

A webhook URL is chosen by an API caller, and the request comes from inside
the operator's network: without checks, ``http://169.254.169.254/`` (cloud
metadata) or ``http://10.0.0.5:6379/`` would be one ``POST /v1/webhooks``
away. So only ``http``/``https`` are accepted, and the host's resolved
addresses are checked *at delivery time*, every time (a name that resolved to
a public address at creation may point at 127.0.0.1 later: DNS rebinding).
The connection then goes to the very address that was checked, never to a
second resolution. Private, loopback, link-local, multicast, reserved and
unspecified addresses are refused unless ``RETURNPATH_WEBHOOK_ALLOW_PRIVATE``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class Refused(Exception):
    """The URL may not be delivered to; the message says why (shown in the deliveries list)."""


class Unresolvable(Refused):
    """The name does not resolve now (it may later: deliveries retry)."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # as written in the URL (the Host header and the TLS name)
    port: int
    address: str  # the checked IP address the connection goes to


def check_url(url: str) -> None:
    """The checks that need no DNS, made when an endpoint is created or changed."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise Refused("only http and https URLs are delivered to")
    if not parts.hostname:
        raise Refused("the URL has no host")
    if parts.username or parts.password:
        raise Refused("credentials in the URL are not accepted")
    try:
        _ = parts.port
    except ValueError as exc:
        raise Refused("the URL's port is not a number from 0 to 65535") from exc


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


async def _lookup(host: str, port: int) -> list[str]:
    """The name's addresses now (a thread of the loop's executor: getaddrinfo blocks)."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )
    except OSError as exc:
        raise Unresolvable(f"cannot resolve {host}: {exc.strerror or exc}") from exc
    return [str(info[4][0]) for info in infos]


async def resolve(url: str, allow_private: bool) -> Target:
    """Resolve the URL's host now and pick an address that may be connected to.

    Every address the name has must be allowed, not just one: otherwise a name
    with one public and one private address would reach the private one on a
    later delivery.
    """
    check_url(url)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    addresses = [host] if _is_address(host) else await _lookup(host, port)
    if not addresses:
        raise Unresolvable(f"{host} has no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise Refused(
                    f"{host} resolves to {address}, a private, loopback or link-local address "
                    "(RETURNPATH_WEBHOOK_ALLOW_PRIVATE=true allows it)"
                )
    return Target(parts.scheme, host, port, addresses[0])
