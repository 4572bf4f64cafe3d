"""The package's layering: each concern imports only from the concerns below it.

The table is the map of docs/architecture.md. An import that climbs (a lower layer
reaching into a higher one, even inside a function) fails here, so cycles cannot come
back; a new folder in generator/ must take its place in the table.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "generator"

# Lowest first. Concerns on one line may not import each other either.
LAYERS = [
    {"kernel"},  # standard library only: it also runs in the browser
    {"errors", "limits"},
    {"cache"},
    {"theme"},
    {"config"},
    {"content", "starter"},  # starter: the notebook `labpress init` writes
    {"math", "figures", "widgets", "data", "provenance", "bibliography"},
    {"compute"},
    {"markdown"},
    {"search"},  # the Pagefind index of the posts (their cross-references filled in by markdown.xref)
    {"site"},
    {"check"},
    {"devserver"},
    {"cli"},
    {"__main__"},
]
NOT_PYTHON = {"browser"}  # browser code, not layered: ESLint and node --test (tests/test_browser_code.py); its .py runs under Pyodide
OUTSIDE = {"_wheel_hook", "__init__"}  # the wheel's build hook and the package's face import nothing of it


def concern_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def layer_of(concern: str) -> int:
    for level, names in enumerate(LAYERS):
        if concern in names:
            return level
    raise AssertionError(f"generator/{concern} has no place in LAYERS (tests/test_layers.py): give it one")


def imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            assert concern_of(path) == "kernel", f"{path}: relative import (only labpress.kernel keeps them)"
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.lineno, node.module
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def test_every_folder_has_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__" and not p.name.endswith(".egg-info")}
    for folder in folders - NOT_PYTHON:
        layer_of(folder)
    assert NOT_PYTHON <= folders


@pytest.mark.parametrize("path", sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts),
                         ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_imports_only_go_down(path):
    here = concern_of(path)
    if here in OUTSIDE:
        return
    if here in NOT_PYTHON:
        ours = [m for _, m in imports(path) if m.split(".")[0] == "labpress"]
        if path.name == "__init__.py":  # only a package marker, so the wheel carries the files
            assert not ours, path
        else:  # browser code in Python (run under Pyodide): it sees only the widget API
            assert all(m == "labpress.kernel" or m.startswith("labpress.kernel.") for m in ours), (path, ours)
        return
    level = layer_of(here)
    for line, module in imports(path):
        parts = module.split(".")
        if parts[0] != "labpress" or len(parts) < 2 or parts[1] == here:
            continue
        there = parts[1]
        assert layer_of(there) < level, (
            f"generator/{path.relative_to(PACKAGE)}:{line} imports labpress.{there}, which is not below"
            f" '{here}' in LAYERS")


def test_the_wheel_lists_every_package():
    """pyproject.toml names the packages the wheel carries: a new folder of generator/ must be listed."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"labpress." + p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders | {"labpress"} == listed, "add to (or remove from) [tool.setuptools] packages in pyproject.toml"
