"""Factor XII: `agentops report` counts outcomes over real history, in three formats."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.evidence.verdicts import UNSIGNED_ACCEPTED
from agentops_hooks import git as git_module
from agentops_hooks.change import StagedChange
from agentops_hooks.commands import cli
from agentops_hooks.commands.report import report_command
from agentops_hooks.gates import policy
from agentops_hooks.git import Repo
from agentops_hooks.report.fitness import Report
from agentops_hooks.report.fitness import build_report
from agentops_hooks.report.pages import render_html
from agentops_hooks.report.pages import render_json
from agentops_hooks.report.pages import render_markdown
from conftest import json_output
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message

CONFIG = '[ratchet.metrics.score]\ncommand = "cat score.txt"\ndirection = "higher"\n'


def agentops(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def staged_patch() -> str:
    return StagedChange.from_message_file(Repo(), None).patch_id


@pytest.fixture
def history(repo: GitRepo) -> GitRepo:
    """Six commits: two admitted agent commits (one after a FAIL), two that bypassed the
    hooks, two human ones; a learning section, a Learning trailer, two Cites, an
    escalation, and three ratchet baselines, one a reversal."""
    repo.write(".agentops.toml", CONFIG)
    repo.stage(".agentops.toml", CONFIG)
    repo.stage("learnings.md", "# Learnings\n\n## Old lesson (2026-01-01)\n\n- old parsers choke on CRLF\n")
    repo.stage("score.txt", "5\n")
    repo.stage("app.py", "v = 0\n")
    repo.commit("base")
    agentops("ratchet", "record")

    # A: task T-1 fails once, then passes with a trailer verdict; adds a learning section.
    attempt = agent_message("Parser fix", "Task: T-1", "Agent: claude-code session=s1")
    repo.stage("app.py", "v = 1\n")
    agentops("verdict", "fail", "--judge", JUDGE, "--message-file", str(repo.message_file(attempt, "A1")))
    repo.stage("app.py", "v = 2\n")
    repo.stage("learnings.md", "# Learnings\n\n## Old lesson (2026-01-01)\n\n- old parsers choke on CRLF\n\n"
                               "## Parsers (2026-06-01)\n\n- test the empty input\n")
    repo.commit(attempt.rstrip("\n") + f'\nVerdict: PASS judge="{JUDGE}" patch={staged_patch()}\n')

    # B: task T-2, judged after the commit, in the notes; cites a learning, carries one.
    repo.stage("app.py", "v = 3\n")
    repo.commit(agent_message("Cache fix", "Task: T-2", "Cites: Old lesson",
                              "Learning: caches need a size bound"))
    agentops("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")

    # C: a human raises the score and cites a learning.
    repo.stage("score.txt", "7\n")
    repo.commit("Faster\n\nCites: Parsers\n")
    agentops("ratchet", "record")

    # D: an agent commit with no verdict at all, an escalation and a ratchet reversal.
    repo.stage("score.txt", "6\n")
    repo.commit(agent_message("Slower but right", "Escalated-To: Hana Human <hana@example.com>",
                              "Ratchet-Reversal: score: correctness over speed"))
    agentops("ratchet", "record")

    # E: an agent commit the judge failed after it landed.
    repo.stage("app.py", "v = 4\n")
    repo.commit(agent_message("Risky change", "Task: T-3"))
    agentops("verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    return repo


def report_of(*revs: str) -> Report:
    repo = Repo()
    return build_report(repo, policy(repo.root), list(revs) or ["HEAD"])


def test_the_numbers(history: GitRepo) -> None:
    r = report_of()
    assert (r.commits, r.merges, r.agent_commits) == (6, 0, 4)
    assert r.agent_share == pytest.approx(4 / 6, abs=1e-4)
    assert r.admitted == 2 and r.verdict_share == 0.5
    assert r.first_pass == 1 and r.first_pass_yield == 0.5  # T-1 failed first; T-2 did not
    assert r.fails == 2  # the staged FAIL of T-1, the FAIL of E
    assert r.escalations == 1
    subjects = {b.subject: b.rules for b in r.bypassed}
    assert subjects == {"Slower but right": ["verdict-missing"], "Risky change": ["verdict-not-pass"]}
    assert (r.learnings_added, r.learning_commits) == (3, 3)  # base's section, A's, B's trailer
    assert (r.citations, r.citing_commits) == (2, 2)
    assert r.notices == [UNSIGNED_ACCEPTED]  # the policy does not require signatures


def test_weeks_add_up(history: GitRepo) -> None:
    r = report_of()
    assert r.period == "week"
    assert sum(w.commits for w in r.periods) == 6
    assert sum(w.agent_commits for w in r.periods) == 4
    assert sum(w.admitted for w in r.periods) == 2
    assert sum(w.bypassed for w in r.periods) == 2
    assert all(w.start == r.periods[0].start for w in r.periods) and len(r.periods) == 1


def test_ratchet_trend_and_reversal(history: GitRepo) -> None:
    r = report_of()
    assert r.ratchet is not None
    (score,) = r.ratchet
    assert [v for _, v in score.points] == [5, 7, 6]
    assert score.trend == "better"
    assert [why for _, why in score.reversals] == ["correctness over speed"]
    assert r.reversals == 1
    assert [m for _, m in r.baselines] == [{"score": 5}, {"score": 7}, {"score": 6}]


def test_a_range_counts_only_its_commits(history: GitRepo) -> None:
    r = report_of("HEAD~2..HEAD")
    assert (r.commits, r.agent_commits, r.admitted, r.escalations, r.citations) == (2, 2, 0, 1, 0)
    assert r.fails == 1
    assert r.ratchet is not None and [v for _, v in r.ratchet[0].points] == [6]


def test_weeks_follow_the_committer_date(repo: GitRepo) -> None:
    days = ["2026-01-05T10:00:00Z", "2026-01-07T10:00:00Z", "2026-01-20T10:00:00Z"]
    for i, day in enumerate(days):
        repo.stage("a.py", f"a = {i}\n")
        message = agent_message(f"step {i}") if i == 1 else f"step {i}\n"
        repo.commit(message, env={"GIT_COMMITTER_DATE": day})
    r = report_of()
    # Never adopted: the agent commit without a verdict bypassed nothing.
    assert [(w.start, w.commits, w.agent_commits, w.bypassed) for w in r.periods] == [
        ("2026-01-05", 2, 1, 0), ("2026-01-19", 1, 0, 0)]
    assert (r.first_date, r.last_date) == ("2026-01-05", "2026-01-20")
    page = render_html(r)
    assert "%</text>" not in page  # no unexplained percentage over a bar
    xs = sorted({float(x) for x in re.findall(r'<rect x="([0-9.]+)" y="[0-9.]+" width', page)})
    assert len(xs) == 2 and xs[1] - xs[0] == pytest.approx(2 * (760 - 56 - 16) / 3, abs=0.2)  # a gap week


def test_without_metrics_there_is_no_ratchet_section(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 1\n")
    repo.commit(agent_message("Unjudged"))
    r = report_of()
    assert r.ratchet is None
    assert "ratchet" not in render_markdown(r)
    assert json_output(render_json(r), "report")["ratchet"] is None
    assert "no verdict notes" in r.notices[1]
    assert r.verdict_share == 0.0 and r.first_pass_yield is None


def test_git_processes_do_not_grow_with_the_range(history: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[str, ...]] = []
    real = git_module.run

    def counting(*args: str, **kwargs: object) -> bytes:
        calls.append(args)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(git_module, "run", counting)
    report_of("HEAD~5..HEAD")  # from A on: it, as the whole history, changes the learnings file
    few = len(calls)
    calls.clear()
    report_of()
    assert len(calls) == few, calls


def test_markdown_shape(history: GitRepo) -> None:
    text = render_markdown(report_of())
    lines = text.splitlines()
    assert lines[0].startswith("## agentops report: HEAD (")
    assert "| measure | value | what it counts |" in lines
    assert ("| agent commits | 4 (67%) | written or co-written by a coding agent (the [agents] "
            "rules), of the commits |") in lines
    assert any(line.startswith("| admitted by a PASS | 2 (50%) |") for line in lines)
    assert any(line.startswith("| first-pass yield | 1 (50%) |") for line in lines)
    assert "### Commits per week" in lines and "### Ratchet" in lines
    assert "| score | higher | 5 | 6 | better | 1 |" in lines
    assert "### Agent commits that bypassed the hooks" in lines
    assert any("Risky change: verdict-not-pass" in line for line in lines)


def test_json_shape(history: GitRepo) -> None:
    data = json.loads(render_json(report_of()))
    assert data["commits"] == 6 and data["agent_commits"] == 4 and data["admitted"] == 2
    assert data["first_pass_yield"] == 0.5 and data["bypassed_count"] == 2
    assert data["fails"] == 2 and data["escalations"] == 1 and data["ratchet_reversals"] == 1
    assert data["ratchet"][0]["trend"] == "better" and data["ratchet"][0]["last"] == 6
    assert data["ratchet"][0]["points"][0]["value"] == 5
    assert data["ratchet"][0]["reversals"][0]["reason"] == "correctness over speed"
    assert [b["metrics"]["score"] for b in data["baselines"]] == [5, 7, 6]
    assert {b["subject"] for b in data["bypassed"]} == {"Slower but right", "Risky change"}
    assert data["period"] == "week" and data["periods"][0]["commits"] == 6


class Strict(HTMLParser):
    """Counts open and closed elements, and anything that would load from outside."""

    VOID = frozenset({"meta", "br", "img", "link", "input", "hr", "circle", "rect", "line",
                      "polyline", "path"})

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.tags: set[str] = set()
        self.external: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.external += [v or "" for k, v in attrs if k in ("src", "href") and v and "//" in v]
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.VOID:
            return
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-3:])
        self.stack.pop()


def test_html_is_one_self_contained_page(history: GitRepo) -> None:
    page = render_html(report_of())
    parser = Strict()
    parser.feed(page)
    parser.close()
    assert parser.stack == []
    assert {"html", "style", "svg", "table"} <= parser.tags
    assert "script" not in parser.tags and "link" not in parser.tags
    assert parser.external == []
    assert page.count("<svg") == 2  # commits per week, the ratchet metric's baselines
    assert "first-pass yield" in page and "Risky change" in page


PRE_COMMIT_CONFIG = """repos:
  - repo: https://github.com/example/agentops-hooks
    rev: v0.1.0
    hooks:
      - id: agentops
      - id: agentops-record
