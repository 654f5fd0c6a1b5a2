"""Workspace listing: git ls-files honours .gitignore, the walk skips the usual directories,
--include/--exclude apply on top of either."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from lsp_backoff.proxy.enrich.files import language_id, list_files


def make(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def rel(root: Path, paths: list[Path]) -> list[str]:
    return [p.relative_to(root.resolve()).as_posix() for p in paths]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    make(
        tmp_path,
        "src/app.py",
        "src/util.rs",
        "src/gen/out.py",
        "README.md",
        "node_modules/pkg/index.js",
        ".venv/lib/site.py",
        ".hidden/secret.py",
        "build/lib/copy.py",
        "__pycache__/x.py",
        "tests/test_app.py",
    )
    return tmp_path


def test_walk_skips_vcs_dependency_build_and_hidden_dirs(tree: Path) -> None:
    assert rel(tree, list_files(tree)) == [
        "src/app.py",
        "src/gen/out.py",
        "src/util.rs",
        "tests/test_app.py",
    ]


def test_git_listing_keeps_ignored_files_out(tree: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    (tree / ".gitignore").write_text("src/gen/\n*.rs\n")
    make(tree, "untracked.py")  # untracked but not ignored: an indexer wants it
    subprocess.run(["git", "-C", str(tree), "add", "src/app.py", "tests"], check=True)
    # Tracked files always count; untracked ones also pass the walk's skip list.
    subprocess.run(["git", "-C", str(tree), "add", "-f", "build/lib/copy.py"], check=True)
    assert rel(tree, list_files(tree)) == [
        "build/lib/copy.py",
        "src/app.py",
        "tests/test_app.py",
        "untracked.py",
    ]


def test_git_listing_from_a_subdirectory_of_the_repository(tree: Path) -> None:
    subprocess.run(["git", "init", "-q", str(tree)], check=True)
    assert rel(tree / "src", list_files(tree / "src")) == ["app.py", "gen/out.py", "util.rs"]


def test_include_replaces_the_extension_filter(tree: Path) -> None:
    assert rel(tree, list_files(tree, include=["*.md", "src/*.rs"])) == [
        "README.md",
        "src/util.rs",
    ]


def test_exclude_by_glob_and_by_directory(tree: Path) -> None:
    assert rel(tree, list_files(tree, exclude=["test_*", "src/gen"])) == [
        "src/app.py",
        "src/util.rs",
    ]


def test_language_ids() -> None:
    assert language_id("a/b.py") == "python"
    assert language_id("x.TSX") == "typescriptreact"
    assert language_id("Makefile") == "plaintext"
