"""lsp-backoff: a transparent LSP proxy that backs off per symbol and records a code graph."""

__version__ = "0.1.0"
