"""Gate VI: agents commit on their own branches, inside their own paths."""
from __future__ import annotations

from pathlib import Path

import pytest

from agentops_hooks.places.range_check import check_range
from agentops_hooks.findings import Finding
from agentops_hooks.gates.isolate import glob_match
from agentops_hooks.gates.isolate import worker_key
from agentops_hooks.git import Repo
from agentops_hooks.gates import policy
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
from conftest import run_hook

SESSION = "Agent: claude-code session=s1"
WORKERS = '[isolate]\nprotected_branches = []\n[isolate.workers]\n"session s1" = ["src/api/**", "docs/api/"]\n'


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "isolate")


def judged(repo: GitRepo, rev: str = "HEAD") -> list[Finding]:
    return gate_findings("isolate", rev)


@pytest.fixture
def on_main(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    repo.stage("app.py", "x = 2\n")
    return repo


# --- (a) protected branches ---------------------------------------------------

def test_agent_commit_on_main_is_refused(on_main: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(on_main, agent_message("Fix", "Task: PROJ-7"), capsys)
    assert code == 1
    assert "[VI Isolate Workers] isolate: isolate-protected-branch" in out
    assert "directly on branch 'main': it matches isolate.protected_branches 'main'" in out
    assert "fix: git switch -c agent/PROJ-7" in out


@pytest.mark.parametrize(("task", "branch"), [
    ("Task: PROJ 12/auth", "agent/PROJ-12-auth"),
    ("Task:", "agent/<task>"),
    ("Agent: x", "agent/<task>"),
])
def test_suggested_branch_name(
    on_main: GitRepo, capsys: pytest.CaptureFixture[str], task: str, branch: str,
) -> None:
    code, out = run(on_main, agent_message("Fix", task), capsys)
    assert code == 1
    assert f"git switch -c {branch}   (the staged change comes along)" in out


def test_the_suggested_fix_works(on_main: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    on_main.git("switch", "-q", "-c", "agent/PROJ-7")
    code, out = run(on_main, agent_message("Fix", "Task: PROJ-7"), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("branch", "refused"), [
    ("master", True),
    ("release/1.0", True),
    ("release/1.0/hotfix", True),    # fnmatch: `*` matches `/` too
    ("release", False),
    ("feature/main", False),
    ("main-work", False),
    ("agent/T-1", False),
])
def test_default_protected_branches(
    on_main: GitRepo, capsys: pytest.CaptureFixture[str], branch: str, refused: bool,
) -> None:
    on_main.git("switch", "-q", "-c", branch)
    code, out = run(on_main, agent_message("Fix", "Task: T-1"), capsys)
    assert code == (1 if refused else 0), out


def test_detached_head_is_not_a_branch(on_main: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    on_main.git("switch", "-q", "--detach")
    code, out = run(on_main, agent_message("Fix"), capsys)
    assert code == 0, out


def test_unborn_main_is_main(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("app.py", "x = 1\n")
    code, out = run(repo, agent_message("Start"), capsys)
    assert code == 1
    assert "isolate-protected-branch" in out


def test_protected_branches_are_configurable(on_main: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    on_main.write(".agentops.toml", '[isolate]\nprotected_branches = ["trunk", "stable-*"]\n')
    code, out = run(on_main, agent_message("Fix"), capsys)
    assert code == 0, out
    on_main.git("switch", "-q", "-c", "stable-2")
    code, out = run(on_main, agent_message("Fix"), capsys)
    assert code == 1
    assert "matches isolate.protected_branches 'stable-*'" in out


def test_human_may_commit_on_main(on_main: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(on_main, "Human fix\n", capsys)
    assert code == 0, out


def test_everyone_keeps_humans_off_main_too(on_main: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    on_main.write(".agentops.toml", '[isolate]\nrequired_for = "everyone"\n')
    code, out = run(on_main, "Human fix\n", capsys)
    assert code == 1
    assert "a change (policy: everyone) may not be committed directly on branch 'main'" in out


def test_commit_already_made_has_no_branch_to_judge(on_main: GitRepo) -> None:
    on_main.commit(agent_message("Fix"))
    assert on_main.out("symbolic-ref", "--short", "HEAD") == "main"
    assert judged(on_main) == []


# --- (b) worker paths -----------------------------------------------------------

@pytest.fixture
def worker(repo: GitRepo) -> GitRepo:
    repo.stage(".agentops.toml", WORKERS)
    repo.stage("src/api/routes.py", "routes = []\n")
    repo.stage("src/billing/invoice.py", "total = 0\n")
    repo.commit("base")
    return repo


def test_worker_inside_its_paths_passes(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    worker.stage("src/api/routes.py", "routes = ['/']\n")
    worker.stage("src/api/v2/deep/handler.py", "x = 1\n")
    worker.stage("docs/api/index.md", "# API\n")
    code, out = run(worker, agent_message("API", SESSION), capsys)
    assert code == 0, out


def test_worker_outside_its_paths_is_refused(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    worker.stage("src/api/routes.py", "routes = ['/']\n")
    worker.stage("src/billing/invoice.py", "total = 1\n")
    worker.git("rm", "-q", "--cached", ".agentops.toml")
    code, out = run(worker, agent_message("API", SESSION), capsys)
    assert code == 1
    assert "isolate-outside-paths" in out
    assert ("worker session s1 may change only src/api/**, docs/api/ (isolate.workers), but this "
            "change touches 2 path(s) outside them: .agentops.toml, src/billing/invoice.py") in out
    assert "git restore --staged -- .agentops.toml src/billing/invoice.py" in out


def test_rename_out_of_the_workers_paths_names_the_old_path(
    worker: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    worker.git("mv", "src/billing/invoice.py", "src/api/invoice.py")
    code, out = run(worker, agent_message("Move", SESSION), capsys)
    assert code == 1
    assert "touches 1 path(s) outside them: src/billing/invoice.py." in out


def test_rename_inside_the_workers_paths_passes(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    (worker.root / "src/api/v1").mkdir()
    worker.git("mv", "src/api/routes.py", "src/api/v1/routes.py")
    code, out = run(worker, agent_message("Move", SESSION), capsys)
    assert code == 0, out


def test_many_outside_paths_are_summarised(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(12):
        worker.stage(f"lib/m{i:02}.py", "x = 1\n")
    code, out = run(worker, agent_message("Wide", SESSION), capsys)
    assert code == 1
    assert "touches 12 path(s) outside them: lib/m00.py" in out
    assert "lib/m09.py and 2 more." in out


def test_worker_not_in_the_map_is_not_restricted(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    worker.stage("src/billing/invoice.py", "total = 1\n")
    code, out = run(worker, agent_message("Billing", "Agent: claude-code session=s2"), capsys)
    assert code == 0, out


def test_worker_by_author_email(
    worker: GitRepo, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    worker.write(".agentops.toml", '[isolate]\nprotected_branches = []\n'
                                   '[isolate.workers]\n"Bot+api@Bots.Example" = ["src/api/**"]\n')
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "bot@bots.example")
    worker.stage("src/billing/invoice.py", "total = 1\n")
    code, out = run(worker, agent_message("Billing"), capsys)
    assert code == 1
    assert "worker bot@bots.example may change only src/api/**" in out
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "other@bots.example")
    code, out = run(worker, agent_message("Billing"), capsys)
    assert code == 0, out


def test_human_is_not_restricted_by_default(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    worker.write(".agentops.toml", WORKERS.replace('"session s1"', '"hana@example.com"'))
    worker.stage("src/billing/invoice.py", "total = 1\n")
    code, out = run(worker, "Human billing fix\n", capsys)
    assert code == 0, out
    worker.write(".agentops.toml", WORKERS.replace('"session s1"', '"hana@example.com"')
                 .replace("[isolate]\n", '[isolate]\nrequired_for = "everyone"\n'))
    code, out = run(worker, "Human billing fix\n", capsys)
    assert code == 1
    assert "worker hana@example.com may change only" in out


def test_both_rules_are_reported(worker: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    worker.write(".agentops.toml", WORKERS.replace("protected_branches = []\n", ""))
    worker.stage("src/billing/invoice.py", "total = 1\n")
    code, out = run(worker, agent_message("Billing", SESSION), capsys)
    assert code == 1
    assert "isolate-protected-branch" in out and "isolate-outside-paths" in out


def test_committed_change_outside_paths(worker: GitRepo) -> None:
    base = worker.head()
    worker.stage("src/billing/invoice.py", "total = 1\n")
    worker.commit(agent_message("Billing", SESSION))
    findings = judged(worker)
    assert [f.rule for f in findings] == ["isolate-outside-paths"]
    assert findings[0].commit == worker.head()
    assert f"git rebase -i {base[:12]}, mark {worker.head()[:12]} `edit`" in findings[0].fix
    assert f"agentops check --range {base[:12]}..HEAD" in findings[0].fix


def test_range_check_judges_each_workers_commit(worker: GitRepo) -> None:
    base = worker.head()
    worker.stage("src/api/routes.py", "routes = [1]\n")
    worker.commit(agent_message("API", SESSION))
    inside = worker.head()
    worker.stage("src/billing/invoice.py", "total = 2\n")
    worker.commit(agent_message("Billing", SESSION))
    outside = worker.head()
    worker.stage("src/billing/invoice.py", "total = 3\n")
    worker.commit(agent_message("Billing", "Agent: claude-code session=s2"))
    other = worker.head()
    config = policy(Path(worker.root))
    report = check_range(Repo(), config, [f"{base}..HEAD"], "range", ["isolate"])
    found = {r.change.commit: [f.rule for f in r.findings] for r in report.results}
    assert found == {inside: [], outside: ["isolate-outside-paths"], other: []}


@pytest.mark.parametrize(("name", "pattern", "matches"), [
    ("src/api/x.py", "src/api/**", True),
    ("src/api/v2/deep/x.py", "src/api/**", True),
    ("src/apix/x.py", "src/api/**", False),
    ("src/api/x.py", "src/api/", True),
    ("src/test_a.py", "src/**/test_*.py", True),
    ("src/x/y/test_a.py", "src/**/test_*.py", True),
    ("src/x/a.py", "src/**/test_*.py", False),
    ("README.md", "**/*.md", True),
    ("docs/deep/a.md", "*.md", True),        # fnmatch: `*` matches `/` too
    ("Src/api/x.py", "src/api/**", False),   # case-sensitive
    ("release/1.0", "release/*", True),
    ("a/b/c/d.py", "a/**/c/**/d.py", True),
    ("a/c/d.py", "a/**/c/**/d.py", True),
])
def test_glob_match(name: str, pattern: str, matches: bool) -> None:
    assert glob_match(name, pattern) is matches


def test_worker_keys_are_spelled_as_worker_of_spells_them() -> None:
    assert worker_key("session  abc ") == "session abc"
    assert worker_key("Claude+Bot@Example.COM") == "claude@example.com"


def test_a_new_session_does_not_lift_the_authors_paths(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", '[isolate]\nprotected_branches = []\n[isolate.workers]\n"hana@example.com" = ["docs/**"]\n')
    repo.stage("docs/a.md", "a\n")
    repo.commit("base")
    repo.git("checkout", "-q", "-b", "agent/work")
    repo.stage("src/app.py", "x = 1\n")
    code, out = run_hook(repo, agent_message("Sneak", "Agent: claude-code session=fresh"), capsys, "--gate", "isolate")
    assert code == 1
    assert "isolate-outside-paths" in out and "src/app.py" in out
