"""Import sites for modules as symbols (proxy/enrich/modules.py): which names in import
statements may stand for a module, at which LSP position, grouped by what they import."""

from __future__ import annotations

from pathlib import Path

from lsp_backoff.proxy.enrich.modules import _is_module_start, import_sites, module_name


def test_every_module_name_of_an_import_statement_is_a_site(tmp_path: Path) -> None:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f(): pass\n")
    b = pkg / "b.py"
    text = (
        "from .a import f\n"
        "from . import a, f\n"
        "import pkg.a, os.path as p\n"
        "from pkg import a as alias\n"
        "x = 'é'; import pkg.a\n"
        "if 1:\n"
        "    from .. import nothing\n"
    )
    sites = {(s.line, s.character, s.group) for s in import_sites(b, text)}
    here = str(pkg)
    assert sites == {
        (0, 6, (here, "a")),  # the module of a relative from-import
        (1, 14, (here, "a")),  # `a` is pkg/a.py; `f` is no file of the package: not a site
        (2, 11, ("", "pkg.a")),  # the last part of a dotted name
        (2, 17, ("", "os.path")),
        # `from pkg import a`: the module; an absolute package is not looked for on disk
        (3, 5, ("", "pkg")),
        (4, 20, ("", "pkg.a")),  # after a non-ASCII character: UTF-16 units
    }, sorted(sites)
    assert import_sites(b, "def broken(:\n") == []


def test_module_names_and_the_answer_that_names_a_module(tmp_path: Path) -> None:
    assert module_name(tmp_path, tmp_path / "pkg" / "a.py") == "pkg.a"
    assert module_name(tmp_path, tmp_path / "pkg" / "__init__.py") == "pkg"
    assert module_name(tmp_path, tmp_path / "__init__.py") == tmp_path.name
    start = {"line": 0, "character": 0}
    whole = [{"uri": "file:///w/a.py", "range": {"start": start, "end": start}}]
    assert _is_module_start(whole, "file:///w/") == "file:///w/a.py"
    variable = [
        {"uri": "file:///w/a.py", "range": {"start": start, "end": {**start, "character": 1}}}
    ]
    assert _is_module_start(variable, "file:///w/") is None  # `x = 1` at 0:0 is not the module
    assert _is_module_start(whole, "file:///elsewhere/") is None  # outside the workspace
