"""`agentops demo`: the main job, end to end, in a throwaway repository.

A real git repository gets our commit-msg hook and a trust root naming one
judge; an agent's commit is refused, the agent cannot write its own verdict,
and the commit is accepted with a learning and the judge's signed verdict; the
next one is judged by `agentops judge`, which runs the project's tests. Every command is
printed before it runs, so the transcript reads like a terminal session.
"""
from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from agentops_hooks.git import scrubbed_env

AGENT_MESSAGE = """Add a token-bucket rate limiter

Co-authored-by: Claude <noreply@anthropic.com>
"""

LIMITER = '''"""A token bucket: allow `rate` calls per second, bursts up to `capacity`."""
import time


class TokenBucket:
    def __init__(self, rate: float, capacity: int) -> None:
        self.rate = rate
        self.capacity = capacity
        self.tokens = float(capacity)
        self.updated = time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False
'''


LIMITER_TEST = '''import unittest

from limiter import TokenBucket


class TokenBucketTest(unittest.TestCase):
    def test_a_burst_up_to_capacity(self) -> None:
        bucket = TokenBucket(rate=0.0, capacity=3)
        self.assertEqual([bucket.allow() for _ in range(4)], [True, True, True, False])
'''

JUDGED_MESSAGE = """Let callers ask how many tokens are left

Co-authored-by: Claude <noreply@anthropic.com>
Learning: expose state read-only (a method), so callers cannot refill a bucket by hand
"""


def _judge_policy() -> str:
    """The [judge] table of the demo: the project's unittest suite, run by this Python."""
    command = json.dumps(f"{shlex.quote(sys.executable)} -m unittest -q")
    return ('\n[judge]\nidentity = "CI Judge <ci-judge@example.com>"\n\n[[judge.judges]]\n'
            f'name = "tests"\ncommand = {command}\ntimeout = 120\n')


def _hook_script() -> str:
    python = shlex.quote(sys.executable)
    return f'#!/bin/sh\nexec {python} -m agentops_hooks.places.commit "$@"\n'


class Session:
    """Runs and echoes commands in the demo repository."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = scrubbed_env()
        self.env.update({
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Ada Agent", "GIT_AUTHOR_EMAIL": "ada-agent@example.com",
            "GIT_COMMITTER_NAME": "Ada Agent", "GIT_COMMITTER_EMAIL": "ada-agent@example.com",
        })

    def say(self, text: str) -> None:
        print(f"\n# {text}")

    def run(self, *argv: str, show: bool = True) -> int:
        if show:
            print("$ " + " ".join(shlex.quote(a) for a in argv))
        proc = subprocess.run(
            argv, cwd=self.root, env=self.env, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", check=False,
        )
        if show and proc.stdout.strip():
            print("\n".join("  " + line for line in proc.stdout.rstrip().split("\n")))
        return proc.returncode

    def agentops(self, *args: str, env: dict[str, str] | None = None) -> int:
        print("$ agentops " + " ".join(shlex.quote(a) for a in args))
        proc = subprocess.run(
            (sys.executable, "-m", "agentops_hooks.commands", *args), cwd=self.root,
            env={**self.env, **(env or {})},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
            check=False,
        )
        if proc.stdout.strip():
            print("\n".join("  " + line for line in proc.stdout.rstrip().split("\n")))
        return proc.returncode


def _judge_setup(home: Path) -> dict[str, str]:
    """The judge's own git setup: an SSH key and git signing with it, as for `git commit -S`."""
    key = home / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "riley", "-f", str(key)],
                   check=True, stdin=subprocess.DEVNULL)
    config = home / "gitconfig"
    config.write_text("[user]\n\tname = Riley Reviewer\n\temail = riley@example.com\n"
                      f"\tsigningkey = {key}.pub\n[gpg]\n\tformat = ssh\n")
    return {"GIT_CONFIG_GLOBAL": str(config), "SSH_AUTH_SOCK": ""}


