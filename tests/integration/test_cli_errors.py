"""Mistakes at the command line as an operator makes them, on the real ``returnpath``
executable: one line on standard error that says what to do, exit code 2, no traceback
(``--debug`` shows it)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.messages import dsn

RETURNPATH = Path(sys.executable).with_name("returnpath")
BOUNCES = Path(__file__).resolve().parents[1] / "fixtures" / "bounces"


def returnpath(
    *args: str,
    cwd: Path,
    stdin: bytes = b"",
    timeout: float = 120,
    settings: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """The installed console script, in a clean environment plus these RETURNPATH_* settings."""
    assert RETURNPATH.exists(), f"{RETURNPATH}: install the project first (make install)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RETURNPATH_")}
    env |= {f"RETURNPATH_{k.upper()}": v for k, v in (settings or {}).items()}
    done = subprocess.run(
        [str(RETURNPATH), *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The run failed with exit code 2 and told why in one line, without a traceback."""
    assert done.returncode == 2, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("returnpath: ")
    return lines[0]


# --- parse ------------------------------------------------------------------------------


def test_parse_of_a_missing_file_names_it(tmp_path: Path) -> None:
    done = returnpath("parse", str(BOUNCES / "domino.eml"), "nope.eml", cwd=tmp_path)
    assert one_line(done) == "returnpath: no such file or folder: nope.eml"
    assert done.stdout == ""  # nothing parsed before the mistake was seen


def test_parse_of_a_folder_without_files_says_so(tmp_path: Path) -> None:
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    done = returnpath("parse", "empty", cwd=tmp_path)
    assert one_line(done) == "returnpath: no files in folder empty"


def test_parse_without_a_path_says_what_it_takes(tmp_path: Path) -> None:
    assert "a message file, a folder" in one_line(returnpath("parse", cwd=tmp_path))


def _unreadable(command: list[str]) -> list[str]:
    """Run as root, a mode-000 file is still readable: drop the capabilities that say so."""
    if os.geteuid() != 0:
        return command
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed to test an unreadable file as root"
    return [setpriv, "--bounding-set", "-dac_override,-dac_read_search", *command]


