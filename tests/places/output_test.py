"""Output as the tools people know write it: colour on a terminal (pre-commit's
--color, NO_COLOR), range checks that print what matters, progress on stderr.

Terminals are real pseudo-terminals (the pty module), never a mock.
"""
from __future__ import annotations

import os
import pty
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from conftest import CLAUDE_TRAILER
from conftest import GitRepo

AGENT = "Add a feature\n\n" + CLAUDE_TRAILER + "\n"
REFUSED = "agentops: \033[1;31mrefused\033[m this commit, agent-authored"
UNSIGNED = "agentops: unsigned verdicts accepted: any agent can type one — see docs/trust.md\n"
RULE = "[VII Validate Externally] verdict: \033[31mverdict-missing\033[m"


def on_terminal(args: list[str], cwd: Path, env: dict[str, str],
                streams: str = "stderr") -> tuple[int, str, str]:
    """Run with `streams` (stderr, stdout or both) on a pseudo-terminal: (exit code, what
    the terminal showed, what went to the other stream's file)."""
    leader, follower = pty.openpty()
    with tempfile.TemporaryFile() as other:
        targets = {"stdout": other, "stderr": other}
        for name in ("stdout", "stderr") if streams == "both" else (streams,):
            targets[name] = follower  # type: ignore[assignment]
        proc = subprocess.Popen(args, cwd=cwd, env=env, stdin=subprocess.DEVNULL, **targets)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 1 << 16)
            except OSError:  # EIO: every writer has closed the terminal
                break
            if not chunk:
                break
            shown += chunk
        os.close(leader)
        code = proc.wait()
        other.seek(0)
        rest = other.read().decode()
    return code, shown.decode().replace("\r\n", "\n"), rest


@pytest.fixture
def hooked(repo: GitRepo) -> GitRepo:
    """A repository whose commit-msg hook is agentops, and an agent's change staged."""
    repo.install_agentops_hook()
    repo.stage("README", "hello\n")
    repo.commit("Initial commit by a human")
    repo.stage("app.py", "x = 1\n")
    repo.message_file(AGENT)
    return repo


def commit_args() -> list[str]:
    return ["git", "commit", "-q", "-F", ".git/COMMIT_EDITMSG"]


def test_the_commit_time_refusal_is_coloured_on_a_terminal(hooked: GitRepo) -> None:
    # git gives the hook its own stderr as stdout: the terminal the person commits at.
    code, shown, _ = on_terminal(commit_args(), hooked.root, hooked.env)
    assert code == 1
    assert shown.startswith(REFUSED)
    assert f"\n{RULE}\n" in shown and "\n  \033[32mfix:\033[m last, as the verdict binds" in shown


@pytest.mark.parametrize("env", [{"NO_COLOR": "1"}, {"TERM": "dumb"}, {"PRE_COMMIT_COLOR": "never"}])
def test_no_colour_when_the_terminal_or_the_user_says_so(hooked: GitRepo, env: dict[str, str]) -> None:
    code, shown, _ = on_terminal(commit_args(), hooked.root, {**hooked.env, **env})
    assert code == 1
    assert shown.startswith("agentops: refused this commit, agent-authored") and "\033[" not in shown


def test_no_colour_into_a_pipe_unless_asked(hooked: GitRepo) -> None:
    plain = hooked.git("commit", "-q", "-F", ".git/COMMIT_EDITMSG", check=False)
    assert plain.returncode == 1 and b"\033[" not in plain.stderr
    coloured = hooked.git("commit", "-q", "-F", ".git/COMMIT_EDITMSG", check=False,
                          env={"PRE_COMMIT_COLOR": "always", "NO_COLOR": "1"})
    assert coloured.returncode == 1 and coloured.stderr.decode().startswith(REFUSED)
    code, shown, _ = on_terminal(
        [str(Path(sys.executable).parent / "agentops"), "check", "--staged", "--message-file",
         ".git/COMMIT_EDITMSG", "--color", "never"], hooked.root, hooked.env, "stdout")
    assert code == 1 and shown.startswith("agentops: refused the staged change") and "\033[" not in shown


def many_commits(repo: GitRepo, count: int, agent_at: int | None = None) -> None:
    """`count` human commits in one git fast-import; the one at `agent_at` an agent's."""
    stream = []
    for i in range(count):
        message = (AGENT if i == agent_at else f"Human change {i}\n").encode()
        stream.append(b"commit refs/heads/main\ncommitter Hana Human <hana@example.com> "
                      + f"{1700000000 + i} +0000\ndata {len(message)}\n".encode() + message
                      + f"M 644 inline n.txt\ndata {len(str(i)) + 1}\n{i}\n".encode())
    repo.git("fast-import", "--quiet", input=b"".join(stream))
    repo.git("checkout", "-q", "-f", "main")


def check_range(*extra: str) -> list[str]:
    return [sys.executable, "-m", "agentops_hooks.commands", "check", "--range", "HEAD", *extra]


def test_a_long_range_shows_its_progress_on_a_terminal_and_wipes_it(repo: GitRepo) -> None:
    many_commits(repo, 120)
    code, progress, out = on_terminal(check_range(), repo.root, repo.env)
    assert code == 0, out
    assert progress.startswith("\ragentops: checked 1/120 commits") and progress.endswith("\r\033[K")
    assert out == ("agentops: checking HEAD: 120 commit(s)\n" + UNSIGNED +
                   "agentops: HEAD passed (120 commit(s); --verbose lists each)\n")
    # Into a pipe or a file: no progress at all.
    piped = subprocess.run(check_range(), cwd=repo.root, env=repo.env, capture_output=True, text=True)
    assert (piped.returncode, piped.stderr, piped.stdout) == (0, "", out)


def test_progress_is_wiped_before_a_failing_commit_is_written_on_the_same_terminal(
        repo: GitRepo) -> None:
    many_commits(repo, 120, agent_at=60)
    code, shown, _ = on_terminal(check_range("--color", "never"), repo.root, repo.env, "both")
    assert code == 1
    # No notes in this clone: the agent's commit is listed as unjudged (??), under the wiped line.
    assert shown.startswith("agentops: checking HEAD: 120 commit(s)\n" + UNSIGNED
                            + "\ragentops: checked 1/120 commits\r\033[K??  ")
    assert shown.split("??  ", 1)[1].split("\n", 1)[0].endswith(
        "Add a feature  (agent-authored (Claude Code: Co-authored-by 'Claude "
        "<noreply@anthropic.com>' [rule claude-code.noreply-email]))")
    assert shown.endswith("agentops: 1 finding(s) in HEAD. Why, and how to satisfy each: agentops explain verdict-notes-missing\n")


def test_range_output_quiet_and_verbose(repo: GitRepo) -> None:
    many_commits(repo, 3)
    run = lambda *a: subprocess.run(check_range(*a), cwd=repo.root, env=repo.env,  # noqa: E731
                                    capture_output=True, text=True)
    quiet = run("--quiet")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    verbose = run("--verbose").stdout.splitlines()
    assert verbose[:2] == ["agentops: checking HEAD: 3 commit(s)", UNSIGNED.strip()]
    assert verbose[-1] == "agentops: HEAD passed"
    assert [line.split("  ")[0] for line in verbose[2:-1]] == ["ok", "ok", "ok"]
    both = run("--verbose", "--quiet")
    assert both.returncode == 2 and both.stderr.splitlines()[-1] == (
        "Error: --verbose and --quiet say opposite things: give one")
    coloured = run("--verbose", "--color", "always").stdout.splitlines()
    assert coloured[2].startswith("\033[32mok\033[m  ")
