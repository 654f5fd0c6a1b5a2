"""The graph subcommands, driven through a small argparse harness built with add_commands."""

from __future__ import annotations

import argparse
import json
import sqlite3
from pathlib import Path

import pytest

from lsp_backoff.proxy.graph_cli import add_commands
from lsp_backoff.tracker.model import FailureState, SymbolRef, Target
from lsp_backoff.tracker.store import GraphStore

DOC = "file:///w/a.py"
FOO = SymbolRef(f"{DOC}#1:4:foo", DOC, "foo", 1, 4, 12, "h1")
BAR = SymbolRef(f"{DOC}#5:0:bar", DOC, "bar", 5, 0, 5, "h1")
EDGE_FIELDS = [
    "symbol",
    "name",
    "uri",
    "line",
    "character",
    "operation",
    "kind",
    "target",
    "detail",
    "recorded_at",
]


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="lsp-backoff")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delenv("LSP_BACKOFF_DB", raising=False)
    path = tmp_path / "graph.db"
    store = GraphStore(path)
    store.start()
    store.put_document(DOC, "h1")
    store.put_symbols([FOO, BAR], "document_symbol")
    store.put_edges(FOO, "references", [Target("file:///w/b.py", 7, 8)])
    store.put_placeholder(BAR, "references", "error", "gave up")
    store.put_failure(
        FailureState(BAR.key, DOC, "references", 8, skipped=True, retry_at=2e9, version="h1")
    )
    store.put_failure(FailureState(FOO.key, DOC, "implementation", 1, retry_at=4e9, version="h1"))
    store.close()
    return str(path)


def json_lines(out: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.splitlines()]


def test_edges_json_has_exactly_the_documented_fields(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["edges", "--db", db, "--json"]) == 0
    rows = json_lines(capsys.readouterr().out)
    assert [list(r) for r in rows] == [EDGE_FIELDS, EDGE_FIELDS]
    assert [(r["name"], r["kind"]) for r in rows] == [("foo", "edge"), ("bar", "error")]
    assert rows[0]["target"] == {"uri": "file:///w/b.py", "line": 7, "character": 8}


def test_edges_filters_and_table(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["edges", "--db", db, "--symbol", FOO.key, "--operation", "references"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["NAME", "SYMBOL", "AT", "OPERATION", "KIND", "TARGET", "DETAIL"]
    assert lines[1].split() == ["foo", f"{DOC}:1:4", "references", "edge", "file:///w/b.py:7:8"]
    assert len(lines) == 2


def test_orphans_states_and_ready(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["orphans", "--db", db, "--operation", "references", "--operation", "implementation"]
    assert run([*argv, "--json"]) == 0
    rows = json_lines(capsys.readouterr().out)
    assert [(r["name"], r["operation"], r["state"]) for r in rows] == [
        ("foo", "implementation", "backoff"),
        ("bar", "implementation", "ready"),
    ]
    assert rows[0]["retry_at"] == "2096-10-02T07:06:40.000+00:00"
    assert run([*argv, "--ready"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["NAME", "bar"]


def test_orphans_pages_with_limit_and_after(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["orphans", "--db", db, "--json", "--operation", "implementation"]
    assert run([*argv, "--limit", "1"]) == 0
    (first,) = json_lines(capsys.readouterr().out)
    assert first["name"] == "foo"
    assert run([*argv, "--limit", "1", "--after", str(first["symbol"])]) == 0
    assert [r["name"] for r in json_lines(capsys.readouterr().out)] == ["bar"]
    assert run([*argv, "--after", BAR.key]) == 0
    assert capsys.readouterr().out == ""
    assert run([*argv, "--after", f"{DOC}#99:0:gone"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--after" in err
    with pytest.raises(SystemExit):
        run([*argv, "--limit", "0"])


def test_stats_json_and_table(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["stats", "--db", db, "--json"]) == 0
    (result,) = json_lines(capsys.readouterr().out)
    assert isinstance(result["operations"], dict)
    assert result["operations"]["references"] == {
        "symbols": 2,
        "edges": 1,
        "none": 0,
        "error": 1,
        "backoff": 0,
        "skipped": 1,
    }
    assert run(["stats", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "documents: 1  symbols: 2"
    assert ["references", "2", "1", "0", "1", "0", "1"] in [line.split() for line in lines]
    assert lines[-1].split() == ["total", "2", "1", "0", "1", "1", "1"]


def orphan_states(
    db: str, capsys: pytest.CaptureFixture[str]
) -> dict[tuple[object, object], object]:
    argv = ["orphans", "--db", db, "--json", "--operation", "references"]
    assert run([*argv, "--operation", "implementation"]) == 0
    return {(r["name"], r["operation"]): r["state"] for r in json_lines(capsys.readouterr().out)}


def test_reset_then_orphans_again(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    # bar's references: skipped for good (not listed); foo's implementation: backing off.
    assert orphan_states(db, capsys) == {
        ("foo", "implementation"): "backoff",
        ("bar", "implementation"): "ready",  # never asked
    }
    assert run(["reset", "--db", db, "--uri", "file:///elsewhere.py"]) == 0
    assert "0 symbol/operation pairs" in capsys.readouterr().out
    assert run(["reset", "--db", db]) == 0
    assert "2 symbol/operation pairs" in capsys.readouterr().out
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM failures").fetchone() == (0,)
    # Both are orphans to be asked again; bar's error placeholder went with its failure state.
    assert orphan_states(db, capsys) == {
        ("foo", "implementation"): "ready",
        ("bar", "implementation"): "ready",
        ("bar", "references"): "ready",
    }


def test_database_from_the_environment(
    db: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LSP_BACKOFF_DB", db)
    assert run(["edges", "--json"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 2


def test_no_database_given(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LSP_BACKOFF_DB", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert run(["stats"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lsp-backoff: no database: pass --db PATH or set LSP_BACKOFF_DB")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("content", [None, b"not a database" * 200, "foreign"])
def test_missing_or_foreign_database_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | str | None
) -> None:
    path = tmp_path / "x.db"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content == "foreign":
        conn = sqlite3.connect(path)
        conn.execute("CREATE TABLE t (x)")
        conn.commit()
        conn.close()
    for command in ("edges", "orphans", "stats", "reset"):
        assert run([command, "--db", str(path)]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err.count("\n") == 1
        assert str(path) in captured.err
    assert path.exists() == (content is not None)  # a reader never creates the file


def test_unknown_operation_is_a_usage_error(db: str) -> None:
    with pytest.raises(SystemExit) as exc:
        run(["orphans", "--db", db, "--operation", "hover"])
    assert exc.value.code == 2


def test_without_db_the_current_directorys_workspace_file_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from lsp_backoff.proxy.config import default_database

    monkeypatch.delenv("LSP_BACKOFF_DB", raising=False)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    workspace = tmp_path / "proj"
    workspace.mkdir()
    monkeypatch.chdir(workspace)
    assert run(["stats", "--json"]) == 2
    assert str(default_database(str(workspace))) in capsys.readouterr().err
    # A proxy told rootUri file:///…/proj/ (trailing slash) writes the same file.
    store = GraphStore(default_database(str(workspace) + "/"))
    store.start()
    store.put_symbols([FOO], "document_symbol")
    store.close()
    assert run(["stats", "--json"]) == 0
    assert json_lines(capsys.readouterr().out)[0]["symbols"] == 1
