"""Is the commit being made an amend?

git tells commit-msg hooks nothing about --amend, but an amend's change is
the index against HEAD^, so we ask the git process that started us.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentops_hooks.git import Repo

AMEND_ENV = "AGENTOPS_AMEND"

_GIT_OPTS_WITH_VALUE = frozenset(("-c", "-C", "--git-dir", "--work-tree", "--namespace",
                                  "--config-env", "--super-prefix", "--exec-path"))


def commit_is_amend(repo: Repo, env: Mapping[str, str]) -> bool:
    """True when the `git commit` that runs this hook was given --amend.

    The nearest `git` ancestor process's arguments decide (aliases
    expanded). Only where no such process can be seen (no /proc and no ps,
    or a hook run by hand) does AGENTOPS_AMEND=1 say it is an amend: an
    environment variable must not be able to overrule what git was told.
    """
    for argv in _ancestor_argvs():
        if argv and Path(argv[0]).name in ("git", "git.exe"):
            return _argv_amends(repo, argv[1:])
    return env.get(AMEND_ENV, "").lower() in ("1", "true", "yes")


def _argv_amends(repo: Repo, args: list[str]) -> bool:
    i = 0
    while i < len(args) and args[i].startswith("-"):
        i += 2 if args[i] in _GIT_OPTS_WITH_VALUE else 1
    if i >= len(args):
        return False
    sub, rest = args[i], args[i + 1:]
    if sub != "commit":
        alias = repo.config_value(f"alias.{sub}")
        if not alias or alias.startswith("!"):
            return False
        words = alias.split()
        if not words or words[0] != "commit":
            return False
        rest = words[1:] + rest
    for arg in rest:
        if arg == "--":
            break
        if arg == "--amend":
            return True
        if arg == "--no-amend":
            return False
    return False


def _ancestor_argvs(depth: int = 8) -> list[list[str]]:
    out: list[list[str]] = []
    pid = os.getppid()
    proc = Path("/proc")
    while pid > 1 and len(out) < depth:
        if proc.is_dir():
            try:
                argv = (proc / str(pid) / "cmdline").read_bytes().split(b"\0")
                stat = (proc / str(pid) / "stat").read_text()
                parent = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                break
            out.append([a.decode("utf-8", "replace") for a in argv if a])
        else:
            try:
                line = subprocess.run(
                    ("ps", "-o", "ppid=,args=", "-p", str(pid)),
                    capture_output=True, text=True, check=False,
                ).stdout.strip()
                ppid, _, args = line.partition(" ")
                parent = int(ppid)
            except (OSError, ValueError):
                break
            out.append(args.split())
        pid = parent
    return out

