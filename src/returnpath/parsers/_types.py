"""Types the parsers annotate with.

``Msg`` is ``email.message.Message`` whose header values are typed ``Any``.
typeshed's bare ``Message`` says ``get``, ``get_all``, ``items``, … return
``str``; under ``policy.compat32`` they return ``email.header.Header`` objects
for values holding 8-bit bytes. Interpreted, the difference never shows; once
mypyc has compiled a module (hatch_build.py) every declared type is checked at
run time, and a Header where ``str`` was declared would be a TypeError, a
``parser error`` Report instead of a verdict. Annotate with ``Msg``; keep
``Message`` itself for ``isinstance`` and construction.
"""

from __future__ import annotations

from email.message import Message
from typing import Any, TypeAlias

Msg: TypeAlias = "Message[Any, Any]"
