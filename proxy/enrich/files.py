"""Which files of a workspace `lsp-backoff enrich` opens, and the languageId each one gets.

A git work tree is listed with `git ls-files` (tracked plus untracked-but-not-ignored files), so
whatever .gitignore keeps out stays out. Anywhere else a directory walk skips VCS, dependency and
build directories and every hidden directory. `--include`/`--exclude` globs apply on top of either
listing; without `--include` only files with a common source extension are kept, because opening
a README or a lockfile only costs the server time and yields no symbols.

This module does no LSP and no I/O beyond listing; it never reads file contents.
"""

from __future__ import annotations

import fnmatch
import os
import subprocess
from collections.abc import Iterable, Sequence
from pathlib import Path

#: Extension -> LSP languageId (spec 3.17, "Text Document Item": the table of known identifiers).
LANGUAGE_IDS: dict[str, str] = {
    ".py": "python",
    ".pyi": "python",
    ".c": "c",
    ".h": "c",
    ".cc": "cpp",
    ".cpp": "cpp",
    ".cxx": "cpp",
    ".hh": "cpp",
    ".hpp": "cpp",
    ".hxx": "cpp",
    ".m": "objective-c",
    ".mm": "objective-cpp",
    ".rs": "rust",
    ".go": "go",
    ".ts": "typescript",
    ".tsx": "typescriptreact",
    ".js": "javascript",
    ".jsx": "javascriptreact",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".java": "java",
    ".kt": "kotlin",
    ".scala": "scala",
    ".cs": "csharp",
    ".rb": "ruby",
    ".php": "php",
    ".swift": "swift",
    ".lua": "lua",
    ".zig": "zig",
    ".hs": "haskell",
    ".ml": "ocaml",
    ".ex": "elixir",
    ".exs": "elixir",
    ".erl": "erlang",
    ".dart": "dart",
    ".sh": "shellscript",
}

#: Directories a walk never enters (besides every hidden one): VCS data, dependencies, builds.
SKIP_DIRS: frozenset[str] = frozenset(
    {"node_modules", "venv", "__pycache__", "build", "dist", "target", "site-packages"}
)


def language_id(path: str | os.PathLike[str]) -> str:
    """The languageId for a file; "plaintext" for an unknown extension (the spec's fallback)."""
    return LANGUAGE_IDS.get(Path(path).suffix.lower(), "plaintext")


def list_files(
    workspace: str | os.PathLike[str],
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    under: Sequence[str] | None = None,
) -> list[Path]:
    """The workspace's source files as absolute paths, sorted.

    Globs match the path relative to the workspace (POSIX separators) or the bare file name, so
    `*.py`, `src/*` and `tests/**` all do what they look like (fnmatch's `*` crosses `/`).
    `under` (relative paths of files or directories) restricts the listing to those paths: how
    `enrich --watch` asks which changed paths are workspace files by the very same rules,
    without listing the whole tree.
    """
    root = Path(workspace).resolve()
    if under is not None and not under:
        return []  # no pathspec would mean "everything" to git
    relative = _git_files(root, under)
    if relative is None:
        relative = _walk(root) if under is None else _walk_under(root, under)
    chosen = [rel for rel in relative if _wanted(rel, include, exclude)]
    return sorted(root / rel for rel in chosen if (root / rel).is_file())


def _wanted(rel: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include:
        if not _matches(rel, include):
            return False
    elif Path(rel).suffix.lower() not in LANGUAGE_IDS:
        return False
    return not _matches(rel, exclude)


def _matches(rel: str, globs: Iterable[str]) -> bool:
    name = rel.rsplit("/", 1)[-1]
    for glob in globs:
        pattern = glob.rstrip("/")
        if fnmatch.fnmatchcase(rel, pattern) or fnmatch.fnmatchcase(name, pattern):
            return True
        # A directory glob ("build", "src/gen") excludes or includes everything below it.
        if rel.startswith(pattern + "/") or fnmatch.fnmatchcase(rel, pattern + "/*"):
            return True
    return False


def _git_files(root: Path, under: Sequence[str] | None = None) -> list[str] | None:
    """Paths relative to `root` from git, or None when `root` is not inside a work tree."""
    try:
        inside = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--is-inside-work-tree"],
            capture_output=True,
            text=True,
            check=False,
        )
    except OSError:
        return None  # no git installed: the walk is the documented fallback
    if inside.returncode != 0 or inside.stdout.strip() != "true":
        return None
    spec = () if under is None else ("--", *under)
    tracked = _git_ls(root, "--cached", *spec)
    others = _git_ls(root, "--others", "--exclude-standard", *spec)
    if tracked is None or others is None:
        return None
    # Tracked files are the project's by definition; untracked ones pass the walk's skip rules
    # too, because a .venv or node_modules nobody listed in .gitignore is still not source.
    others = [name for name in others if not _skipped_dir(name)]
    # dict.fromkeys: a file with unmerged stages appears once per stage.
    return list(dict.fromkeys([*tracked, *others]))


def _git_ls(root: Path, *options: str) -> list[str] | None:
    # Literal pathspecs: a changed file named `a[1].py` means itself, not a glob.
    command = ["git", "--literal-pathspecs", "-C", str(root), "ls-files", "-z", *options]
    listing = subprocess.run(command, capture_output=True, check=False)
    if listing.returncode != 0:
        return None
    # ls-files prints paths relative to the directory it runs in (root).
    names = listing.stdout.decode("utf-8", "surrogateescape").split("\0")
    return [name for name in names if name]


def _skipped_dir(rel: str) -> bool:
    return any(part.startswith(".") or part in SKIP_DIRS for part in rel.split("/")[:-1])


def _walk(root: Path) -> list[str]:
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        # Pruning in place stops os.walk from descending (documented os.walk behaviour).
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in SKIP_DIRS)
        base = Path(dirpath).relative_to(root)
        for filename in filenames:
            found.append((base / filename).as_posix())
    return found


def _walk_under(root: Path, under: Sequence[str]) -> list[str]:
    """The walk's answer restricted to `under`: the same skip rules, only below those paths."""
    found: list[str] = []
    for rel in under:
        path = root / rel
        if path.is_dir():
            if not _skipped_dir(rel + "/f"):  # neither it nor a directory above it is skipped
                found.extend(f"{rel}/{inner}" for inner in _walk(path))
        elif not _skipped_dir(rel):
            found.append(rel)
    return list(dict.fromkeys(found))
