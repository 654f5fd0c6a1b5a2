"""Neovim 0.11, headless, with editors/neovim/lsp-backoff.lua: lsp-backoff in front of basedpyright.

The editor config is used as is (``-u editors/neovim/lsp-backoff.lua``); the test only puts
this virtualenv's ``bin/`` first on PATH (so ``lsp-backoff`` and ``basedpyright-langserver``
resolve as they would for a user), points every XDG directory at tmp, and tells the proxy
where its database is through ``$LSP_BACKOFF_DB``. ``nvim_scenario.lua`` drives the editor
and writes what happened as JSON; the proxy's database is then read with the graph CLI.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pairing import edges_for, graph_cli
from realtools import EDITORS, EXAMPLES, editor_env, find_tool

pytestmark = pytest.mark.editor

SCENARIO = Path(__file__).with_name("nvim_scenario.lua")
CONFIG = EDITORS / "neovim" / "lsp-backoff.lua"


def run_nvim(tmp: Path) -> dict[str, Any]:
    nvim = find_tool("nvim")
    find_tool("basedpyright-langserver")
    out = tmp / "scenario.json"
    env = {**editor_env(tmp), "SCENARIO_FILE": str(EXAMPLES / "app.py"), "SCENARIO_OUT": str(out)}
    cmd = [nvim, "--headless", "--clean", "-u", str(CONFIG), "-S", str(SCENARIO)]
    try:
        done = subprocess.run(
            cmd, cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=150, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"nvim did not finish within 150 s\n{exc.stdout!r}\n{exc.stderr!r}\n{lsp_log(tmp)}"
        )
    results = json.loads(out.read_text()) if out.exists() else {}
    if done.returncode != 0 or "error" in results or not results:
        pytest.fail(
            f"nvim exited {done.returncode}; results: {results}\n"
            f"stdout: {done.stdout}\nstderr: {done.stderr}\n{lsp_log(tmp)}"
        )
    return results


def lsp_log(tmp: Path) -> str:
    log = tmp / "state" / "nvim" / "lsp.log"
    return f"lsp.log:\n{log.read_text()[-4000:]}" if log.exists() else "(no lsp.log)"


def test_neovim_through_the_proxy(tmp_path: Path) -> None:
    results = run_nvim(tmp_path)
    assert results["cmd"] == ["lsp-backoff", "--", "basedpyright-langserver", "--stdio"]
    assert results["server_name"] == "basedpyright"
    assert any("plugins" in m for m in results["diagnostics"]), results["diagnostics"]

    # Go to definition jumped to `def summarize` in report.py (1-based line, 0-based column).
    definition = results["definition"]
    assert definition["file"].endswith("/examples/report.py")
    assert (definition["line"], definition["col"]) == (10, 4)

    # References to Shape: its declaration plus uses in every module that imports it.
    references = results["references"]
    assert "base.py:4" in references
    assert {r.split(":")[0] for r in references} >= {"base.py", "report.py", "circle.py"}

    # The failing request: basedpyright's error the first time, the proxy's null the second.
    failing = results["failing"]
    assert failing["first_error"] == -32603
    assert failing["second_error"] is None and failing["second_result"] is None
    stats = results["stats"]
    assert stats["failures"] == 1 and stats["short_circuited"] == 1, stats
    assert results["flush"] == {"committed": True}

    # What Neovim asked is in the proxy's graph.
    edges = graph_cli("edges", "--json", "--db", str(tmp_path / "graph.db"))
    rows = edges_for(edges, "summarize", "definition", uri_suffix="/app.py")
    assert rows and rows[0]["target"]["uri"].endswith("/report.py"), rows
    assert len(edges_for(edges, "Shape", "references")) == len(references)
