"""Where an interrupted import resumes: one small file per source, database and tenant.

Written after each committed group (atomically: a temporary file, fsync,
rename), removed when the source has been read to its end. Losing it costs time,
never correctness: everything before it is recorded, and recording it again
creates nothing new (the dedup key). The files live under the spool folder, the
installation's local state (``RETURNPATH_SPOOL_DIR``), in ``imports/``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

from returnpath.store.models import utcnow


@dataclass(frozen=True, slots=True)
class Checkpoints:
    folder: Path
    scope: str  # the database and the --tenant option: another one starts afresh

    def _file(self, identity: str) -> Path:
        digest = hashlib.sha256(f"{self.scope}\0{identity}".encode()).hexdigest()[:24]
        return self.folder / f"{digest}.json"

    def load(self, identity: str) -> str | None:
        try:
            data = json.loads(self._file(identity).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        position = data.get("position") if data.get("source") == identity else None
        return position if isinstance(position, str) else None

    def save(self, identity: str, position: str) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._file(identity)
        tmp = path.with_suffix(".tmp")
        body = {"source": identity, "position": position, "saved_at": utcnow().isoformat()}
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(body, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def clear(self, identity: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._file(identity).unlink()
