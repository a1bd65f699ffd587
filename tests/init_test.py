"""`agentops init`: adopt the hooks in one command, and the factors one phase at a time."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from agentops_hooks import __version__
from agentops_hooks.commands import cli
from agentops_hooks.commands.init import HOOK_REPO
from agentops_hooks.gates import policy
from agentops_hooks.gates.learnings import LearningsConfig
from conftest import GitRepo
from conftest import run_agentops


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.mark.parametrize(("phase", "gates"), [
    # The defaults (privilege, verdict, learnings, supervise) stay on in every phase.
    ("prepare", ["context", "track", "scope", "privilege", "verdict", "learnings", "supervise"]),
    ("bound", ["context", "track", "scope", "privilege", "research", "isolate", "verdict",
               "learnings", "supervise"]),
    ("select", ["context", "track", "scope", "privilege", "research", "isolate",
                "verdict", "ratchet", "learnings", "supervise"]),
    ("govern", ["context", "track", "scope", "privilege", "research", "isolate",
                "verdict", "ratchet", "learnings", "knowledge", "supervise"]),
])
def test_phase_adds_its_gates_and_those_before_to_the_defaults(repo: GitRepo, phase: str,
                                                                gates: list[str]) -> None:
    code, out = invoke("init", "--phase", phase, "--no-signing", "--no-hooks")
    assert code == 0, out
    assert policy(repo.root).gates == tuple(gates)
    assert f"agentops: .agentops.toml: gates = {gates} (phase {phase} and before, and the " \
           "gates already on)" in out


def test_existing_config_is_kept(repo: GitRepo) -> None:
    repo.write(".agentops.toml", 'gates = [\n  "verdict",\n]\n\n[learnings]\nmin_changed_lines = 3\n')
    code, out = invoke("init", "--phase", "bound", "--no-signing", "--no-hooks")
    assert code == 0, out
    loaded = policy(repo.root)
    # Its own gates stay on (verdict); the defaults it turned off stay off.
    assert loaded.gates == ("context", "track", "scope", "privilege", "research", "isolate", "verdict")
    assert loaded.section(LearningsConfig).min_changed_lines == 3


def test_a_phase_never_turns_a_gate_off(repo: GitRepo) -> None:
    repo.write(".agentops.toml", 'gates = ["knowledge", "verdict"]\n')
    code, out = invoke("init", "--phase", "prepare", "--no-signing", "--no-hooks")
    assert code == 0, out
    assert policy(repo.root).gates == ("context", "track", "scope", "verdict", "knowledge")


def test_broken_config_is_not_overwritten(repo: GitRepo) -> None:
    repo.write(".agentops.toml", "[learnings\n")
    code, out = invoke("init", "--phase", "prepare")
    assert code == 2
    assert (repo.root / ".agentops.toml").read_text() == "[learnings\n"


def test_pyproject_config_is_not_shadowed(repo: GitRepo) -> None:
    repo.write("pyproject.toml", "[tool.agentops.learnings]\nmin_changed_lines = 3\n")
    code, out = invoke("init", "--phase", "prepare")
    assert code == 2
    assert "set gates = " in out and "pyproject.toml" in out
    assert not (repo.root / ".agentops.toml").exists()


# --- adopting: .pre-commit-config.yaml and the git hooks ---------------------------------

OURS = (f"  - repo: {HOOK_REPO}\n    rev: v{__version__}\n    hooks:\n      - id: agentops\n"
        "      - id: agentops-record\n      - id: agentops-push\n")
INSTALL = "pre-commit install --hook-type commit-msg --hook-type post-commit --hook-type pre-push"
NEXT = ("agentops: next: {files}; local hooks can be skipped (--no-verify): make `agentops check "
        "--range BASE..HEAD` a required CI job, and run `agentops pre-receive` as the server's "
        f"pre-receive hook ({HOOK_REPO}/blob/v{__version__}/docs/ci.md)\n")
NOTES_SET = ("agentops: set notes.rewriteRef = refs/notes/agentops/*\n"
             "agentops: set notes.rewriteMode = cat_sort_uniq\n"
             "agentops: set notes.displayRef = refs/notes/agentops/*\n")


def installed(repo: GitRepo) -> list[str]:
    """The hook types pre-commit installed in the clone."""
    hooks = repo.root / ".git" / "hooks"
    return sorted(p.name for p in hooks.iterdir()
                  if not p.name.endswith(".sample") and "pre-commit" in p.read_text())


def test_init_adopts_in_one_command_and_again_does_nothing(repo: GitRepo) -> None:
    code, out = run_agentops(repo, "init", "--no-signing")
    assert code == 0, out
    assert out == (
        f"agentops: .pre-commit-config.yaml: created with hooks agentops, agentops-record, "
        f"agentops-push ({HOOK_REPO} at v{__version__})\n"
        f"agentops: ran {INSTALL}\n" + NOTES_SET
        + NEXT.format(files="commit .pre-commit-config.yaml"))
    config = repo.root / ".pre-commit-config.yaml"
    assert config.read_text() == "repos:\n" + OURS
    assert installed(repo) == ["commit-msg", "post-commit", "pre-push"]
    assert repo.out("config", "notes.rewriteMode") == "cat_sort_uniq"

    code, again = run_agentops(repo, "init", "--no-signing")
    assert code == 0, again
    assert again.splitlines()[:2] == [
        f"agentops: .pre-commit-config.yaml: hooks agentops, agentops-record, agentops-push "
        f"already ({HOOK_REPO} at v{__version__})", f"agentops: ran {INSTALL}"]
    assert "agentops: notes.rewriteMode = cat_sort_uniq already" in again
    assert config.read_text() == "repos:\n" + OURS


def test_dry_run_says_what_it_would_do_and_changes_nothing(repo: GitRepo) -> None:
    before = repo.out("config", "--list", "--local")
    code, out = run_agentops(repo, "init", "--dry-run", "--phase", "prepare")
    assert code == 0, out
    assert out.splitlines()[:3] == [
        f"agentops: would write .pre-commit-config.yaml: created with hooks agentops, "
        f"agentops-record, agentops-push ({HOOK_REPO} at v{__version__})",
        f"agentops: would run {INSTALL}",
        "agentops: would write .agentops.toml: gates = ['context', 'track', 'scope', 'privilege', "
        "'verdict', 'learnings', 'supervise'] (phase prepare and before, and the gates already on)",
    ]
    assert "agentops: would set notes.rewriteRef = refs/notes/agentops/*" in out
    assert "would write .agentops.toml: verdict.require_signature = true" in out
    assert sorted(p.name for p in repo.root.iterdir()) == [".git"]
    assert installed(repo) == []
    assert repo.out("config", "--list", "--local") == before


USERS = """\
# our hooks: keep this comment
repos:
-   repo: https://github.com/pre-commit/pre-commit-hooks
    rev: v4.6.0   # pinned on purpose
    hooks:
    -   id: trailing-whitespace
        args: [--markdown-linebreak-ext=md]
