"""Constraints (gate X): learnings that carry a check, promoted by a human, enforced everywhere."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import CONSTRAINT
from conftest import GitRepo
from conftest import agent_message
from conftest import bare_server
from conftest import json_output
from conftest import push
from conftest import run_agentops
from conftest import text

HUMAN_JUDGE = "Hana Human <hana@example.com>"
AGENT = {"GIT_AUTHOR_NAME": "Ada Agent", "GIT_AUTHOR_EMAIL": "ada@example.com",
         "GIT_COMMITTER_NAME": "Ada Agent", "GIT_COMMITTER_EMAIL": "ada@example.com"}
POLICY = """gates = ["verdict", "learnings", "privilege", "knowledge"]
[privilege]
human_judges = ["hana@example.com"]
"""
LEARNING = "requests needs a timeout"
LEARNINGS = f"""# Learnings

## {LEARNING} (2026-12-01)

- A call to requests without a timeout hangs the worker forever when the server stalls.
"""
FILE = ".agents/constraints/http.toml"


def agent_commits(repo: GitRepo, message: str = "Fetch the feed", *args: str) -> subprocess.CompletedProcess[bytes]:
    return repo.commit(agent_message(message), *args, check=False, env=AGENT)


def promoted(repo: GitRepo, serve: bool = False) -> str:
    """A repository where an agent added a learning and its constraint and a human judge
    promoted it (a verdict on exactly that change): the promoting commit. With `serve`,
    the base is pushed first (the server reads its policy from it)."""
    repo.stage(".agentops.toml", POLICY)
    repo.stage("src/app.py", "import requests\n")
    repo.commit("base")
    if serve:
        assert push(repo, "main").returncode == 0
    repo.install_agentops_hook()
    repo.stage("learnings.md", LEARNINGS)
    repo.stage(FILE, CONSTRAINT)
    refused = agent_commits(repo, "Learn: requests needs a timeout")
    assert refused.returncode == 1, text(refused)
    assert "privilege-protected-path" in text(refused) and f"{FILE} (added)" in text(refused)
    code, out = run_agentops(repo, "verdict", "pass", "--judge", HUMAN_JUDGE, "--staged")
    assert code == 0, out
    admitted = agent_commits(repo, "Learn: requests needs a timeout")
    assert admitted.returncode == 0, text(admitted)
    return repo.head()


def test_a_promoted_constraint_refuses_a_breaking_change_at_commit_time_in_ci_and_on_the_server(
        repo: GitRepo, tmp_path: Path) -> None:
    bare = bare_server(repo, tmp_path)
    promotion = promoted(repo, serve=True)
    proc = push(repo, "main", "refs/notes/agentops/verdicts")
    assert proc.returncode == 0, text(proc)

    repo.stage("src/app.py", "import requests\nfeed = requests.get(URL)\n")
    refused = agent_commits(repo)
    out = text(refused)
    assert refused.returncode == 1, out
    assert "knowledge-constraint" in out
    assert ('src/app.py:2: "feed = requests.get(URL)" breaks constraint `requests-timeout` '
            f"({FILE}), from the learning `{LEARNING}`: a call without a timeout hangs") in out
    assert repo.head() == promotion
    # The firing is a citation of its learning, kept in the notes.
    assert "requests-timeout" in repo.out("notes", "--ref=agentops/constraints", "show", promotion)

    code, out = run_agentops(repo, "report", "HEAD")
    assert code == 0, out
    assert "### Constraints fired" in out
    assert f"| requests-timeout | {LEARNING} | 1 |" in out
    code, out = run_agentops(repo, "report", "HEAD", "--format", "json")
    assert code == 0, out
    fired = json_output(out, "report")["constraints_fired"]
    assert [row[1:] for row in fired] == [["requests-timeout", LEARNING, 1]]

    # The same change with the hooks skipped: CI and the server refuse it.
    assert agent_commits(repo, "Fetch the feed", "--no-verify").returncode == 0
    code, out = run_agentops(repo, "check", "--range", f"{promotion}..HEAD")
    assert code == 1, out
    assert f"from the learning `{LEARNING}`" in out and "src/app.py:2" in out
    proc = push(repo, "main")
    assert proc.returncode != 0, text(proc)
    assert f"from the learning `{LEARNING}`" in text(proc)
    assert subprocess.run(["git", "rev-parse", "main"], cwd=bare, capture_output=True,
                          text=True).stdout.strip() == promotion

    # A line that keeps the learning passes.
    repo.git("reset", "-q", "--hard", promotion)
    repo.stage("src/app.py", "import requests\nfeed = requests.get(URL, timeout=10)\n")
    ok = agent_commits(repo)
    assert ok.returncode == 1 and "knowledge-constraint" not in text(ok)  # only the verdict is missing


@pytest.mark.parametrize("weaken", [
    lambda r: r.git("rm", "-q", FILE),
    lambda r: r.stage(FILE, CONSTRAINT.replace('["src/**/*.py"]', '["nowhere/*.py"]')),
    lambda r: r.git("mv", FILE, ".agents/http.toml.off"),
    lambda r: r.stage(".agents/constraints/http.toml", CONSTRAINT.replace("requests\\.", "requestz\\.")),
])
def test_an_agent_cannot_delete_or_weaken_a_promoted_constraint(repo: GitRepo, weaken: object) -> None:
    promotion = promoted(repo)
    assert callable(weaken)
    weaken(repo)
    repo.stage("src/app.py", "import requests\nfeed = requests.get(URL)\n")
    refused = agent_commits(repo)
    out = text(refused)
    assert refused.returncode == 1, out
    assert "privilege-protected-path" in out and FILE in out
    # And the weakened constraint does not decide: the committed one still fires.
    assert "breaks constraint `requests-timeout`" in out
    assert repo.head() == promotion


def _based(repo: GitRepo, constraint: str = CONSTRAINT, app: str = "import requests\n") -> None:
    """A person committed the policy, the learning and the constraint; the hook is installed."""
    repo.stage(".agentops.toml", POLICY)
    repo.stage("learnings.md", LEARNINGS)
    repo.stage(FILE, constraint)
    repo.stage("src/old.py", app)
    repo.commit("base")
    repo.install_agentops_hook()


@pytest.mark.parametrize("sneak", [
    lambda r: r.stage("src/caf\u00e9/\u00fcber.py", "x = requests.get(URL)\n"),  # a C-quoted path
    lambda r: (r.git("mv", "src/old.py", "src/new.py"),
               r.stage("src/new.py", "import requests\nx = requests.post(URL, data)\n")),
    lambda r: r.stage("src/app.py", "x = requests.get(URL)\r\n"),
    lambda r: r.stage("src/app.py", "\tx = requests.delete(\n\tURL)\n"),
    lambda r: r.stage("src/deep/er/app.py", "x = 1; y = requests.put(URL)  # timeout later\n"),
])
def test_the_variants_an_agent_would_try_are_caught(repo: GitRepo, sneak: object) -> None:
    _based(repo)
    assert callable(sneak)
    sneak(repo)
    proc = agent_commits(repo)
    assert proc.returncode == 1, text(proc)
    assert "breaks constraint `requests-timeout`" in text(proc), text(proc)


def test_a_constraint_added_in_a_range_holds_the_later_commits_of_that_range(repo: GitRepo) -> None:
    repo.stage(".agentops.toml", POLICY)
    repo.stage("learnings.md", LEARNINGS)
    repo.commit("base")
    base = repo.head()
    repo.stage(FILE, CONSTRAINT)
    repo.commit("promote", env=AGENT)
    repo.stage("src/app.py", "import requests\nfeed = requests.get(URL)\n")
    repo.commit(agent_message("Fetch"), env=AGENT)
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "knowledge")
    assert code == 1, out
    assert "breaks constraint `requests-timeout`" in out


def test_a_command_or_a_broken_constraint_an_agent_adds_in_a_range_is_not_run(
        repo: GitRepo, tmp_path: Path) -> None:
    ran = tmp_path / "ran"
    repo.stage(".agentops.toml", POLICY)
    repo.stage("learnings.md", LEARNINGS)
    repo.commit("base")
    base = repo.head()
    repo.stage(FILE, CONSTRAINT.replace(
        "forbid = 'requests\\.(get|post|put|delete)\\((?![^)]*timeout)'", f"command = 'touch {ran}; false'"))
    repo.stage(".agents/constraints/broken.toml", "[[constraint]\n")
    repo.commit(agent_message("Add checks"), "--no-verify", env=AGENT)
    repo.stage("src/app.py", "feed = 1\n")
    repo.commit(agent_message("Fetch"), "--no-verify", env=AGENT)
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "knowledge",
                             "--gate", "privilege")
    assert code == 1, out
    assert not ran.exists()
    assert "knowledge-constraint-malformed" in out and "broken.toml: not valid TOML" in out
    assert "privilege-protected-path" in out


def test_constraints_can_hold_everyone_in_a_range(repo: GitRepo) -> None:
    repo.stage(".agentops.toml", POLICY + '[knowledge]\nrequired_for = "agents"\n'
               'constraints_required_for = "everyone"\n')
    repo.stage("learnings.md", LEARNINGS)
    repo.stage(FILE, CONSTRAINT)
    repo.commit("base")
    base = repo.head()
    repo.stage("src/app.py", "feed = requests.get(URL)\n")
    repo.commit("A person's change")
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD")
    assert code == 1, out
    assert "breaks constraint `requests-timeout`" in out


def write_constraint(repo: GitRepo, body: str) -> None:
    repo.write("learnings.md", LEARNINGS)
    repo.write(FILE, body)


def test_verify_accepts_a_constraint_that_catches_its_witness(repo: GitRepo) -> None:
    write_constraint(repo, CONSTRAINT)
    code, out = run_agentops(repo, "knowledge", "verify")
    assert code == 0, out
    assert f"{FILE} constraint `requests-timeout` (forbid) catches its witness" in out


@pytest.mark.parametrize(("old", "new"), [
    ('witness = "r = requests.get(url)"', 'witness = "r = requests.get(url, timeout=3)"'),
    ("forbid = ", 'require = "^import requests"\n#'),
])
def test_verify_refuses_a_constraint_whose_witness_does_not_trigger_it(
        repo: GitRepo, old: str, new: str) -> None:
    body = CONSTRAINT.replace(old, new)
    if new.startswith("require"):
        body = body.replace('witness = "r = requests.get(url)"', 'witness = "import requests"')
    write_constraint(repo, body)
    code, out = run_agentops(repo, "knowledge", "verify")
    assert code == 1, out
    assert "its witness does not trigger it" in out


def test_verify_runs_a_command_constraint_on_its_witness(repo: GitRepo) -> None:
    command = CONSTRAINT.replace(
        "forbid = 'requests\\.(get|post|put|delete)\\((?![^)]*timeout)'",
        "command = '! grep -n \"requests.get(url)$\" \"$@\"'")
    write_constraint(repo, command)
    code, out = run_agentops(repo, "knowledge", "verify")
    assert code == 0, out
    assert "(command) catches its witness" in out
    write_constraint(repo, command.replace('(url)$"', '(url)XYZ"'))
    code, out = run_agentops(repo, "knowledge", "verify")
    assert code == 1, out


@pytest.mark.parametrize(("body", "said"), [
    ("[[constraint]\nid = 1\n", f"{FILE}: not valid TOML"),
    (CONSTRAINT.replace("forbid = '", "forbid = '(unclosed"),
     f"{FILE} constraint `requests-timeout`: forbid '(unclosed"),
    (CONSTRAINT.replace("forbid = '", "forbid = '(a+)+b|"),
     "repeats a repeat, which can take exponential time"),
    (CONSTRAINT.replace("forbid = 'requests", "forbid = 'a*a*a*a*a*a*a*a*a*b|requests")
     .replace('witness = "r = requests.get(url)"', 'witness = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"'),
     "took more than 2 s on its witness"),
    (CONSTRAINT.replace('learning = "requests needs a timeout"', 'learning = "no such lesson"'),
     f"{FILE} constraint `requests-timeout`: the learning `no such lesson` is not in the learnings"),
    (CONSTRAINT.replace("forbid = 'requests\\.(get|post|put|delete)\\((?![^)]*timeout)'",
                        "command = 'sleep 30'\ntimeout = 0.5"),
     "did not finish within 0.5 s (killed)"),
    (CONSTRAINT.replace('id = "requests-timeout"', 'id = "Bad Id"'), f"{FILE} constraint `Bad Id`: id:"),
    (CONSTRAINT + 'require = "x"\n', "give exactly one check: forbid, require, command"),
    (CONSTRAINT + CONSTRAINT, "the id is taken by"),
])
def test_bad_constraints_are_one_line_exit_2_nothing_recorded(repo: GitRepo, body: str, said: str) -> None:
    write_constraint(repo, body)
    code, out = run_agentops(repo, "knowledge", "verify")
    assert code == 2, out
    assert said in out
    assert len(out.strip().splitlines()) == 1 and "Traceback" not in out
    assert repo.git("for-each-ref", "refs/notes").stdout == b""


def test_a_change_adding_a_bad_constraint_is_refused_by_gate_x(repo: GitRepo) -> None:
    repo.stage(".agentops.toml", POLICY)
    repo.stage("learnings.md", LEARNINGS)
    repo.commit("base")
    repo.install_agentops_hook()
    repo.stage(FILE, CONSTRAINT.replace('witness = "r = requests.get(url)"', 'witness = "fine()"'))
    proc = repo.commit("Add a constraint", check=False)  # a human's: gate IV lets it pass
    assert proc.returncode == 1, text(proc)
    assert "knowledge-constraint-malformed" in text(proc)
    assert "does not catch its own witness" in text(proc)


def test_a_slow_line_is_refused_within_the_budget_and_long_lines_are_read_whole(repo: GitRepo) -> None:
    slow = CONSTRAINT.replace("paths = [", "paths = [\"*.txt\", ").replace(
        "[[constraint]]", "[[constraint]]\nid = \"no-slow\"\nlearning = \"requests needs a timeout\"\n"
        "reason = \"slow\"\npaths = [\"*.txt\"]\nforbid = 'x*x*x*x*x*x*x*x*x*y'\nwitness = \"xy\"\n\n"
        "[[constraint]]", 1)
    repo.stage(".agentops.toml", POLICY)
    repo.stage("learnings.md", LEARNINGS)
    repo.stage(FILE, slow)
    repo.commit("base")
    repo.install_agentops_hook()
    repo.stage("src/app.py", "x = 1" + " " * 50_000 + "; requests.get(URL)\n")
    proc = agent_commits(repo)
    assert "breaks constraint `requests-timeout`" in text(proc)
    repo.git("reset", "-q")
    repo.stage("notes.txt", "x" * 900 + "\n")
    proc = agent_commits(repo)
    assert "knowledge-constraint-slow" in text(proc), text(proc)


def test_require_keeps_a_pattern_in_every_changed_file(repo: GitRepo) -> None:
    header = CONSTRAINT.replace(
        "forbid = 'requests\\.(get|post|put|delete)\\((?![^)]*timeout)'",
        "require = '^# SPDX-License-Identifier: MIT$'").replace(
        'witness = "r = requests.get(url)"', 'witness = "print(1)"')
    _based(repo, header, "# SPDX-License-Identifier: MIT\nx = 1\n")
    repo.stage("src/old.py", "x = 2\n")
    proc = agent_commits(repo)
    assert "src/old.py: \"no longer matches" in text(proc), text(proc)
    repo.stage("src/old.py", "# SPDX-License-Identifier: MIT\nx = 2\n")
    assert "knowledge-constraint" not in text(agent_commits(repo))


def test_a_promoted_constraint_keeps_its_learning_from_going_stale(repo: GitRepo) -> None:
    old = LEARNINGS.replace("2026-12-01", "2020-01-01")
    stale = POLICY + "[knowledge]\nrequired_for = \"everyone\"\n"
    repo.stage(".agentops.toml", stale)
    repo.stage("learnings.md", old)
    repo.stage(FILE, CONSTRAINT)
    repo.commit("base")
    code, out = run_agentops(repo, "check", "--commit", "HEAD", "--gate", "knowledge")
    assert "knowledge-stale" in out, out
    repo.install_agentops_hook()
    repo.stage("src/app.py", "feed = requests.get(URL)\n")
    agent_commits(repo)  # refused: the constraint fires, which cites the learning
    code, out = run_agentops(repo, "check", "--commit", "HEAD", "--gate", "knowledge")
    assert "knowledge-stale" not in out, out
