"""Throwaway git repositories for tests: real git, isolated from the user's config."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import pytest

HUMAN = ("Hana Human", "hana@example.com")
JUDGE = "Riley Reviewer <riley@example.com>"
CLAUDE_TRAILER = "Co-authored-by: Claude <noreply@anthropic.com>"
SECRET_LINE = 'GITHUB_TOKEN = "ghp_' + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF3hJ5" + '"\n'
"""An added line gate IV reports as a GitHub token."""
SCHEMAS = Path(__file__).parents[1] / "schemas"
CONSTRAINT = r"""[[constraint]]
id = "requests-timeout"
learning = "requests needs a timeout"
reason = "a call without a timeout hangs the worker when the server stalls"
paths = ["src/**/*.py"]
forbid = 'requests\.(get|post|put|delete)\((?![^)]*timeout)'
witness = "r = requests.get(url)"
"""
"""A constraint (gate X) that forbids requests calls without a timeout."""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update", action="store_true",
                     help="rewrite the docs' samples from real runs (tests/docs_samples_test.py)")


SLOWEST = ("tests/docs_samples_test.py::test_samples_are_real_output",)
"""Tests of a minute or more each (a whole page of docs run in a throwaway repository)."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slowest tests first: xdist hands tests out in order, so one started last
    would leave the other workers idle while it runs."""
    items.sort(key=lambda item: not item.nodeid.startswith(SLOWEST))


class GitRepo:
    """A repository in a tmp dir, driven by the real git command."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env

    def git(self, *args: str, input: bytes | None = None, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        proc = subprocess.run(
            ("git", *args), cwd=self.root, input=input, capture_output=True,
            env={**self.env, **(env or {})}, check=False,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"git {' '.join(args)} failed ({proc.returncode}):\n"
                f"{proc.stdout.decode(errors='replace')}{proc.stderr.decode(errors='replace')}",
            )
        return proc

    def out(self, *args: str) -> str:
        return self.git(*args).stdout.decode().strip()

    def write(self, path: str, content: str | bytes, mode: int | None = None) -> Path:
        target = self.root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            target.write_text(content, encoding="utf-8")
        else:
            target.write_bytes(content)
        if mode is not None:
            target.chmod(mode)
        return target

    def stage(self, path: str, content: str | bytes, mode: int | None = None) -> None:
        self.write(path, content, mode)
        self.git("add", "--", path)

    def commit(self, message: str = "change", *args: str, check: bool = True,
               env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
        msg = self.root.parent / f"msg-{os.getpid()}.txt"
        msg.write_text(message, encoding="utf-8")
        return self.git("commit", "-q", "-F", str(msg), *args, check=check, env=env)

    def head(self) -> str:
        return self.out("rev-parse", "HEAD")

    def diverge(self) -> None:
        """A commit on a new branch `side` and one on main, main checked out: ready to merge."""
        self.git("checkout", "-q", "-b", "side")
        self.stage("side.txt", "side\n")
        self.commit("side work")
        self.git("checkout", "-q", "main")
        self.stage("main.txt", "main\n")
        self.commit("main work")

    def message_file(self, message: str | bytes, name: str = "COMMIT_EDITMSG") -> Path:
        path = self.root / ".git" / name
        if isinstance(message, str):
            path.write_text(message, encoding="utf-8")
        else:
            path.write_bytes(message)
        return path

    def install_hook(self, name: str, body: str) -> None:
        hook = self.root / ".git" / "hooks" / name
        hook.parent.mkdir(parents=True, exist_ok=True)
        hook.write_text(body)
        hook.chmod(0o755)

    def install_agentops_hook(self, *args: str) -> None:
        extra = " ".join(args)
        self.install_hook(
            "commit-msg",
            f'#!/bin/sh\nexec "{sys.executable}" -m agentops_hooks.places.commit {extra} "$@"\n',
        )


def isolated_env(home: Path) -> dict[str, str]:
    """The environment a test's git runs in: no user config, a fixed identity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.pop("CLAUDECODE", None)
    for var in ("CODEX_THREAD_ID", "CURSOR_AGENT", "GEMINI_CLI", "OPENCODE"):
        env.pop(var, None)
    env.update({
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_AUTHOR_NAME": HUMAN[0], "GIT_AUTHOR_EMAIL": HUMAN[1],
        "GIT_COMMITTER_NAME": HUMAN[0], "GIT_COMMITTER_EMAIL": HUMAN[1],
        "LC_ALL": "C.UTF-8",
    })
    return env


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Hana Human\n\temail = hana@example.com\n"
        "[init]\n\tdefaultBranch = main\n[commit]\n\tgpgsign = false\n",
    )
    return home


@pytest.fixture
def repo(tmp_path: Path, home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[GitRepo]:
    """An empty repository, the process's cwd and environment pointed at it."""
    root = tmp_path / "repo"
    root.mkdir()
    env = isolated_env(home)
    for key in list(os.environ):
        if key not in env:
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(root)
    r = GitRepo(root, env)
    r.git("init", "-q")
    yield r


def run_hook(
    repo: GitRepo, message: str | bytes, capsys: pytest.CaptureFixture[str], *args: str,
) -> tuple[int, str]:
    """Write the message file and run the commit-msg hook in-process: (exit code, output)."""
    from agentops_hooks.places import commit as hook

    path = repo.message_file(message)
    code = hook.main([*args, str(path)])
    out = capsys.readouterr()
    return code, out.out + out.err


def gate_findings(gate: str, rev: str = "HEAD", config: Any = None) -> list[Any]:
    """One gate's findings on a commit already made, as a range check judges it
    (the policy: `config`, else the work tree's)."""
    from agentops_hooks import gates
    from agentops_hooks.change import CommitChange
    from agentops_hooks.gates import policy
    from agentops_hooks.git import Repo

    repo = Repo()
    change = CommitChange.load(repo, rev)
    return gates.run(gates.Context(change, config or policy(repo.root)), [gate])


def agent_message(subject: str = "Add feature", *trailers: str) -> str:
    """A commit message that marks the change as Claude Code's."""
    lines = [subject, "", CLAUDE_TRAILER, *trailers]
    return "\n".join(lines) + "\n"


# --- a server: a bare repository with agentops pre-receive installed ---------------

PRE_RECEIVE_HOOK = f"""#!/bin/sh
exec "{sys.executable}" -m agentops_hooks.commands pre-receive
"""


def bare_server(repo: GitRepo, tmp_path: Path, branch: str = "main") -> Path:
    """A bare repository whose HEAD names `branch`, with agentops pre-receive as
    its hook, and `repo`'s remote origin pointing at it (nothing pushed yet)."""
    bare = tmp_path / "server.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", branch, str(bare)], check=True)
    hook = bare / "hooks" / "pre-receive"
    hook.write_text(PRE_RECEIVE_HOOK)
    hook.chmod(0o755)
    repo.git("remote", "add", "origin", f"file://{bare}")
    return bare


