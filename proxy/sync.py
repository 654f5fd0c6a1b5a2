"""Document synchronisation: keep the texts current and re-arm symbols whose document changed.

Runs as deferred work after the notification has been forwarded (see ``Router.defer``).
Invalidation (issue 3): didChange, didOpen or didSave with different text, a didClose that
drops unsaved edits, and workspace/didChangeWatchedFiles re-arm every symbol of the document;
a watched file reported Deleted leaves the graph (its symbols, rows, failure state, and the
answers of other symbols pointing into it: ``Outcomes.forget_document``).
A didOpen of a file the proxy has not read is not compared with the disk (no reads here): the
content hash every failure state carries decides at the next request instead. Whatever needs a
file's text asks the read gate (``later``) and runs once it has been read off the loop. A
cached text the gate finds changed on disk with no event (issue 28) follows the watched-file
rules (``disk_changed``).

Content hashes are computed only where something is compared or recorded (didOpen, didSave,
didClose, a watched file read), never per keystroke: a didChange re-arms without hashing, and
the new content's hash is computed once, when a tracked request or a recorded row needs it.

Across files (issue 13): every content change also hands the text before and after to the name
rule (``Outcomes.mentioned``, proxy/mentions.py), which re-arms symbols elsewhere named by the
edit and moves the answers pointing into the document through the edit's line map (issue 24:
tracker/moves.py; stale only where the edit touched them); the diff is made on the store's
writer thread, never here. A file deleted hands over its last known text.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lsp_backoff.proxy import messages as msg
from lsp_backoff.proxy.documents import Documents
from lsp_backoff.proxy.outcomes import Outcomes
from lsp_backoff.proxy.text import Text

#: FileChangeType.Deleted (spec 3.17, workspace/didChangeWatchedFiles).
FILE_DELETED = 3

#: ``later(uri, fn)``: run ``fn`` once the file behind ``uri`` has been read off the loop.
Later = Callable[[str, Callable[[], None]], None]


def document_event(
    method: str, body: bytes, docs: Documents, outcomes: Outcomes, later: Later
) -> None:
    decoded = msg.decode(body)
    params = decoded.get("params") if decoded else None
    if not isinstance(params, dict):
        return
    if method == "workspace/didChangeWatchedFiles":
        changes = params.get("changes")
        for change in changes if isinstance(changes, list) else ():
            if isinstance(change, dict) and isinstance(change.get("uri"), str):
                if change.get("type") == FILE_DELETED:
                    before = docs.document(change["uri"])
                    docs.file_changed(change["uri"])
                    outcomes.forget_document(change["uri"])  # nothing left to read
                    outcomes.mentioned(change["uri"], before, None)
                else:
                    _watched(change["uri"], docs, outcomes, later)
        return
    doc = params.get("textDocument")
    if not isinstance(doc, dict) or not isinstance(doc.get("uri"), str):
        return
    uri: str = doc["uri"]
    if method in ("textDocument/didOpen", "textDocument/didChange"):
        docs.note_number(uri, doc.get("version"))
    if method == "textDocument/didClose":
        _close(uri, docs, outcomes, later)
    elif (
        method == "textDocument/didSave"
        and not isinstance(params.get("text"), str)
        and not docs.is_open(uri)
    ):
        _saved_unopened(uri, docs, outcomes, later)
    elif method == "textDocument/didChange":
        changes = params.get("contentChanges")
        before = docs.document(uri)
        if isinstance(changes, list) and docs.change(uri, changes):
            outcomes.rearm(uri)  # no hash: see the module docstring
            outcomes.mentioned(uri, before, docs.document(uri))
    else:
        before = docs.document(uri)
        if _apply(method, uri, doc, params, docs, outcomes):
            changed(uri, docs, outcomes, before)


def _watched(uri: str, docs: Documents, outcomes: Outcomes, later: Later) -> None:
    """The file changed on disk: its cached text is stale and its symbols are asked again; an
    unopened file's new content hash is told to the store once the gate has read it, and the
    name rule gets its text before (if it was cached) and after (the writer compares them)."""
    before = docs.document(uri)
    docs.file_changed(uri)
    outcomes.rearm(uri)
    if docs.is_open(uri):
        return  # the editor's text is the content; the store knows its hash already

    def read() -> None:
        outcomes.document_changed(uri, docs.version(uri))
        outcomes.mentioned(uri, before, docs.document(uri))

    later(uri, read)


def _saved_unopened(uri: str, docs: Documents, outcomes: Outcomes, later: Later) -> None:
    """didSave without text of a document that is not open: its file is the content now,
    compared with what was known once read (off the loop)."""
    before = docs.cached_version(uri)
    text_before = docs.document(uri)
    docs.file_changed(uri)  # the cached disk text is stale

    def compare() -> None:
        if before is None or docs.version(uri) != before:
            changed(uri, docs, outcomes, text_before)

    if docs.needs_read(uri):
        later(uri, compare)
    else:
        compare()


def _close(uri: str, docs: Documents, outcomes: Outcomes, later: Later) -> None:
    """Closing without saving drops the edits: the file on disk is the content again."""
    before = docs.version(uri)
    text_before = docs.document(uri)
    docs.close(uri)

    def compare() -> None:
        if docs.version(uri) != before:
            changed(uri, docs, outcomes, text_before)

    if docs.needs_read(uri):
        later(uri, compare)  # the disk text is compared once read, off the loop
    else:
        compare()


def _apply(
    method: str,
    uri: str,
    doc: dict[str, Any],
    params: dict[str, Any],
    docs: Documents,
    outcomes: Outcomes,
) -> bool:
    """Apply one event to the texts; True when the document's content changed."""
    if method == "textDocument/didOpen" and isinstance(doc.get("text"), str):
        docs.note_language(uri, doc.get("languageId"))  # picks its identifier rules
        is_new = docs.open(uri, doc["text"])
        # Tell the store the content we now see even when unchanged for us: a restarted
        # proxy must not take rows recorded for older content as current.
        outcomes.note_version(uri, docs.version(uri))
        return is_new
    if method == "textDocument/didSave":
        text = params.get("text")
        return docs.save(uri, text if isinstance(text, str) else None)
    return False


def disk_changed(uri: str, before: Text, gone: bool, docs: Documents, outcomes: Outcomes) -> None:
    """The read gate found the file of a cached, unopened text no longer holding it, with no
    watched-files event (issue 28): the rules of workspace/didChangeWatchedFiles — a file
    gone leaves the graph, a changed one is re-armed and told to the store and the name rule.
    ``docs`` holds what was found already."""
    if gone:
        outcomes.forget_document(uri)
        outcomes.mentioned(uri, before, None)
    else:
        changed(uri, docs, outcomes, before)


def changed(uri: str, docs: Documents, outcomes: Outcomes, before: Text | None) -> None:
    """A document's content changed from `before`, compared: its symbols are asked again next
    time, the store learns the new content hash, and the name rule runs across files."""
    outcomes.rearm(uri)
    outcomes.document_changed(uri, docs.version(uri))
    outcomes.mentioned(uri, before, docs.document(uri))
