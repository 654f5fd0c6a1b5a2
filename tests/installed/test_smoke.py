"""Smoke tests of the installed wheel: every module, the commands, a session, enrich, the graph.

Everything runs from the fresh environment built by conftest.py (``installed``), never from the
checkout; the first test proves it module by module.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sys
from pathlib import Path

import pytest
from installed_env import REPO, Installed

sys.path.insert(0, str(REPO / "tests" / "e2e"))

from harness import Doc, Session, count, server_cmd

# The first test also waits for the build and the install (a minute or two on a busy machine;
# installed_env.py gives each 300 s), and the enrich test gives enrich 300 s.
pytestmark = pytest.mark.timeout(900)
VERSION = re.search(r'__version__ = "([^"]+)"', (REPO / "lsp_backoff" / "__init__.py").read_text())


def source_modules() -> list[str]:
    """Every module of the source tree, under the name it has once installed."""
    names = ["lsp_backoff"]
    for top in ("proxy", "tracker"):
        for path in sorted((REPO / top).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            names.append(".".join(("lsp_backoff", *parts)))
    return names


# Imports each module (`__main__` ones are only found: importing them runs the command) and
# prints where it came from.
WHERE = """
import importlib, importlib.util, json, sys
out = {}
for name in sys.argv[1:]:
    if name.endswith("__main__"):
        out[name] = importlib.util.find_spec(name).origin
    else:
        out[name] = importlib.import_module(name).__file__