@pytest.fixture
def server(repo: GitRepo, tmp_path: Path) -> tuple[Path, GitRepo]:
    """A bare repository with the hook, and a clone (`repo`) that pushes to it."""
    bare = bare_server(repo, tmp_path)
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    repo.git("push", "-q", "origin", "main")
    return bare, repo


def push(repo: GitRepo, *refs: str, force: bool = False) -> subprocess.CompletedProcess[bytes]:
    return repo.git("push", *(["--force"] if force else []), "origin", *refs, check=False)


def remote(bare: Path, ref: str) -> str:
    proc = subprocess.run(["git", "rev-parse", "-q", "--verify", ref], cwd=bare, capture_output=True, text=True)
    return proc.stdout.strip()


def agentops(repo: GitRepo, *args: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root,
                          env=repo.env, capture_output=True, text=True, check=True)
    return proc.stdout


def text(proc: subprocess.CompletedProcess[bytes]) -> str:
    return proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


def run_agentops(repo: GitRepo, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    """The CLI as a user runs it, in the repository: (exit code, stdout + stderr)."""
    proc = subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root,
                          env={**repo.env, **(env or {})}, capture_output=True, text=True)
    return proc.returncode, proc.stdout + proc.stderr


def agent_commit(repo: GitRepo, path: str, content: str | bytes, subject: str = "Agent work",
                 *trailers: str) -> str:
    """Stage one file and commit it as Claude Code's, hooks skipped (as an agent may): its id."""
    repo.stage(path, content)
    repo.commit(agent_message(subject, *trailers), "--no-verify")
    return repo.head()


# --- real SSH keys for signed verdicts ---------------------------------------------

@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ed25519 key pairs made by ssh-keygen: a judge's (riley), one an agent made
    itself (agent), and a judge's key that has been rotated out (retired)."""
    d = tmp_path_factory.mktemp("keys")
    for name in ("riley", "agent", "retired"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(d / name)],
                       check=True)
    return {name: d / name for name in ("riley", "agent", "retired")}


def signer_line(principal: str, key: Path) -> str:
    """An allowed-signers line for the public half of `key`."""
    kind, blob = (key.parent / f"{key.name}.pub").read_text().split(" ", 2)[:2]
    return f"{principal} {kind} {blob}\n"



def judge_env(key: Path, name: str = "Riley Reviewer", email: str = "riley@example.com") -> dict[str, str]:
    """A judge's git config (identity, SSH signing with `key`), passed the way git passes
    config in the environment: for `run_agentops(..., env=judge_env(key))`."""
    values = [("user.name", name), ("user.email", email), ("gpg.format", "ssh"),
              ("user.signingkey", str(key))]
    env = {"GIT_CONFIG_COUNT": str(len(values))}
    for i, (k, v) in enumerate(values):
        env[f"GIT_CONFIG_KEY_{i}"] = k
        env[f"GIT_CONFIG_VALUE_{i}"] = v
    return env


# --- the JSON outputs and their schemas ------------------------------------------

@lru_cache(maxsize=None)
def output_validator(name: str) -> Any:
    """A validator for schemas/NAME.schema.json, whose references to the other schemas resolve."""
    import jsonschema
    import referencing

    resources = [referencing.Resource.from_contents(json.loads(p.read_text())) for p in SCHEMAS.glob("*.json")]
    registry: referencing.Registry[Any] = referencing.Registry().with_resources((r.id(), r) for r in resources)
    schema = json.loads((SCHEMAS / f"{name}.schema.json").read_text())
    return jsonschema.Draft202012Validator(schema, registry=registry)


def json_output(text: str, schema: str) -> Any:
    """A command's --format json output, read after checking it against schemas/SCHEMA.schema.json."""
    data = json.loads(text)
    output_validator(schema).validate(data)
    return data
