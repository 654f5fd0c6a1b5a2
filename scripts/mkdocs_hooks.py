"""MkDocs hook: the site is the whole checkout's Markdown, so every relative link is checked.

`docs/` holds the reference pages, but they link to `README.md`, `benchmarks/README.md`,
`editors/`, `tests/real/README.md` and source files, and README.md links into `docs/`. MkDocs
only resolves links between files it knows, so this hook replaces its file list (read from
`docs_dir`) with every file of the checkout that git tracks or would track, keyed by its path
from the repository root: `docs/graph.md` linking `../benchmarks/README.md` then resolves, and
`mkdocs build --strict` fails on a link (or, with `validation.anchors`, an anchor) that does
not. Symbolic links are left out: the site copies files, not trees.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]


def on_files(files: Files, config: Any) -> Files:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split("\0")
    kept = [
        File(path, str(ROOT), config["site_dir"], config["use_directory_urls"])
        for path in sorted(set(listed))
        if path and (ROOT / path).is_file() and not (ROOT / path).is_symlink()
    ]
    return Files(kept)
