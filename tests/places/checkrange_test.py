"""`agentops check --range`: every gate over every commit, batched, in four output formats."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.commands import cli
from agentops_hooks.git import Repo
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False, env=env)
    return result.exit_code, result.output


def judged(repo: GitRepo, path: str, content: str, subject: str) -> None:
    repo.stage(path, content)
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    repo.commit(agent_message(subject, f'Verdict: PASS judge="{JUDGE}" patch={patch}'))


@pytest.fixture
def branch(repo: GitRepo) -> GitRepo:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    repo.git("tag", "base")
    judged(repo, "a.py", "a = 1\n", "Judged agent work")
    repo.stage("b.py", "b = 1\n")
    repo.commit("Human work")
    repo.stage("c.py", "c = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", agent_message("Unjudged agent work"))
    return repo


def test_range_groups_findings_by_commit(branch: GitRepo) -> None:
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")  # this clone has notes
    code, out = invoke("check", "--range", "base..HEAD", "--verbose")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == "agentops: checking base..HEAD: 3 commit(s)"
    assert lines[1] == ("agentops: unsigned verdicts accepted: any agent can type one — "
                        "see docs/trust.md")  # the policy does not require signatures
    assert lines[2].startswith("ok  ") and "Judged agent work" in lines[2]
    assert lines[3].startswith("ok  ") and "Human work" in lines[3] and "human-authored" in lines[3]
    assert lines[4].startswith("FAIL") and "Unjudged agent work" in lines[4]
    assert "[VII verdict] verdict-missing" in lines[5]
    assert lines[-1] == ("agentops: 1 finding(s) in base..HEAD. Why, and how to satisfy each: "
                         "agentops explain verdict-missing")
    # By default only the failing commit and the outcome; --quiet drops the headline too.
    code, default = invoke("check", "--range", "base..HEAD")
    assert code == 1 and default.splitlines() == lines[:2] + lines[4:]
    code, quiet = invoke("check", "--range", "base..HEAD", "--quiet")
    assert code == 1 and quiet.splitlines() == lines[4:]


def test_without_notes_the_unjudged_are_named_in_one_finding(branch: GitRepo) -> None:
    code, out = invoke("check", "--range", "base..HEAD")
    assert code == 1
    assert out.count("] verdict-notes-missing:") == 1
    assert branch.out("rev-parse", "--short=12", "HEAD") in out.split("verdict-notes-missing")[1]


def test_empty_range_passes_saying_so(branch: GitRepo) -> None:
    code, out = invoke("check", "--range", "HEAD..HEAD")
    assert code == 0
    assert "holds no commits: nothing to check" in out


@pytest.mark.parametrize("spec", ["nope..HEAD", "base..nope", "a..b..c", "", "--all", "..HEAD", "base.."])
def test_bad_range_is_exit_2(branch: GitRepo, spec: str) -> None:
    code, out = invoke("check", "--range", spec)
    assert code == 2
    assert "Traceback" not in out


def test_json_format(branch: GitRepo) -> None:
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    code, out = invoke("check", "--range", "base..HEAD", "--format", "json")
    data = json.loads(out)
    assert data["passed"] is False
    assert [c["subject"] for c in data["commits"]] == ["Judged agent work", "Human work", "Unjudged agent work"]
    assert [bool(c["findings"]) for c in data["commits"]] == [False, False, True]


def test_github_annotations_and_step_summary(branch: GitRepo, tmp_path: Path) -> None:
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    summary = tmp_path / "summary.md"
    code, out = invoke("check", "--range", "base..HEAD", "--format", "github",
                       env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1
    errors = [line for line in out.splitlines() if line.startswith("::error ")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=agentops VII verdict-missing (")
    assert "%0Afix%3A" not in errors[0] and "%0Afix: ask an independent judge" in errors[0]
    text = summary.read_text()
    assert text.startswith("### agentops: base..HEAD 1 finding(s)")
    assert "| `" in text and "verdict-missing" in text


def test_markdown_format(branch: GitRepo) -> None:
    code, out = invoke("check", "--range", "base..HEAD", "--format", "markdown")
    assert "| commit | subject | author | result |" in out
    assert "Unjudged agent work" in out


def test_format_github_needs_a_range(branch: GitRepo) -> None:
    code, out = invoke("check", "--format", "github")
    assert code == 2


def test_merges_are_judged_only_when_policy_says(branch: GitRepo) -> None:
    branch.git("reset", "-q", "--hard", "HEAD~1")
    branch.git("checkout", "-q", "-b", "side", "base")
    judged(branch, "s.py", "s = 1\n", "Side work")
    branch.git("checkout", "-q", "main")
    branch.git("merge", "-q", "--no-ff", "--no-verify", "-m", agent_message("Merge side"), "side")
    code, out = invoke("check", "--range", "base..HEAD", "--format", "json")
    assert code == 0, out
    merge = json.loads(out)["commits"][-1]
    assert merge["subject"] == "Merge side"
    assert any("merge commit" in s for s in merge["skipped"])
    branch.write(".agentops.toml", "[verdict]\nmerges = true\n")
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    code, out = invoke("check", "--range", "base..HEAD", "--format", "json", "--policy", "worktree")
    assert code == 1
    assert json.loads(out)["commits"][-1]["findings"][0]["rule"] == "verdict-missing"


def test_notes_not_fetched_are_named_once(branch: GitRepo, tmp_path: Path) -> None:
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    assert invoke("check", "--range", "base..HEAD")[0] == 0
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    branch.git("push", "-q", str(bare), "main", "base", "refs/notes/agentops/verdicts")
    clone = tmp_path / "ci"
    subprocess.run(["git", "clone", "-q", str(bare), str(clone)], check=True, env=branch.env)
    import os

    here = os.getcwd()
    os.chdir(clone)
    try:
        code, out = invoke("check", "--range", "base..origin/main")
        assert code == 1
        assert out.count("] verdict-notes-missing:") == 1
        assert "git fetch origin '+refs/notes/agentops/*:refs/notes/agentops/*'" in out
        subprocess.run(["git", "fetch", "-q", "origin", "+refs/notes/agentops/*:refs/notes/agentops/*"],
                       check=True, env=branch.env)
        code, out = invoke("check", "--range", "base..origin/main")
        assert code == 0, out
    finally:
        os.chdir(here)


def test_shallow_clone_range_is_a_clear_error(branch: GitRepo, tmp_path: Path) -> None:
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{branch.root}", str(clone)],
                   check=True, env=branch.env)
    import os

    here = os.getcwd()
    os.chdir(clone)
    try:
        code, out = invoke("check", "--range", "HEAD~3..HEAD")
        assert code == 2
        assert "shallow clone" in out and "fetch-depth: 0" in out
        code, out = invoke("check", "--range", f"{branch.out('rev-parse', 'HEAD~3')}..HEAD")
        assert code == 2
        assert "fetch-depth: 0" in out
    finally:
        os.chdir(here)


def test_policy_comes_from_the_range_base(branch: GitRepo) -> None:
    """A change cannot switch off the gates it is judged by."""
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    branch.stage(".agentops.toml", "gates = []\n")
    branch.git("commit", "-q", "--no-verify", "-m", agent_message("Relax the policy"))
    code, out = invoke("check", "--range", "base..HEAD")
    assert code == 1
    assert "Unjudged agent work" in out and "Relax the policy" in out
    code, out = invoke("check", "--range", "base..HEAD", "--policy", "worktree")
    assert code == 0, out


def test_triple_dot_means_since_the_merge_base(branch: GitRepo) -> None:
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    branch.git("checkout", "-q", "-b", "other", "base")
    branch.stage("o.py", "o = 1\n")
    branch.git("commit", "-q", "--no-verify", "-m", agent_message("Work on the base branch"))
    code, out = invoke("check", "--range", "main...other", "--format", "json")
    subjects = [c["subject"] for c in json.loads(out)["commits"]]
    assert subjects == ["Work on the base branch"]


def test_only_the_commits_a_gate_judges_are_diffed(branch: GitRepo) -> None:
    """With the default policy only agent commits are judged, so only theirs are diffed;
    a human commit's diff is read (in one more pipeline) only if something asks for it."""
    from agentops_hooks.places import range_check as checkrange
    from agentops_hooks.config import Config

    report = checkrange.check_range(Repo(), Config(), ["base..HEAD"], "base..HEAD")
    agents = [r.change for r in report.results if r.signals]
    human = report.results[1].change
    batch = agents[0]._batch
    assert batch is not None and batch.stream is not None
    assert batch.stream.commits == [c.commit for c in agents]  # what git was given to diff
    assert human._batch is not None and human._batch is not batch and not human._batch.started
    assert human.patch_id == CommitChange.load(Repo(), human.commit or "").patch_id
    assert [p.path for p in human.paths] == ["b.py"] and human.changed_lines == 1