"""


def adopt(repo: GitRepo, env: dict[str, str] | None = None) -> str:
    """A human commit that makes pre-commit run the agentops hooks: its id."""
    repo.stage(".pre-commit-config.yaml", PRE_COMMIT_CONFIG)
    repo.commit("Run the agentops hooks", env=env)
    return repo.head()


def test_html_escapes_what_commits_say(repo: GitRepo) -> None:
    adopt(repo)
    repo.stage("a.py", "a = 1\n")
    repo.commit(agent_message("<script>alert(1)</script> & more"))
    page = render_html(report_of())
    assert "<script>" not in page and "&lt;script&gt;" in page


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(report_command, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_command_defaults_to_markdown_of_the_last_commits(history: GitRepo) -> None:
    code, out = invoke()
    assert code == 0, out
    assert out.startswith("## agentops report: the last 100 commits of HEAD")


def test_command_json_and_range(history: GitRepo) -> None:
    code, out = invoke("HEAD~2..HEAD", "--format", "json")
    assert code == 0, out
    data = json_output(out, "report")
    assert data["commits"] == 2 and data["label"] == "HEAD~2..HEAD"


def test_command_writes_html_to_a_file(history: GitRepo, tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    code, out = invoke("--format", "html", "--output", str(target))
    assert code == 0, out
    assert f"wrote the report to {target}" in out
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize(("args", "says"), [
    (("nope..HEAD",), "cannot read nope..HEAD"),
    (("--max-count=3",), "No such option"),
    (("-x",), "No such option"),
])
def test_command_errors_are_one_line(history: GitRepo, args: tuple[str, ...], says: str) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert says in out and "Traceback" not in out


def test_command_in_an_empty_repository(repo: GitRepo) -> None:
    code, out = invoke()
    assert code == 2
    assert "HEAD has no commits yet" in out


def test_command_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out = invoke()
    assert code == 2
    assert "not a git repository" in out
