"""The tests judge `agentops init --phase select` offers: the project's own test command,
found from what the repository holds (pytest, npm test, cargo test, go test)."""
from __future__ import annotations

import json
from pathlib import Path

_NPM_PLACEHOLDER = "no test specified"
"""What `npm init` puts in scripts.test: not a test suite."""


def test_commands(root: Path) -> list[tuple[str, str]]:
    """(judge name, command) for each test runner the repository at `root` uses."""
    found = []
    if _uses_pytest(root):
        found.append(("pytest", "python -m pytest -q"))
    package = root / "package.json"
    if package.is_file():
        try:
            scripts = json.loads(package.read_text(encoding="utf-8")).get("scripts") or {}
        except (ValueError, AttributeError, OSError):
            scripts = {}
        test = scripts.get("test") if isinstance(scripts, dict) else None
        if isinstance(test, str) and _NPM_PLACEHOLDER not in test:
            found.append(("npm-test", "npm ci --no-audit --no-fund && npm test"))
    if (root / "Cargo.toml").is_file():
        found.append(("cargo-test", "cargo test"))
    if (root / "go.mod").is_file():
        found.append(("go-test", "go test ./..."))
    return found


def _uses_pytest(root: Path) -> bool:
    if (root / "pytest.ini").is_file() or (root / "conftest.py").is_file():
        return True
    for name, marker in (("pyproject.toml", "[tool.pytest"), ("setup.cfg", "[tool:pytest]"),
                         ("tox.ini", "[pytest]")):
        try:
            if marker in (root / name).read_text(encoding="utf-8", errors="replace"):
                return True
        except OSError:
            continue
    tests = root / "tests"
    return tests.is_dir() and (any(tests.glob("test_*.py")) or any(tests.glob("*_test.py")))


def tests_judge_table(root: Path) -> str | None:
    """The `[judge]` table that runs the repository's tests on each change (None: no
    test runner found)."""
    commands = test_commands(root)
    if not commands:
        return None
    lines = ["[judge]",
             '# identity = "CI Judge <judge@ci.example.com>"  # who signs; docs/judges.md', ""]
    for name, command in commands:
        lines += ["[[judge.judges]]", f'name = "{name}"', f"command = {json.dumps(command)}",
                  "timeout = 1800", ""]
    return "\n".join(lines)
