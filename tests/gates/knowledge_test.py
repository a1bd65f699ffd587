"""Gate X: learnings stay well formed, unique, linked from the context files, and cited."""
from __future__ import annotations

import datetime as dt

import pytest

from agentops_hooks import gates
from agentops_hooks import git as git_module
from agentops_hooks.change import load_commits
from agentops_hooks.config import Config
from agentops_hooks.findings import Finding
from agentops_hooks.gates.knowledge import _segments
from agentops_hooks.gates.knowledge import matches
from agentops_hooks.gates._learning_entries import normalise
from agentops_hooks.gates._learning_entries import parse_learnings_file
from agentops_hooks.git import Repo
from conftest import GitRepo
from conftest import agent_message
from conftest import gate_findings
from conftest import run_hook

TODAY = dt.date.today().isoformat()
LEARNINGS = f"# Learnings\n\n## Constants live in one module ({TODAY})\n\n- keep them in config.py\n"
CLAUDE = "# Project\n\nRead learnings.md before you start.\n"
FRONT = """---
date: {date}
author: claude-code session=42
area: billing/rounding
evidence: tests/test_rounding.py::test_half_even
confidence: high
kind: learning
---
{text}
"""


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "knowledge")


def learning_file(text: str, date: str = TODAY) -> str:
    return FRONT.format(date=date, text=text)


@pytest.fixture
def kept(repo: GitRepo) -> GitRepo:
    """A repository whose learnings are sound: a dated entry, linked from CLAUDE.md."""
    repo.stage("learnings.md", LEARNINGS)
    repo.stage("CLAUDE.md", CLAUDE)
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    return repo


def commit_findings(rev: str = "HEAD", config: Config | None = None) -> list[Finding]:
    return gate_findings("knowledge", rev, config)


