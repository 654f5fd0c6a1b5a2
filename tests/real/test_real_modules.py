"""Modules as symbols with real servers (issue 21 item 3): `enrich` records one symbol per
source file (key ``URI#module``) whose references are the places that import it and use its
name, for the servers that answer references at a module name in an import statement
(basedpyright, pyright, zuban: proxy/enrich/modules.py MODULE_SERVERS)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from realtools import REPO, clean_env, find_tool, pyright_command, wheel_server

from lsp_backoff.tracker import queries

pytestmark = [pytest.mark.real_server]

FILES = {
    "pkg/__init__.py": "",
    "pkg/a.py": "def f():\n    return 1\n",
    "pkg/b.py": (
        "from .a import f\n"
        "from . import a\n"
        "import pkg.a\n"
        "from pkg.a import f as g\n"
        "import pkg.a as alias\n"
        "\n"
        "print(f(), a.f(), pkg.a.f(), g(), alias.f())\n"
    ),
    # An import no server resolves: its definition is empty, not a failure.
    "main.py": "from pkg import a\nfrom pkg.b import g\nimport surely_not_installed_21\n",
}


SERVERS = {
    "basedpyright": lambda: [find_tool("basedpyright-langserver"), "--stdio"],
    "pyright": pyright_command,
    "zuban": lambda: [wheel_server("zuban"), "server"],
}


@pytest.mark.parametrize("server", list(SERVERS))
def test_a_module_symbol_has_its_importers_as_references(tmp_path: Path, server: str) -> None:
    ws, db = tmp_path / "ws", tmp_path / "graph.db"
    for name, text in FILES.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    argv = [
        sys.executable, "-m", "lsp_backoff", "enrich", str(ws), "--db", str(db), "--json",
        "--interval", "0.5", "--operation", "references", "--modules",
        "--", *SERVERS[server](),
    ]  # fmt: skip
    env = clean_env(tmp_path)
    env["PYTHONPATH"] = str(REPO)
    done = subprocess.run(
        argv, cwd=ws, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["completed"] is True and summary["missing"] == 0, summary
    assert summary["modules"]["symbols"] == len(FILES), summary

    conn = queries.connect(db)
    try:
        rows: dict[str, dict[str, set[tuple[str, int, int]]]] = {}
        for edge in queries.edges(conn):
            if edge["symbol"].endswith("#module"):
                name = edge["symbol"][len(ws.as_uri()) + 1 : -len("#module")]
                t = edge["target"]
                found = rows.setdefault(name, {}).setdefault(edge["operation"], set())
                if t is not None:
                    found.add((t["uri"][len(ws.as_uri()) + 1 :], t["line"], t["character"]))
        kinds = dict(conn.execute("SELECT name, kind FROM symbols WHERE key GLOB '*#module'"))
    finally:
        conn.close()
    assert kinds == {"pkg": 2, "pkg.a": 2, "pkg.b": 2, "main": 2}, kinds
    b = "pkg/b.py"
    assert rows["pkg/a.py"]["references"] == {
        (b, 0, 6), (b, 1, 14), (b, 2, 11), (b, 3, 9), (b, 4, 11),  # every import statement
        (b, 6, 11), (b, 6, 22),  # uses of the name (`alias.f()` is the alias's)
        ("main.py", 0, 16),  # another file's `from pkg import a`
    }  # fmt: skip
    assert rows["pkg/b.py"]["references"] == {("main.py", 1, 9)}
    assert rows["main.py"]["references"] == set()  # a "none": nothing imports it
    assert rows["pkg/a.py"]["definition"] == {("pkg/a.py", 0, 0)}
    assert len(rows["pkg/a.py"]) == 8  # a pair for every operation: never an orphan