# the next entry is ours

default_stages: [pre-commit]
"""


def test_an_existing_config_is_extended_keeping_every_line(repo: GitRepo) -> None:
    repo.write(".pre-commit-config.yaml", USERS)
    code, out = run_agentops(repo, "init", "--no-signing")
    assert code == 0, out
    assert out.startswith(f"agentops: .pre-commit-config.yaml: added hooks agentops, "
                          f"agentops-record, agentops-push ({HOOK_REPO} at v{__version__})\n")
    text = (repo.root / ".pre-commit-config.yaml").read_text()
    head, tail = USERS.split("# the next entry is ours\n")
    assert text == (head + f"-   repo: {HOOK_REPO}\n    rev: v{__version__}\n    hooks:\n"
                    "    -   id: agentops\n    -   id: agentops-record\n    -   id: agentops-push\n"
                    "# the next entry is ours\n" + tail)


def test_our_entry_gets_the_missing_hooks_and_keeps_its_pin(repo: GitRepo) -> None:
    users = (f"repos:\n  - repo: {HOOK_REPO}\n    rev: v0.0.9  # old\n    hooks:\n"
             "      - id: agentops\n        args: [--quiet]\n")
    repo.write(".pre-commit-config.yaml", users)
    code, out = run_agentops(repo, "init", "--no-signing")
    assert code == 0, out
    assert out.splitlines()[:2] == [
        f"agentops: .pre-commit-config.yaml: added hooks agentops-record, agentops-push "
        f"({HOOK_REPO} at v0.0.9)",
        f"agentops: .pre-commit-config.yaml keeps {HOOK_REPO} at v0.0.9, not v{__version__}: "
        "`pre-commit autoupdate` moves it"]
    assert (repo.root / ".pre-commit-config.yaml").read_text() == (
        users + "      - id: agentops-record\n      - id: agentops-push\n")


def test_a_flow_style_config_is_written_out_whole_with_all_its_data(repo: GitRepo) -> None:
    repo.write(".pre-commit-config.yaml", "repos: [{repo: local, hooks: [{id: x, name: x, "
                                          "entry: 'true', language: system}]}]\n")
    code, out = run_agentops(repo, "init", "--no-signing")
    assert code == 0, out
    assert "its layout could not be extended, so it is written out whole (comments are not kept)" in out
    from pre_commit.clientlib import load_config

    repos = load_config(str(repo.root / ".pre-commit-config.yaml"))["repos"]
    assert [r["repo"] for r in repos] == ["local", HOOK_REPO]
    assert [h["id"] for h in repos[1]["hooks"]] == ["agentops", "agentops-record", "agentops-push"]


@pytest.mark.parametrize(("setup", "error"), [
    (lambda r: r.write(".pre-commit-config.yaml", "repos:\n  - repo: [\n"),
     "agentops: error: cannot read .pre-commit-config.yaml: while parsing a flow node"),
    (lambda r: r.write(".pre-commit-config.yaml", "- just a list\n"),
     "agentops: error: .pre-commit-config.yaml is not a pre-commit config (a mapping with a "
     "`repos` list)"),
    (lambda r: r.git("config", "core.hooksPath", ".hooks"),
     "agentops: error: core.hooksPath is set (.hooks), so git ignores the hooks pre-commit "
     "installs (and pre-commit refuses to): unset it (git config --unset-all core.hooksPath), "
     "or run agentops init --no-hooks and call agentops-hook from your own hooks"),
    (lambda r: r.write(".agentops.toml", "[learnings\n"), "agentops: error: "),
])
def test_a_refusal_leaves_everything_as_it_was(repo: GitRepo, setup: Any, error: str) -> None:
    setup(repo)
    files = {p.name: p.read_bytes() for p in repo.root.iterdir() if p.is_file()}
    before = repo.out("config", "--list", "--local")
    code, out = run_agentops(repo, "init")
    assert code == 2
    assert out.startswith(error) and len(out.splitlines()) == 1, out
    assert {p.name: p.read_bytes() for p in repo.root.iterdir() if p.is_file()} == files
    assert repo.out("config", "--list", "--local") == before and installed(repo) == []


def test_origin_is_set_up_to_fetch_the_notes_by_default(repo: GitRepo, tmp_path: Path) -> None:
    repo.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    code, out = run_agentops(repo, "init", "--no-signing", "--no-hooks")
    assert code == 0, out
    assert ("agentops: git fetch origin now brings the notes "
            "(+refs/notes/agentops/*:refs/notes/remotes/origin/agentops/*)\n") in out


def test_an_unknown_remote_is_refused_before_anything_is_done(repo: GitRepo) -> None:
    before = repo.out("config", "--list", "--local")
    code, out = run_agentops(repo, "init", "--remote", "nowhere")
    assert code == 2 and len(out.splitlines()) == 1 and "no remote named 'nowhere'" in out
    assert sorted(p.name for p in repo.root.iterdir()) == [".git"] and installed(repo) == []
    assert repo.out("config", "--list", "--local") == before


def test_init_in_a_bare_repository_installs_no_hooks_and_sets_the_notes(tmp_path: Path, repo: GitRepo) -> None:
    bare = tmp_path / "server.git"
    repo.git("init", "-q", "--bare", str(bare))
    code, out = run_agentops(GitRepo(bare, repo.env), "init")
    assert code == 0, out
    assert out.splitlines()[0] == ("agentops: no work tree, so no commit hooks to install: on a "
                                   f"server, agentops pre-receive is the hook ({HOOK_REPO}/blob/"
                                   f"v{__version__}/docs/ci.md)")
    assert "agentops: set notes.rewriteMode = cat_sort_uniq" in out and not (bare / "hooks" / "commit-msg").exists()


@pytest.mark.parametrize(("files", "judges"), [
    ({"conftest.py": ""}, [("pytest", "python -m pytest -q")]),
    ({"tests/test_x.py": "def test_x(): pass\n"}, [("pytest", "python -m pytest -q")]),
    ({"package.json": '{"scripts": {"test": "jest"}}'},
     [("npm-test", "npm ci --no-audit --no-fund && npm test")]),
    ({"package.json": '{"scripts": {"test": "echo \\"Error: no test specified\\" && exit 1"}}'}, []),
    ({"Cargo.toml": "[package]\n", "go.mod": "module x\n"},
     [("cargo-test", "cargo test"), ("go-test", "go test ./...")]),
    ({"README.md": "# nothing to test\n"}, []),
])
def test_select_offers_a_tests_judge_from_what_it_finds(
        repo: GitRepo, files: dict[str, str], judges: list[tuple[str, str]]) -> None:
    for path, content in files.items():
        repo.write(path, content)
    code, out = invoke("init", "--phase", "select", "--no-signing", "--no-hooks")
    assert code == 0, out
    found = policy(repo.root).judge.judges
    assert [(j.name, j.command) for j in found] == judges
    assert ("[judge] runs your tests" in out) == bool(judges)
    code, out = invoke("init", "--phase", "govern", "--no-signing", "--no-hooks")  # offered once
    assert code == 0 and len(policy(repo.root).judge.judges) == len(judges)


def test_bound_offers_no_judge(repo: GitRepo) -> None:
    repo.write("conftest.py", "")
    code, out = invoke("init", "--phase", "bound", "--no-signing", "--no-hooks")
    assert code == 0 and not policy(repo.root).judge.judges
