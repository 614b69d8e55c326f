"""``RETURNPATH_WORKERS=N``: N serve processes sharing the SMTP and API ports.

One Python process uses one core. The first process starts as usual
(migrations, default tenant, admin key), then starts N-1 copies of itself
with ``RETURNPATH_WORKER_INDEX`` set; every process binds the same ports with
SO_REUSEPORT and the kernel spreads connections over them. Stopping the first
stops the others (SIGTERM, each finishes its transactions).
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys

import structlog

from returnpath.settings import Settings

log = structlog.get_logger("returnpath")


class WorkerGroup:
    def __init__(self, settings: Settings) -> None:
        if settings.workers > 1 and settings.worker_index == 0:
            if settings.smtp_port == 0 or settings.api_port == 0:
                raise SystemExit(
                    "RETURNPATH_WORKERS > 1 needs fixed RETURNPATH_SMTP_PORT and RETURNPATH_API_PORT"
                )
            if not settings.api_key:  # one generated key for all workers
                settings = settings.model_copy(
                    update={"api_key": "rp_admin_" + secrets.token_urlsafe(24)}
                )
                log.warning(
                    "generated_admin_key",
                    api_key=settings.api_key,
                    hint="set RETURNPATH_API_KEY to keep a key across restarts",
                )
        self.settings = settings
        self.children: list[subprocess.Popen[bytes]] = []

    def spawn(self) -> None:
        """Start the other workers (called once this process has migrated and bound)."""
        s = self.settings
        if s.workers <= 1 or s.worker_index != 0:
            return
        for index in range(1, s.workers):
            env = {
                **os.environ,
                "RETURNPATH_WORKER_INDEX": str(index),
                "RETURNPATH_API_KEY": s.api_key,
                "RETURNPATH_WORKERS": str(s.workers),
            }
            self.children.append(
                subprocess.Popen([sys.executable, "-m", "returnpath", "serve"], env=env)
            )
        log.info("workers_started", workers=s.workers, pids=[c.pid for c in self.children])

    def stop(self) -> None:
        for child in self.children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in self.children:
            try:
                child.wait(timeout=self.settings.shutdown_grace + 15)
            except subprocess.TimeoutExpired:
                child.kill()
