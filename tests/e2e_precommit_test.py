"""End to end through real pre-commit: this checkout installed as a hook repository.

A project adds our repo to its .pre-commit-config.yaml, runs
`pre-commit install --hook-type commit-msg`, and then plain `git commit`s are
judged. The hook repository is a snapshot of this working tree (committed, as
pre-commit clones by rev), so the test exercises the code as it is now.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo
from conftest import isolated_env

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).parents[1]


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, Path]]:
    """(snapshot repo, its rev, a PRE_COMMIT_HOME shared by the module's tests)."""
    base = tmp_path_factory.mktemp("e2e")
    home = base / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Snapshot\n\temail = snapshot@example.com\n[commit]\n\tgpgsign = false\n",
    )
    env = isolated_env(home)
    snapshot = base / "agentops-hooks"
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")
    for name in filter(None, files):
        source = ROOT / name
        if source.is_file():
            target = snapshot / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    run = lambda *a: subprocess.run(a, cwd=snapshot, env=env, check=True, capture_output=True)  # noqa: E731
    run("git", "init", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-q", "-m", "snapshot", "--no-verify")
    rev = run("git", "rev-parse", "HEAD").stdout.decode().strip()
    yield snapshot, rev, base / "pre-commit-home"


def project(tmp_path: Path, hook_repo: tuple[Path, str, Path], *hook_ids: str,
            hook_types: tuple[str, ...] = ("commit-msg",)) -> GitRepo:
    snapshot, rev, pc_home = hook_repo
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Hana Human\n\temail = hana@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
    )
    env = isolated_env(home)
    env["PRE_COMMIT_HOME"] = str(pc_home)
    env["PRE_COMMIT_COLOR"] = "never"
    root = tmp_path / "project"
    root.mkdir()
    repo = GitRepo(root, env)
    repo.git("init", "-q")
    hooks = "\n".join(f"      - id: {h}" for h in hook_ids)
    repo.write(".pre-commit-config.yaml",
               f"repos:\n  - repo: {snapshot}\n    rev: {rev}\n    hooks:\n{hooks}\n")
    types = [arg for t in hook_types for arg in ("--hook-type", t)]
    subprocess.run([sys.executable, "-m", "pre_commit", "install", *types],
                   cwd=root, env=env, check=True, capture_output=True)
    repo.stage("app.py", "x = 1\n")
    repo.git("add", ".pre-commit-config.yaml")
    first = repo.commit("Initial commit by a human", check=False)
    assert first.returncode == 0, first.stdout.decode() + first.stderr.decode()
    return repo


def output(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


def staged_verdict(repo: GitRepo, status: str = "pass", judge: str = JUDGE) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "agentops_hooks.commands", "verdict", status, "--judge", judge, "--staged"],
        cwd=repo.root, env=repo.env, capture_output=True, check=True,
    )
    return proc.stdout.decode().strip()


AGENT = "Add a feature\n\n" + CLAUDE_TRAILER + "\n"


