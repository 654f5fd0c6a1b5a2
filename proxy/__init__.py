"""The LSP side of lsp-backoff: framing, session and routing, documents and symbol keys, CLI."""
