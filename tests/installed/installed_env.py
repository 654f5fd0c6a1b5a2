"""The artefact users install, not the checkout (issue 10 item 2): building and installing it.

Not a conftest.py: test modules elsewhere do `from conftest import …` (a second module of that
name would shadow theirs).

The session fixture builds the sdist and, from it, the wheel (``python -m build``, exactly what a
release would upload), installs the wheel into a fresh virtual environment outside the checkout,
and hands the tests its path. Every process the tests start runs from that environment with
PYTHONPATH cleared and a working directory outside the checkout, so nothing here can import the
source tree: a module left out of the wheel fails these tests. This process itself never
imports ``lsp_backoff`` (the test servers are plain pygls scripts).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
#: Never copied into the build tree: environments, caches, earlier builds.
_SKIP = {
    ".git",
    ".venv",
    ".tools",
    "build",
    "dist",
    ".hypothesis",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
}


@dataclass(frozen=True)
class Installed:
    venv: Path
    home: Path  # a working directory outside the checkout
    dist: Path | None  # the sdist and wheel, when built here

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    @property
    def cli(self) -> str:
        return str(self.bin / "lsp-backoff")

    @property
    def python(self) -> str:
        return str(self.bin / "python")

    def env(self) -> dict[str, str]:
        """The environment of a user's shell: no PYTHONPATH pointing into the checkout."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONPATH"] = ""  # the harness merges environments: empty is "unset" to Python
        return env

    def run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args, cwd=self.home, env=self.env(), capture_output=True, text=True, timeout=timeout
        )


def _ignore(directory: str, names: list[str]) -> set[str]:
    return {n for n in names if n in _SKIP or n.endswith(".egg-info") or n == "__pycache__"}


def build(root: Path) -> Installed:
    """sdist, then a wheel from that sdist, then a fresh venv with the wheel; all under root."""
    # Built from a copy of the working tree, so no build artefact lands in the checkout and no
    # stale egg-info from an earlier build can add a file the tree no longer has.
    tree, dist, venv, home = root / "tree", root / "dist", root / "venv", root / "home"
    shutil.copytree(REPO, tree, symlinks=True, ignore=_ignore)
    home.mkdir()
    # No build isolation: the build backend (setuptools, in the `test` extra) is already here,
    # and a fresh one per build costs a minute on a busy machine. Without isolation the wheel
    # is still built from the unpacked sdist, so the sdist is tested too.
    build = [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(tree)]
    # The build and the install get a user's environment too: tests/conftest.py put the
    # checkout on PYTHONPATH, where an editable install's lsp_backoff.egg-info would make pip
    # believe lsp-backoff is already installed in the fresh venv and skip the wheel.
    env = Installed(venv, home, dist).env()
    done = subprocess.run(build, capture_output=True, text=True, cwd=root, env=env, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = sorted(dist.glob("*.whl"))
    assert len(wheels) == 1 and len(list(dist.glob("*.tar.gz"))) == 1, list(dist.iterdir())
    # A venv without pip of its own (ensurepip is slow), filled by this interpreter's pip.
    # Dependencies come from pip's cache (filled when `make` installed .venv) or the index.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    pip = [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
    done = subprocess.run(
        [*pip, "--quiet", str(wheels[0])],
        capture_output=True,
        text=True,
        cwd=home,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    listed = subprocess.run([*pip[:-1], "show", "lsp-backoff"], capture_output=True, env=env)
    assert listed.returncode == 0, "the wheel was not installed into the fresh venv"
    return Installed(venv, home, dist)
