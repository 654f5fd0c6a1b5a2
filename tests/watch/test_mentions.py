"""The name rule's bookkeeping for editor sessions (proxy/mentions.py), without processes:
what a change costs on the relay's thread (nothing is scanned there), how changes waiting for
the writer fold into one, and that an edit rescans only the chunk it touched."""

from __future__ import annotations

from collections.abc import Callable, Collection

from lsp_backoff.proxy import mentions
from lsp_backoff.proxy.mentions import IDENTIFIER, Mentions, identifiers, mentioned
from lsp_backoff.proxy.text import Text, edited
from lsp_backoff.tracker.moves import Edited
from lsp_backoff.tracker.staleness import STALE_OPERATIONS

Job = Callable[[], frozenset[str] | Edited | None]


class Store:
    """Collects the rules handed to the writer; `run` plays the writer thread."""

    def __init__(self) -> None:
        self.jobs: list[tuple[str, Job, Collection[str]]] = []

    def rearm(self, uri: str, names: Job, operations: Collection[str]) -> None:
        self.jobs.append((uri, names, operations))

    def run(self) -> list[tuple[str, frozenset[str] | None]]:
        """(uri, names) per rule; an edit (the rows move: tracker/moves.py) by its names."""
        jobs, self.jobs = self.jobs, []
        found = [(uri, names()) for uri, names, _ in jobs]
        return [(uri, n.names if isinstance(n, Edited) else n) for uri, n in found]


def change(text: Text, line: int, new: str) -> Text:
    """`text` with line `line` replaced by `new` (an incremental edit, as an editor sends)."""
    rng = {"start": {"line": line, "character": 0}, "end": {"line": line + 1, "character": 0}}
    return edited(text, [{"range": rng, "text": new + "\n"}], "utf-16")


def test_identifiers_of_a_long_text_in_slices_are_those_of_one_scan() -> None:
    text = "".join(f"def name_{n}(x{n}): return área_{n % 7} + 2e3\n" for n in range(4000))
    assert len(text) > 100_000
    assert identifiers(text) == frozenset(IDENTIFIER.findall(text))
    assert {"name_3999", "x0", "área_6", "def", "return"} <= identifiers(text)
    assert "2e3" not in identifiers(text) and "e3" not in identifiers(text)


def test_a_change_is_scanned_by_the_writer_not_by_the_caller(monkeypatch) -> None:
    scans: list[int] = []
    real, diff = mentions.identifiers, mentions.compare
    monkeypatch.setattr(mentions, "identifiers", lambda t: scans.append(len(t)) or real(t))
    monkeypatch.setattr(mentions, "compare", lambda *a: scans.append(len(a[0])) or diff(*a))
    store = Store()
    rule = Mentions(store.rearm)
    before = Text("from shapes import area\n\nprint(area(2))\n")
    after = Text("from shapes import unused\n\nprint(unused())\n")
    rule.changed("file:///app.py", before, after)
    assert scans == []  # the relay's thread looked at no text
    assert [ops for _, _, ops in store.jobs] == [STALE_OPERATIONS]
    [(uri, names)] = store.run()
    assert uri == "file:///app.py"
    # What the edit added or removed (issue 24): `from shapes import` stays as it was.
    assert names == {"area", "unused", "print"}
    assert len(scans) == 1  # one diff of the two texts


def test_changes_waiting_for_the_writer_fold_into_one() -> None:
    store = Store()
    rule = Mentions(store.rearm)
    texts = [Text(f"v{n} = shared\n") for n in range(4)]
    rule.changed("file:///a.py", texts[0], texts[1])
    rule.changed("file:///a.py", texts[1], texts[2])  # the writer has not run yet
    rule.changed("file:///b.py", None, texts[3])
    assert (rule.queued, rule.coalesced) == (2, 1)
    # Before the first change and after the last: v1 was a text in between.
    assert store.run() == [
        ("file:///a.py", {"v0", "v2"}),  # `shared` stayed: only what the edit changed
        ("file:///b.py", {"v3", "shared"}),  # nothing known before: every word
    ]
    rule.changed("file:///a.py", texts[2], texts[3])  # after the writer took it: a new rule
    assert rule.queued == 3
    assert store.run() == [("file:///a.py", {"v2", "v3"})]


def test_nothing_to_do_when_the_content_came_back_or_nothing_is_known() -> None:
    store = Store()
    rule = Mentions(store.rearm)
    first = Text("a = 1\n")
    rule.changed("file:///a.py", first, Text("a = 2\n"))
    rule.changed("file:///a.py", Text("a = 2\n"), Text("a = 1\n"))  # undone before the writer ran
    rule.changed("file:///unknown.py", None, None)  # never read, and gone
    assert store.run() == [("file:///a.py", None)]


def test_an_edit_rescans_only_the_chunk_it_touched() -> None:
    lines = [f"def f{n}(): return g{n}()" for n in range(3000)]  # ~80 KB: several chunks
    text = Text("\n".join(lines) + "\n")
    scanned: list[str] = []

    def find(chunk: str) -> frozenset[str]:
        scanned.append(chunk)
        return identifiers(chunk)

    edited_once = change(text, 10, "def renamed(): return g10()")
    first = frozenset().union(*edited_once.chunk_words(find))
    assert len(scanned) > 5 and "renamed" in first and "f10" not in first
    scanned.clear()
    again = change(edited_once, 2000, "def other(): return nothing()")
    words = frozenset().union(*again.chunk_words(find))
    assert len(scanned) == 1 and len(scanned[0]) < 20_000  # one ~8 KB chunk
    assert {"other", "nothing", "renamed"} <= words and "f2000" not in words
    assert mentioned(edited_once, again) == first | words
