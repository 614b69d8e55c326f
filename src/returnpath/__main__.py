from returnpath.cli import app

app()
