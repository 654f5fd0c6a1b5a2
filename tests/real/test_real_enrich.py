"""One symbol, one key, for every real server: `enrich` on a sample in its language leaves
nothing unresolved and the graph has one node per declaration (issue 15).

For each server — basedpyright, pyright, jedi-language-server (examples/), clangd on C
(tests/samples/c_project) and C++ (cpp_project), typescript-language-server (ts_project) and
the fake rust-analyzer (rust_project) — `lsp-backoff enrich` runs as a user runs it, over every
operation, and then:

- it exits 0 with ``completed`` true, ``unresolved`` 0 and nothing ``missing``: every listed
  symbol has data or a placeholder for every operation;
- the orphan query agrees (no row for the workspace);
- no identifier start has two keys, and every key is the one the document's text gives at its
  position (``uri#line:character:identifier``) — never a server's display name such as
  clangd's ``Arena::Allocate``, TypeScript's ``Client.#send`` or rust-analyzer's ``r#type``.

Before keys came from the text (main at ef521bd, default operations), the same runs ended
"completed", exit 0, with orphans for ever: C++ 104 (symbol, operation) pairs over 48 symbols
and 11 identifier starts with two keys; TypeScript 4 pairs (every ``#private`` method); the
fake rust-analyzer 2 (``r#type``).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from realtools import (
    EXAMPLES,
    REPO,
    SAMPLES,
    TYPESCRIPT_LANGSERVER,
    TYPESCRIPT_LANGUAGE_SERVER_VERSION,
    TYPESCRIPT_VERSION,
    clean_env,
    find_tool,
    pyright_command,
    typescript_command,
)

from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.enrich.files import language_id
from lsp_backoff.proxy.reads import read_file
from lsp_backoff.tracker import queries
from lsp_backoff.tracker.model import OPERATIONS

pytestmark = [pytest.mark.real_server]

FAKE_RUST_ANALYZER = Path(__file__).with_name("fake_rust_analyzer.py")


def compile_commands(std: str) -> Callable[[Path], None]:
    """A compile_commands.json with absolute paths, as clangd wants it (see c_project/README)."""

    def write(root: Path) -> None:
        sources = [p for p in sorted(root.iterdir()) if p.suffix in (".c", ".cc", ".cpp")]
        database = [
            {
                "directory": str(root),
                "file": str(path),
                "arguments": [
                    "cc" if path.suffix == ".c" else "c++",
                    f"-std={std}",
                    "-c",
                    path.name,
                ],
            }
            for path in sources
        ]
        (root / "compile_commands.json").write_text(json.dumps(database, indent=1))

    return write


def nothing(_root: Path) -> None:
    pass


def clangd() -> list[str]:
    # No background index: indexing the C++ standard library keeps clangd "busy" (an open
    # $/progress) for longer than enrich asks an empty answer again, and empty answers while
    # busy are never definitive (docs/behaviour.md: readiness rule). Keys are what is tested here.
    return [find_tool("clangd"), "--log=error", "--background-index=false"]


# name: (sample, server command (may skip), workspace preparation)
SERVERS: dict[str, tuple[Path, Callable[[], list[str]], Callable[[Path], None]]] = {
    "basedpyright": (EXAMPLES, lambda: [find_tool("basedpyright-langserver"), "--stdio"], nothing),
    "pyright": (EXAMPLES, pyright_command, nothing),
    "jedi": (EXAMPLES, lambda: [find_tool("jedi-language-server")], nothing),
    "clangd-c": (SAMPLES / "c_project", clangd, compile_commands("c11")),
    "clangd-cpp": (SAMPLES / "cpp_project", clangd, compile_commands("c++17")),
    "typescript": (SAMPLES / "ts_project", typescript_command, nothing),
    # rust-analyzer cannot be installed here: the fake names its items as it does (r#type).
    "fake-rust-analyzer": (
        SAMPLES / "rust_project",
        lambda: [sys.executable, str(FAKE_RUST_ANALYZER), "--loading-requests", "2"],
        nothing,
    ),
}  # fmt: skip


def run_enrich(tmp: Path, sample: Path, server: list[str]) -> tuple[int, dict[str, Any], str]:
    ws, db = tmp / "ws", tmp / "graph.db"
    argv = [
        sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(db), "--json",
        "--interval", "0.5", "--backoff-base", "0.3", "--max-wait", "30",
        *(arg for op in OPERATIONS for arg in ("--operation", op)),
        "--", *server,
    ]  # fmt: skip
    env = clean_env(tmp)
    env["PYTHONPATH"] = str(REPO)  # the checkout, not whatever the venv points at
    done = subprocess.run(
        argv, cwd=ws, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    lines = done.stdout.strip().splitlines()
    summary = json.loads(lines[-1]) if lines else {}
    return done.returncode, summary, done.stderr[-3000:]


@pytest.mark.timeout(360)  # run_enrich gives the run 300 s
@pytest.mark.parametrize("name", list(SERVERS))
def test_enrich_leaves_no_orphans_and_one_key_per_identifier(name: str, tmp_path: Path) -> None:
    sample, command, prepare = SERVERS[name]
    server = command()
    ws = tmp_path / "ws"
    shutil.copytree(sample, ws, ignore=shutil.ignore_patterns(".cache", "__pycache__"))
    prepare(ws)

    status, summary, stderr = run_enrich(tmp_path, sample, server)

    assert summary, stderr
    assert (summary["unresolved"], summary["orphans"]) == (0, []), summary["orphans"][:5]
    assert status == 0, (status, stderr)
    assert summary["completed"] is True and summary["missing"] == 0, summary
    assert summary["symbols"] > 5, summary
    conn = queries.connect(tmp_path / "graph.db")
    try:
        prefix = ws.as_uri() + "/"
        left = [
            r for r in queries.orphans(conn, operations=OPERATIONS) if r["uri"].startswith(prefix)
        ]
        assert left == [], left[:5]
        symbols = conn.execute("SELECT key, uri, line, character FROM symbols").fetchall()
    finally:
        conn.close()
    assert_one_key_per_identifier(symbols)


def assert_one_key_per_identifier(symbols: list[sqlite3.Row | tuple[Any, ...]]) -> None:
    """No two keys share an identifier start, and each key is what the text says there."""
    starts: dict[tuple[str, int, int], list[str]] = {}
    docs = Documents()
    wrong = []
    for key, uri, line, character in symbols:
        starts.setdefault((uri, line, character), []).append(key)
        if not docs.is_open(uri):
            docs.note_language(uri, language_id(uri))  # as enrich opened it
            docs.open(uri, read_file(uri) or "")  # Documents only knows what it is given
        expected, _ = docs.symbol_at(uri, line, character)
        if expected != key:
            wrong.append((key, expected))
    doubled = {start: keys for start, keys in starts.items() if len(keys) > 1}
    assert doubled == {}, doubled
    assert wrong == [], wrong


def test_typescript_language_server_is_the_pinned_one() -> None:
    typescript_command()  # skips (fails under CI=true) when not installed
    modules = TYPESCRIPT_LANGSERVER.parents[2]
    for package, version in (
        ("typescript-language-server", TYPESCRIPT_LANGUAGE_SERVER_VERSION),
        ("typescript", TYPESCRIPT_VERSION),
    ):
        meta = json.loads((modules / package / "package.json").read_text())
        assert meta["version"] == version, (
            package,
            meta["version"],
            "run scripts/install-tools.sh",
        )
    assert os.access(TYPESCRIPT_LANGSERVER, os.R_OK)
