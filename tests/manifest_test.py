"""The hook manifest, the README's promises, and what the built package ships."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]


def manifest() -> list[dict]:  # type: ignore[type-arg]
    import yaml  # installed with pre-commit

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert isinstance(hooks, list)
    return hooks


def test_required_hook_ids() -> None:
    ids = {h["id"] for h in manifest()}
    assert {"agentops", "agentops-verdict", "agentops-learnings"} <= ids


@pytest.mark.parametrize("hook", manifest(), ids=lambda h: h["id"])
def test_hook_is_complete(hook: dict) -> None:  # type: ignore[type-arg]
    assert hook["stages"], "every hook names its stages"
    assert hook["minimum_pre_commit_version"] == "3.2.0"
    assert hook["description"].strip()
    assert hook["language"] == "python"
    assert hook["entry"].split()[0] == "agentops-hook"


@pytest.mark.parametrize("hook_id", [h["id"] for h in manifest()])
def test_every_hook_id_is_documented_in_the_readme(hook_id: str) -> None:
    assert f"`{hook_id}`" in (ROOT / "README.md").read_text()


def test_manifest_validates_with_pre_commit() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_wheel_ships_the_schemas_inside_the_package(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("agentops_hooks-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for schema in sorted((ROOT / "schemas").glob("*.json")):
        assert f"agentops_hooks/schemas/{schema.name}" in names
    assert "agentops_hooks/gates/verdict.py" in names


def test_readme_first_screen_has_the_two_commands() -> None:
    first_screen = "\n".join((ROOT / "README.md").read_text().splitlines()[:60])
    assert "agentops demo" in first_screen
    assert "pytest" in first_screen
    assert "pipx install" in first_screen and "\nagentops init\n" in first_screen
    assert (ROOT / ".ci" / "run").read_text().count("pytest") >= 1


def test_readme_rev_is_this_versions_tag_and_the_license_is_shipped() -> None:
    import re

    from agentops_hooks import __version__
    from agentops_hooks.commands.init import HOOK_REPO
    from agentops_hooks.commands.init import HOOK_REV
    from agentops_hooks.commands.init import with_hooks

    readme = (ROOT / "README.md").read_text()
    revs = re.findall(r"^\s*rev:\s*(\S+)", readme, re.M)
    assert revs == [f"v{__version__}"] == [HOOK_REV]
    assert f"git tag -a v{__version__} " in readme  # the tagging step names the same tag
    # The config shown is the one `agentops init` writes; the CLI installed is the same version.
    assert f"```yaml\n{with_hooks(None, HOOK_REPO, HOOK_REV).text}```" in readme
    assert f'pipx install "git+{HOOK_REPO}@{HOOK_REV}"' in readme
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.startswith("MIT License")
    assert 'license = { text = "MIT" }' in (ROOT / "pyproject.toml").read_text()
