"""Which operations a server can answer at all, from its initialize result (issue 12).

A server that lacks a provider (zuban has no ``callHierarchyProvider``) answers every such request
``-32601``; asking it is wasted work. enrich asks only what the server advertises, statically in
its capabilities or through ``client/registerCapability`` (enrich offers no dynamic
registration, but a server may register anyway). For an operation it lacks, enrich has the
proxy record what a ``-32601`` answer would have recorded — an ``error`` placeholder, "not
supported" — without the request: the pair stops being an orphan (an indexer stops asking), and
the graph is the one a server answering ``-32601`` gives.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from lsp_backoff.proxy.operations import CALL_OPERATIONS, METHODS
from lsp_backoff.proxy.operations import PREPARE_CALLS as PREPARE
from lsp_backoff.tracker.orphans import Orphan
from lsp_backoff.tracker.store_sql import symbol_id

#: The ServerCapabilities field that says a server answers an operation (LSP 3.17).
PROVIDERS: dict[str, str] = {
    "definition": "definitionProvider",
    "declaration": "declarationProvider",
    "type_definition": "typeDefinitionProvider",
    "implementation": "implementationProvider",
    "references": "referencesProvider",
    PREPARE: "callHierarchyProvider",
    **dict.fromkeys(CALL_OPERATIONS, "callHierarchyProvider"),
}


def recorded_as(operation: str) -> str:
    """The operation a "not supported" placeholder is recorded under: prepare's stands for the
    calls too (the proxy puts theirs with it, as for any prepare placeholder)."""
    return PREPARE if operation in CALL_OPERATIONS else operation


def unsupported(
    capabilities: Mapping[str, Any] | None, registered: Collection[str], operations: Iterable[str]
) -> dict[str, str]:
    """operation → placeholder detail, for each of ``operations`` the server cannot answer.

    ``capabilities`` None (no initialize result seen): nothing is known, everything is asked.
    A provider given as ``true`` or an options object is there; absent, null or ``false`` is not.
    """
    if capabilities is None:
        return {}
    missing: dict[str, str] = {}
    for operation in operations:
        provider = PROVIDERS.get(operation)
        method = METHODS[recorded_as(operation)]
        if provider is None or capabilities.get(provider) or method in registered:
            continue
        missing[operation] = f"{method} not supported (no {provider} in its capabilities)"
    return missing


def attach_versions(
    db: sqlite3.Connection, rows: list[Orphan], operations: Collection[str]
) -> list[Orphan]:
    """``rows``, each row of ``operations`` with its ``version``: the content version its symbol
    was recorded at. A placeholder must carry it, or the symbol would move to another version
    and its other rows with it."""
    found: dict[str, str | None] = {}
    versioned: list[Orphan] = []
    for row in rows:
        key = row.symbol
        if row.operation not in operations:
            versioned.append(row)
            continue
        if key not in found:
            sid = symbol_id(db, key)
            record = None
            if sid is not None:
                record = db.execute("SELECT version FROM symbol WHERE id = ?", (sid,)).fetchone()
            found[key] = record[0] if record else None
        versioned.append(dataclasses.replace(row, version=found[key]))
    return versioned