def test_an_unreadable_file_is_named_and_the_others_are_still_parsed(tmp_path: Path) -> None:
    (tmp_path / "a.eml").write_bytes(dsn("readable@example.org"))
    secret = tmp_path / "b.eml"
    secret.write_bytes(dsn("secret@example.org"))
    secret.chmod(0)
    done = subprocess.run(
        _unreadable([str(RETURNPATH), "parse", str(tmp_path)]),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"returnpath: cannot read {secret}: Permission denied"
    rows = done.stdout.splitlines()
    assert len(rows) == 1 and '"recipient":"readable@example.org"' in rows[0]


def test_parse_dash_reads_one_message_from_standard_input(tmp_path: Path) -> None:
    done = returnpath("parse", "-", cwd=tmp_path, stdin=dsn("piped@example.org"))
    assert done.returncode == 0, done.stderr
    [row] = done.stdout.splitlines()
    assert row.startswith('{"file":"-",')
    assert '"recipient":"piped@example.org"' in row and '"kind":"hard_bounce"' in row


def test_a_reader_that_stops_early_ends_parse_quietly(tmp_path: Path) -> None:
    """``returnpath parse big/ | head -1``: no BrokenPipeError traceback."""
    proc = subprocess.Popen(
        [str(RETURNPATH), "parse", *[str(BOUNCES)] * 40],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdout is not None and proc.stderr is not None
    assert proc.stdout.readline().startswith(b'{"file":')
    proc.stdout.close()
    assert proc.wait(timeout=120) == 1
    assert proc.stderr.read() == b""


# --- settings ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("setting", "value", "expected"),
    [
        (
            "smtp_port",
            "twenty-five",
            "returnpath: invalid setting RETURNPATH_SMTP_PORT='twenty-five':"
            " Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "log_format",
            "xml",
            "returnpath: invalid setting RETURNPATH_LOG_FORMAT='xml':"
            " Input should be 'auto', 'json' or 'console'",
        ),
        (
            "workers",
            "0",
            "returnpath: invalid setting RETURNPATH_WORKERS='0':"
            " Input should be greater than or equal to 1",
        ),
    ],
)
def test_a_bad_setting_names_the_variable_and_what_it_accepts(
    tmp_path: Path, setting: str, value: str, expected: str
) -> None:
    assert one_line(returnpath("serve", cwd=tmp_path, settings={setting: value})) == expected
    assert list(tmp_path.iterdir()) == []  # nothing started, nothing created


def test_an_unsupported_database_url_says_which_are_accepted_without_its_password(
    tmp_path: Path,
) -> None:
    for command in (["serve"], ["tenants", "list"], ["requeue"]):
        line = one_line(
            returnpath(
                *command, cwd=tmp_path, settings={"database_url": "mysql://app:hunter2@db/mail"}
            )
        )
        assert line == (
            "returnpath: invalid setting RETURNPATH_DATABASE_URL: unsupported database URL"
            " scheme 'mysql'; accepted: sqlite:///path/to/file.db (embedded)"
            " or postgresql://user:password@host/name"
        )
        assert "hunter2" not in line


def test_debug_shows_the_traceback_behind_the_line(tmp_path: Path) -> None:
    done = returnpath("--debug", "serve", cwd=tmp_path, settings={"smtp_port": "x"})
    assert done.returncode != 0
    assert "Traceback" in done.stderr and "ValidationError" in done.stderr


# --- serve ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["smtp", "api"])
def test_serve_on_a_port_in_use_names_the_setting_to_change(tmp_path: Path, which: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        other = "api" if which == "smtp" else "smtp"
        done = returnpath(
            "serve",
            cwd=tmp_path,
            timeout=180,
            settings={
                "api_key": "k",
                "log_level": "error",
                "stage": "inline",
                f"{which}_port": str(port),
                f"{other}_port": "0",
            },
        )
    assert one_line(done) == (
        f"returnpath: cannot listen for {which.upper()} on 127.0.0.1:{port}: the port is"
        f" already in use (another serve?); free it or set RETURNPATH_{which.upper()}_PORT"
    )


def test_serve_on_a_database_it_cannot_reach_says_so_in_a_line(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on: refused at once
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = returnpath(
        "serve",
        cwd=tmp_path,
        settings={
            "database_url": f"postgresql://rp:hunter2@127.0.0.1:{port}/mail",
            "smtp_port": "0",
            "api_port": "0",
            "api_key": "k",
            "log_level": "error",
        },
    )
    assert done.returncode == 1 and "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("returnpath: serve could not start: ")
    assert "Connection refused" in line or "Connect call failed" in line
    assert f"database: postgresql+asyncpg://rp:***@127.0.0.1:{port}/mail" in line
    assert "hunter2" not in line


def test_serve_with_a_spool_it_cannot_create_names_the_setting(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")  # a file where the spool folder's parent should be
    done = returnpath(
        "serve", cwd=tmp_path, settings={"spool_dir": str(blocker / "spool"), "api_key": "k"}
    )
    assert one_line(done) == (
        f"returnpath: cannot write in the spool folder {blocker / 'spool'}: Not a directory;"
        " set RETURNPATH_SPOOL_DIR to a writable folder"
    )


# --- administration ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [["tenants", "list"], ["keys", "list"]])
def test_an_admin_command_refuses_a_database_that_does_not_exist(
    tmp_path: Path, command: list[str]
) -> None:
    done = returnpath(*command, cwd=tmp_path)
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert lines[0] == f"database: SQLite file {tmp_path / 'returnpath.db'}"
    assert lines[1].startswith(f"returnpath: no database at {tmp_path / 'returnpath.db'}: ")
    assert "RETURNPATH_DATABASE_URL or --database" in lines[1]
    assert list(tmp_path.iterdir()) == []  # no empty database left behind


def test_an_admin_command_says_which_database_it_uses(tmp_path: Path) -> None:
    database = tmp_path / "kept" / "rp.db"
    database.parent.mkdir()
    url = f"sqlite:///{database}"
    created = returnpath("tenants", "create", "acme", "--domain", "bounces.acme.test", cwd=tmp_path)
    assert created.returncode == 2  # ./returnpath.db does not exist
    # a database made by serve's own start-up path (the schema migration)
    sqlite = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncio, sys\n"
            "from returnpath.store.db import Store\n"
            "async def main():\n"
            "    s = Store(sys.argv[1]); await s.create_schema(); await s.close()\n"
            "asyncio.run(main())",
            f"sqlite+aiosqlite:///{database}",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert sqlite.returncode == 0, sqlite.stderr
    done = returnpath(
        "tenants",
        "create",
        "acme",
        "--domain",
        "bounces.acme.test",
        "--database",
        url,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip() == f"database: SQLite file {database}"
    listed = returnpath("tenants", "list", cwd=tmp_path, settings={"database_url": url})
    assert listed.stderr.strip() == f"database: SQLite file {database}"
    assert "acme\tbounces.acme.test\t" in listed.stdout
    assert not (tmp_path / "returnpath.db").exists()