@pytest.fixture
def umbrella(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> GitRepo:
    return project(tmp_path, hook_repo, "agentops")


def test_agent_commit_refused_then_accepted_with_a_verdict(umbrella: GitRepo) -> None:
    repo = umbrella
    repo.stage("app.py", "x = 2\n")
    refused = repo.commit(AGENT, check=False)
    text = output(refused)
    assert refused.returncode != 0
    assert "agentops (all enabled gates)" in text and "Failed" in text
    assert "[VII Validate Externally] verdict: verdict-missing" in text
    assert "the judge runs: agentops verdict pass --sign" in text
    assert repo.out("rev-list", "--count", "HEAD") == "1"

    accepted = repo.commit(AGENT + staged_verdict(repo) + "\n", check=False)
    assert accepted.returncode == 0, output(accepted)
    assert repo.out("rev-list", "--count", "HEAD") == "2"
    assert "Verdict: PASS" in repo.out("log", "-1", "--format=%B")


def test_human_commit_passes(umbrella: GitRepo) -> None:
    umbrella.stage("app.py", "x = 3\n" * 30)
    proc = umbrella.commit("A human rewrites app.py\n", check=False)
    assert proc.returncode == 0, output(proc)


@pytest.mark.parametrize(("judge", "status", "rule"), [
    ("Hana Human <hana@example.com>", "pass", "verdict-self-judged"),
    ("Claude <noreply@anthropic.com>", "pass", "verdict-self-judged"),
    (JUDGE, "fail", "verdict-not-pass"),
])
def test_bad_verdicts_are_refused(umbrella: GitRepo, judge: str, status: str, rule: str) -> None:
    umbrella.stage("app.py", "x = 4\n")
    proc = umbrella.commit(AGENT + staged_verdict(umbrella, status, judge) + "\n", check=False)
    assert proc.returncode != 0
    assert rule in output(proc)


def test_verdict_for_a_different_patch_is_refused(umbrella: GitRepo) -> None:
    umbrella.stage("app.py", "x = 5\n")
    line = staged_verdict(umbrella)
    umbrella.stage("app.py", "x = 6  # edited after the judge looked\n")
    proc = umbrella.commit(AGENT + line + "\n", check=False)
    assert proc.returncode != 0
    assert "verdict-wrong-patch" in output(proc)


def test_large_agent_change_without_learning_is_refused(umbrella: GitRepo) -> None:
    umbrella.stage("app.py", "".join(f"v{i} = {i}\n" for i in range(40)))
    proc = umbrella.commit(AGENT + staged_verdict(umbrella) + "\n", check=False)
    assert proc.returncode != 0
    assert "learning-missing" in output(proc)
    proc = umbrella.commit(AGENT + staged_verdict(umbrella) + "\nLearning: numbered constants are a smell\n", check=False)
    assert proc.returncode == 0, output(proc)


def test_single_gate_hook_ids(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> None:
    repo = project(tmp_path, hook_repo, "agentops-verdict", "agentops-learnings")
    repo.stage("app.py", "".join(f"v{i} = {i}\n" for i in range(40)))
    proc = repo.commit(AGENT, check=False)
    text = output(proc)
    assert proc.returncode != 0
    assert "verdict-missing" in text and "learning-missing" in text
    assert "agentops verdict (factor VII" in text and "agentops learnings (factor IX" in text


def test_commit_all_is_judged_on_what_git_commits(umbrella: GitRepo) -> None:
    """`git commit -a` stages into a temporary index; the verdict must bind to it."""
    umbrella.write("app.py", "x = 7\n")
    umbrella.git("add", "app.py")
    line = staged_verdict(umbrella)
    umbrella.git("reset", "-q")
    proc = umbrella.commit(AGENT + line + "\n", "-a", check=False)
    assert proc.returncode == 0, output(proc)


def test_the_printed_fix_command_works(umbrella: GitRepo) -> None:
    """The refusal's fix: the judge adds a verdict to .git/COMMIT_EDITMSG, commit -F it."""
    repo = umbrella
    repo.stage("app.py", "x = 8\n")
    first = repo.commit(AGENT, check=False)
    assert first.returncode != 0
    assert "git commit --cleanup=strip -F .git/COMMIT_EDITMSG" in output(first)
    subprocess.run(
        [sys.executable, "-m", "agentops_hooks.commands", "verdict", "pass", "--judge", JUDGE,
         "--message-file", ".git/COMMIT_EDITMSG"],
        cwd=repo.root, env=repo.env, check=True, capture_output=True,
    )
    proc = repo.git("commit", "-q", "--cleanup=strip", "-F", ".git/COMMIT_EDITMSG", check=False)
    assert proc.returncode == 0, output(proc)
    body = repo.out("log", "-1", "--format=%B")
    assert body.startswith("Add a feature")
    assert "Verdict: PASS" in body


def test_amend_through_pre_commit_binds_to_the_whole_amended_change(umbrella: GitRepo) -> None:
    """commit-msg cannot be told about --amend; the hook finds out from git's own arguments."""
    repo = umbrella
    repo.stage("app.py", "x = 9\n")
    assert repo.commit(AGENT + staged_verdict(repo) + "\n", check=False).returncode == 0
    repo.stage("extra.py", "y = 1\n")
    proc = subprocess.run(
        [sys.executable, "-m", "agentops_hooks.commands", "verdict", "pass", "--judge", JUDGE, "--amend"],
        cwd=repo.root, env=repo.env, capture_output=True, check=True,
    )
    amended = repo.commit(AGENT + proc.stdout.decode().strip() + "\n", "--amend", check=False)
    assert amended.returncode == 0, output(amended)
    # A verdict for only the new part (index against HEAD) does not cover the amend.
    repo.stage("extra.py", "y = 2\n")
    partial = staged_verdict(repo)
    refused = repo.commit(AGENT + partial + "\n", "--amend", check=False)
    assert refused.returncode != 0
    assert "verdict-wrong-patch" in output(refused)


def test_post_commit_records_verdicts_in_notes(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> None:
    repo = project(tmp_path, hook_repo, "agentops", "agentops-record",
                   hook_types=("commit-msg", "post-commit"))
    repo.stage("app.py", "x = 10\n")
    proc = repo.commit(AGENT + staged_verdict(repo) + "\n", check=False)
    assert proc.returncode == 0, output(proc)
    log = repo.out("log", "-1", "--notes=agentops/verdicts")
    assert "Notes (agentops/verdicts):" in log
    assert '"status": "PASS"' in log and '"source": "trailer"' in log


RATCHET_CONFIG = """
[ratchet.metrics.tests]
command = "grep -c '^def test_' test_app.py || true"
direction = "higher"
"""


def test_ratchet_hook_at_commit_msg_and_pre_push(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> None:
    repo = project(tmp_path, hook_repo, "agentops-ratchet",
                   hook_types=("commit-msg", "pre-push"))
    cfg = repo.root / ".pre-commit-config.yaml"
    cfg.write_text(cfg.read_text() + "        stages: [commit-msg, pre-push]\n")
    repo.stage("test_app.py", "def test_a():\n    pass\n\n\ndef test_b():\n    pass\n")
    repo.stage(".agentops.toml", RATCHET_CONFIG)
    repo.git("add", ".pre-commit-config.yaml")
    assert repo.commit("Two tests", check=False).returncode == 0
    subprocess.run([sys.executable, "-m", "agentops_hooks.commands", "ratchet", "record"],
                   cwd=repo.root, env=repo.env, check=True, capture_output=True)

    repo.stage("test_app.py", "def test_a():\n    pass\n")
    refused = repo.commit("Drop a test", check=False)
    assert refused.returncode != 0
    assert "ratchet-regressed" in output(refused)
    accepted = repo.commit("Drop a test\n\nRatchet-Reversal: tests: test_b duplicated test_a\n", check=False)
    assert accepted.returncode == 0, output(accepted)

    # pre-push checks the pushed tip against the baseline, reversals included
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    pushed = repo.git("push", "-q", "origin", "HEAD:refs/heads/main", check=False)
    assert pushed.returncode == 0, output(pushed)
    repo.stage("test_app.py", "# no tests left\n")
    repo.git("commit", "-q", "--no-verify", "-m", "Sneak past commit-msg")
    rejected = repo.git("push", "-q", "origin", "HEAD:refs/heads/main", check=False)
    assert rejected.returncode != 0
    assert "ratchet-regressed" in output(rejected), output(rejected)
    assert repo.out("ls-remote", "origin", "refs/heads/main").split()[0] == repo.out("rev-parse", "HEAD~1")


def test_push_hook_checks_every_pushed_commit(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> None:
    repo = project(tmp_path, hook_repo, "agentops-push", hook_types=("pre-push",))
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    first = repo.git("push", "-q", "origin", "HEAD:refs/heads/main", check=False)  # a root commit
    assert first.returncode == 0, output(first)
    repo.stage("app.py", "x = 11\n")
    repo.git("commit", "-q", "--no-verify", "-m", AGENT)
    repo.stage("app.py", "x = 12\n")
    repo.commit("A human follows up")
    refused = repo.git("push", "-q", "origin", "HEAD:refs/heads/main", check=False)
    assert refused.returncode != 0
    text = output(refused)
    assert "agentops push (every gate on every pushed commit)" in text
    # Both commits are checked; only the refused one is listed.
    assert "checking " in text and ": 2 commit(s)" in text
    assert "FAIL  " in text and "Add a feature" in text and "A human follows up" not in text
    repo.git("fetch", "-q", "origin")
    # a new branch: only the commits no remote-tracking ref has yet are checked
    new_branch = repo.git("push", "-q", "origin", "HEAD:refs/heads/topic", check=False)
    assert new_branch.returncode != 0
    assert "Add a feature" in output(new_branch)
    assert "Initial commit by a human" not in output(new_branch)


def test_agentops_init_is_the_whole_adoption(tmp_path: Path, hook_repo: tuple[Path, str, Path]) -> None:
    """A fresh repository, `agentops init`, and the hooks it installed judge every commit."""
    snapshot, rev, pc_home = hook_repo
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text("[user]\n\tname = Hana Human\n\temail = hana@example.com\n"
                                     "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n")
    env = {**isolated_env(home), "PRE_COMMIT_HOME": str(pc_home), "PRE_COMMIT_COLOR": "never"}
    (tmp_path / "project").mkdir()
    repo = GitRepo(tmp_path / "project", env)
    repo.git("init", "-q")
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    repo.git("remote", "add", "origin", str(bare))
    init = subprocess.run(
        [sys.executable, "-m", "agentops_hooks.commands", "init", "--hook-repo", str(snapshot),
         "--rev", rev, "--no-signing"], cwd=repo.root, env=env, capture_output=True, text=True)
    assert init.returncode == 0, init.stdout + init.stderr
    assert init.stdout.startswith(f"agentops: .pre-commit-config.yaml: created with hooks agentops, "
                                  f"agentops-record, agentops-push ({snapshot} at {rev})\n")
    repo.git("add", ".pre-commit-config.yaml")
    first = repo.commit("Adopt agentops", check=False)
    assert first.returncode == 0, output(first)

    repo.stage("app.py", "x = 1\n")
    refused = repo.commit(AGENT, check=False)
    assert refused.returncode != 0
    assert "agentops (all enabled gates)" in output(refused) and "verdict-missing" in output(refused)
    accepted = repo.commit(AGENT + staged_verdict(repo) + "\n", check=False)
    assert accepted.returncode == 0, output(accepted)
    assert '"source": "trailer"' in repo.out("log", "-1", "--notes=agentops/verdicts")  # post-commit

    assert repo.git("push", "-q", "origin", "HEAD:refs/heads/main", check=False).returncode == 0
    repo.stage("app.py", "x = 2\n")
    repo.git("commit", "-q", "--no-verify", "-m", AGENT)
    pushed = repo.git("push", "-q", "origin", "HEAD:refs/heads/main", check=False)
    assert pushed.returncode != 0 and "agentops push (every gate on every pushed commit)" in output(pushed)
