"""The package's layers: a module imports only from its own layer or below (docs/architecture.md).

Function-level (lazy) imports count too: they are dependencies all the same.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "ase_lcom"

LAYERS: list[set[str]] = [
    {"__init__", "errors", "limits", "structure", "graph", "symmetry", "plugins"},
    {"models", "data", "calculators", "memory", "plausibility", "metrics", "execution", "store", "pretrained"},
    {"training"},
    {"predictors", "lcom", "search", "generators"},
    {"transformations", "benchmarks", "ase_plugins", "distributed"},
    {"cli"},
]
LAYER_OF = {name: k for k, names in enumerate(LAYERS) for name in names}

# Rules the architecture states outright, checked on their own so a broken rule names itself.
FORBIDDEN = {
    "structure": {"lcom", "training", "benchmarks", "cli"},
    "graph": {"lcom", "training", "benchmarks", "cli"},
    "models": {"lcom", "training", "benchmarks", "cli"},
    "lcom": {"training", "cli"},
}


def _component(module: str) -> str | None:
    """The top-level component of an ``ase_lcom`` module name (``ase_lcom.lcom.model`` -> ``lcom``)."""
    parts = module.split(".")
    if parts[0] != "ase_lcom":
        return None
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    """``ase_lcom/lcom/model.py`` -> ``ase_lcom.lcom.model`` (a package's ``__init__`` keeps its name as a leaf,
    so that relative imports resolve against the package)."""
    return ".".join(("ase_lcom", *path.relative_to(PACKAGE).with_suffix("").parts))


def _imports(source: str, package: str) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``source``, a module named ``package``."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: -node.level]
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _own_component(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0].removesuffix(".py") if len(rel.parts) > 1 or rel.stem != "__init__" else "__init__"


def test_every_component_has_a_layer() -> None:
    unknown = {_own_component(p) for p in _modules()} - set(LAYER_OF)
    assert not unknown, f"components without a layer in tests/architecture/test_layering.py: {sorted(unknown)}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_upward_imports(path: Path) -> None:
    own = _own_component(path)
    violations = []
    for line, module in _imports(path.read_text(), _module_name(path)):
        target = _component(module)
        if target is None or target == own or own == "__init__":
            continue
        if target not in LAYER_OF:
            violations.append(f"line {line}: {module} (unknown component)")
        elif LAYER_OF[target] > LAYER_OF[own]:
            violations.append(f"line {line}: {module} (layer {LAYER_OF[target]} above {own}'s {LAYER_OF[own]})")
        elif target in FORBIDDEN.get(own, set()):
            violations.append(f"line {line}: {module} ({own} never imports {target})")
    assert not violations, "\n".join(violations)


def test_the_checker_sees_an_upward_import() -> None:
    """The scan finds imports inside functions, relative ones included (so the tests above can fail)."""
    source = "def f():\n    from ..lcom.model import cached_model\n    import ase_lcom.cli\n"
    modules = [m for _, m in _imports(source, "ase_lcom.models.probe")]
    assert modules == ["ase_lcom.lcom.model", "ase_lcom.cli"]
    assert [_component(m) for m in modules] == ["lcom", "cli"]
