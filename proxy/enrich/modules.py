"""Modules as symbols: one symbol per imported Python source file, with `references` from the
places that import it, so "which files import this module" is one query (issue 21 item 3).

documentSymbol lists what a file declares, never the file itself. basedpyright, pyright and
zuban answer `references` at a module's name in an import statement with every import of that
module and every use of its name, across the workspace (measured: README, "Modules as
symbols", which also says what the other servers answer); MODULE_SERVERS names them by their
initialize answer's `serverInfo.name`. For them, after phase 1:

1. the import statements of every listed `.py` file are read with ``ast`` (off the event loop):
   each imported module name is a site, and so is each name of `from X import a` when X is a
   package directory holding `a` (then `a` may be a submodule);
2. `definition` at one site per distinct import (the same name from the same package): an
   answer at the empty range at 0:0 of a workspace file is the module itself (all three answer
   that; a variable at 0:0 has a non-empty range);
3. `references` at one site per module; the module symbol (key ``URI#module``, its dotted name
   relative to the workspace, kind Module) gets that answer plus the site asked at (answered
   with ``includeDeclaration: false``, the asked position is left out), `definition` and
   `declaration` its own file's start, and a `none` for the operations a module has no answer
   to, so it is never an orphan.

The requests go through the proxy like every other: the import sites asked at are recorded
under their own keys too. Not done in `--watch` batches (a changed import is seen by the next
run).
"""

from __future__ import annotations

import ast
import asyncio
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.documents import content_hash
from lsp_backoff.tracker.model import OPERATIONS, SymbolRef, Target

from .client import LspConnection

__all__ = ["MODULE_KIND", "MODULE_SERVERS", "Site", "import_sites", "module_name", "module_ref"]

#: `serverInfo.name`s (case aside) whose references at a module name in an import statement
#: list that module's importers (README, "Modules as symbols", per server).
MODULE_SERVERS = frozenset({"basedpyright", "pyright", "zuban"})
MODULE_KIND = 2  # SymbolKind.Module
#: Operations a module symbol gets from its own file, and those with nothing to say.
_OWN_FILE = ("definition", "declaration")
_NOTHING = "a module"


@dataclass(frozen=True, slots=True)
class Site:
    """A module name in an import statement: where (LSP position, UTF-16) and which import."""

    uri: str
    line: int
    character: int
    #: The same for every site naming the same module from the same place: (package directory
    #: for a relative import or "" for an absolute one, dotted name).
    group: tuple[str, str]


def supported(connection: LspConnection) -> bool:
    """Whether modules are asked of this server: named in MODULE_SERVERS, or of the pyright
    family by its first log line (pyright's initialize answer has no serverInfo)."""
    info = connection.server_info
    name = info.get("name") if isinstance(info, dict) else None
    named = isinstance(name, str) and name.strip().lower() in MODULE_SERVERS
    return named or connection.lists_sources


def _utf16(line: str, byte_offset: int) -> int:
    """An ast column (UTF-8 bytes) as an LSP character (UTF-16 units)."""
    prefix = line.encode("utf-8")[:byte_offset].decode("utf-8", "replace")
    return len(prefix.encode("utf-16-le")) // 2


#: `from` and the dots of a relative import, before the module's dotted name.
_FROM = re.compile(r"from\s+[.\s]*")


