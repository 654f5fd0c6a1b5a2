"""What README promises of the proxy and no other test exercised end to end, each through a real
proxy process in front of a real test server (servers/always_fails.py, raw_recorder.py):

- the default database: one file per workspace in the user state directory;
- a foreign, newer-schema or read-only database in front of the proxy: logged, the session
  goes on (in memory, or retrying), the file is left alone;
- the position encoding the server chose (UTF-8 here) keys symbols and applies edits;
- the server's stderr passed on, line by line;
- `--log-messages`: bodies stay out of the log unless asked, even at debug level;
- `--backoff-max` and `--jitter` reach the tracker;
- after `exit` the server gets longer to end on its own than after a vanished client.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import sqlite3
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import PY, Doc, Session, Start, ask_until_asked, proxy_cmd, server_cmd

from lsp_backoff.proxy.config import default_database
from lsp_backoff.tracker.migrations import SCHEMA_VERSION
from lsp_backoff.tracker.store import GraphStore

TEXT = "good_x = 1\nbad_x = 2\n"


async def fail_once(session: Session, ws: Path) -> Doc:
    """Open a document; its `bad_x` fails once (then backs off), `good_x` answers."""
    await session.initialize(ws)
    doc = Doc(ws / "a.py", TEXT)
    session.open(doc.uri, doc.text)
    assert (await session.ask(doc.uri, doc.pos("good_x")))["result"] is not None
    assert "error" in await session.ask(doc.uri, doc.pos("bad_x"))
    return doc


def proxy_lines(session: Session) -> list[str]:
    """The proxy's own log lines (the server's stderr lines are passed on unprefixed)."""
    return [line for line in session.stderr_text.splitlines() if line.startswith("lsp-backoff ")]


# -- where the graph goes ------------------------------------------------------------------


async def test_the_default_database_is_one_file_per_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No --db, no $LSP_BACKOFF_DB: `<folder>-<hash>.db` in the state directory ($XDG_STATE_HOME
    on Linux), created 0600 in a 0700 directory; the CLI run in the workspace finds it."""
    state = tmp_path / "state"
    env = {**os.environ, "XDG_STATE_HOME": str(state)}
    env.pop("LSP_BACKOFF_DB", None)
    monkeypatch.delenv("LSP_BACKOFF_DB", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(state))
    ws = tmp_path / "my project"
    ws.mkdir()
    session = await Session.start(proxy_cmd(server_cmd("always_fails")), env)
    try:
        doc = await fail_once(session, ws)
        await session.flush()
        assert await session.shutdown() == 0
    finally:
        await session.close()
    expected = default_database(str(ws))
    assert expected.parent == state / "lsp-backoff" and expected.name.startswith("my_project-")
    assert sorted(p.name for p in expected.parent.glob("*.db")) == [expected.name]
    assert stat.S_IMODE(expected.stat().st_mode) == 0o600
    assert stat.S_IMODE(expected.parent.stat().st_mode) == 0o700
    listing = subprocess.run(
        [PY, "-m", "lsp_backoff", "orphans", "--json", "--operation", "definition"],
        cwd=ws, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert listing.returncode == 0, listing.stderr
    assert f'"symbol": "{doc.uri}#1:0:bad_x"' in listing.stdout
    assert '"state": "backoff"' in listing.stdout


def foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.execute("INSERT INTO notes VALUES ('mine')")
    conn.commit()
    conn.close()


def newer(path: Path) -> None:
    """A real lsp-backoff database, from a release with a schema this one does not know."""
    store = GraphStore(path)
    store.start()
    store.close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (foreign, "is not an lsp-backoff database"),
        (lambda p: p.write_bytes(b"not SQLite at all\n" * 64), "not SQLite"),
        (newer, f"schema version {SCHEMA_VERSION + 1}, newer than"),
    ],
    ids=["foreign", "not-sqlite", "newer-schema"],
)
async def test_a_database_the_proxy_cannot_use_is_left_alone(
    start: Start, tmp_path: Path, make, says: str
) -> None:
    db = tmp_path / "graph.db"
    make(db)
    before = db.read_bytes()
    ws = tmp_path / "ws"
    ws.mkdir()
    session = await start(proxy_cmd(server_cmd("always_fails"), "--db", str(db)))
    doc = await fail_once(session, ws)
    # The backoff works in memory: the repeat is answered by the proxy.
    again = await session.ask(doc.uri, doc.pos("bad_x"))
    assert again["result"] is None and (await session.stats())["short_circuited"] == 1
    assert await session.shutdown() == 0
    refused = [line for line in proxy_lines(session) if "cannot use database" in line]
    assert len(refused) == 1 and says in refused[0], proxy_lines(session)
    assert "keeping the graph in memory" in refused[0]
    assert db.read_bytes() == before  # not migrated, not truncated, not written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["graph.db", "ws"]


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` made unwritable: mode 0444, and for root (whom modes do not stop) immutable."""
    path.chmod(0o444)
    immutable = os.geteuid() == 0
    if immutable:
        chattr = shutil.which("chattr") or "chattr"
        try:
            done = subprocess.run([chattr, "+i", str(path)], capture_output=True, text=True)
            why = done.stderr.strip() if done.returncode else ""
        except OSError as exc:
            why = str(exc)
        if why:  # under CI=true this fails: the test must run there
            message = f"root cannot make a file read-only here (chattr: {why})"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(path)], check=True)
        path.chmod(0o644)


async def test_a_read_only_database_is_logged_once_and_forwarding_goes_on(
    start: Start, tmp_path: Path
) -> None:
    db, ws = tmp_path / "graph.db", tmp_path / "ws"
    ws.mkdir()
    first = await start(proxy_cmd(server_cmd("always_fails"), "--db", str(db)))
    await first.initialize(ws)
    await first.flush()
    assert await first.shutdown() == 0
    before = db.read_bytes()
    with read_only(db):
        session = await start(proxy_cmd(server_cmd("always_fails"), "--db", str(db)))
        doc = await fail_once(session, ws)
        again = await session.ask(doc.uri, doc.pos("bad_x"))
        assert again["result"] is None  # backing off, in memory
        for name in ("good_x", "good_x", "good_x"):  # more writes: still one log line
            assert (await session.ask(doc.uri, doc.pos(name)))["result"] is not None
        assert (await session.stats())["internal_errors"] == 0
        assert await session.shutdown() == 0
        assert db.read_bytes() == before
    unavailable = [line for line in proxy_lines(session) if "unavailable" in line]
    assert len(unavailable) == 1, proxy_lines(session)
    assert "readonly" in unavailable[0] and "retrying" in unavailable[0]


# -- what goes where -------------------------------------------------------------------------


async def test_the_negotiated_utf8_encoding_keys_symbols_and_applies_edits(
    start: Start, ws: Path, tmp_path: Path
) -> None:
    """The client offers UTF-8, the server (pygls) picks it: positions count bytes. A line
    with 2-, 3- and 4-byte characters before the names (UTF-16 columns would land 20 and
    more code units further on); an incremental edit in UTF-8 columns after them."""
    db = tmp_path / "graph.db"
    session = await start(proxy_cmd(server_cmd("always_fails"), "--db", str(db)))
    offered = {"general": {"positionEncodings": ["utf-8", "utf-16"]}}
    answer = await session.initialize(ws, capabilities=offered)
    assert answer["result"]["capabilities"]["positionEncoding"] == "utf-8"
    text = 's = "é€' + "😀" * 10 + '"; bad_one = 1; bad_two = 2\n'
    doc = Doc(ws / "u.py", text)
    session.open(doc.uri, text)

    def column(name: str, in_text: str) -> int:
        return len(in_text.split(name)[0].encode("utf-8"))

    assert "error" in await session.ask(doc.uri, (0, column("bad_one", text) + 2))
    assert "error" in await session.ask(doc.uri, (0, column("bad_two", text)))
    again = await session.ask(doc.uri, (0, column("bad_one", text)))
    assert again["result"] is None  # bad_one's own backoff: the same key

    # The graph's unit is UTF-16 whatever the session negotiated (issue 27): the identifier
    # found with UTF-8 columns, its start stored in UTF-16 code units.
    def utf16(name: str, in_text: str) -> int:
        return len(in_text.split(name)[0].encode("utf-16-le")) // 2

    def keys() -> set[str]:
        conn = sqlite3.connect(db)
        try:
            return {key for (key,) in conn.execute("SELECT key FROM symbols")}
        finally:
            conn.close()

    assert column("bad_one", text) != utf16("bad_one", text)  # the line tells them apart
    await session.flush()
    assert keys() == {
        f"{doc.uri}#0:{utf16('bad_one', text)}:bad_one",
        f"{doc.uri}#0:{utf16('bad_two', text)}:bad_two",
    }, keys()
    # An edit in UTF-8 columns: "bad_one" becomes "bad_new" (same length).
    at = column("bad_one", text) + len("bad_")
    edit = {"range": {"start": {"line": 0, "character": at},
                      "end": {"line": 0, "character": at + 3}}, "text": "new"}  # fmt: skip
    session.notify(
        "textDocument/didChange",
        {"textDocument": {"uri": doc.uri, "version": 2}, "contentChanges": [edit]},
    )
    edited = text.replace("bad_one", "bad_new")
    assert "error" in await session.ask(doc.uri, (0, column("bad_new", edited)))
    await session.flush()
    assert await session.shutdown() == 0
    # The edit applied at the right UTF-8 columns: the new name keyed where UTF-16 puts it (the
    # edited line's own symbols leave the graph with the edit, issue 24: none is left stale).
    after = keys()
    assert f"{doc.uri}#0:{utf16('bad_new', edited)}:bad_new" in after, after
    assert not any(key.endswith(":bad_one") for key in after), after


async def test_the_servers_stderr_is_passed_on_line_by_line(
    start: Start, ws: Path, tmp_path: Path
) -> None:
    """always_fails.py's pygls writes a traceback on stderr for each error it answers."""
    said = "pygls.exceptions.JsonRpcInternalError: cannot resolve bad_x"
    session = await start(proxy_cmd(server_cmd("always_fails"), "--no-db"))
    await fail_once(session, ws)
    assert await session.shutdown() == 0
    assert said in session.stderr_text.splitlines()  # a line of its own, unchanged
    log = tmp_path / "proxy.log"
    session = await start(proxy_cmd(server_cmd("always_fails"), "--no-db", "--log-file", str(log)))
    await fail_once(session, ws)
    assert await session.shutdown() == 0
    assert said in log.read_text().splitlines()  # with --log-file, there
    assert said not in session.stderr_text


@pytest.mark.parametrize("asked", [False, True], ids=["default", "log-messages"])
async def test_message_bodies_stay_out_of_the_log_unless_asked(
    start: Start, ws: Path, tmp_path: Path, asked: bool
) -> None:
    secret = "sk_live_do_not_log_me"
    log = tmp_path / "proxy.log"
    options = ["--no-db", "--log-file", str(log), "--log-level", "debug"]
    if asked:
        options.append("--log-messages")
    session = await start(proxy_cmd(server_cmd("always_fails"), *options))
    await session.initialize(ws)
    doc = Doc(ws / "s.py", f'token = "{secret}"\nbad_x = token\n')
    session.open(doc.uri, doc.text)
    assert "error" in await session.ask(doc.uri, doc.pos("bad_x"))
    assert await session.shutdown() == 0
    written = log.read_text()
    assert "bad_x" in written  # the failure line names the symbol at any level
    assert (secret in written) is asked, written[-2000:]
    assert secret not in session.stderr_text


# -- the backoff options reach the tracker ---------------------------------------------------


def delays(db: Path) -> dict[str, float]:
    """retry_at - updated_at of each failure state: the delay the tracker chose."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT symbol, retry_at - updated_at FROM failures").fetchall()
    finally:
        conn.close()
    return {symbol.rsplit(":", 1)[1]: delay for symbol, delay in rows}


async def test_backoff_max_caps_the_delay(start: Start, ws: Path, tmp_path: Path) -> None:
    db = tmp_path / "graph.db"
    opts = ("--db", str(db), "--backoff-base", "0.2", "--backoff-max", "0.3")
    session = await start(proxy_cmd(server_cmd("always_fails"), *opts))
    doc = await fail_once(session, ws)
    await session.flush()
    assert delays(db)["bad_x"] == pytest.approx(0.2, abs=0.01)
    await ask_until_asked(session, doc, "bad_x", 2)  # the second failure: 0.4, capped
    await session.flush()
    assert delays(db)["bad_x"] == pytest.approx(0.3, abs=0.01)
    assert await session.shutdown() == 0


@pytest.mark.parametrize("jitter", ["0", "0.5"])
async def test_jitter_spreads_the_delays(
    start: Start, ws: Path, tmp_path: Path, jitter: str
) -> None:
    db = tmp_path / "graph.db"
    opts = ("--db", str(db), "--backoff-base", "100", "--jitter", jitter)
    session = await start(proxy_cmd(server_cmd("always_fails"), *opts))
    await session.initialize(ws)
    names = [f"bad_{n}" for n in range(8)]
    doc = Doc(ws / "j.py", "".join(f"{name} = 1\n" for name in names))
    session.open(doc.uri, doc.text)
    for name in names:
        assert "error" in await session.ask(doc.uri, doc.pos(name))
    await session.flush()
    assert await session.shutdown() == 0
    chosen = delays(db)
    assert sorted(chosen) == names
    if jitter == "0":
        assert all(d == pytest.approx(100.0, abs=0.01) for d in chosen.values()), chosen
    else:
        assert all(50.0 <= d < 150.0 for d in chosen.values()), chosen
        assert len({round(d, 3) for d in chosen.values()}) > 1, chosen  # spread, not all 100


# -- the end of a session --------------------------------------------------------------------


async def test_after_exit_the_server_has_longer_to_end_on_its_own(
    start: Start, tmp_path: Path
) -> None:
    """A server that takes 6 s to end once its input is done: after the client's `exit` (and
    its closed pipe) the proxy waits for it (10 s before SIGTERM); after a client that just
    went away, 2 s. Both sessions run at once; what differs is whether SIGTERM was sent."""
    # raw_recorder ends at `exit` or end of input; the shell around it then takes 6 s, and
    # on SIGTERM stops at once (status 143).
    script = f'trap \'kill $p; exit 143\' TERM; "{PY}" "$@"; sleep 6 & p=$!; wait $p'
    server = ["sh", "-c", script, "sh", *server_cmd("raw_recorder")[1:]]

    async def session(send_exit: bool) -> tuple[int, str]:
        proxy = await start(proxy_cmd(server, "--no-db"))
        await proxy.initialize(tmp_path)
        if send_exit:
            await proxy.request("shutdown")
            proxy.notify("exit")
        assert proxy.proc.stdin is not None
        proxy.proc.stdin.close()  # as an editor does once it is done
        status = await proxy.wait_exit(timeout=30)
        return status, proxy.stderr_text

    (clean, clean_log), (gone, gone_log) = await asyncio.gather(session(True), session(False))
    assert "sending SIGTERM" not in clean_log and clean == 0, clean_log
    assert "server still running after the client left: sending SIGTERM" in gone_log
    assert gone == 143, gone_log
