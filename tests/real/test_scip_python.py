"""The real scip-python (npm @sourcegraph/scip-python, pinned in scripts/install-tools.sh) on a
two-module sample: its index read by benchmarks/scip_index.py, and benchmarks/bench_scip.py's
whole comparison (enrich in front of basedpyright against scip-python on one copy).

What the reader must get right and only a real index shows: scip-python leaves
`position_encoding` unset and counts UTF-16 code units (``y`` after ``"é€😀"; `` is at column
12, where code points would say 11); one-line ranges have three elements; `local N` names are
per document; a module's definition is an empty range at 0:0. And what bench_scip must classify:
``Square(3)`` is a reference of ``__init__`` for basedpyright and of the class for scip-python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from realtools import REPO, SCIP_PYTHON, SCIP_PYTHON_VERSION, clean_env, find_tool, missing

sys.path.insert(0, str(REPO / "benchmarks"))

import scip_index

pytestmark = [pytest.mark.real_server]

SHAPES = '''"""Shapes."""


class Square:
    def __init__(self, side: int) -> None:
        self.side = side

    def area(self) -> int:
        return self.side * self.side


def label(s: Square) -> str:
    return "côté→" + str(s.side)
'''

USE = """from pkg.shapes import Square, label

sq = Square(3)
x = "é€😀"; y = label(sq)
print(sq.area(), y, [n for n in range(3)])
"""


def scip_python() -> Path:
    if not SCIP_PYTHON.exists():
        missing("scip-python", "not in .tools/node_modules")
    package = SCIP_PYTHON.parents[1] / "@sourcegraph" / "scip-python" / "package.json"
    version = json.loads(package.read_text())["version"]
    assert version == SCIP_PYTHON_VERSION, "scripts/install-tools.sh pins another scip-python"
    return SCIP_PYTHON


def sample(root: Path) -> Path:
    """The workspace: pkg/ as a package in a git repository (scip-python reads git)."""
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text("")
    (root / "pkg" / "shapes.py").write_text(SHAPES)
    (root / "pkg" / "use.py").write_text(USE)
    git = ["git", "-C", str(root), "-c", "user.name=t", "-c", "user.email=t@invalid"]
    for step in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "sample"]):
        subprocess.run([*git, *step], check=True)
    return root / "pkg"


def test_reads_the_index_scip_python_writes(tmp_path: Path) -> None:
    tool = scip_python()
    sample(tmp_path / "w")
    output = tmp_path / "index.scip"
    subprocess.run(
        [
            str(tool),
            "index",
            "--project-name",
            "pkg",
            "--cwd",
            str(tmp_path / "w"),
            "--output",
            str(output),
            "--quiet",
        ],
        check=True,
        env=clean_env(tmp_path),
        timeout=180,
    )
    index = scip_index.read(output)
    assert (index.tool, index.version) == ("scip-python", SCIP_PYTHON_VERSION)
    docs = {d.path: d for d in index.documents}
    assert set(docs) == {"pkg/__init__.py", "pkg/shapes.py", "pkg/use.py"}
    assert {d.position_encoding for d in docs.values()} == {scip_index.UNSPECIFIED}

    def defined(path: str) -> dict[str, tuple[int, int]]:
        return {
            o.symbol.rsplit(" ", 1)[-1] if not o.symbol.startswith("local") else o.symbol: (
                o.line,
                o.character,
            )
            for o in docs[path].occurrences
            if o.is_definition
        }

    shapes = defined("pkg/shapes.py")
    assert shapes["`pkg.shapes`/Square#"] == (3, 6)
    assert shapes["`pkg.shapes`/Square#__init__()."] == (4, 8)
    assert shapes["`pkg.shapes`/Square#__init__().(self)"] == (4, 17)
    assert shapes["`pkg.shapes`/__init__:"] == (0, 0)
    use = defined("pkg/use.py")
    line = USE.splitlines()[3]
    assert use["`pkg.use`/y."] == (3, len(line[: line.index("y =")].encode("utf-16-le")) // 2)
    assert use["`pkg.use`/y."] == (3, 12)  # UTF-16 units; code points would be 11
    assert any(s.startswith("local ") for s in use)  # the comprehension variable n
    label = [
        (o.line, o.character, o.end_character)
        for o in docs["pkg/use.py"].occurrences
        if o.symbol.endswith("`pkg.shapes`/label().")
    ]
    assert label == [(0, 31, 36), (3, 16, 21)]


def test_bench_scip_compares_enrich_with_scip_python(tmp_path: Path) -> None:
    scip_python()
    server = find_tool("basedpyright-langserver")
    package = sample(tmp_path / "w")
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "bench_scip.py"),
            "--workspace",
            str(package),
            "--keep",
            str(tmp_path / "out"),
            "--servers",
            "1",
            "--json",
            "--server",
            json.dumps([server, "--stdio"]),
        ],
        capture_output=True,
        text=True,
        env=clean_env(tmp_path),
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
    assert report["enrich"]["status"] == 0 and report["indexer"]["status"] == 0
    assert report["enrich"]["missing"] == 0
    assert (report["files"], report["language"]) == (3, "python")
    c = report["comparison"]
    assert c["scip_tool"] == f"scip-python {SCIP_PYTHON_VERSION}"
    # Square, __init__, side (parameter and attribute), area, label, s, sq, x, y: matched at the
    # same file, line and UTF-16 column (x and y prove the columns on a non-ASCII line).
    assert c["matched"] == c["symbols_ours"], c["symbols_only_ours"]
    only_ours = {row["class"]: row for row in c["references_only_ours_classes"]}
    constructor = only_ours.pop("constructor call listed under __init__ (SCIP: the class)")
    assert constructor["count"] == 1
    assert "pkg/use.py:3:6" in constructor["example"]
    assert only_ours == {}
    assert c["references_only_scip"] == 0, c["references_only_scip_classes"]
    modules = {row["class"]: row["count"] for row in c["symbols_only_scip"]}
    assert modules["module (a file)"] == 3
    assert modules["self / cls"] == 2
    assert c["precision"] == round(c["references_common"] / (c["references_common"] + 1), 4)
    assert c["recall"] == 1.0
