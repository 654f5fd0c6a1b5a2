"""The LSP side of lsp-backoff: framing, session and routing, documents and symbol keys, CLI."""

# One module, one name. In a checkout this folder is also lsp_backoff/proxy (a symbolic link, so
# the checkout imports the installed names); imported as `proxy` (the checkout root on sys.path)
# every module would load a second time, with state and classes of its own. Refused here at
# run time and by ruff (TID251 in pyproject.toml); docs/development.md, "Layout", says why.
if __name__ != "lsp_backoff.proxy":
    raise ImportError(f"import lsp_backoff.proxy, not {__name__} (docs/development.md: Layout)")