print(json.dumps(out))
"""


def test_every_module_of_the_tree_is_installed_and_imported_from_the_venv(
    installed: Installed,
) -> None:
    modules = source_modules()
    assert "lsp_backoff.proxy.enrich.runner" in modules  # the walk found the subpackages
    done = installed.run(installed.python, "-c", WHERE, *modules)
    assert done.returncode == 0, done.stderr
    where = json.loads(done.stdout)
    venv = installed.venv.resolve()
    outside = {name: file for name, file in where.items() if not Path(file).is_relative_to(venv)}
    assert not outside, f"imported from outside {venv}: {outside}"
    assert Path(where["lsp_backoff"]).is_relative_to(venv)
    # Data files travel too: the schema the store creates databases from.
    schema = Path(where["lsp_backoff.tracker"]).parent / "schema.sql"
    assert schema.read_bytes() == (REPO / "tracker" / "schema.sql").read_bytes()


def test_the_old_top_level_names_are_not_installed(installed: Installed) -> None:
    # PyPI has unrelated `proxy` and `tracker` packages: the wheel must not shadow them.
    probe = "import importlib.util as u; print(u.find_spec('proxy'), u.find_spec('tracker'))"
    done = installed.run(installed.python, "-c", probe)
    assert done.stdout.strip() == "None None", done.stdout + done.stderr


@pytest.mark.parametrize("how", ["script", "module"])
def test_version(installed: Installed, how: str) -> None:
    assert VERSION is not None
    cmd = [installed.cli] if how == "script" else [installed.python, "-m", "lsp_backoff"]
    done = installed.run(*cmd, "--version")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"lsp-backoff {VERSION[1]}"


@pytest.mark.parametrize("command", [[], ["enrich"], ["edges"], ["orphans"], ["stats"], ["reset"]])
def test_help(installed: Installed, command: list[str]) -> None:
    done = installed.run(installed.cli, *command, "--help")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("usage: lsp-backoff"), done.stdout
    if not command:
        assert "example:" in done.stdout and "enrich" in done.stdout


async def test_a_proxied_session(installed: Installed, tmp_path: Path) -> None:
    """initialize, a tracked request, a failure, a short-circuited repeat, shutdown."""
    db = tmp_path / "graph.db"
    cmd = [installed.cli, "--db", str(db), "--backoff-base", "60", "--"]
    proc = await asyncio.create_subprocess_exec(
        *cmd,
        *server_cmd("always_fails"),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=installed.home,
        env=installed.env(),
    )
    session = Session(proc)
    try:
        doc = Doc(tmp_path / "ws" / "a.py", "def good(): pass\ndef bad(): pass\n")
        response = await session.initialize(tmp_path / "ws")
        assert "capabilities" in response["result"]
        session.open(doc.uri, doc.text)
        found = await session.ask(doc.uri, doc.pos("good"))
        assert found["result"]["uri"] == doc.uri
        failed = await session.ask(doc.uri, doc.pos("bad"))
        assert "error" in failed
        again = await session.ask(doc.uri, doc.pos("bad"))
        assert again == {"jsonrpc": "2.0", "id": again["id"], "result": None}
        assert count(await session.counts(), "bad") == 1  # the repeat never reached the server
        stats = await session.stats()
        assert (stats["tracked"], stats["failures"], stats["short_circuited"]) == (3, 1, 1)
        await session.flush()
        assert await session.shutdown() == 0
    finally:
        await session.close()
    # The test server logs its own tracebacks (passed on); none may come from the proxy.
    assert "lsp_backoff/" not in session.stderr_text, session.stderr_text


def basedpyright() -> str | None:
    found = shutil.which("basedpyright-langserver")
    local = REPO / ".venv" / "bin" / "basedpyright-langserver"
    return found or (str(local) if local.exists() else None)


def graph(installed: Installed, *args: str) -> list[dict]:
    done = installed.run(installed.cli, *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()]


@pytest.mark.real_server
async def test_enrich_examples_then_the_graph_commands(
    installed: Installed, tmp_path: Path
) -> None:
    server = basedpyright()
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail("basedpyright-langserver is not installed (make install)")
        pytest.skip("basedpyright-langserver not installed")
    workspace = tmp_path / "examples"
    shutil.copytree(REPO / "examples", workspace)
    db = str(tmp_path / "graph.db")
    done = installed.run(
        installed.cli, "enrich", str(workspace), "--db", db, "--json", "--",
        server, "--stdio", timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["completed"] and summary["files"] >= 5 and summary["symbols"] > 10, summary

    edges = graph(installed, "edges", "--db", db, "--json")
    assert {row["kind"] for row in edges} <= {"edge", "none", "error"}
    assert any(row["kind"] == "edge" for row in edges)
    assert all(row["uri"].startswith(workspace.as_uri()) for row in edges)
    assert graph(installed, "orphans", "--db", db, "--json") == []  # the run completed
    (stats,) = graph(installed, "stats", "--db", db, "--json")
    assert stats["symbols"] == summary["symbols"]
    assert stats["edges"] == sum(1 for row in edges if row["kind"] == "edge")

    # basedpyright on examples/ fails nothing: seed a failure (a server that fails `bad*`)
    # in the same database, so that reset has something to forget.
    seeded = Doc(workspace / "seeded.py", "def bad_seed(): pass\n")
    await fail_once(installed, Path(db), workspace, seeded, "bad_seed")
    (failed,) = graph(installed, "stats", "--db", db, "--json")
    assert (failed["error"], failed["backoff"], failed["skipped"]) == (0, 1, 0), failed
    key = f"{seeded.uri}#0:4:bad_seed"
    assert orphan_state(installed, db, key) == "backoff"

    done = installed.run(installed.cli, "reset", "--db", db)
    assert done.returncode == 0, done.stderr
    (after,) = graph(installed, "stats", "--db", db, "--json")
    assert (after["error"], after["backoff"], after["skipped"]) == (0, 0, 0)
    assert after["edges"] == stats["edges"]  # reset forgets failures, not what was learnt
    # The seeded symbol is an orphan ready to be asked again, no longer backing off.
    assert orphan_state(installed, db, key) == "ready"


def orphan_state(installed: Installed, db: str, key: str) -> str:
    """The state `orphans` gives the symbol's definition (it must be listed)."""
    rows = graph(installed, "orphans", "--db", db, "--operation", "definition", "--json")
    (row,) = [row for row in rows if row["symbol"] == key]
    return str(row["state"])


async def fail_once(installed: Installed, db: Path, root: Path, doc: Doc, name: str) -> None:
    """One session through the installed proxy whose server fails `name`'s definition."""
    proc = await asyncio.create_subprocess_exec(
        installed.cli, "--db", str(db), "--backoff-base", "60", "--",
        *server_cmd("always_fails"),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, cwd=installed.home, env=installed.env(),
    )  # fmt: skip
    session = Session(proc)
    try:
        await session.initialize(root)
        session.open(doc.uri, doc.text)
        assert "error" in await session.ask(doc.uri, doc.pos(name))
        await session.flush()
        assert await session.shutdown() == 0
    finally:
        await session.close()
