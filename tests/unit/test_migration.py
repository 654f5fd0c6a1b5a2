"""Schema 1 → 2 in place: nothing lost, display-name keys repaired, no larger than fresh; readers
never migrate; a store whose file is locked or being migrated applies the failure states later."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from lsp_backoff.proxy import graph_cli
from lsp_backoff.proxy.config import ProxyConfig
from lsp_backoff.proxy.store_link import StoreLink
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.backoff import BackoffPolicy
from lsp_backoff.tracker.errors import StoreError
from lsp_backoff.tracker.failures import FailureTracker
from lsp_backoff.tracker.migrations import SCHEMA_VERSION, display_name, migrate
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

A = "file:///w/a.cc"
B = "file:///w/b.ts"
LOOSE = "file:///w/never_recorded.py"

# (key, uri, name, kind, line, character, version, source, recorded_at)
SYMBOLS = [
    (f"{A}#3:6:Allocate", A, "Allocate", 6, 3, 6, "ha", "document_symbol", 1.0),
    (f"{A}#3:6:Arena::Allocate", A, "Arena::Allocate", 6, 3, 6, "ha", "request", 2.0),
    (f"{A}#9:0:operator==", A, "operator==", 6, 9, 0, "ha", "document_symbol", 3.0),
    (f"{A}#12:2:~Block", A, "~Block", 9, 12, 2, "old", "document_symbol", 4.0),
    (f"{B}#4:2:Ky.#retry", B, "Ky.#retry", 6, 4, 2, "hb", "request", 5.0),
    (f"{B}#7:2:#fetch", B, "#fetch", 6, 7, 2, "hb", "document_symbol", 6.0),
    (f"{LOOSE}#0:0:z", LOOSE, "z", None, 0, 0, None, "request", 7.0),
]
# (symbol, document, operation, kind, target_uri, target_line, target_character, detail, version,
#  recorded_at)
EDGES = [
    (f"{A}#3:6:Allocate", A, "references", "edge", B, 1, 1, "", "ha", 10.0),
    (f"{A}#3:6:Allocate", A, "references", "edge", A, 8, 0, "", "ha", 10.0),
    (f"{A}#3:6:Arena::Allocate", A, "incoming_calls", "edge", B, 2, 2, "", "ha", 11.0),
    (f"{A}#3:6:Arena::Allocate", A, "references", "edge", B, 9, 9, "", "ha", 11.0),
    (f"{A}#9:0:operator==", A, "implementation", "none", None, None, None, "", "ha", 12.0),
    (f"{A}#12:2:~Block", A, "definition", "error", None, None, None, "boom", "old", 13.0),
    (f"{B}#4:2:Ky.#retry", B, "outgoing_calls", "edge", A, 3, 6, "", "hb", 14.0),
    (f"{B}#7:2:#fetch", B, "references", "none", None, None, None, "", "hb", 15.0),
    (f"{LOOSE}#0:0:z", LOOSE, "references", "edge", A, 0, 0, "", None, 16.0),
]
FAILURES = [
    (f"{A}#3:6:Arena::Allocate", "outgoing_calls", A, 2, 0, 99.0, 0, "x", "ha", None, 20.0),
    (f"{B}#4:2:Ky.#retry", "references", B, 8, 0, 9.0, 1, "gave up", "hb", None, 21.0),
    (f"{B}#7:2:#fetch", "implementation", B, 1, 0, 50.0, 0, "y", "hb", 3.0, 22.0),
]
DOCUMENTS = [(A, "ha", 1.0), (B, "hb", 2.0)]


def write_v1(path: Path) -> None:
    """A file as lsp-backoff 0.1 wrote it: schema.sql's version-1 section and its rows."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    migrate(conn, "v1", target=1)
    conn.executemany("INSERT INTO documents VALUES (?, ?, ?)", DOCUMENTS)
    conn.executemany("INSERT INTO symbols VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", SYMBOLS)
    conn.executemany("INSERT INTO edges VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", EDGES)
    conn.executemany("INSERT INTO failures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", FAILURES)
    conn.close()


def rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(path)
    try:
        return sorted(conn.execute(f"SELECT * FROM {table}"), key=repr)
    finally:
        conn.close()


def version_of(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])
    finally:
        conn.close()


def test_display_names_are_told_from_identifiers() -> None:
    display = ["Arena::Allocate", "Ky.#retry", "std::vector<int>", "f(int, char)", "A B"]
    identifiers = ["Allocate", "~Block", "operator==", "operator()", "#retry", "r#type", "empty?"]
    identifiers += ["with-open-file", "$el", "@ivar", "naïve"]
    assert all(display_name(f"{A}#1:2:{n}") == n for n in display)
    assert not any(display_name(f"{A}#1:2:{n}") for n in identifiers)
    assert display_name(f"{A}#1:2") is None  # position-only keys have no name


