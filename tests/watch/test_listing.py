"""The watcher's listing is the first pass's listing restricted to the changed paths: for every
tree and every set of changed paths, `list_files(under=…)` equals the full listing filtered to
those paths — with git (ignore rules) and without (the walk's skipped directories)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lsp_backoff.proxy.enrich.files import list_files

FILES = (
    "src/app.py",
    "src/util.rs",
    "src/gen/out.py",
    "src/a[1].py",
    "README.md",
    "node_modules/pkg/index.js",
    ".venv/lib/site.py",
    ".hidden/secret.py",
    "build/lib/copy.py",
    "tests/test_app.py",
    "untracked.py",
)
CHANGED = (
    ["src/app.py"],
    ["src"],  # a directory moved in: one event for everything below it
    ["src/a[1].py"],  # glob characters are literal
    [".venv/lib/site.py", "node_modules", "build"],
    ["src/gen/out.py", "src/util.rs", "README.md", "nowhere.py", "tests"],
    [".hidden"],
)


@pytest.fixture(params=["walk", "git"])
def tree(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    for name in FILES:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")
    if request.param == "git":
        subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
        (tmp_path / ".gitignore").write_text("src/gen/\n")
        subprocess.run(["git", "-C", str(tmp_path), "add", "src", "tests"], check=True)
        subprocess.run(["git", "-C", str(tmp_path), "add", "-f", "build/lib/copy.py"], check=True)
    return tmp_path


@pytest.mark.parametrize("changed", CHANGED, ids=lambda c: ",".join(c))
@pytest.mark.parametrize("globs", [((), ()), (("*.py",), ("tests/*",))], ids=["default", "globs"])
def test_restricted_listing_equals_the_full_one_filtered(
    tree: Path, changed: list[str], globs: tuple[tuple[str, ...], tuple[str, ...]]
) -> None:
    include, exclude = globs
    root = tree.resolve()
    full = list_files(tree, include, exclude)
    expected = [p for p in full if any(_at_or_below(p, root / c) for c in changed)]
    assert list_files(tree, include, exclude, under=changed) == expected


def test_nothing_changed_lists_nothing(tree: Path) -> None:
    assert list_files(tree, under=[]) == []


def _at_or_below(path: Path, changed: Path) -> bool:
    return path == changed or path.is_relative_to(changed)
