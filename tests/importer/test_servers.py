"""IMAP and POP3 against a real Dovecot the tests start, over TLS they verify."""

from __future__ import annotations

import imaplib
import json
import poplib
import signal
import ssl
import time

import pytest

from tests.importer.conftest import Importing, bounce, findings
from tests.importer.dovecot import PASSWORD, Dovecot

PASSWORD_ENV = {"RETURNPATH_IMPORT_PASSWORD": PASSWORD}


def _imap(dovecot: Dovecot, user: str) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    conn = imaplib.IMAP4_SSL("127.0.0.1", dovecot.imaps, ssl_context=context, timeout=30)
    conn.login(user, PASSWORD)
    return conn


def _deliver(dovecot: Dovecot, user: str, *messages: bytes, folder: str = "INBOX") -> None:
    conn = _imap(dovecot, user)
    try:
        for raw in messages:
            typ, _ = conn.append(folder, None, None, raw)
            assert typ == "OK"
    finally:
        conn.logout()


def _count(dovecot: Dovecot, user: str, folder: str, criteria: str = "ALL") -> int:
    conn = _imap(dovecot, user)
    try:
        typ, _ = conn.select(f'"{folder}"')
        if typ != "OK":
            return 0
        typ, data = conn.uid("SEARCH", criteria)
        return len(data[0].split())
    finally:
        conn.logout()


def test_imap_messages_are_recorded_then_moved_to_the_folder_named(
    dovecot: Dovecot, importing: Importing
) -> None:
    user = dovecot.user()
    _deliver(dovecot, user, *(bounce(n) for n in range(3)))
    url = f"imap://{user}@127.0.0.1:{dovecot.imaps}/INBOX"
    ca = ("--ca-file", str(dovecot.ca_file))
    summary = importing.run(*ca, "--move-to", "Processed", url, **PASSWORD_ENV)
    assert (summary["new"], summary["sources"][0]["kind"]) == (3, "imap")
    assert findings(summary) == {("hard_bounce", "userunknown"): 3}
    assert _count(dovecot, user, "INBOX") == 0
    assert _count(dovecot, user, "Processed") == 3
    assert importing.db.counts()["event"] == 3
    # read with BODY.PEEK: the moved messages are still unread for whoever reads them next
    assert _count(dovecot, user, "Processed", "UNSEEN") == 3
    again = importing.run(*ca, "--move-to", "Processed", url, **PASSWORD_ENV)
    assert again["messages"] == 0


def test_imap_over_starttls_with_a_flag_reads_each_message_once(
    dovecot: Dovecot, importing: Importing
) -> None:
    user = dovecot.user()
    _deliver(dovecot, user, bounce(10), bounce(11))
    url = f"imap+starttls://{user}@127.0.0.1:{dovecot.imap}/INBOX"
    args = ("--ca-file", str(dovecot.ca_file), "--flag", "$Returnpath", url)
    assert importing.run(*args, **PASSWORD_ENV)["new"] == 2
    assert _count(dovecot, user, "INBOX", "KEYWORD $Returnpath") == 2
    _deliver(dovecot, user, bounce(12))
    later = importing.run(*args, **PASSWORD_ENV)
    assert (later["messages"], later["new"]) == (1, 1)


def test_a_server_certificate_nobody_vouches_for_is_refused(
    dovecot: Dovecot, importing: Importing
) -> None:
    url = f"imap://{dovecot.user()}@127.0.0.1:{dovecot.imaps}/INBOX"
    said = importing.fails(url, **PASSWORD_ENV)
    assert (
        said.startswith("returnpath: cannot read imap://") and "CERTIFICATE_VERIFY_FAILED" in said
    )
    assert importing.db.counts()["message"] == 0


def test_the_password_never_comes_from_the_command_line(importing: Importing) -> None:
    said = importing.fails("imap://user:hunter2@127.0.0.1/INBOX", **PASSWORD_ENV)
    assert "never put the password in the URL" in said and "hunter2" not in said
    said = importing.fails("imap://user@127.0.0.1/INBOX")
    assert "no password" in said


def test_watch_imports_mail_as_it_arrives_and_stops_on_sigterm(
    dovecot: Dovecot, importing: Importing
) -> None:
    user = dovecot.user()
    _deliver(dovecot, user, bounce(20))
    url = f"imap://{user}@127.0.0.1:{dovecot.imaps}/INBOX"
    proc = importing.popen(
        "--ca-file", str(dovecot.ca_file), "--move-to", "Done", "--watch", url, **PASSWORD_ENV
    )
    try:
        _wait_until(lambda: _count(dovecot, user, "Done") == 1, proc)
        _deliver(dovecot, user, bounce(21))  # while it waits in IDLE
        _wait_until(lambda: _count(dovecot, user, "Done") == 2, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    summary = json.loads(out.strip().splitlines()[-1])
    assert (summary["new"], summary["interrupted"]) == (2, False)
    assert importing.db.counts()["event"] == 2


def test_watch_reconnects_after_the_server_drops_it(dovecot: Dovecot, importing: Importing) -> None:
    user = dovecot.user()
    _deliver(dovecot, user, bounce(40))
    url = f"imap://{user}@127.0.0.1:{dovecot.imaps}/INBOX"
    proc = importing.popen(
        "--ca-file", str(dovecot.ca_file), "--move-to", "Done", "--watch", url, **PASSWORD_ENV
    )
    try:
        _wait_until(lambda: _count(dovecot, user, "Done") == 1, proc)
        dovecot.kick(user)  # the server closes the session waiting in IDLE
        _deliver(dovecot, user, bounce(41))
        _wait_until(lambda: _count(dovecot, user, "Done") == 2, proc)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "import_reconnecting" in err
    assert json.loads(out.strip().splitlines()[-1])["new"] == 2


def _wait_until(condition: object, proc: object, seconds: float = 90) -> None:
    import subprocess

    assert callable(condition) and isinstance(proc, subprocess.Popen)
    deadline = time.monotonic() + seconds
    while not condition():
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        assert time.monotonic() < deadline, "the watcher did not import the message in time"
        time.sleep(0.1)


@pytest.mark.parametrize("scheme", ["pop3", "pop3+starttls"])
def test_pop3_deletes_only_when_asked_and_only_what_was_recorded(
    scheme: str, dovecot: Dovecot, importing: Importing
) -> None:
    user = dovecot.user()
    _deliver(dovecot, user, bounce(30), bounce(31))
    port = dovecot.pop3s if scheme == "pop3" else dovecot.pop3
    url = f"{scheme}://{user}@127.0.0.1:{port}"
    ca = ("--ca-file", str(dovecot.ca_file))
    kept = importing.run(*ca, url, **PASSWORD_ENV)
    assert (kept["new"], _maildrop(dovecot, user)) == (2, 2)
    deleted = importing.run(*ca, "--delete", url, **PASSWORD_ENV)
    assert (deleted["new"], deleted["duplicates"]) == (0, 2)
    assert _maildrop(dovecot, user) == 0
    assert importing.db.counts()["message"] == 2


def _maildrop(dovecot: Dovecot, user: str) -> int:
    context = ssl.create_default_context(cafile=str(dovecot.ca_file))
    conn = poplib.POP3_SSL("127.0.0.1", dovecot.pop3s, context=context, timeout=30)
    try:
        conn.user(user)
        conn.pass_(PASSWORD)
        return int(conn.stat()[0])
    finally:
        conn.quit()
