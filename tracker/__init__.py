"""LSP-agnostic failure tracking and the graph store.

Nothing in this package knows about JSON-RPC or LSP messages: it deals in symbols (opaque
keys grouped by document), operations (names like ``definition``) and outcomes.
"""
