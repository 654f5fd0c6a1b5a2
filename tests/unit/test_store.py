"""GraphStore: the writer thread, durability, concurrency, migrations, locked and foreign files."""

from __future__ import annotations

import collections
import logging
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lsp_backoff.tracker import queries
from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.queries import APPLICATION_ID, SCHEMA_VERSION, migrate
from lsp_backoff.tracker.store import GraphStore

ROOT = Path(__file__).resolve().parents[2]
DOC = "file:///w/a.py"


def sym(i: int, version: str | None = "h1", doc: str = DOC) -> SymbolRef:
    return SymbolRef(f"{doc}#{i}:0:s{i}", doc, f"s{i}", i, 0, 12, version)


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "graph.db"


@pytest.fixture
def store(db: Path) -> Iterator[GraphStore]:
    s = GraphStore(db)
    s.start()
    yield s
    s.close()


def test_file_is_private_and_in_wal_mode(store: GraphStore, db: Path) -> None:
    store.put_document(DOC, "h1")
    assert store.flush()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0]: r[1] for r in conn.execute("SELECT name, sql FROM sqlite_schema")}
    tables_v2 = ("document", "symbol", "pair", "edge", "orphan", "tally", "failures")
    assert all("STRICT" in tables[t] for t in tables_v2)


def test_writes_are_visible_to_another_connection_after_flush(store: GraphStore, db: Path) -> None:
    store.put_document(DOC, "h1")
    store.put_symbols([sym(1), sym(2)], "document_symbol")
    store.put_edges(sym(1), "references", [Target("file:///w/b.py", 3, 4)])
    assert store.flush()
    conn = queries.connect(db)
    assert [r["target"] for r in queries.edges(conn)] == [
        {"uri": "file:///w/b.py", "line": 3, "character": 4}
    ]
    assert conn.execute("SELECT source FROM symbols ORDER BY key").fetchall() == [
        ("document_symbol",),
        ("document_symbol",),
    ]


def test_in_memory_store_is_read_through_query() -> None:
    s = GraphStore(None)
    s.start()
    try:
        s.put_symbols([sym(1)], "request")
        s.put_placeholder(sym(1), "references", "none")
        rows = s.query(lambda conn: queries.edges(conn))
        assert [(r["symbol"], r["kind"]) for r in rows] == [(sym(1).key, "none")]
    finally:
        s.close()


def test_replays_do_not_duplicate(store: GraphStore, db: Path) -> None:
    targets = [Target("file:///w/b.py", 1, 2), Target("file:///w/b.py", 1, 2)]
    for _ in range(3):
        store.put_edges(sym(1), "references", targets)
        store.put_placeholder(sym(2), "references", "none")
        store.put_symbols([sym(1)], "request")
    assert store.flush()
    assert count(db, "edges") == 2
    assert count(db, "symbols") == 2


def test_edges_replace_placeholders_and_clear_the_failure(store: GraphStore, db: Path) -> None:
    store.put_failure(FailureState(sym(1).key, DOC, "references", failures=3, version="h1"))
    store.put_placeholder(sym(1), "references", "error", "boom")
    store.put_edges(sym(1), "references", [Target("file:///w/b.py", 1, 2)])
    assert store.flush()
    conn = queries.connect(db)
    assert [r["kind"] for r in queries.edges(conn)] == ["edge"]
    assert count(db, "failures") == 0


def test_error_placeholder_keeps_the_failure_row(store: GraphStore, db: Path) -> None:
    state = FailureState(sym(1).key, DOC, "references", failures=8, skipped=True, version="h1")
    store.put_failure(state)
    store.put_placeholder(sym(1), "references", "error", "gave up")
    assert store.flush()
    assert count(db, "failures") == 1


def test_failures_survive_a_restart_until_the_document_changes(db: Path) -> None:
    state = FailureState(sym(1).key, DOC, "references", 8, 1, 1e9, True, "boom", "h1", None, 5.0)
    first = GraphStore(db)
    first.start()
    first.put_document(DOC, "h1")
    first.put_failure(state)
    first.put_failure(FailureState(sym(2).key, DOC, "definition", 1, version="h1"))
    first.clear_failure(sym(2).key, "definition")
    first.close()
    second = GraphStore(db)
    assert second.load_failures() == [state]
    second.start()
    second.put_document(DOC, "h2")
    second.close()
    assert GraphStore(db).load_failures() == []


def test_load_failures_without_a_database_is_empty(db: Path) -> None:
    assert GraphStore(db).load_failures() == []
    assert not db.exists()