def test_a_policy_for_everyone_diffs_every_commit(branch: GitRepo) -> None:
    from agentops_hooks.places import range_check as checkrange
    from agentops_hooks.config import Config
    from agentops_hooks.gates.verdict import VerdictConfig

    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")  # this clone has notes
    config = Config(sections=(VerdictConfig(required_for="everyone"),))
    report = checkrange.check_range(Repo(), config, ["base..HEAD"], "base..HEAD")
    assert all("patch_id" in r.change.__dict__ for r in report.results)
    human = report.results[1]
    assert human.change.subject == "Human work"
    assert [f.rule for f in human.findings] == ["verdict-missing"]


def test_the_base_policy_needs_nothing_from_the_work_tree(branch: GitRepo) -> None:
    """With the base's policy, the work tree's config (perhaps the change being
    judged, perhaps broken) is not even read."""
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    branch.write(".agentops.toml", "gates = [\n")  # not TOML
    code, out = invoke("check", "--range", "base..HEAD")
    assert code == 1 and "Unjudged agent work" in out and "not valid TOML" not in out
    code, out = invoke("check", "--range", "base..HEAD", "--policy", "worktree")
    assert code == 2 and "not valid TOML" in out


def test_json_is_written_as_the_commits_are_judged(branch: GitRepo) -> None:
    """The JSON of a long range is never held whole: each commit is written once
    judged, before the next ones are; and it is what json.dumps would write."""
    from agentops_hooks.config import Config
    from agentops_hooks.places import range_check
    from agentops_hooks.places import range_output

    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "base")
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "base..HEAD")
    last = run.changes[-1]
    written: list[tuple[str, bool]] = []
    range_output.write(run, [range_output.JsonWriter(
        lambda text: written.append((text, "patch_id" in last.__dict__)))])
    first = next(judged for text, judged in written if '"commit":' in text)
    assert first is False  # the oldest commit was out before the newest was judged
    out = "".join(text for text, _ in written)
    assert out == json.dumps(json.loads(out), indent=2) + "\n"
    data = json.loads(out)
    assert data["passed"] is False and len(data["commits"]) == 3
    assert data["commits"][-1]["findings"][0]["rule"] == "verdict-missing"
