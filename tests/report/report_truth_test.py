"""`agentops report` says only what is true: bypasses only after the hooks were adopted,
one set of commits for every share, charts titled by what they show, on dated axes."""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentops_hooks.gates import policy
from agentops_hooks.git import Repo
from agentops_hooks.report.fitness import Report
from agentops_hooks.report.fitness import build_report
from agentops_hooks.report.pages import render_html
from agentops_hooks.report.pages import render_json
from agentops_hooks.report.pages import render_markdown
from conftest import GitRepo
from conftest import agent_message
from report_test import PRE_COMMIT_CONFIG
from report_test import adopt

BYPASS_TAIL = ("that gate VII refuses: they landed without the hooks (git commit --no-verify, "
               "or a clone where they were not installed)")
NEVER_ROW = ("| bypassed hooks | none possible | this history never adopted the agentops hooks: "
             "no commit's .pre-commit-config.yaml runs them and no commit carries a verdict, so "
             "no commit could bypass them |")


def report_of(*revs: str) -> Report:
    repo = Repo()
    return build_report(repo, policy(repo.root), list(revs) or ["HEAD"])


def at(day: str) -> dict[str, str]:
    stamp = f"{day}T12:00:00Z"
    return {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}


def agent(repo: GitRepo, subject: str, day: str | None = None) -> str:
    repo.stage("app.py", f"# {subject}\n")
    repo.commit(agent_message(subject), env=at(day) if day else None)
    return repo.head()


def row(report: Report, name: str) -> str:
    (line,) = [line for line in render_markdown(report).splitlines() if line.startswith(f"| {name} |")]
    return line


def test_a_history_that_never_adopted_the_hooks_says_so(repo: GitRepo) -> None:
    # pre-commit, but other hooks; agentops only named in a comment.
    repo.stage(".pre-commit-config.yaml", "repos:\n  - repo: https://github.com/psf/black\n"
               "    rev: 23.3.0\n    hooks:\n      - id: black  # agentops later\n")
    repo.commit("Run black")
    agent(repo, "Unjudged one")
    agent(repo, "Unjudged two")
    r = report_of()
    assert r.adoption is None and r.bypassed == []
    assert row(r, "bypassed hooks") == NEVER_ROW
    data = json.loads(render_json(r))
    assert data["adoption"] is None and data["bypassed_count"] is None
    assert "Agent commits that bypassed the hooks" not in render_html(r)


def test_bypasses_count_only_after_the_hooks_were_adopted(repo: GitRepo) -> None:
    agent(repo, "Before the hooks", "2026-01-05")
    adopted = adopt(repo, at("2026-01-06"))
    after = agent(repo, "After the hooks", "2026-01-07")
    r = report_of()
    assert [(b.commit, b.subject, b.rules) for b in r.bypassed] == [
        (after, "After the hooks", ["verdict-missing"])]
    assert row(r, "bypassed hooks") == (
        f"| bypassed hooks | 1 | agent commits made after the hooks were adopted (2026-01-06, "
        f"{adopted[:12]}: .pre-commit-config.yaml made to run the agentops hooks) {BYPASS_TAIL} |")
    assert (r.agent_commits, r.admitted) == (2, 0)
    assert [(p.agent_commits, p.bypassed) for p in r.periods] == [(2, 1)]
    # A range that starts after the adoption still knows of it.
    assert report_of(f"{adopted}..HEAD").adoption == r.adoption


