"""`agentops learn`: a learnings entry, checked like gate IX checks one."""
from __future__ import annotations

import datetime as dt
import re

import click

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks.errors import FatalError
from agentops_hooks.commands.options import open_repo
from agentops_hooks.gates.learnings import LearningsConfig


def require_learning(text: str, config: config_file.Config) -> None:
    """Refuse, before anything is written, a learning gate IX would not count."""
    from agentops_hooks.gates.learnings import learning_hint
    from agentops_hooks.gates.learnings import learning_problem
    from agentops_hooks.gates.learnings import quote

    min_words = config.section(LearningsConfig).min_words
    found = learning_problem(text, min_words)
    if found is not None:
        raise FatalError(f"the learning {quote(text)} {found[1]}; {learning_hint(min_words)}")


def _default_title(text: str) -> str:
    words = text.split()
    title = " ".join(words[:8])
    return title.rstrip(".,;:!") + ("..." if len(words) > 8 else "")


@click.command()
@click.argument("text")
@click.option("--title", help="The section title. Default: the first words of TEXT.")
@click.option("--date", "when", metavar="YYYY-MM-DD", help="The date of the entry. Default: today.")
@click.option("--no-stage", is_flag=True, help="Do not `git add` the learnings file.")
def learn(text: str, title: str | None, when: str | None, no_stage: bool) -> None:
    """Append a dated learning to the learnings file and stage it.

    Writes a `## Title (YYYY-MM-DD)` section with TEXT as its bullet, the
    shape gate IX looks for.
    """
    from agentops_hooks import messages

    repo = open_repo()
    root = repo.require_worktree("agentops learn")
    config = gate_runner.policy(root, repo.cache_dir)
    text = " ".join(text.split())
    require_learning(text, config)
    title = " ".join((title or _default_title(text)).split())
    if not title:
        raise click.BadParameter("the title is empty", param_hint="--title")
    if when is None:
        when = dt.date.today().isoformat()
    elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--date")
    path = root / config.section(LearningsConfig).file
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else "# Learnings\n"
    except (OSError, UnicodeDecodeError) as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    if existing and not existing.endswith("\n"):
        existing += "\n"
    entry = f"\n## {title} ({when})\n\n- {text}\n"
    judged = [] if no_stage else _verdicts_on_staged(repo)
    path.parent.mkdir(parents=True, exist_ok=True)
    messages.write_atomic(path, (existing + entry).encode("utf-8"))
    if not no_stage:
        repo.git("add", "--", str(path))
    click.echo(f"agentops: added \"{title}\" to {config.section(LearningsConfig).file}"
               + ("" if no_stage else " (staged)"))
    if judged:
        click.echo(f"agentops: warning: the verdict of {', '.join(judged)} bound the staged change "
                   "as it was; staging the learning changed it, so that verdict no longer counts: "
                   "ask the judge to review it again (agentops verdict pass --message-file "
                   ".git/COMMIT_EDITMSG replaces the stale trailer)", err=True)


def _verdicts_on_staged(repo: git.Repo) -> list[str]:
    """The judges whose verdict binds the staged change as it is now, from the
    message file git commit will read or the notes: staging more voids them."""
    from agentops_hooks.change import StagedChange
    from agentops_hooks.evidence import verdicts
    from agentops_hooks.evidence.notes import VerdictIndex

    message = repo.git_dir / "COMMIT_EDITMSG"
    change = StagedChange.from_message_file(repo, message if message.is_file() else None)
    if not change.paths:
        return []
    judges = []
    for _, found in verdicts.readable_trailers(change.trailers):
        if found.patch_id == change.patch_id:
            judges.append(str(found.judge))
    judges += [item.record.judge for item in VerdictIndex.load(repo).by_patch.get(change.patch_id, [])]
    return list(dict.fromkeys(judges))
