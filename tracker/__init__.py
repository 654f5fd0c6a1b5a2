"""LSP-agnostic failure tracking and the graph store.

Nothing in this package knows about JSON-RPC or LSP messages: it deals in symbols (opaque
keys grouped by document), operations (names like ``definition``) and outcomes.
"""

# One module, one name. In a checkout this folder is also lsp_backoff/tracker (a symbolic link, so
# the checkout imports the installed names); imported as `tracker` (the checkout root on sys.path)
# every module would load a second time, with state and classes of its own. Refused here at
# run time and by ruff (TID251 in pyproject.toml); docs/development.md, "Layout", says why.
if __name__ != "lsp_backoff.tracker":
    raise ImportError(f"import lsp_backoff.tracker, not {__name__} (docs/development.md: Layout)")
