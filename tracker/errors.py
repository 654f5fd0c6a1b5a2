"""The exception root shared by both packages: every error lsp-backoff raises on purpose."""


class LspBackoffError(Exception):
    """Root of lsp-backoff's own exceptions."""


class StoreError(LspBackoffError):
    """The graph database is missing, foreign, corrupt or of an unknown schema version."""
