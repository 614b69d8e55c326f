"""One module per report format, each exporting one ``FAMILY`` (``parsers.base.Family``).

A plain-text format is a ``TextFamily`` record (``parsers.textbounce``); a
format with a structure of its own is a small class named after it. Modules
whose names start with ``_`` are shared signals, not families. The order in
which families are tried is ``parsers/registry.py``.
"""