def test_full_queue_drops_without_blocking_and_warns_once(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lsp_backoff.tracker.store")
    s = GraphStore(db, queue_size=3)  # not started: nothing drains the queue
    for i in range(10):
        s.put_symbols([sym(i)], "request")
    assert s.dropped == 7
    assert sum("queue full" in r.getMessage() for r in caplog.records) == 1
    s.start()
    assert s.flush()
    s.close()
    assert count(db, "symbols") == 3


def test_locked_database_keeps_writes_and_resumes(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="lsp_backoff.tracker.store")
    s = GraphStore(db, busy_timeout=0.05)
    s.start()
    s.put_document(DOC, "h1")
    assert s.flush()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        for i in range(50):
            s.put_symbols([sym(i)], "request")
        assert not s.flush(timeout=0.3)  # nothing can commit while the lock is held
        unavailable = threading.Event()

        def seen() -> bool:
            return any("unavailable" in r.getMessage() for r in caplog.records)

        for _ in range(100):  # bounded wait for the writer's first failed attempt
            if seen():
                unavailable.set()
                break
            unavailable.wait(0.05)
        assert unavailable.is_set()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert s.flush(timeout=10)
    s.close()
    assert count(db, "symbols") == 50
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unavailable" in m for m in messages) == 1
    assert sum("writing again" in m for m in messages) == 1


def test_invalid_values_are_refused_at_the_call(store: GraphStore) -> None:
    with pytest.raises(ValueError):
        store.put_edges(sym(1), "hover", [])
    with pytest.raises(ValueError):
        store.put_placeholder(sym(1), "references", "edge")
    with pytest.raises(ValueError):
        store.put_symbols([sym(1)], "guess")


# -- opening: foreign files, migrations ---------------------------------------------------------


def test_foreign_sqlite_file_is_refused(db: Path) -> None:
    db.parent.mkdir()
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="not an lsp-backoff database"):
        GraphStore(db).start()
    with pytest.raises(StoreError, match="not an lsp-backoff database"):
        queries.connect(db)


def test_non_sqlite_file_is_refused(db: Path) -> None:
    db.parent.mkdir()
    db.write_bytes(b"hello, this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not SQLite"):
        queries.connect(db)


def test_newer_schema_is_refused(db: Path) -> None:
    GraphStore(db).start()
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer"):
        queries.connect(db)


def _schema(path: Path) -> set[tuple[str, str]]:
    conn = sqlite3.connect(path)
    try:
        return set(conn.execute("SELECT name, sql FROM sqlite_schema WHERE sql IS NOT NULL"))
    finally:
        conn.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION + 1))
def test_every_earlier_schema_version_migrates(tmp_path: Path, version: int) -> None:
    fresh = tmp_path / "fresh.db"
    s = GraphStore(fresh)
    s.start()
    s.close()
    old = tmp_path / "old.db"
    conn = sqlite3.connect(old, isolation_level=None)
    migrate(conn, "old", target=version)  # version 0: an empty file
    conn.close()
    s = GraphStore(old)
    s.start()
    s.put_symbols([sym(1)], "request")
    assert s.flush()
    s.close()
    conn = sqlite3.connect(old)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    conn.close()
    assert _schema(old) == _schema(fresh)
    assert count(old, "symbols") == 1


def test_data_of_a_version_1_database_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    conn = sqlite3.connect(path, isolation_level=None)
    migrate(conn, "v1", target=1)
    conn.execute("INSERT INTO documents VALUES (?, ?, ?)", (DOC, "h1", 1.0))
    conn.close()
    # Opened by the current code (which migrates to SCHEMA_VERSION) and written to again.
    store = GraphStore(path)
    store.start()
    store.put_symbols([sym(1)], "request")
    store.close()
    conn = queries.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("SELECT uri, version FROM documents").fetchall() == [(DOC, "h1")]
    assert conn.execute("SELECT count(*) FROM symbols").fetchone()[0] == 1


