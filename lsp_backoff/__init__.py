"""lsp-backoff: a transparent LSP proxy that backs off per symbol and records a code graph.

Installed, everything lives in this one package: ``lsp_backoff.proxy`` (the LSP side) and
``lsp_backoff.tracker`` (LSP-agnostic failure tracking and the graph store). In the repository
those two are the top-level ``proxy/`` and ``tracker/`` folders; ``lsp_backoff/proxy`` and
``lsp_backoff/tracker`` are symbolic links to them, so a checkout imports the same names as the
installed wheel (which holds real copies). Imported by their folder names (``import proxy``
from the checkout root) they refuse to load a second copy: docs/development.md, "One path per
module".
"""

__version__ = "0.1.0"
