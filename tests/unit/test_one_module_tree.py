"""One path per module: `proxy` and `tracker` load only as lsp_backoff.proxy / lsp_backoff.tracker.

In a checkout lsp_backoff/proxy and lsp_backoff/tracker are symbolic links to the top-level
folders (docs/development.md, "Layout"). From the checkout root `import proxy` would find the
folder itself and load every module a second time — other classes, other state. Their
`__init__` refuses that at run time and ruff (TID251) before it runs; both are tested here.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    # `-c` puts the current directory first on sys.path: the checkout root, as a REPL there does.
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    "statement",
    [
        "import proxy",
        "import proxy.framing",
        "import tracker",
        "from tracker.store import GraphStore",
    ],
)
def test_the_folder_names_are_refused_from_the_checkout_root(statement: str) -> None:
    done = run_python(statement)
    assert done.returncode != 0, f"{statement!r} loaded a second copy"
    package = statement.split()[1].split(".")[0]
    assert f"ImportError: import lsp_backoff.{package}, not {package}" in done.stderr


def test_the_checkout_root_loads_each_module_once() -> None:
    done = run_python(
        "import os, sys\n"
        "import lsp_backoff.proxy.cli, lsp_backoff.proxy.enrich, lsp_backoff.tracker.store\n"
        "files = [os.path.realpath(m.__file__) for n, m in list(sys.modules.items())\n"
        "         if n.split('.')[0] in ('lsp_backoff', 'proxy', 'tracker') and m.__file__]\n"
        "print(len(files), len(set(files)), 'proxy' in sys.modules, 'tracker' in sys.modules)\n"
        "print(os.path.realpath(lsp_backoff.proxy.cli.__file__))\n"
    )
    assert done.returncode == 0, done.stderr
    counts, where = done.stdout.splitlines()
    loaded, distinct, proxy, tracker = counts.split()
    assert int(loaded) > 20 and loaded == distinct, "a file was loaded under two names"
    assert (proxy, tracker) == ("False", "False")
    # The one tree is the top-level folder the layout asks for (lsp_backoff/proxy links to it).
    assert where == str(ROOT / "proxy" / "cli.py")


@pytest.mark.parametrize(
    ("source", "banned"),
    [
        ("import proxy\n", True),
        ("from tracker.store import GraphStore\n\nprint(GraphStore)\n", True),
        ("from lsp_backoff.tracker.store import GraphStore\n\nprint(GraphStore)\n", False),
    ],
)
def test_ruff_refuses_the_folder_names(source: str, banned: bool) -> None:
    done = subprocess.run(
        [str(RUFF), "check", "--no-cache", "--select", "TID251", "--stdin-filename",
         "tests/unit/example.py", "-"],
        cwd=ROOT, input=source, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert ("TID251" in done.stdout) == banned, done.stdout + done.stderr
    assert done.returncode == (1 if banned else 0), done.stdout + done.stderr