# -- several processes -----------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    from lsp_backoff.tracker.store import GraphStore
    from lsp_backoff.tracker.model import SymbolRef, Target
    path, tag, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    store = GraphStore(path)
    store.start()
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    i = 0
    while n < 0 or i < n:
        s = SymbolRef(f"file:///{tag}.py#{i}:0:x", f"file:///{tag}.py", "x", i, 0)
        store.put_symbols([s], "request")
        store.put_edges(s, "references", [Target("file:///t.py", i, 1)])
        i += 1
        if n < 0 and i % 50 == 0:
            store.flush()
            print("tick", flush=True)
    assert store.flush(30)
    store.close()
    print("dropped", store.dropped, flush=True)
    """
)


def _writer(db: Path, tag: str, n: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db), tag, str(n)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_two_processes_writing_at_once_lose_nothing(db: Path) -> None:
    procs = [_writer(db, tag, 2000) for tag in ("one", "two")]
    for p in procs:
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert all("dropped 0" in out for out in outputs)
    assert count(db, "symbols") == 4000
    assert count(db, "edges") == 4000


@pytest.mark.parametrize("ticks", [1, 3, 7])
def test_kill_9_leaves_a_sound_database(db: Path, ticks: int) -> None:
    proc = _writer(db, "k", -1)
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()
    for _ in range(ticks):
        assert proc.stdout.readline().strip() == "tick"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    conn = queries.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM edges").fetchone()[0] >= ticks * 50
    conn.close()
    s = GraphStore(db)  # and it is still writable
    s.start()
    s.put_symbols([sym(1)], "request")
    assert s.flush()
    s.close()


def test_targets_given_as_a_function_are_built_on_the_writer_thread(
    store: GraphStore, db: Path
) -> None:
    threads: list[str] = []

    def targets() -> list[Target]:
        threads.append(threading.current_thread().name)
        return [Target("file:///t.py", 3, 1), Target("file:///t.py", 4, 2)]

    store.put_edges(sym(1), "references", targets)
    assert store.flush()
    assert count(db, "edges") == 2
    assert threads and threads[0] != threading.current_thread().name


def test_a_failing_target_function_loses_only_its_own_write(store: GraphStore, db: Path) -> None:
    def broken() -> list[Target]:
        raise RuntimeError("bug")

    store.put_edges(sym(1), "references", broken)
    store.put_edges(sym(2), "references", [Target("file:///t.py", 1, 1)])
    assert store.flush()
    assert count(db, "edges") == 1


def test_withdraw_removes_only_the_matching_placeholder(store: GraphStore, db: Path) -> None:
    store.put_placeholder(sym(1), "incoming_calls", "none", "no call hierarchy item")
    store.put_placeholder(sym(1), "outgoing_calls", "none", "")
    store.put_placeholder(sym(2), "incoming_calls", "none", "no call hierarchy item")
    store.withdraw_placeholder(sym(1).key, "incoming_calls", "none", "no call hierarchy item")
    store.withdraw_placeholder(sym(1).key, "outgoing_calls", "none", "no call hierarchy item")
    assert store.flush()
    conn = sqlite3.connect(db)
    left = conn.execute("SELECT symbol, operation FROM edges ORDER BY 1, 2").fetchall()
    assert left == [(sym(1).key, "outgoing_calls"), (sym(2).key, "incoming_calls")]


def test_every_put_reaches_the_writer_whatever_the_interleaving(store: GraphStore) -> None:
    """Puts from two threads racing the writer's sleep and its commits: every flush completes.

    A put that misses a going-to-sleep writer would leave the queue unread (until a query or
    close) and flush() would time out: that is what this interleaving hunts for.
    """
    per_thread = 20_000

    def produce(slot: int) -> None:
        pause = threading.Event()
        for i in range(per_thread):
            store.put_symbols([sym(slot * per_thread + i)], "request")
            if i % 50 == 0:
                pause.wait(0.0002 * (i % 7))  # vary the rhythm against the writer's

    threads = [threading.Thread(target=produce, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    flushed: list[bool] = []
    # A lost wake-up never completes; the bound only has to outlast a full queue of new
    # symbols (each one writes its row and an orphan entry per operation) on a busy machine.
    while any(thread.is_alive() for thread in threads):
        flushed.append(store.flush(timeout=30))
    for thread in threads:
        thread.join()
    assert flushed and all(flushed)
    assert store.flush(timeout=30)
    rows = store.query(lambda conn: conn.execute("SELECT count(*) FROM symbols").fetchone()[0])
    assert rows + store.dropped == 2 * per_thread


def test_a_put_landing_as_the_writer_falls_asleep_still_wakes_it(db: Path) -> None:
    """The interleaving behind a lost wake-up, forced by events (never pauses): the put
    decides while the writer is busy with an earlier write, and appends only once the writer
    has committed that write and gone back to sleep on an empty queue."""
    store = GraphStore(db)
    busy = threading.Event()  # the writer holds the first write (its group-commit pause)
    release = threading.Event()  # … until the second put has decided
    asleep = threading.Event()  # the writer went to sleep after committing the first write

    class Pause(threading.Event):  # the writer's group-commit pause (_urgent)
        def wait(self, timeout: float | None = None) -> bool:
            if not release.is_set():
                busy.set()
                release.wait(10)
            return super().wait(timeout)

    class Wake(threading.Event):  # what the writer sleeps on when the queue is empty
        def wait(self, timeout: float | None = None) -> bool:
            if store._done >= 1:
                asleep.set()
            return super().wait(timeout)

    class SlowQueue(collections.deque):  # type: ignore[type-arg]
        slow = False

        def append(self, item: object) -> None:
            if self.slow:
                self.slow = False
                release.set()  # the put has decided: let the writer commit and sleep
                assert asleep.wait(timeout=10), "the writer never went back to sleep"
            super().append(item)

    queue = SlowQueue()
    store._queue = queue
    store._urgent = Pause()
    store._wake = Wake()
    store.start()
    try:
        store.put_symbols([sym(1)], "request")
        assert busy.wait(timeout=10), "the writer never took the first write"
        queue.slow = True
        store.put_symbols([sym(2)], "request")
        assert store.flush(timeout=5)
    finally:
        release.set()
        store.close()
    assert count(db, "symbols") == 2