def import_sites(path: Path, text: str) -> list[Site]:
    """The module names in ``text``'s import statements (the last part of a dotted one: that
    is the module the name stands for). A file that does not parse has none."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return []
    lines = text.splitlines()
    uri = path.as_uri()
    sites: list[Site] = []

    def add(line_no: int, column: int, dotted: str, group: tuple[str, str]) -> None:
        """``dotted`` starting at ``column`` (UTF-8 bytes, as ast counts) of line ``line_no``."""
        line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
        index = len(line.encode("utf-8")[:column].decode("utf-8", "replace"))
        if not line.startswith(dotted, index):
            return  # spaced out (`import a . b`) or split over lines: not asked
        index += len(dotted) - len(dotted.rsplit(".", 1)[-1])
        character = _utf16(line, len(line[:index].encode("utf-8")))
        sites.append(Site(uri, line_no - 1, character, group))

    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                add(alias.lineno, alias.col_offset, alias.name, ("", alias.name))
        elif isinstance(node, ast.ImportFrom):
            base = path.parent
            for _ in range(max(node.level - 1, 0)):
                base = base.parent
            place = str(base) if node.level else ""
            if node.module:
                line = lines[node.lineno - 1] if node.lineno <= len(lines) else ""
                start = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", "replace"))
                found = _FROM.match(line, start)
                if found is not None:
                    column = len(line[: found.end()].encode("utf-8"))
                    add(node.lineno, column, node.module, (place, node.module))
            package = base.joinpath(*(node.module or "").split(".")) if node.level else None
            for alias in node.names:
                if package is not None and (
                    (package / f"{alias.name}.py").is_file() or (package / alias.name).is_dir()
                ):
                    dotted = f"{node.module}.{alias.name}" if node.module else alias.name
                    add(alias.lineno, alias.col_offset, alias.name, (place, dotted))
    return sites


def module_name(root: Path, path: Path) -> str:
    """The dotted name of ``path`` relative to the workspace (a package: its directory's)."""
    try:
        parts = list(path.relative_to(root).with_suffix("").parts)
    except ValueError:
        parts = [path.stem]
    if parts and parts[-1] == "__init__":
        parts = parts[:-1] or [root.name]  # the workspace itself is the package
    return ".".join(parts)


def module_ref(root: Path, path: Path, text: str) -> SymbolRef:
    uri = path.as_uri()
    version = content_hash(text)
    return SymbolRef(f"{uri}#module", uri, module_name(root, path), 0, 0, MODULE_KIND, version)


def _is_module_start(answer: Any, prefix: str) -> str | None:
    """The workspace file a definition answer names as a whole module (an empty range at its
    start), else None."""
    items = answer if isinstance(answer, list) else [answer]
    for item in items:
        if not isinstance(item, dict):
            continue
        uri = item.get("targetUri", item.get("uri"))
        range_ = item.get("targetSelectionRange", item.get("range"))
        empty_start = {"line": 0, "character": 0}
        if (
            isinstance(uri, str)
            and uri.startswith(prefix)
            and isinstance(range_, dict)
            and range_.get("start") == empty_start
            and range_.get("end") == empty_start
        ):
            return uri
    return None


def _locations(answer: Any) -> list[Target]:
    found = []
    for item in answer if isinstance(answer, list) else []:
        try:
            start = item["range"]["start"]
            found.append(Target(item["uri"], start["line"], start["character"]))
        except (KeyError, TypeError):
            continue
    return found


#: What ``ask`` returns for a request that got no answer (an error, a timeout, a death).
_FAILED: Any = object()

Submit = Callable[[str, Callable[[LspConnection], Any]], "asyncio.Future[Any]"]


@dataclass
class ModuleCounts:
    sites: int = 0  # module names found in import statements
    definitions: int = 0  # asked: one per distinct import
    requests: int = 0  # definitions and references asked
    modules: int = 0  # module symbols recorded
    references: int = 0  # their references edges


async def fill_modules(
    root: Path,
    files: Sequence[Path],
    read: Callable[[Path], Any],
    submit: Submit,
    sink: Any,
) -> ModuleCounts:
    """Steps 1-3 of the module docstring for ``files``; ``read`` gives a file's text (off the
    loop), ``submit`` runs work on a server with a document open, ``sink`` records."""
    counts = ModuleCounts()
    prefix = root.as_uri() + "/"
    python = [path for path in files if path.suffix == ".py"]
    texts: dict[Path, str] = {}
    first: dict[tuple[str, str], Site] = {}
    for path in python:
        text = await read(path)
        if text is None:
            continue
        texts[path] = text
        for site in await asyncio.to_thread(import_sites, path, text):
            counts.sites += 1
            first.setdefault(site.group, site)

    async def ask(site: Site, operation: str) -> Any:
        async def work(conn: LspConnection) -> Any:
            return await conn.locate(operation, site.uri, site.line, site.character)

        try:
            return await submit(site.uri, work)
        except Exception:  # an error answer, a timeout, a death: no module learnt from it
            return _FAILED

    asked_at: dict[str, Site] = {}
    answers = await asyncio.gather(*(ask(site, "definition") for site in first.values()))
    counts.definitions = len(answers)
    complete = all(answer is not _FAILED for answer in answers)
    for site, answer in zip(first.values(), answers, strict=True):
        module = _is_module_start(answer, prefix)
        if module is not None:
            asked_at.setdefault(module, site)
    by_uri = {path.as_uri(): path for path in texts}
    modules = [(uri, site) for uri, site in asked_at.items() if uri in by_uri]
    answers = await asyncio.gather(*(ask(site, "references") for _, site in modules))
    counts.requests = counts.definitions + len(modules)
    for (uri, site), answer in zip(modules, answers, strict=True):
        if answer is _FAILED:
            continue  # no module symbol rather than a false "none"
        path = by_uri.pop(uri)
        found = [*_locations(answer), Target(site.uri, site.line, site.character)]
        importers = list(dict.fromkeys(found))
        _record(sink, module_ref(root, path, texts[path]), importers)
        counts.modules += 1
        counts.references += len(importers)
    for uri, path in by_uri.items() if complete else ():
        if uri not in asked_at:  # the server resolves no import statement to it
            _record(sink, module_ref(root, path, texts[path]), [])
            counts.modules += 1
    return counts


def _record(sink: Any, ref: SymbolRef, importers: list[Target]) -> None:
    """The module symbol with a pair for every operation: it is never an orphan."""
    sink.put_symbols([ref], "request")
    if importers:
        sink.put_edges(ref, "references", lambda: importers)
    else:
        sink.put_placeholder(ref, "references", "none", "no import statement resolves to it")
    for operation in _OWN_FILE:
        sink.put_edges(ref, operation, lambda: [Target(ref.document, 0, 0)])
    for operation in OPERATIONS:
        if operation not in _OWN_FILE and operation != "references":
            sink.put_placeholder(ref, operation, "none", _NOTHING)