def test_a_v1_file_migrates_in_place_and_keeps_every_row(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    write_v1(path)
    before = {t: rows(path, t) for t in ("documents", "symbols", "edges", "failures")}
    conn = queries.connect(path, upgrade=True)  # what `lsp-backoff migrate` does
    conn.close()
    assert version_of(path) == SCHEMA_VERSION
    after = {t: rows(path, t) for t in ("documents", "symbols", "edges", "failures")}

    def keyed_by_display(row: tuple[Any, ...]) -> bool:
        return display_name(row[0]) is not None

    assert after["documents"] == before["documents"]
    assert after["symbols"] == [r for r in before["symbols"] if not keyed_by_display(r)]
    # Arena::Allocate merged into Allocate: its incoming_calls (Allocate had none) moved over,
    # its references (Allocate had its own) went. Ky.#retry had no canonical key: removed.
    moved = (f"{A}#3:6:Allocate", *EDGES[2][1:])
    kept = [r for r in before["edges"] if not keyed_by_display(r)]
    assert after["edges"] == sorted([*kept, moved], key=repr)
    moved_failure = (f"{A}#3:6:Allocate", *FAILURES[0][1:])
    assert after["failures"] == sorted([moved_failure, FAILURES[2]], key=repr)


def test_the_migrated_file_answers_like_a_fresh_one_and_is_no_larger(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    write_v1(old)
    GraphStore(old).start()  # the proxy opening it migrates it
    fresh = tmp_path / "fresh.db"
    store = GraphStore(fresh)
    store.start()
    for uri, version, _ in DOCUMENTS:
        store.put_document(uri, version)
    for key, uri, name, kind, line, character, version, source, _ in SYMBOLS:
        if display_name(key) is None:
            store.put_symbols([SymbolRef(key, uri, name, line, character, kind, version)], source)
    store.close()
    migrated_conn, fresh_conn = queries.connect(old), queries.connect(fresh)
    for conn in (migrated_conn, fresh_conn):
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    # Current: Allocate, operator==, #fetch and the never-recorded document's z (~Block: stale).
    assert queries.stats(migrated_conn)["symbols"] == queries.stats(fresh_conn)["symbols"] == 4
    migrated_conn.close()
    fresh_conn.close()
    assert old.stat().st_size <= fresh.stat().st_size


def test_read_only_commands_never_migrate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v1.db"
    write_v1(path)
    run = graph_cli_main
    for command in (["edges"], ["orphans"], ["stats"], ["reset"]):
        assert run([*command, "--db", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "lsp-backoff migrate --db" in err
    assert version_of(path) == 1
    with pytest.raises(StoreError, match="schema version 1"):
        queries.connect(path)
    assert run(["migrate", "--db", str(path)]) == 0
    assert f"schema version {SCHEMA_VERSION}" in capsys.readouterr().out
    assert version_of(path) == SCHEMA_VERSION
    assert run(["stats", "--db", str(path)]) == 0


def graph_cli_main(argv: list[str]) -> int:
    from lsp_backoff.proxy.cli import main

    return main(argv)


# -- backoff state never silently lost ---------------------------------------------------------


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """What another process migrating the file (or a long write) looks like from here."""
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def stored_failure(path: Path) -> FailureState:
    state = FailureState(f"{A}#3:6:Allocate", A, "references", 8, 0, 9e9, True, "no", "ha")
    store = GraphStore(path)
    store.start()
    store.put_document(A, "ha")
    store.put_failure(state)
    store.close()
    return state


def test_failure_states_arrive_once_a_file_being_migrated_opens(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "g.db"
    write_v1(path)
    symbol, operation, document = FAILURES[2][:3]
    state = FailureState(symbol, document, operation, 1, 0, 50.0, False, "y", "hb", 3.0, 22.0)
    holder = hold_write_lock(path)
    store = GraphStore(path, busy_timeout=0.05)
    loaded: list[list[FailureState]] = []
    arrived = threading.Event()

    def deliver(states: list[FailureState]) -> None:
        loaded.append(states)
        arrived.set()

    with caplog.at_level(logging.WARNING, logger="lsp_backoff.tracker.store"):
        store.start()
        store.load_failures_later(deliver)
        assert not arrived.wait(0.3)  # nothing read while the other process holds the file
        holder.execute("ROLLBACK")
        holder.close()
        assert arrived.wait(30)
    store.close()
    assert len(loaded) == 1 and state in loaded[0]
    said = [r.getMessage() for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(said) == 1 and "failure states apply once it opens" in said[0]
    assert version_of(path) == SCHEMA_VERSION


def test_another_writer_does_not_delay_the_failure_states(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    state = stored_failure(path)
    holder = hold_write_lock(path)  # WAL: readers go on while another process writes
    store = GraphStore(path, busy_timeout=0.05)
    arrived: list[list[FailureState]] = []
    done = threading.Event()
    store.start()
    store.load_failures_later(lambda states: (arrived.append(states), done.set()))
    assert done.wait(30)
    holder.execute("ROLLBACK")
    holder.close()
    store.close()
    assert arrived == [[state]]


def test_the_proxy_link_restores_states_that_arrive_late(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    write_v1(path)
    symbol, operation = FAILURES[2][:2]
    holder = hold_write_lock(path)

    async def scenario() -> FailureState | None:
        tracker = FailureTracker(BackoffPolicy(), clock=lambda: 0.0)
        link = StoreLink(ProxyConfig(db=str(path)), tracker)
        link.start(asyncio.get_running_loop())
        await asyncio.sleep(0.2)
        assert tracker.get(symbol, operation) is None  # busy: not known yet, not given up
        holder.execute("ROLLBACK")
        for _ in range(600):  # bounded: 30 s
            if tracker.get(symbol, operation) is not None:
                break
            await asyncio.sleep(0.05)
        await link.close()
        return tracker.get(symbol, operation)

    restored = asyncio.run(scenario())
    holder.close()
    assert restored is not None and (restored.failures, restored.retry_at) == (1, 50.0)


def test_edges_of_the_fresh_store_use_the_v1_view_names(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    store = GraphStore(path)
    store.start()
    store.put_edges(SymbolRef(f"{A}#1:1:f", A, "f", 1, 1), "references", [Target(B, 2, 3)])
    store.close()
    assert [r[:7] for r in rows(path, "edges")] == [
        (f"{A}#1:1:f", A, "references", "edge", B, 2, 3)
    ]
    assert graph_cli.ENV_DB == "LSP_BACKOFF_DB"
