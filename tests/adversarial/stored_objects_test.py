"""Class 1: the checks judge the objects the repository stores, not what git
can be told to show instead.

Attacks tried, each with real git and, where it applies, a real push to a bare
repository running `agentops pre-receive`:

- a replace ref (`git replace AGENT TWIN`) that shows a human-looking twin in
  place of an unjudged agent commit: pushed to the server (refused outright),
  already on the server (the checks read the real commit), fetched into the CI
  clone (the same);
- a replace ref for the agent commit's *tree*, hiding the secret it adds;
- a graft (`info/grafts`) that gives a later human commit the range's base as
  parent, so the agent commit between them drops out of the range;
- a committed `.mailmap` (with `log.mailmap`) that maps the agent's identity
  to a human;
- `log.showSignature`, `core.useReplaceRefs` and friends in the clone's config;
- a graft file that cannot be read, a replace ref naming a missing object.
"""
from __future__ import annotations

import subprocess

from agentops_hooks import git
from conftest import SECRET_LINE
from conftest import GitRepo
from conftest import agent_commit
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import text

def twin_of(repo: GitRepo, commit: str, subject: str = "Human work") -> str:
    """A commit with `commit`'s tree and parent and a human's message, no agent marker."""
    return repo.out("commit-tree", "-p", f"{commit}~1", "-m", subject, f"{commit}^{{tree}}")


def test_pushing_a_replace_ref_is_refused(server: tuple) -> None:
    bare, repo = server
    agent = agent_commit(repo, "b.py", "b = 1\n")
    repo.git("replace", agent, twin_of(repo, agent))
    proc = push(repo, "refs/replace/*")
    assert proc.returncode != 0
    assert "replace refs are refused" in text(proc)
    assert not remote(bare, f"refs/replace/{agent}")


def test_a_replace_ref_on_the_server_does_not_pass_an_agent_commit_off_as_human(server: tuple) -> None:
    bare, repo = server
    agent = agent_commit(repo, "b.py", "b = 1\n", "Agent work behind a twin")
    twin = twin_of(repo, agent)
    assert push(repo, f"{twin}:refs/heads/wip").returncode == 0
    # The replace ref is there already (written before the hook, or by anyone on the server).
    subprocess.run(["git", "update-ref", f"refs/replace/{agent}", twin], cwd=bare, check=True)
    shown = subprocess.run(["git", "log", "-1", "--format=%s", agent], cwd=bare,
                           capture_output=True, text=True, check=True).stdout.strip()
    assert shown == "Human work"  # what plain git on the server shows
    proc = push(repo, "main")
    assert proc.returncode != 0, text(proc)
    assert "Agent work behind a twin" in text(proc) and "verdict-" in text(proc)
    assert remote(bare, "refs/heads/main") != agent


def based(repo: GitRepo) -> str:
    """A first, human commit: the base of the ranges checked here."""
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    return repo.head()


def test_a_replace_ref_in_the_ci_clone_changes_nothing(repo: GitRepo) -> None:
    base = based(repo)
    agent = agent_commit(repo, "b.py", "b = 1\n")
    repo.git("replace", agent, twin_of(repo, agent))
    assert repo.out("log", "-1", "--format=%s", agent) == "Human work"
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}")
    assert code == 1, out
    assert "verdict-" in out and "Claude" in out


def test_a_replaced_tree_does_not_hide_a_secret(repo: GitRepo) -> None:
    base = based(repo)
    agent = agent_commit(repo, "b.py", SECRET_LINE)
    repo.git("replace", f"{agent}^{{tree}}", f"{base}^{{tree}}")
    assert repo.out("diff-tree", "--name-only", "-r", base, agent) == ""  # plain git: no change
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}", "--gate", "privilege")
    assert code == 1, out
    assert "privilege-secret" in out and "b.py:1" in out


def test_a_graft_does_not_hide_a_commit_from_the_range(repo: GitRepo) -> None:
    base = based(repo)
    hidden = agent_commit(repo, ".agentops.toml", "gates = []\n", "Relax the policy")
    repo.stage("notes.txt", "human notes\n")
    repo.commit("Human work")
    # Through the graft, the human commit sits right on the base: the agent's is not in the range.
    (repo.root / ".git" / "info").mkdir(exist_ok=True)
    (repo.root / ".git" / "info" / "grafts").write_text(f"{repo.head()} {base}\n")
    assert repo.out("rev-list", f"{base}..HEAD").split() == [repo.head()]  # what plain git lists
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD")
    assert code == 1, out
    assert "2 commit(s)" in out and hidden[:12] in out and "privilege-protected-path" in out


def test_a_mailmap_does_not_make_the_agent_a_human(repo: GitRepo) -> None:
    repo.stage(".mailmap", "Hana Human <hana@example.com> Claude <noreply@anthropic.com>\n")
    repo.commit("mailmap")
    base = repo.head()
    repo.git("config", "log.mailmap", "true")
    repo.stage("b.py", "b = 1\n")
    repo.git("commit", "-q", "--no-verify", "-m", "Work",
             env={"GIT_AUTHOR_NAME": "Claude", "GIT_AUTHOR_EMAIL": "noreply@anthropic.com"})
    assert repo.out("log", "-1", "--format=%aE") == "hana@example.com"  # what git shows
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD")
    assert code == 1, out
    assert "Claude Code" in out


def test_the_clone_config_that_changes_what_git_shows_is_overridden(repo: GitRepo) -> None:
    repo.git("config", "log.showSignature", "true")
    repo.git("config", "core.useReplaceRefs", "true")
    repo.git("config", "log.mailmap", "true")
    for key in ("log.showsignature", "core.usereplacerefs", "log.mailmap"):
        assert git.run("config", "--get", key, cwd=repo.root).decode().strip() == "false", key


def test_an_unreadable_graft_file_or_a_broken_replace_ref_is_never_read(repo: GitRepo) -> None:
    base = based(repo)
    agent = agent_commit(repo, "b.py", "b = 1\n")
    (repo.root / ".git" / "info").mkdir(exist_ok=True)
    (repo.root / ".git" / "info" / "grafts").mkdir()  # a directory: git cannot read it as a file
    (repo.root / ".git" / "refs" / "replace").mkdir(parents=True)
    (repo.root / ".git" / "refs" / "replace" / agent).write_text("f" * 40 + "\n")  # a missing object
    code, out = run_agentops(repo, "check", "--range", f"{base}..{agent}")
    assert code == 1, out
    assert "Traceback" not in out
    assert "verdict-" in out
