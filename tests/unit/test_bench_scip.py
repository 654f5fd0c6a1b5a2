"""benchmarks/bench_scip.py's comparison on a graph and a SCIP index (protobuf bytes) built
here: what is matched, how precision and recall are counted, and which class each disagreement
lands in. The same comparison on real tools: tests/real/test_scip_python.py."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_scip


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | (0x80 if n else 0))
        if not n:
            return bytes(out)


def vfield(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value)


def bfield(number: int, value: bytes | str) -> bytes:
    raw = value.encode() if isinstance(value, str) else value
    return varint(number << 3 | 2) + varint(len(raw)) + raw


def packed(number: int, values: list[int]) -> bytes:
    return bfield(number, b"".join(varint(v) for v in values))


P = "scip-python python pkg 1 `pkg.m`/"

SOURCE = """X = 1
class Thing:
    __slots__ = ["size"]

    def __init__(self, *args):
        self.size = 1


t = Thing()
u = Thing()
print(t, "Thing")
"""


def build(tmp: Path) -> tuple[bench_scip.Ours, bench_scip.Theirs, dict[str, list[str]]]:
    (tmp / "m.py").write_text(SOURCE)
    ours = bench_scip.Ours()

    def mine(line: int, ch: int, name: str, refs: tuple[tuple[int, int], ...] = ()) -> None:
        key = f"m.py#{line}:{ch}:{name}"
        ours.symbols[("m.py", line, ch)] = (key, name, 5)
        for ref in refs:
            ours.references[key].add(("m.py", *ref))
            ours.at[("m.py", *ref)].add(name)

    occurrences: list[bytes] = []

    def scip(symbol: str, line: int, ch: int, definition: bool = False) -> None:
        span = packed(1, [line, ch, ch + 1])
        occurrences.append(bfield(2, span + bfield(2, symbol) + vfield(3, int(definition))))

    mine(0, 0, "X")  # at 0:0, where the module's definition is too
    scip(P + "__init__:", 0, 0, True)  # the module first, at 0:0 like its first statement
    scip(P + "X.", 0, 0, True)
    mine(1, 6, "Thing", ((8, 4), (9, 4), (10, 10)))  # the last: inside the string "Thing"
    mine(4, 8, "__init__", ((8, 4),))  # basedpyright: the constructor call Thing()
    mine(4, 23, "*args")  # keyed at the `*`
    mine(8, 0, "t", ((10, 6),))
    scip(P + "Thing#", 1, 6, True)
    scip(P + "Thing#", 8, 4)
    scip(P + "Thing#", 9, 4)
    scip(P + "Thing#", 5, 13)  # self.size, under the class
    scip(P + "Thing#__init__().", 4, 8, True)
    scip(P + "Thing#__init__().(self)", 4, 17, True)
    scip(P + "Thing#__init__().(args)", 4, 24, True)
    scip(P + "t.", 8, 0, True)
    scip(P + "t.", 10, 6)
    scip(P + "u.", 9, 0, True)  # not listed by documentSymbol in this graph
    document = bfield(1, "m.py") + b"".join(occurrences)
    (tmp / "index.scip").write_bytes(bfield(2, document))
    texts: dict[str, list[str]] = {}
    return ours, bench_scip.read_scip(tmp / "index.scip", tmp, texts), texts


def classes(rows: list[dict[str, object]]) -> dict[object, object]:
    return {row["class"]: row["count"] for row in rows}


def test_matches_counts_and_classes(tmp_path: Path) -> None:
    ours, theirs, texts = build(tmp_path)
    report = bench_scip.compare(ours, theirs, tmp_path, texts, "python")
    assert report["matched"] == 4  # X, Thing, __init__, t; the module at 0:0 does not take X
    assert (report["symbols_ours"], report["symbols_scip"]) == (5, 8)
    # Thing: 7:4 and 8:4 common, "Thing" in the string only ours, self.size only SCIP;
    # __init__: 7:4 only ours; t: 9:6 common.
    assert report["references_common"] == 3
    assert report["references_only_ours"] == 2
    assert report["references_only_scip"] == 1
    assert report["precision"] == round(3 / 5, 4) and report["recall"] == round(3 / 4, 4)
    assert classes(report["references_only_ours_classes"]) == {
        "constructor call listed under __init__ (SCIP: the class)": 1,
        "in a string (__all__, string annotations): SCIP has nothing": 1,
    }
    assert classes(report["references_only_scip_classes"]) == {
        "SCIP lists a self.<attribute> under the class": 1
    }
    assert classes(report["symbols_only_ours"]) == {"keyed at punctuation '*' (not at the name)": 1}
    assert classes(report["symbols_only_scip"]) == {
        "self / cls": 1,
        "ours keyed on the punctuation before it": 1,
        "module (a file)": 1,
        "not listed by documentSymbol": 1,
    }


def test_typescript_has_no_self_class(tmp_path: Path) -> None:
    ours, theirs, texts = build(tmp_path)
    report = bench_scip.compare(ours, theirs, tmp_path, texts, "typescript")
    assert "self / cls" not in classes(report["symbols_only_scip"])
    assert classes(report["symbols_only_scip"])["a parameter, not listed by documentSymbol"] == 1
