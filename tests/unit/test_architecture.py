"""The package's shape: imports point one way along the pipeline; only history/git.py runs git; only the
MkDocs subpackage (site/mkdocs/) imports MkDocs; modules stay small.
The subscription service (service/) sits above notify/ and site/: only the command line imports it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scripts" / "policy_site"
# each layer may import itself and the layers listed for it
BASE = {"errors", "codec", "settings", "state"}
ALLOWED = {
    "errors": {"codec"}, "codec": set(), "settings": {"errors"}, "state": {"errors", "settings"},
    "source": BASE,
    "history": BASE | {"source"},
    "diff": BASE | {"source"},
    "site": BASE | {"source", "history", "diff"},
    "notify": BASE | {"source", "history", "diff", "site"},
    "importing": BASE | {"source", "history"},
    "service": BASE | {"source", "history", "diff", "site", "notify"},
    "proof": BASE | {"source", "history", "site", "notify"},
    "cli": BASE | {"source", "history", "diff", "site", "notify", "importing", "service", "proof", "cli"},
    "bench": BASE | {"source", "history", "diff", "site", "notify", "cli"},
}
MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE).parts
    return "top" if rel[0] in ("__init__.py", "__main__.py") else rel[0].removesuffix(".py")


def _imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = path.relative_to(PACKAGE).parts[:-1]
            parts = list(base[: len(base) - node.level + 1]) + (node.module.split(".") if node.module else [])
            out.append((parts[0] if parts else "top", node.lineno))
        elif isinstance(node, ast.Import):
            out += [(a.name, node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.append((node.module, node.lineno))
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_point_one_way(path: Path) -> None:
    layer = _layer(path)
    if layer == "top":
        return
    layers = set(ALLOWED)
    for name, line in _imports(path):
        if name in layers and name != layer:
            assert name in ALLOWED[layer], f"{path.name}:{line}: {layer} must not import {name}"
        if name.split(".")[0] in ("mkdocs", "pathspec"):
            assert path.relative_to(PACKAGE).parts[:2] == ("site", "mkdocs"), \
                f"{path.relative_to(PACKAGE)}:{line}: imports MkDocs (only site/mkdocs/ does)"


def test_only_history_git_runs_git() -> None:
    for path in MODULES:
        text = path.read_text(encoding="utf-8")
        if path.relative_to(PACKAGE).parts[0] == "bench" or path.name == "git.py":
            continue
        assert '["git"' not in text and "import git\n" not in text, f"{path} runs git"


def test_modules_stay_small() -> None:
    big = [f"{p.relative_to(PACKAGE)} ({n} lines)" for p in MODULES
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 420]
    assert not big, big


def test_only_the_backends_import_their_database_drivers() -> None:
    """SQL runs through notify/backend.py: sqlite3 is notify/database.py's alone, psycopg notify/postgres.py's (and
    the throw-away server's of the bench and the tests, bench/pgserver.py, which creates databases, never queries)."""
    owners = {"sqlite3": {"notify/database.py"}, "psycopg": {"notify/postgres.py", "bench/pgserver.py"}}
    for path in MODULES:
        where = path.relative_to(PACKAGE).as_posix()
        for name, line in _imports(path):
            driver = name.split(".")[0]
            if driver in owners:
                assert where in owners[driver], f"{where}:{line}: imports {driver} (only {owners[driver]} may)"


def test_test_modules_import_only_the_support_package() -> None:
    """A test module imports helpers from tests/support/ only, never another test module or conftest; fixtures come
    from the plugins tests/conftest.py registers (no imported fixture kept by a noqa comment)."""
    tests = PACKAGE.parents[1] / "tests"
    found = []
    for path in sorted(tests.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if "noqa: " + "F401" in text:
            found.append(f"{path.relative_to(tests)}: an unused import kept")
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            for name in names:
                top = name.split(".")[0]
                if top == "conftest" or top.startswith("test_") or top.endswith("_support") or \
                        (top == "tests" and not (name == "tests.support" or name.startswith("tests.support."))):
                    found.append(f"{path.relative_to(tests)}: {name}")
    assert not found, found
