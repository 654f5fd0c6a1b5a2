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
from editor_checks import assert_scenario
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


@pytest.mark.timeout(210)  # the editor run is given 150 s and reports why it hung
def test_neovim_through_the_proxy(tmp_path: Path) -> None:
    results = run_nvim(tmp_path)
    assert results["cmd"] == ["lsp-backoff", "--", "basedpyright-langserver", "--stdio"]
    references = assert_scenario(results, tmp_path / "graph.db")
    assert any("plugins" in m for m in results["diagnostics"]), results["diagnostics"]
    # Go to definition jumped to `def summarize` (1-based line, 0-based column).
    assert results["definition"]["col"] == 4
    # Every reference Neovim showed is an edge in the graph.
    edges = graph_cli("edges", "--json", "--db", str(tmp_path / "graph.db"))
    assert len(edges_for(edges, "Shape", "references")) == len(references)
