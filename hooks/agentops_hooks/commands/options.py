"""The options several verbs share: which change to look at, and the repository."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import TypeVar

import click

from agentops_hooks import git
from agentops_hooks.change import Change
from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange

F = TypeVar("F", bound=Callable[..., Any])


def open_repo() -> git.Repo:
    """The repository of the working directory."""
    return git.Repo()


def git_identity(repo: git.Repo) -> str | None:
    """`Name <email>` as git would write it for your commits (None: git knows none)."""
    from agentops_hooks.authorship import Identity

    ident = Identity.parse(repo.git("var", "GIT_COMMITTER_IDENT", ok_codes=(0, 128)).decode())
    return str(ident) if ident is not None and ident.email else None


def change_options(func: F) -> F:
    """--staged / --message-file / --commit / --amend: which change to look at."""
    func = click.option(
        "--amend", is_flag=True,
        help="The staged change will amend HEAD: judge it against HEAD's parent.",
    )(func)
    func = click.option(
        "--commit", "rev", metavar="REV",
        help="A commit already made (merges: against the first parent).",
    )(func)
    func = click.option(
        "--message-file", "message_file", type=click.Path(dir_okay=False, path_type=Path),
        help="The commit message file of the staged change (e.g. .git/COMMIT_EDITMSG).",
    )(func)
    func = click.option(
        "--staged", is_flag=True, help="The staged change (index against HEAD).",
    )(func)
    return func


def load_change(
    repo: git.Repo, staged: bool, message_file: Path | None, rev: str | None,
    amend: bool, *, default_commit: bool,
) -> Change:
    """The change the options name: a commit, or the staged change."""
    if rev is not None and (staged or message_file is not None or amend):
        raise click.UsageError("--commit cannot be combined with --staged, --message-file or --amend")
    if rev is None and not staged and message_file is None and default_commit:
        rev = "HEAD"
    if rev is not None:
        return CommitChange.load(repo, rev)
    return StagedChange.from_message_file(repo, message_file, amend=amend)