def test_sound_learnings_pass(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage("learnings.md", LEARNINGS + f"\n## Retries need jitter ({TODAY})\n\n- or they stampede\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out
    assert "passed knowledge" in out


def test_a_change_that_touches_no_learnings_is_not_checked(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage("learnings.md", "## no date\n")
    kept.commit("broken learnings, made before the gate", "--no-verify")
    kept.stage("app.py", "x = 2\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("added", "line", "says"), [
    ("## No date here\n\n- a bullet\n", 7, "is not `## Title (YYYY-MM-DD)`"),
    ("## Impossible (2026-13-45)\n\n- a bullet\n", 7, "2026-13-45 is not a real date"),
    ("## No bullet (2026-01-02)\n\nJust prose.\n", 7, "section `No bullet` has no `- ` bullet"),
    ("## Empty bullet (2026-01-02)\n\n- \n", 7, "section `Empty bullet` has no `- ` bullet"),
    ("## Bullet only in code (2026-01-02)\n\n```\n- not a bullet\n```\n", 7, "has no `- ` bullet"),
])
def test_malformed_section_is_named_by_line(
    kept: GitRepo, capsys: pytest.CaptureFixture[str], added: str, line: int, says: str,
) -> None:
    kept.stage("learnings.md", LEARNINGS + "\n" + added)
    code, out = run(kept, "Human edit of the learnings\n", capsys)
    assert code == 1
    assert "[X Compound Knowledge] knowledge: knowledge-malformed" in out
    assert f"learnings.md:{line}: " in out
    assert says in out
    assert f"edit learnings.md line {line}" in out


@pytest.mark.parametrize(("added", "says"), [
    ("## Placeholder (2026-01-02)\n\n- x\n", 'section `Placeholder`: its learning "x" is a placeholder'),
    ("## Padded (2026-01-02)\n\n- T\u200bO\u200bD\u200bO\n",
     'section `Padded`: its learning "T\\u200bO\\u200bD\\u200bO" is a placeholder'),
    ("## Repeated (2026-01-02)\n\n- n/a\n- n/a\n", 'section `Repeated`: its learning "n/a n/a" repeats one word'),
])
def test_placeholder_section_is_malformed(
    kept: GitRepo, capsys: pytest.CaptureFixture[str], added: str, says: str,
) -> None:
    kept.stage("learnings.md", LEARNINGS + "\n" + added)
    code, out = run(kept, "Human edit of the learnings\n", capsys)
    assert code == 1
    assert "knowledge: knowledge-malformed" in out
    assert f"learnings.md:7: {says}" in out


def test_terse_entry_is_still_knowledge(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    """Gate IX's word count is for new learnings: gate X refuses only what says nothing."""
    kept.stage("learnings.md", LEARNINGS + "\n## Clocks (2026-01-02)\n\n- monotonic\n")
    code, out = run(kept, "Human edit of the learnings\n", capsys)
    assert code == 0, out


def test_placeholder_learning_file_is_malformed(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage(".agents/learnings/rounding.md", learning_file("TBD"))
    code, out = run(kept, agent_message(), capsys)
    assert code == 1
    assert '.agents/learnings/rounding.md: the learning itself "TBD" is a placeholder' in out
    assert "fix: write, after the front matter of .agents/learnings/rounding.md, what was learned" in out


def test_headings_inside_code_and_deeper_levels_are_not_sections() -> None:
    text = ("# Learnings\n\n## Real (2026-01-02)\n\n- yes\n\n### Detail\n\n- more\n"
            "```\n## not a section\n```\n")
    found = parse_learnings_file("learnings.md", text)
    assert found.problems == []
    assert [e.title for e in found.entries] == ["Real"]
    assert found.entries[0].where == "learnings.md:3"


def test_learning_file_front_matter_is_checked(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage(".agents/learnings/rounding.md", learning_file("Round half-even.").replace("kind: learning", "kind: rumour"))
    code, out = run(kept, agent_message(), capsys)
    assert code == 1
    assert "knowledge-malformed" in out
    assert ".agents/learnings/rounding.md: kind" in out
    assert "agentops schema learning" in out


def test_valid_learning_file_passes(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage(".agents/learnings/rounding.md", learning_file("Round half-even."))
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out


def test_duplicate_across_file_and_directory_names_both(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage(".agents/learnings/constants.md", learning_file("Keep them in CONFIG.PY!"))
    code, out = run(kept, agent_message(), capsys)
    assert code == 1
    assert "knowledge-duplicate" in out
    assert ".agents/learnings/constants.md (`constants.md`) says the same as learnings.md:3" in out
    assert "delete .agents/learnings/constants.md" in out


def test_duplicate_sections_in_the_learnings_file(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage("learnings.md", LEARNINGS + f"\n## Again ({TODAY})\n\n*   Keep them   in config.py.\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 1
    assert "learnings.md:7 (`Again`) says the same as learnings.md:3" in out


def test_similar_but_different_entries_are_not_duplicates(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage("learnings.md", LEARNINGS + f"\n## Other ({TODAY})\n\n- keep them out of config.py\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("text", "same"), [
    ("Don't  retry\nblindly!", "dont retry blindly"),
    ("- Use `half_even`.", "use halfeven"),
    ("ÉTÉ — Été", "été été"),
])
def test_normalise(text: str, same: str) -> None:
    assert normalise(text) == same


def test_context_file_that_does_not_link_the_learnings(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage("CLAUDE.md", "# Project\n\nBe nice.\n")
    kept.stage("AGENTS.md", "See .agents/learnings for what we learned.\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 1
    assert "knowledge-not-linked" in out
    assert "context file CLAUDE.md does not mention learnings.md or .agents/learnings" in out
    assert "AGENTS.md does not" not in out
    assert "add a line to CLAUDE.md" in out


def test_configured_context_files_are_globs_from_the_top(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.write(".agentops.toml", '[context]\nfiles = ["docs/**/AGENTS.md"]\n')
    kept.stage("docs/team/api/AGENTS.md", "nothing about lessons\n")
    kept.stage("AGENTS.md", "not configured, so not read\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 1
    assert "context file docs/team/api/AGENTS.md does not mention" in out
    assert "context file AGENTS.md" not in out


def test_no_context_file_no_link_needed(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("learnings.md", LEARNINGS)
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_symlinked_context_file_is_not_read_as_text(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.git("mv", "CLAUDE.md", "AGENTS.md")
    (kept.root / "CLAUDE.md").symlink_to("AGENTS.md")
    kept.git("add", "CLAUDE.md")
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("pattern", "path", "hit"), [
    ("CLAUDE.md", "CLAUDE.md", True),
    ("CLAUDE.md", "sub/CLAUDE.md", False),
    (".agents/learnings/*.md", ".agents/learnings/a.md", True),
    (".agents/learnings/*.md", ".agents/learnings/deep/a.md", False),
    ("**/AGENTS.md", "AGENTS.md", True),
    ("**/AGENTS.md", "a/b/AGENTS.md", True),
    ("docs/**", "docs/a/b.md", True),
    ("docs/**", "other/b.md", False),
    ("a/**/b/*.md", "a/x/y/b/c.md", True),
    ("a/**/b/*.md", "a/b/c.md", True),
    ("./.github/copilot-*.md", ".github/copilot-instructions.md", True),
])
def test_patterns(pattern: str, path: str, hit: bool) -> None:
    assert matches(_segments(pattern), path) is hit


# --- stale entries -------------------------------------------------------------------

OLD = "# Learnings\n\n## Pin the parser (2020-01-02)\n\n- it broke twice\n"


@pytest.fixture
def old(repo: GitRepo) -> GitRepo:
    repo.stage("learnings.md", OLD)
    repo.stage("CLAUDE.md", CLAUDE)
    repo.commit("base")
    return repo


def test_old_uncited_entry_is_a_warning(old: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    old.stage("learnings.md", OLD + f"\n## New ({TODAY})\n\n- fresh\n")
    code, out = run(old, agent_message(), capsys)
    assert code == 0, out
    assert "warning: knowledge-stale" in out
    assert "learnings.md:3 `Pin the parser` (2020-01-02) is" in out
    assert "knowledge.stale_days = 90" in out
    assert 'agentops trailer add Cites "Pin the parser"' in out


def test_stale_severity_error_refuses(old: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    old.write(".agentops.toml", '[knowledge]\nstale_severity = "error"\n')
    old.stage("learnings.md", OLD + "\n")
    code, out = run(old, agent_message(), capsys)
    assert code == 1
    assert "knowledge-stale" in out and "warning: knowledge-stale" not in out


def test_stale_days_is_configurable(old: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    old.write(".agentops.toml", "[knowledge]\nstale_days = 100000\n")
    old.stage("learnings.md", OLD + "\n")
    _, out = run(old, agent_message(), capsys)
    assert "knowledge-stale" not in out


@pytest.mark.parametrize("cite", ["Cites: Pin the parser", "Cites: PIN  the parser (2020-01-02)",
                                  "Cites: other; pin the parser"])
def test_a_later_commit_citing_the_entry_keeps_it_fresh(
    old: GitRepo, capsys: pytest.CaptureFixture[str], cite: str,
) -> None:
    old.stage("app.py", "x = 1\n")
    old.commit(f"Use the pinned parser\n\n{cite}\n")
    old.stage("learnings.md", OLD + "\n")
    _, out = run(old, agent_message(), capsys)
    assert "knowledge-stale" not in out, out


def test_the_message_being_committed_may_cite_it(old: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    old.stage("learnings.md", OLD + "\n")
    _, out = run(old, agent_message("Touch", "Cites: pin the parser"), capsys)
    assert "knowledge-stale" not in out, out


def test_a_citation_older_than_the_entry_does_not_count(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("app.py", "x = 1\n")
    repo.commit("Early\n\nCites: Pin the parser\n", env={"GIT_COMMITTER_DATE": "2019-06-01T00:00:00Z"})
    repo.stage("learnings.md", OLD)
    _, out = run(repo, agent_message(), capsys)
    assert "warning: knowledge-stale" in out


def test_severity_warning_reports_everything_as_warnings(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.write(".agentops.toml", '[knowledge]\nseverity = "warning"\n')
    kept.stage("learnings.md", LEARNINGS + "\n## undated\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out
    assert "warning: knowledge-malformed" in out


def test_required_for_agents_lets_humans_pass(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.write(".agentops.toml", '[knowledge]\nrequired_for = "agents"\n')
    kept.stage("learnings.md", "## undated\n")
    assert run(kept, "Human edit\n", capsys)[0] == 0
    assert run(kept, agent_message(), capsys)[0] == 1


@pytest.mark.parametrize("content", [b"\xff\xfe## bad bytes (2026-01-01)\n- x\n", bytes(range(256))])
def test_undecodable_or_binary_learnings_give_findings_not_tracebacks(
    kept: GitRepo, capsys: pytest.CaptureFixture[str], content: bytes,
) -> None:
    kept.stage("learnings.md", content)
    code, out = run(kept, agent_message(), capsys)
    assert code in (0, 1)
    assert "Traceback" not in out


def test_deleting_the_learnings_is_checked_and_leaves_nothing_to_link(
    kept: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    kept.git("rm", "-q", "learnings.md")
    kept.stage("CLAUDE.md", "# Project\n")
    code, out = run(kept, agent_message(), capsys)
    assert code == 0, out


def test_directory_with_spaces_is_read(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", '[learnings]\ndirectory = "agent notes/learned"\n')
    repo.stage("agent notes/learned/one.md", learning_file("Same words."))
    repo.stage("agent notes/learned/two.md", learning_file("same words"))
    code, out = run(repo, agent_message(), capsys)
    assert code == 1
    assert "agent notes/learned/two.md (`two.md`) says the same as agent notes/learned/one.md" in out


# --- committed changes and ranges --------------------------------------------------------

def test_commit_form_finds_the_same(kept: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    kept.stage("learnings.md", LEARNINGS + "\n## undated\n\n- x\n")
    kept.stage("CLAUDE.md", "# Project\n")
    _, out = run(kept, agent_message(), capsys)
    staged = sorted(line.strip() for line in out.splitlines() if "knowledge: knowledge-" in line)
    kept.commit(agent_message(), "--no-verify")
    found = commit_findings()
    assert sorted(f.rule for f in found) == ["knowledge-malformed", "knowledge-not-linked"]
    assert all(f.commit == kept.head() for f in found)
    assert len(staged) == 2
    assert "learnings.md:7" in found[0].message or "learnings.md:7" in found[1].message


def test_commit_form_judges_staleness_at_the_commit_date(old: GitRepo) -> None:
    old.stage("learnings.md", OLD + "\n")
    old.commit(agent_message(), env={"GIT_COMMITTER_DATE": "2020-02-01T00:00:00Z"})
    assert commit_findings() == []
    old.stage("learnings.md", OLD + "\n\n")
    old.commit(agent_message())
    assert [f.rule for f in commit_findings()] == ["knowledge-stale"]
    assert commit_findings()[0].severity == "warning"


def _range_findings(count: int, repo: GitRepo, calls: list[tuple[str, ...]]) -> list[Finding]:
    changes = load_commits(Repo(), [f"HEAD~{count}..HEAD"], stats=True)
    evidence = gates.Evidence(changes[0].repo)
    evidence.batch = changes
    contexts = [gates.Context(c, Config(), evidence, range_changes=changes) for c in changes]
    for c in changes:
        c.paths  # noqa: B018 - read before counting: every range check reads them anyway
    calls.clear()
    return [f for ctx in contexts for f in gates.run(ctx, ["knowledge"])]


def test_range_is_read_in_a_constant_number_of_git_processes(
    repo: GitRepo, monkeypatch: pytest.MonkeyPatch,
) -> None:
    repo.stage("CLAUDE.md", CLAUDE)
    repo.stage("learnings.md", OLD)
    repo.commit("base")
    text = OLD
    for i in range(12):
        text += f"\n## Lesson {i} ({TODAY})\n\n- lesson number {i}\n"
        repo.stage("learnings.md", text)
        repo.stage(f".agents/learnings/{i}.md", learning_file(f"file lesson {i}"))
        repo.commit(agent_message(f"step {i}"), "--no-verify")
    repo.stage(".agents/learnings/dup.md", learning_file("Lesson number 3."))
    repo.commit(agent_message("duplicate"), "--no-verify")

    calls: list[tuple[str, ...]] = []
    real = git_module.run

    def counting(*args: str, **kwargs: object) -> bytes:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(git_module, "run", counting)
    few = _range_findings(3, repo, calls)
    few_calls = len(calls)
    many = _range_findings(13, repo, calls)
    assert len(calls) == few_calls, calls
    assert len(calls) <= 5, calls  # the fifth: the constraints of every commit's parent
    dup = [f for f in many if f.rule == "knowledge-duplicate"]
    assert len(dup) == 1 and ".agents/learnings/dup.md" in dup[0].message
    assert "learnings.md:" in dup[0].message
    stale = [f for f in many if f.rule == "knowledge-stale"]
    assert len(stale) == 13  # every commit leaves the old entry uncited
    assert [f.rule for f in few if f.rule != "knowledge-stale"] == ["knowledge-duplicate"]


def test_range_check_judges_each_commit_on_its_own_tree(kept: GitRepo) -> None:
    from agentops_hooks.places.range_check import check_range

    kept.stage("learnings.md", LEARNINGS + "\n## undated\n\n- x\n")
    kept.commit(agent_message("Break the learnings"), "--no-verify")
    kept.stage("app.py", "x = 5\n")
    kept.commit(agent_message("Unrelated"), "--no-verify")
    kept.stage("learnings.md", LEARNINGS)
    kept.commit("Repair the learnings")
    report = check_range(Repo(), Config(), ["HEAD~3..HEAD"], "HEAD~3..HEAD", ["knowledge"])
    assert [[f.rule for f in r.findings] for r in report.results] == [["knowledge-malformed"], [], []]
    assert report.results[0].findings[0].message.startswith("learnings.md:7: `## undated`")
