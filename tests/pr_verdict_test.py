"""PR-level verdicts: `agentops verdict pass --range BASE..HEAD` judges a pull request
as a whole, and it lands on a protected branch by each of GitHub's merge methods,
reproduced with real git: a squash (`merge --squash`: its diff is the combined
diff), a merge commit (`merge --no-ff`), a rebase (each commit's patch-id is
unchanged, the verdict covers them). Each with `main` as the PR saw it and with
`main` moved on meanwhile (a human commit that touches none of the PR's lines),
checked in CI (`check --range`) and by the server (a real push to pre-receive).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import GitRepo
from conftest import agent_commit
from conftest import agent_message
from conftest import judge_env
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import text

NOTES = "refs/notes/agentops/verdicts"


@pytest.fixture
def pull_request(server: tuple, keys: dict[str, Path]) -> tuple[Path, GitRepo, str]:
    """Signed verdicts required (init by the judge, committed by a human); a PR
    `feature` of two agent commits, judged as a whole with a signed verdict."""
    bare, repo = server
    code, out = run_agentops(repo, "init", "--no-hooks", env=judge_env(keys["riley"]))
    assert code == 0, out
    repo.git("add", ".")
    repo.commit("Signed verdicts: Riley judges")
    assert push(repo, "main").returncode == 0
    base = repo.head()
    repo.git("checkout", "-q", "-b", "feature")
    agent_commit(repo, "b.py", "b = 1\n", "Add b", "Learning: b holds the one")
    agent_commit(repo, "a.py", "a = 0\nc = 2\n", "Add c next to a", "Learning: c sits beside a")
    code, out = run_agentops(repo, "verdict", "pass", "--range", "main..feature", "--sign",
                             env=judge_env(keys["riley"]))
    assert code == 0, out
    assert "covering 2 commit(s)" in out
    repo.git("checkout", "-q", "main")
    return bare, repo, base


def move_main_on(repo: GitRepo) -> None:
    repo.stage("d.py", "d = 4\n")
    repo.commit("Human work meanwhile")


def land(repo: GitRepo, method: str) -> None:
    if method == "squash":
        repo.git("merge", "-q", "--squash", "feature")
        repo.commit(agent_message("Add b and c (#1)", "Learning: b holds the one"), "--no-verify")
    elif method == "merge":
        repo.git("merge", "-q", "--no-ff", "--no-verify", "-m", "Merge pull request #1", "feature")
    else:
        repo.git("checkout", "-q", "-b", "rebased", "feature")
        repo.git("rebase", "-q", "main")
        repo.git("checkout", "-q", "main")
        repo.git("merge", "-q", "--ff-only", "rebased")


def test_the_pr_itself_passes_ci(pull_request: tuple) -> None:
    _, repo, _ = pull_request
    code, out = run_agentops(repo, "check", "--range", "main..feature")
    assert code == 0, out


@pytest.mark.parametrize("moved", [False, True], ids=["same-base", "base-moved-on"])
@pytest.mark.parametrize("method", ["squash", "merge", "rebase"])
def test_a_judged_pr_lands_by_each_merge_method(pull_request: tuple, method: str, moved: bool) -> None:
    bare, repo, _ = pull_request
    if moved:
        move_main_on(repo)
        assert push(repo, "main").returncode == 0
    before = repo.head()
    land(repo, method)
    code, out = run_agentops(repo, "check", "--range", f"{before}..main")
    assert code == 0, out
    pushed = push(repo, "main", NOTES)
    assert pushed.returncode == 0, text(pushed)
    assert remote(bare, "refs/heads/main") == repo.head()
    code, out = run_agentops(repo, "review", f"{before}..main", "--format", "json")
    assert code == 0, out
    rows = json.loads(out)
    admitted = [r for r in rows if r["agent"]]
    assert admitted and all("PR verdict for" in r["admitted_by"] for r in admitted), rows


def test_part_of_a_pr_is_not_admitted_by_its_verdict(pull_request: tuple) -> None:
    _, repo, base = pull_request
    repo.git("merge", "-q", "--ff-only", "feature~1")
    code, out = run_agentops(repo, "check", "--range", f"{base}..main")
    assert code == 1 and "verdict-range-incomplete" in out, out
    pushed = push(repo, "main", NOTES)
    assert pushed.returncode != 0 and "verdict-range-incomplete" in text(pushed)


def test_a_squash_that_changes_the_pr_is_not_admitted(pull_request: tuple) -> None:
    _, repo, base = pull_request
    repo.git("merge", "-q", "--squash", "feature")
    repo.stage("b.py", "b = 1\nimport os\n")
    repo.commit(agent_message("Add b and c (#1)", "Learning: b holds the one"), "--no-verify")
    code, out = run_agentops(repo, "check", "--range", f"{base}..main")
    assert code == 1 and "verdict-missing" in out, out
    assert push(repo, "main", NOTES).returncode != 0


@pytest.mark.parametrize(("spec", "says"), [
    ("nowhere..feature", "'nowhere' in 'nowhere..feature' does not name a commit"),
    ("main..main", "holds no commits"),
    ("main..", "is not a range"),
])
def test_a_range_verdict_for_a_range_that_does_not_exist(
    pull_request: tuple, keys: dict[str, Path], spec: str, says: str,
) -> None:
    _, repo, _ = pull_request
    notes_before = repo.out("rev-parse", NOTES)
    code, out = run_agentops(repo, "verdict", "pass", "--range", spec, "--sign",
                             env=judge_env(keys["riley"]))
    assert code == 2, out
    assert says in out and len(out.strip().splitlines()) == 1
    assert repo.out("rev-parse", NOTES) == notes_before


def test_an_agent_cannot_stretch_a_judged_prs_covers_to_its_next_commit(pull_request: tuple) -> None:
    """The covers list is signed: copying the judged record with one more patch-id
    (the agent's unjudged commit) breaks the signature."""
    _, repo, base = pull_request
    repo.git("checkout", "-q", "feature")
    extra = agent_commit(repo, "e.py", "e = 5\n", "Sneak in e", "Learning: e was never judged")
    _, out = run_agentops(repo, "check", "--commit", extra, "--format", "json")
    record = json.loads(repo.out("notes", "--ref", NOTES, "show", "feature~1"))
    record["covers"].append(json.loads(out)["patch_id"])
    repo.git("notes", "--ref", NOTES, "append", "-m", json.dumps(record), extra)
    code, out = run_agentops(repo, "check", "--range", f"{base}..feature")
    assert code == 1 and "verdict-signature-invalid" in out, out
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--ff-only", "feature")
    pushed = push(repo, "main", NOTES)
    assert pushed.returncode != 0 and "verdict-signature-invalid" in text(pushed)
