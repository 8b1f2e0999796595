"""The package's shape, checked rather than hoped for: arrows point down the layers (data -> models -> engine ->
explain/figures -> runner) with no function-level import hiding one, small modules and functions, one model list."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

PACKAGE = REPO / "harutils"
MODULES = sorted(PACKAGE.rglob("*.py"))

# the layer of each top-level module (a package's modules share its layer); a module imports its layer or lower
LAYERS = {"": 9, "runtime": 0, "data": 1, "models": 2, "config": 3, "recipes": 3, "checkpoints": 3, "evaluate": 3,
          "train": 3, "placement": 3, "viz": 4, "explain": 4, "explanation_scores": 4, "tracking": 3, "results": 5,
          "index_page": 5, "experiment": 5, "series": 5, "kernels": 5, "predict_video": 3, "pretext": 3}


def _name(path: Path) -> str:
    return ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")


def _layer(module: str) -> int:
    top = module.split(".")[1] if module.count(".") else ""
    assert top in LAYERS, f"{module}: give it a layer in tests/test_structure.py"
    return LAYERS[top]


def _imports(path: Path) -> list[tuple[str, ast.stmt]]:
    """harutils modules imported by ``path`` at run time (not under TYPE_CHECKING), with the statement."""
    tree = ast.parse(path.read_text())
    typing_only = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If)
                   and "TYPE_CHECKING" in ast.unparse(node.test) for n in ast.walk(node)}
    package = _name(path) if path.name == "__init__.py" else _name(path).rsplit(".", 1)[0]
    out = []
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
            target = f"{base}.{node.module}" if node.level and node.module else (base if node.level else node.module)
            names = [f"{target}.{a.name}" for a in node.names] if node.level and not node.module else [target]
            out += [(n, node) for n in names if n and n.startswith("harutils")]
        elif isinstance(node, ast.Import):
            out += [(a.name, node) for a in node.names if a.name.startswith("harutils")]
    return out


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_imports_point_down_the_layers(path):
    here = _layer(_name(path))
    for target, _ in _imports(path):
        if target.count(".") and _name(path) != "harutils":
            assert _layer(target) <= here, f"{_name(path)} (layer {here}) imports {target} (layer {_layer(target)})"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_no_function_level_import_of_the_package(path):
    tree = ast.parse(path.read_text())
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("harutils")):
                    pytest.fail(f"{_name(path)}.{func.name} imports {ast.unparse(node)} inside a function")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _name(p))
def test_small_modules_and_functions(path):
    text = path.read_text()
    assert len(text.splitlines()) <= 350, f"{_name(path)} has {len(text.splitlines())} lines"
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            assert length <= 60, f"{_name(path)}.{node.name} has {length} lines"


def test_the_model_list_lives_in_the_registry():
    """Config, notebook generator and tests read the registry's names; nothing else spells the five out."""
    from harutils import recipes
    from harutils.models import MODEL_NAMES

    assert set(recipes.DEMO) == set(MODEL_NAMES)
    assert all(set(recipes.FULL[r]) == set(MODEL_NAMES) for r in recipes.RECIPES)
    spelled = '"late_fusion", "c3d", "lrcn", "i3d", "nonlocal"'
    offenders = [p for p in [*MODULES, REPO / "scripts" / "make_notebooks.py"] if spelled in p.read_text()]
    assert not offenders, offenders
