"""Emacs 28 + eglot 1.9 (Debian emacs-nox elpa-eglot), batch mode, with
editors/emacs/lsp-backoff-eglot.el: lsp-backoff in front of basedpyright.

The same scenario as the Neovim test, driven by ``emacs_scenario.el``: go to definition,
references, a failing request answered by the proxy after its first failure, and the proxy's
graph read back with the CLI. The sample is copied to tmp so that eglot's project is the
sample itself (in the repository, project.el would pick the whole git checkout).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from editor_checks import assert_scenario
from realtools import EDITORS, EXAMPLES, editor_env, missing

pytestmark = pytest.mark.editor

SCENARIO = Path(__file__).with_name("emacs_scenario.el")
CONFIG = EDITORS / "emacs" / "lsp-backoff-eglot.el"


def emacs_with_eglot() -> str:
    emacs = shutil.which("emacs")
    if emacs is None:
        missing("emacs")
    probe = subprocess.run(
        [emacs, "--batch", "--eval", "(require 'eglot)"],
        capture_output=True,
        timeout=60,
        check=False,
    )
    if probe.returncode != 0:
        missing("emacs", "has no eglot (elpa-eglot)")
    return emacs


@pytest.mark.timeout(210)  # the editor run is given 150 s and reports why it hung
def test_emacs_eglot_through_the_proxy(tmp_path: Path) -> None:
    emacs = emacs_with_eglot()
    project = tmp_path / "examples"
    shutil.copytree(EXAMPLES, project)
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "scenario.json"
    env = {
        **editor_env(tmp_path),
        "HOME": str(home),
        "SCENARIO_FILE": str(project / "app.py"),
        "SCENARIO_OUT": str(out),
    }
    cmd = [emacs, "--batch", "-l", str(CONFIG), "-l", str(SCENARIO)]
    try:
        done = subprocess.run(
            cmd, cwd=project, env=env, capture_output=True, text=True, timeout=150, check=False
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"emacs did not finish within 150 s\n{exc.stdout!r}\n{exc.stderr!r}")
    results = json.loads(out.read_text()) if out.exists() else {}
    if done.returncode != 0 or "error" in results or not results:
        pytest.fail(
            f"emacs exited {done.returncode}; results: {results}\n"
            f"stdout: {done.stdout}\nstderr: {done.stderr[-6000:]}"
        )

    assert results["contact"] == ["lsp-backoff", "--", "basedpyright-langserver", "--stdio"]
    assert_scenario(results, tmp_path / "graph.db")
