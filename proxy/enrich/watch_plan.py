"""The planner of `enrich --watch`: changed files in, what to tell the servers and what to redo out.

Given what each changed file is now (watch.py's `Observed`: a text, or gone) and what enrich told
the servers so far (`Tracked` per file), a :class:`Plan` says
- which notifications to send, in order: `textDocument/didChange` (the whole new text, the next
  version) for a file enrich has open, `didOpen` for a new file when files are kept open,
  `didClose` for an open file that is gone, then one `workspace/didChangeWatchedFiles` listing
  every created, changed and deleted file — sent always, because a server also reads files it
  does not have open (spec 3.17, workspace/didChangeWatchedFiles; FileChangeType 1, 2, 3);
- which files to list the symbols of again (`relist`: changed or created);
- which files left the workspace (`gone`: their symbols, edges and failure state leave the graph);
- for cross-file staleness, the documents whose content changed (`changed`: an edge whose target
  lies in one of them no longer counts as current) and the names their old or new text mentions
  (`mentions`, per file: symbols elsewhere with those names are asked again for
  tracker.staleness.STALE_OPERATIONS) — for a created or gone file;
- for a changed file whose text before is known (`edits`): that text and the new one, so the
  loop can diff them off the event loop (proxy/edits.py) and move the graph's rows through the
  edit's line map instead (tracker/moves.py: issue 24), naming only what the edit changed.
  Every file's last text is kept for that (memory: about the size of the workspace's sources).

A file whose content hash is unchanged (a formatter that changed nothing, a `touch`, a checkout
of the same content) costs nothing. The planner does no I/O, keeps no clock and hashes nothing
(each `Observed` carries its text's hash and names, computed in the thread that read it): it only
compares and updates its own record of each file — it runs on the loop the proxies share.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lsp_backoff.proxy.mentions import identifiers

from .files import language_id
from .watch import Observed, Stat

#: FileChangeType (spec 3.17, workspace/didChangeWatchedFiles).
CREATED, CHANGED, DELETED = 1, 2, 3

#: The same names an editor's session re-arms (proxy/mentions.py, tracker/staleness.py).
mentioned_names = identifiers


@dataclass
class Tracked:
    """What enrich last told the servers about one file."""

    digest: str  # content hash of the text last sent (or read, for a file not open)
    names: frozenset[str]  # the identifiers that text mentions
    version: int = 1  # the LSP version of the open document
    is_open: bool = True
    stat: Stat | None = None  # the file's stat when that text was read (watch.stat_of)
    text: str | None = None  # that text (the "before" of the next edit's diff)


@dataclass(frozen=True)
class Change:
    """A changed file's text before and after, with their content hashes."""

    before: str
    after: str
    old_digest: str
    new_digest: str


@dataclass
class Plan:
    notifications: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    relist: list[Path] = field(default_factory=list)
    gone: list[Path] = field(default_factory=list)
    changed: list[Path] = field(default_factory=list)  # relist's changed files, and gone
    #: Per changed, created or gone file: the names its old or new text mentions.
    mentions: dict[Path, frozenset[str]] = field(default_factory=dict)
    #: Per changed file whose text before is known: the change (named by its diff instead).
    edits: dict[Path, Change] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.notifications)

    @property
    def mentioned(self) -> frozenset[str]:
        return frozenset().union(*self.mentions.values())

    @property
    def files_touched(self) -> list[Path]:
        """Every file the cross-file rules run for (mentions or edits)."""
        return [*self.mentions, *self.edits]


class Planner:
    """Plans per change set, and remembers what each file was told as.

    `keep_open` is today's first pass: every file stays open, so a new file is opened too.
    Without it a new or closed file is only re-listed: whoever lists it opens it for that.
    """

    def __init__(self, *, keep_open: bool = True) -> None:
        self.keep_open = keep_open
        self.files: dict[Path, Tracked] = {}

    def seen(
        self, path: Path, text: str, *, is_open: bool = True, stat: Stat | None = None
    ) -> None:
        """The first pass opened (or read) `path` with `text` as version 1 (hashed here: off
        the loop, use `seen_as`)."""
        self.seen_as(Observed(path, text, stat), is_open=is_open)

    def seen_as(self, item: Observed, *, is_open: bool = True) -> None:
        """`seen`, for a text already described (its hash and names computed where it was read)."""
        self.files[item.path] = Tracked(item.digest, item.names, 1, is_open, item.stat, item.text)

    def stats(self) -> dict[Path, Stat]:
        """Each file's stat when last read, where one is to be trusted (watch.resolve)."""
        return {path: t.stat for path, t in self.files.items() if t.stat is not None}

    def reopened(self, path: Path) -> None:
        """A restarted server got `path` opened anew (version 1, the text on disk then). Its
        digest stays: if that text differs, the next plan still sees the change."""
        tracked = self.files.get(path)
        if tracked is not None:
            tracked.version, tracked.is_open = 1, True

    def plan(self, observed: Iterable[Observed]) -> Plan:
        plan = Plan()
        events: list[dict[str, Any]] = []
        for item in observed:
            path, uri = item.path, item.path.as_uri()
            before = self.files.get(path)
            if item.text is None:
                if before is None:
                    continue  # created and removed within the burst: nobody ever knew it
                del self.files[path]
                if before.is_open:
                    plan.notifications.append(
                        ("textDocument/didClose", {"textDocument": {"uri": uri}})
                    )
                events.append({"uri": uri, "type": DELETED})
                plan.gone.append(path)
                plan.changed.append(path)
                plan.mentions[path] = before.names
                continue
            digest, names = item.digest, item.names
            if before is not None and before.digest == digest:
                before.stat = item.stat  # touched, or rewritten with the same content
                continue
            if before is None:
                plan.mentions[path] = names
                self.files[path] = Tracked(digest, names, 1, self.keep_open, item.stat, item.text)
                if self.keep_open:
                    document = {"uri": uri, "languageId": language_id(path), "version": 1}
                    plan.notifications.append(
                        ("textDocument/didOpen", {"textDocument": {**document, "text": item.text}})
                    )
                events.append({"uri": uri, "type": CREATED})
            else:
                if before.text is not None:
                    change = Change(before.text, item.text, before.digest, digest)
                    plan.edits[path] = change
                else:
                    plan.mentions[path] = names | before.names
                before.digest, before.names, before.stat = digest, names, item.stat
                before.text = item.text
                if before.is_open:
                    before.version += 1
                    plan.notifications.append(_did_change(uri, before.version, item.text))
                events.append({"uri": uri, "type": CHANGED})
                plan.changed.append(path)
            plan.relist.append(path)
        if events:
            plan.notifications.append(("workspace/didChangeWatchedFiles", {"changes": events}))
        return plan


def _did_change(uri: str, version: int, text: str) -> tuple[str, dict[str, Any]]:
    # One full-text change (no range): the file on disk is the new content, and a diff would
    # cost more to compute than the server spends re-reading the text.
    return (
        "textDocument/didChange",
        {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]},
    )
