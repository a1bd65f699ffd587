"""Gate V: a large agent change names a tracked, non-empty research note."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agentops_hooks import gates
from agentops_hooks.change import CommitChange
from agentops_hooks.places.range_check import check_range
from agentops_hooks.findings import Finding
from agentops_hooks.gates.research import note_path
from agentops_hooks.git import Repo
from agentops_hooks.gates import policy
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
from conftest import run_hook

NOTE = ".agents/research/2026-11-21-auth.md"
FINDINGS = "# Auth\n\nThe session store is shared; tokens expire after 15 minutes.\n"
BIG = "".join(f"value_{i} = {i}\n" for i in range(201))  # default threshold: 200


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "research")


def research(*paths: str) -> str:
    return agent_message("Add auth", *(f"Research: {p}" for p in paths))


def committed(repo: GitRepo, message: str, rev: str = "HEAD") -> list[Finding]:
    repo.commit(message)
    return gate_findings("research", rev)


@pytest.fixture
def big(repo: GitRepo) -> GitRepo:
    repo.stage("README.md", "# project\n")
    repo.commit("base")
    repo.stage("auth.py", BIG)
    return repo


def test_large_agent_change_without_research_is_refused(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, agent_message(), capsys)
    assert code == 1
    assert "[V Research Before You Build] research: research-missing" in out
    assert "201 changed lines (over research.min_changed_lines = 200)" in out
    assert 'agentops trailer add Research ".agents/research/<date>-<topic>.md" --message-file' in out


def test_change_at_the_threshold_needs_no_research(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("auth.py", "".join(f"value_{i} = {i}\n" for i in range(200)))
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_threshold_is_configurable(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", "[research]\nmin_changed_lines = 1\n")
    repo.stage("auth.py", "a = 1\nb = 2\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 1
    assert "2 changed lines (over research.min_changed_lines = 1)" in out


def test_staged_note_passes(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.stage(NOTE, FINDINGS)
    code, out = run(big, research(NOTE), capsys)
    assert code == 0, out


def test_note_tracked_earlier_passes(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.git("reset", "-q")
    big.stage(NOTE, FINDINGS)
    big.commit("Research first")
    big.stage("auth.py", BIG)
    code, out = run(big, research(f"./{NOTE}"), capsys)
    assert code == 0, out


@pytest.mark.parametrize("value", ["", "   "])
def test_empty_trailer_is_missing(big: GitRepo, capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out = run(big, agent_message("Add", f"Research:{value}"), capsys)
    assert code == 1
    assert "research-missing" in out


def test_note_not_in_the_tree(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, research(NOTE), capsys)
    assert code == 1
    assert "research-not-tracked" in out
    assert f"`Research: {NOTE}` names no file in the staged tree (the index)" in out
    assert "not staged" not in out


def test_note_written_but_not_staged(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.write(NOTE, FINDINGS)
    code, out = run(big, research(NOTE), capsys)
    assert code == 1
    assert "research-not-tracked" in out
    assert "(it is in the work tree, but not staged)" in out
    assert f"fix: git add {NOTE}, then git commit --cleanup=strip -F .git/COMMIT_EDITMSG" in out


def test_note_deleted_by_the_change(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.git("reset", "-q")
    big.stage(NOTE, FINDINGS)
    big.commit("Research first")
    big.stage("auth.py", BIG)
    big.git("rm", "-q", NOTE)
    code, out = run(big, research(NOTE), capsys)
    assert code == 1
    assert "research-not-tracked" in out


def test_directory_is_not_a_note(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.stage(NOTE, FINDINGS)
    code, out = run(big, research(".agents/research"), capsys)
    assert code == 1
    assert "names a directory, not a note file" in out


@pytest.mark.parametrize("value", ["../outside.md", "/etc/passwd", ".agents/../../x.md"])
def test_path_outside_the_repository(big: GitRepo, capsys: pytest.CaptureFixture[str], value: str) -> None:
    code, out = run(big, research(value), capsys)
    assert code == 1
    assert "research-not-tracked" in out
    assert "is not a path inside the repository" in out


@pytest.mark.parametrize("content", ["", "\n\n  \t\n"])
def test_empty_note_is_refused(big: GitRepo, capsys: pytest.CaptureFixture[str], content: str) -> None:
    big.stage(NOTE, content)
    code, out = run(big, research(NOTE), capsys)
    assert code == 1
    assert "research-empty" in out
    assert f"`Research: {NOTE}` is empty in the staged tree" in out
    assert f"write the research into {NOTE}" in out


def test_staged_content_counts_not_the_work_tree(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.stage(NOTE, "")
    big.write(NOTE, FINDINGS)  # written, not staged: not what will be committed
    code, out = run(big, research(NOTE), capsys)
    assert code == 1
    assert "research-empty" in out


def test_every_named_note_must_be_good(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.stage(NOTE, FINDINGS)
    big.stage(".agents/research/empty.md", "")
    code, out = run(big, research(NOTE, ".agents/research/empty.md", "notes/missing.md"), capsys)
    assert code == 1
    assert "research-empty" in out and ".agents/research/empty.md" in out
    assert "research-not-tracked" in out and "notes/missing.md" in out
    assert "2 findings" in out


def test_human_change_needs_no_research(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(big, "Human change\n", capsys)
    assert code == 0, out


def test_everyone_holds_humans_too(big: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    big.write(".agentops.toml", '[research]\nrequired_for = "everyone"\n')
    code, out = run(big, "Human change\n", capsys)
    assert code == 1
    assert "every change (policy) of 201 changed lines" in out


def test_commit_all_reads_the_index_git_commits(big: GitRepo) -> None:
    """`git commit -a` stages into a temporary index: the note's content there counts."""
    big.git("reset", "-q")
    big.stage(NOTE, "")
    big.commit("Empty note")
    big.install_agentops_hook("--gate", "research")
    big.write("auth.py", BIG)
    big.git("add", "-N", "auth.py")
    big.write(NOTE, FINDINGS)
    result = big.commit(research(NOTE), "-a", check=False)
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert big.out("show", f"HEAD:{NOTE}") == FINDINGS.strip()


