"""``python -m returnpath``: the same command line as the ``returnpath`` script."""

from returnpath.cli import app

app(prog_name="returnpath")