def test_an_adoption_on_a_branch_counts_only_what_descends_from_it(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base", env=at("2026-02-02"))
    repo.git("checkout", "-q", "-b", "side")
    adopted = adopt(repo, at("2026-02-03"))
    repo.git("checkout", "-q", "main")
    elsewhere = agent(repo, "Made where the hooks were not", "2026-02-04")
    repo.git("merge", "-q", "--no-edit", "side", env=at("2026-02-05"))
    after = agent(repo, "Made after the merge", "2026-02-06")
    r = report_of()
    assert r.adoption is not None and r.adoption.commit == adopted
    assert [b.commit for b in r.bypassed] == [after]
    assert elsewhere not in {b.commit for b in r.bypassed}


def test_the_first_verdict_trailer_is_an_adoption(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base", env=at("2026-03-02"))
    repo.stage("a.py", "a = 1\n")
    repo.commit("Judged\n\nVerdict: PASS judge=\"Riley <riley@example.com>\" patch=" + "0" * 40 + "\n",
                env=at("2026-03-03"))
    first = repo.head()
    r = report_of()
    assert r.adoption is not None
    assert r.adoption.describe() == f"2026-03-03, {first[:12]}: its first commit with a Verdict trailer"


def test_every_share_has_one_set_of_commits(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    repo.diverge()
    repo.git("merge", "-q", "--no-edit", "side", "-m", agent_message("Merge side"))
    agent(repo, "Agent work")
    r = report_of()
    assert (r.commits, r.merges, r.agent_commits) == (4, 1, 1)  # the agent's merge is left out
    assert sum(p.commits for p in r.periods) == r.commits
    assert row(r, "commits") == (
        "| commits | 4 | commits in the range, leaving out its 1 merge (verdict.merges = false: "
        "a merge brings work its branches' commits hold) |")
    assert row(r, "agent commits").startswith("| agent commits | 1 (25%) |")
    repo.write(".agentops.toml", "[verdict]\nmerges = true\n")
    r = report_of()
    assert (r.commits, r.merges, r.agent_commits) == (5, 1, 2)
    assert row(r, "commits") == "| commits | 5 | commits in the range, merges included (verdict.merges = true) |"
    assert row(r, "agent commits").startswith("| agent commits | 2 (40%) |")


def test_json_explanations_name_the_setting_that_applied(repo: GitRepo) -> None:
    agent(repo, "Agent work")
    data = json.loads(render_json(report_of()))
    explained = {m["name"]: m["explanation"] for m in data["measures"]}
    assert explained["commits"] == "commits in the range (it has no merges)"
    assert "verdict.required_for = agents" in explained["admitted by a PASS"]
    assert "the [agents] rules" in explained["agent commits"]
    assert data["settings"]["verdict.merges"] is False
    assert data["settings"]["learnings.file"] == "learnings.md"


def test_no_zero_in_zero_commits(repo: GitRepo) -> None:
    agent(repo, "Agent work")
    r = report_of()
    assert row(r, "learnings added") == ("| learnings added | none | new dated sections of "
                                         "learnings.md, new files in .agents/learnings/, Learning trailers |")
    assert row(r, "learnings cited") == "| learnings cited | none | Cites trailers naming a learning |"
    assert row(r, "first-pass yield").startswith("| first-pass yield | 0 (none admitted) |")
    assert " in 0 commits" not in render_html(r)
    repo.stage("b.py", "b = 1\n")
    repo.commit("Cite\n\nCites: Old lesson\n")
    assert row(report_of(), "learnings cited").startswith("| learnings cited | 1 in 1 commit |")


def test_titles_name_short_ids(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    base = repo.head()
    agent(repo, "Agent work")
    page = render_html(report_of(f"{base}..HEAD"))
    titles = re.findall(r"<title>(.*?)</title>|<h1>(.*?)</h1>", page)
    assert titles and all(not re.search(r"[0-9a-f]{40}", a + b) for a, b in titles)
    assert f"<h1>agentops report: {base[:12]}..HEAD</h1>" in page


def ticks(page: str, axis: str) -> list[list[str]]:
    """The tick labels of each chart's x or y axis, chart by chart."""
    charts = page.split('<svg ')[1:]
    return [re.findall(rf'<text class="tick {axis}"[^>]*>([^<]*)</text>', c) for c in charts]


def test_a_long_range_is_counted_per_month_on_a_dated_axis(repo: GitRepo) -> None:
    for day in ("2023-06-14", "2024-07-01", "2025-02-10", "2026-05-20"):
        agent(repo, f"work of {day}", day)
    r = report_of()
    assert r.period == "month"
    assert [p.start for p in r.periods] == ["2023-06-01", "2024-07-01", "2025-02-01", "2026-05-01"]
    page = render_html(r)
    assert "<h2>Commits per month</h2>" in page
    assert "<title>Commits per month (4 in all), by who wrote them and their verdict; bar heights count commits</title>" in page
    assert ticks(page, "x") == [["Jul 2023", "Jan 2024", "Jul", "Jan 2025", "Jul", "Jan 2026"]]
    assert ticks(page, "y") == [["0", "1"]]
    assert "| 2024-07 | 1 | 1 | 0 | 1 |" in render_markdown(r)


def test_a_short_range_has_dated_ticks_with_its_year(repo: GitRepo) -> None:
    for day in ("2026-01-05", "2026-01-06", "2026-01-20"):
        agent(repo, f"work of {day}", day)
    page = render_html(report_of())
    assert "<h2>Commits per week</h2>" in page
    assert ticks(page, "x") == [["Jan 5 2026", "Jan 12", "Jan 19", "Jan 26"]]
    assert ticks(page, "y") == [["0", "1", "2"]]


def test_ratchet_reversals_are_marked(repo: GitRepo) -> None:
    repo.write(".agentops.toml", '[ratchet.metrics.score]\ncommand = "cat score.txt"\ndirection = "higher"\n')
    for value, reason in ((5, ""), (7, ""), (6, "\nRatchet-Reversal: score: correctness over speed\n")):
        repo.stage("score.txt", f"{value}\n")
        repo.commit(f"score {value}\n{reason}")
        subprocess.run([sys.executable, "-m", "agentops_hooks.commands", "ratchet", "record"],
                       cwd=repo.root, env=repo.env, check=True, capture_output=True)
    page = render_html(report_of())
    reversal = repo.head()[:12]
    assert page.count('<g class="reversal">') == 1
    assert (f"<title>ratchet reversal of score at {reversal}: correctness over speed</title>") in page
    assert "<title>Ratchet baselines of score (higher is better), 1 reversal(s) marked</title>" in page
    assert page.count("<circle") == 3
    assert ticks(page, "y")[1] == ["5", "6", "7"]


def run_report(repo: GitRepo, stderr_tty: bool) -> str:
    """`agentops report` as a user runs it: what it wrote on stderr."""
    argv = [sys.executable, "-m", "agentops_hooks.commands", "report", "HEAD"]
    if not stderr_tty:
        return subprocess.run(argv, cwd=repo.root, env=repo.env, capture_output=True,
                              text=True, check=True).stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(argv, cwd=repo.root, env=repo.env, stdout=subprocess.DEVNULL,
                            stderr=follower)
    os.close(follower)
    seen = b""
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait() == 0
    os.close(leader)
    return seen.decode(errors="replace")


def test_progress_shows_on_a_terminal_only(repo: GitRepo) -> None:
    for i in range(3):
        agent(repo, f"work {i}")
    assert "agentops: report" in run_report(repo, stderr_tty=True)
    assert "3/3" in run_report(repo, stderr_tty=True)
    assert run_report(repo, stderr_tty=False) == ""


@pytest.mark.parametrize("config", [PRE_COMMIT_CONFIG.replace("- id: agentops\n", "- id: 'agentops'\n"),
                                    PRE_COMMIT_CONFIG.replace("      - id: agentops-record\n", "")])
def test_hook_entries_are_recognised(repo: GitRepo, config: str) -> None:
    repo.stage(".pre-commit-config.yaml", config)
    repo.commit("Run the agentops hooks")
    assert report_of().adoption is not None


def test_the_adoption_sample_in_the_docs_is_real(tmp_path: Path, home: Path) -> None:
    from conftest import isolated_env

    page = (Path(__file__).parents[2] / "docs" / "report.md").read_text(encoding="utf-8")
    script, shown = re.search(r"In a fresh repository:\n\n```sh\n(.*?)```\n\n```\n(.*?)```", page,
                              re.DOTALL).groups()  # type: ignore[union-attr]
    env = isolated_env(home)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    out = subprocess.run(["bash", "-euc", script], cwd=tmp_path, env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out == shown


def test_an_empty_range_claims_nothing_about_adoption(repo: GitRepo) -> None:
    adopt(repo)
    assert row(report_of("HEAD..HEAD"), "bypassed hooks") == (
        "| bypassed hooks | 0 | the range holds no commits |")


def test_a_verdict_trailer_folded_over_lines_is_read(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    repo.stage("a.py", "a = 1\n")
    repo.commit('Judged\n\nVerdict: PASS judge="Riley <riley@example.com>"\n patch=' + "0" * 40 + "\n")
    judged = repo.head()
    agent(repo, "Agent work")
    r = report_of()
    assert r.adoption is not None and r.adoption.commit == judged
    assert [b.subject for b in r.bypassed] == ["Agent work"]
