"""What both editor scenarios (Neovim, Emacs) must show: the same session through the proxy."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pairing import edges_for, graph_cli


def assert_scenario(results: dict[str, Any], db: Path) -> list[str]:
    """Definition, references, the failing symbol answered by the proxy, and the graph.

    Returns the references the editor saw, for editor-specific checks.
    """
    assert results["server_name"] == "basedpyright"
    definition = results["definition"]
    assert definition["file"].endswith("/examples/report.py")
    assert definition["line"] == 10
    # References to Shape: its declaration plus uses in every module that imports it.
    references: list[str] = results["references"]
    assert "base.py:4" in references
    assert {r.split(":")[0] for r in references} >= {"base.py", "report.py", "circle.py"}
    # The failing request: basedpyright's error the first time, the proxy's null the second.
    failing = results["failing"]
    assert failing["first_error"] == -32603
    assert failing["second_error"] is None and failing["second_result"] is None
    stats = results["stats"]
    assert stats["failures"] == 1 and stats["short_circuited"] == 1, stats
    assert results["flush"] == {"committed": True}
    # What the editor asked is in the proxy's graph.
    edges = graph_cli("edges", "--json", "--db", str(db))
    rows = edges_for(edges, "summarize", "definition", uri_suffix="/app.py")
    assert rows and rows[0]["target"]["uri"].endswith("/report.py"), rows
    return references