def run_demo(keep: bool = False) -> int:
    """Play the story; 0 when every step turned out as it should."""
    root = Path(tempfile.mkdtemp(prefix="agentops-demo-"))
    judge_home = Path(tempfile.mkdtemp(prefix="agentops-demo-judge-"))
    s = Session(root)
    ok = True
    try:
        s.say(f"A throwaway repository in {root}, with agentops as its commit-msg hook")
        s.run("git", "init", "-q", "-b", "main", show=False)
        for key, value in (("commit.gpgsign", "false"), ("core.hooksPath", ".git/hooks")):
            s.run("git", "config", key, value, show=False)
        hook = root / ".git" / "hooks" / "commit-msg"
        hook.parent.mkdir(parents=True, exist_ok=True)
        hook.write_text(_hook_script())
        hook.chmod(0o755)
        judge = _judge_setup(judge_home)

        s.say("A human starts the project and names the judge whose signed verdicts count")
        (root / "README.md").write_text("# rate limits\n")
        ok &= s.agentops("judges", "add", "Riley Reviewer <riley@example.com>",
                         str(judge_home / "id_ed25519.pub")) == 0
        s.run("git", "add", "README.md", ".agentops.toml", ".agentops/allowed_signers")
        ok &= s.run("git", "commit", "-q", "-m", "Start the project; Riley judges",
                    "--author", "Hana Human <hana@example.com>") == 0

        s.say("An agent writes a rate limiter and commits it, co-authored by Claude")
        (root / "limiter.py").write_text(LIMITER)
        (root / "MSG").write_text(AGENT_MESSAGE)
        s.run("git", "add", "limiter.py")
        refused = s.run("git", "commit", "-q", "-F", "MSG")
        ok &= refused == 1
        s.say("Refused (exit 1): no verdict, no learning. The agent writes down what it learned")
        ok &= s.agentops("learn", "time.monotonic, not time.time: wall clock jumps refill buckets",
                         "--title", "Rate limiter clocks") == 0

        s.say("The agent tries to write the verdict itself, from inside its session")
        ok &= s.agentops("verdict", "pass", "--judge", "Riley Reviewer <riley@example.com>",
                         "--message-file", "MSG", env={"CLAUDECODE": "1"}) == 1

        s.say("The judge reviews the staged change and signs off with their git signing key")
        ok &= s.agentops("verdict", "pass", "--sign", "--evidence",
                         "read the diff; bucket math checked by hand", "--message-file", "MSG",
                         env=judge) == 0
        accepted = s.run("git", "commit", "-q", "-F", "MSG")
        ok &= accepted == 0
        s.say("Accepted. The signed verdict and its binding stay in history")
        s.run("git", "log", "-1", "--format=%an <%ae>%n%n%B")

        s.say("A human adds an automated judge: the project's tests, signed with the CI judge's key")
        ci_key = judge_home / "ci_judge"
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "ci-judge", "-f",
                        str(ci_key)], check=True, stdin=subprocess.DEVNULL)
        ok &= s.agentops("judges", "add", "CI Judge <ci-judge@example.com>", f"{ci_key}.pub") == 0
        with open(root / ".agentops.toml", "a", encoding="utf-8") as policy:
            policy.write(_judge_policy())
        (root / "test_limiter.py").write_text(LIMITER_TEST)
        s.run("git", "add", ".agentops.toml", ".agentops/allowed_signers", "test_limiter.py")
        ok &= s.run("git", "commit", "-q", "-m", "Test the limiter; the CI judge runs the tests",
                    "--author", "Hana Human <hana@example.com>") == 0

        s.say("The agent's next change is judged by `agentops judge`: the tests run on exactly "
              "the staged change, in a fresh worktree, and the verdict is signed")
        (root / "limiter.py").write_text(LIMITER + "\n    def available(self) -> int:\n"
                                         "        return int(self.tokens)\n")
        (root / "MSG").write_text(JUDGED_MESSAGE)
        s.run("git", "add", "limiter.py")
        ok &= s.agentops("judge", "--staged", env={"AGENTOPS_JUDGE_KEY": str(ci_key)}) == 0
        ok &= s.run("git", "commit", "-q", "-F", "MSG") == 0
        s.say("Accepted: the CI judge's signed PASS binds the change; its evidence is in the notes")
        ok &= s.agentops("judge", "--explain", "HEAD") == 0

        s.say("For its next change the agent types a verdict in the judge's name")
        (root / "limiter.py").write_text(LIMITER.replace("capacity: int", "capacity: int = 10"))
        s.run("git", "add", "limiter.py")
        patch = subprocess.run(
            (sys.executable, "-m", "agentops_hooks.commands", "check", "--staged", "--format",
             "json"), cwd=root, env=s.env, capture_output=True, text=True, check=False).stdout
        patch_id = patch.split('"patch_id": "', 1)[-1].split('"', 1)[0]
        (root / "MSG").write_text(
            AGENT_MESSAGE.replace("Add a", "Default the capacity of the")
            + "Learning: a default capacity keeps callers from guessing bucket sizes\n"
            + f'Verdict: PASS judge="Riley Reviewer <riley@example.com>" patch={patch_id}\n')
        ok &= s.run("git", "commit", "-q", "-F", "MSG") == 1
        print("\nagentops demo: " + ("every step behaved as expected" if ok
                                     else "SOMETHING WENT WRONG: see above"))
    finally:
        if keep:
            print(f"kept: {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(judge_home, ignore_errors=True)
    return 0 if ok else 1


@click.command()
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def demo(keep: bool) -> None:
    """Show the main job in a throwaway repository.

    An agent's commit is refused, then accepted once it carries a learning
    and an independent judge's signed verdict; the agent cannot write one.
    """
    sys.exit(run_demo(keep=keep))