def test_committed_change_reads_the_commit_tree(big: GitRepo) -> None:
    big.stage(NOTE, FINDINGS)
    assert committed(big, research(NOTE)) == []
    big.stage("auth.py", BIG.replace("value", "setting"))
    findings = committed(big, research(".agents/research/later.md"))
    assert [f.rule for f in findings] == ["research-not-tracked"]
    head = big.head()
    assert findings[0].commit == head
    assert f"names no file in commit {head[:12]}'s tree" in findings[0].message
    assert f"mark {head[:12]} `edit`, git add .agents/research/later.md" in findings[0].fix


def test_committed_note_emptied_later_still_counts_for_its_commit(big: GitRepo) -> None:
    big.stage(NOTE, FINDINGS)
    big.commit(research(NOTE))
    first = big.head()
    big.stage(NOTE, "")
    big.commit("Empty it")
    config = policy(Path(big.root))
    change = CommitChange.load(Repo(), first)
    assert gates.run(gates.Context(change, config), ["research"]) == []
    later = CommitChange.load(Repo(), "HEAD")
    assert later.changed_lines < 200  # and so needs no research itself
    assert gates.run(gates.Context(later, config), ["research"]) == []


def test_range_reads_every_note_in_one_git_process(
    repo: GitRepo, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo.write(".agentops.toml", "[research]\nmin_changed_lines = 1\n")
    repo.git("add", ".agentops.toml")
    repo.commit("base")
    base = repo.head()
    expected: dict[str | None, list[str]] = {}
    for i, (content, rules) in enumerate([(FINDINGS, []), ("", ["research-empty"]),
                                          (None, ["research-not-tracked"]), (FINDINGS, [])]):
        repo.stage(f"src/m{i}.py", "a = 1\nb = 2\n")
        if content is not None:
            repo.stage(f".agents/research/{i}.md", content)
        repo.commit(research(f".agents/research/{i}.md"))
        expected[repo.head()] = rules
    repo.stage("src/human.py", "a = 1\nb = 2\n")
    repo.commit("Human change\n")
    expected[repo.head()] = []
    config = policy(Path(repo.root))
    log = tmp_path / "git.log"
    log.write_text("")
    real = subprocess.run(["sh", "-c", "command -v git"], capture_output=True, text=True,
                          check=True).stdout.strip()
    shim = tmp_path / "shim"
    shim.mkdir()
    (shim / "git").write_text(f'#!/bin/sh\necho "$1 $2" >> "{log}"\nexec "{real}" "$@"\n')
    (shim / "git").chmod(0o755)
    monkeypatch.setenv("PATH", f"{shim}:{Path(real).parent}")
    report = check_range(Repo(), config, [f"{base}..HEAD"], "range", ["research"])
    found = {r.change.commit: [f.rule for f in r.findings] for r in report.results}
    assert found == expected
    batches = [line for line in log.read_text().splitlines() if line == "cat-file --batch"]
    assert len(batches) == 2, log.read_text()  # the commits' objects, then every note at once


def test_note_path() -> None:
    assert note_path(f" ./{NOTE} ") == NOTE
    assert note_path("docs/research notes/a b.md") == "docs/research notes/a b.md"
    for bad in ("", "/abs.md", "../up.md", "a/../../b.md"):
        assert note_path(bad) is None
