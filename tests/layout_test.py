"""The package's folders are layers, and imports only go down (docs/architecture.md)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[1] / "hooks" / "agentops_hooks"
LAYERS = {"core": 0, "evidence": 1, "ratchet": 2, "judge": 2, "gates": 3, "places": 4, "report": 4,
          "commands": 5, "entry": 6}
"""A folder's modules may import modules of a lower layer and their own folder."""


def layer_of(module: str) -> str:
    parts = module.split(".")
    if len(parts) > 1 and parts[1] in LAYERS:
        return parts[1]
    return "core"


def imports(path: Path) -> list[str]:
    """Every agentops_hooks module the file imports, at any depth (lazy imports too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("agentops_hooks"):
            found.append(node.module)
            found += [f"{node.module}.{a.name}" for a in node.names
                      if (PACKAGE / Path(*node.module.split(".")[1:]) / a.name).is_dir()]
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("agentops_hooks")]
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_only_go_down(path: Path) -> None:
    own = layer_of("agentops_hooks." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    for module in imports(path):
        other = layer_of(module)
        assert LAYERS[other] < LAYERS[own] or other == own, (
            f"{path.relative_to(PACKAGE)} ({own}) imports {module} ({other})")


def test_the_check_has_teeth() -> None:
    """A module of the core that imported a gate would be caught."""
    assert LAYERS[layer_of("agentops_hooks.gates.verdict")] > LAYERS[layer_of("agentops_hooks.git")]
    assert "agentops_hooks.gates" in imports(PACKAGE / "places" / "commit.py")
