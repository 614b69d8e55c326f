#!/usr/bin/env python3
"""Regenerate tests/fixtures/mta/: real DSNs from this machine's Postfix (and Exim).

    .venv/bin/python scripts/capture-mta-dsns.py [--exim /path/to/exim4] [--out DIR]

Runs as root, on loopback only. A private Postfix (and, when an Exim binary
is given or found, a private Exim) delivers to a local sink that answers
RCPT with 550 5.1.1 / 451 4.3.0 / 554 5.7.1 (tests/mta.py, ``REPLIES``); the
DSNs the MTAs then send back to ``b+TOKEN@bounces.example.com`` land in the
same sink and are written byte for byte (CRLF, as on the wire) to OUT.
The deferral scenario waits for the delay warning and the final expiry,
about 40 s with the short queue lifetimes of tests/mta.py.

Exim must not be installed from Debian's package (it removes Postfix).
scripts/side-mtas.sh extracts it (and OpenSMTPD) under /opt/returnpath-mtas,
where this script finds it; by hand, as root:

    apt-get install libidn12
    groupadd --system Debian-exim
    useradd --system --gid Debian-exim --no-create-home --shell /usr/sbin/nologin Debian-exim
    cd "$(mktemp -d)" && apt-get download exim4-daemon-light && dpkg-deb -x exim4-daemon-light_*.deb x
    # then pass --exim "$PWD/x/usr/sbin/exim4"

tests/fixtures/mta/expected.json holds the expected verdicts; it is written
by hand and not touched here.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.mta import (  # noqa: E402
    PrivateExim,
    PrivatePostfix,
    Received,
    Sink,
    original_message,
    postfix_binary,
)

BOUNCES = "bounces.example.com"
ROOT_MTAS = Path(os.environ.get("RETURNPATH_MTAS", "/opt/returnpath-mtas"))
REJECT = "reject.test"

# token in the return path -> the sink's local part (tests/mta.py REPLIES)
SCENARIOS: dict[str, str] = {
    "user-unknown": "gone",
    "deferred": "later",
    "policy": "blocked",
}

# (token, DSN action) -> fixture name after the MTA's name
NAMES: dict[tuple[str, str], str] = {
    ("user-unknown", "failure"): "5.1.1-user-unknown",
    ("deferred", "delay"): "4.3.0-delay-warning",
    ("deferred", "failure"): "4.3.0-expired",
    ("policy", "failure"): "5.7.1-policy",
}


def classify(msg: Received) -> str:
    """'failure' or 'delay' from the DSN's own Action: field."""
    text = msg.data.decode("utf-8", "replace").lower()
    if "action: delayed" in text:
        return "delay"
    if "action: failed" in text:
        return "failure"
    return "other"


def capture(
    mta_name: str,
    make: Callable[[dict[str, int]], PrivatePostfix | PrivateExim],
    out: Path,
    expect: int,
    timeout: float,
) -> None:
    with Sink() as sink, make({REJECT: sink.port, BOUNCES: sink.port}) as mta:
        for n, (token, local) in enumerate(SCENARIOS.items(), 1):
            sender = f"b+{mta_name}-{token}@{BOUNCES}"
            rcpt = f"{local}@{REJECT}"
            mta.submit(sender, [rcpt], original_message(sender, [rcpt], n))
        started = time.monotonic()
        try:
            got = sink.wait_for(expect, timeout)
        except TimeoutError:
            print(mta.log(), file=sys.stderr)
            raise
        print(f"{mta_name}: {len(got)} DSNs in {time.monotonic() - started:.1f}s")
    for msg in got:
        [rcpt] = msg.rcpt_tos
        token = rcpt.split("@")[0].split("+", 1)[1].removeprefix(f"{mta_name}-")
        kind = classify(msg)
        name = f"{mta_name}-{NAMES.get((token, kind), f'{token}-{kind}')}.eml"
        (out / name).write_bytes(msg.data)
        print(f"  {name} ({len(msg.data)} bytes, MAIL FROM:{msg.mail_from})")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "fixtures" / "mta")
    parser.add_argument("--exim", help="an exim4 binary (extracted from the .deb)")
    parser.add_argument("--skip-postfix", action="store_true")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    if not args.skip_postfix:
        if postfix_binary() is None:
            print("postfix is not installed (apt-get install postfix)", file=sys.stderr)
            return 1
        # 5.1.1 + 5.7.1 at once, then the delay warning (4 s) and the expiry (30 s)
        capture("postfix", PrivatePostfix, args.out, 4, 90)

    extracted = ROOT_MTAS / "exim" / "usr" / "sbin" / "exim4"
    exim = (
        args.exim
        or shutil.which("exim4")
        or shutil.which("exim")
        or (str(extracted) if extracted.is_file() else None)
    )
    if exim:
        capture("exim", lambda routes: PrivateExim(exim, routes), args.out, 4, 120)
    else:
        print("no Exim binary: Exim fixtures not regenerated (see --help)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
