"""`agentops verdict`: a judge's verdict, bound to the change's patch-id."""
from __future__ import annotations

from pathlib import Path

import click

from agentops_hooks import git
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.change import Change
from agentops_hooks.change import StagedChange
from agentops_hooks.commands.options import change_options
from agentops_hooks.commands.options import load_change
from agentops_hooks.commands.options import open_repo


@click.command()
@click.argument("status", type=click.Choice(["pass", "fail", "not-proven"], case_sensitive=False))
@click.option("--judge", required=True, metavar='"NAME <EMAIL>"',
              help="Who judges: never the author, committer or a co-author of the change.")
@click.option("--evidence", metavar="TEXT",
              help="What the verdict rests on (tests run, review notes); one line.")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Sign the verdict with this SSH private key (ssh-keygen -Y sign).")
@click.option("--no-record", is_flag=True,
              help="Do not record the verdict in refs/notes/agentops/verdicts.")
@change_options
def verdict(
    status: str, judge: str, evidence: str | None, sign_key: Path | None, no_record: bool,
    staged: bool, message_file: Path | None, rev: str | None, amend: bool,
) -> None:
    """Write a judge's verdict bound to the change's patch-id.

    Run by the judge after reviewing the change. For the staged change it
    prints the trailer lines, and with --message-file adds them to that file
    (as git would place them). With --commit REV it records the verdict on
    that commit in refs/notes/agentops/verdicts, where gates and CI find it.
    Every verdict is also recorded in the notes (staged ones on the staged
    tree), so FAILs count for gate XI; --no-record skips that.
    """
    from agentops_hooks import messages

    repo = open_repo()
    _refuse_agent_session(repo)
    identity = Identity.parse(judge)
    if identity is None or not identity.email:
        raise click.BadParameter('give the judge as "Name <email>"', param_hint="--judge")
    if evidence is not None:
        messages.check_trailer(verdicts.EVIDENCE_KEY, evidence)
    change = load_change(repo, staged, message_file, rev, amend, default_commit=False)
    record = verdicts.Verdict(verdicts.normalise_status(status), identity, change.patch_id)
    signature = None
    if sign_key is not None:
        from agentops_hooks.evidence import signatures

        signature = signatures.sign(
            signatures.payload(record.status, record.judge, record.patch_id), sign_key,
        )
    pairs = [(verdicts.VERDICT_KEY, record.trailer_value())]
    if evidence:
        pairs.append((verdicts.EVIDENCE_KEY, evidence))
    if signature:
        pairs.append((verdicts.SIGNATURE_KEY, signature))
    author = change.author
    if author is not None and verdicts.email_key(author.email) == verdicts.email_key(identity.email):
        click.echo(
            f"agentops: warning: the judge {identity} is the author of this change; "
            "gate VII will not accept a self-judged verdict", err=True,
        )
    if message_file is not None:
        messages.add_trailers_to_file(repo, message_file, pairs)
        click.echo(f"agentops: added to {message_file}:", err=True)
    if not no_record:
        from agentops_hooks.evidence.notes import VERDICTS_REF
        from agentops_hooks.evidence.notes import NotesRef
        from agentops_hooks.evidence.notes import record_for

        target = change.commit or _staged_tree(repo, change)
        line = record_for(change, record, source="note", evidence=evidence,
                          signature=signature).to_line()
        NotesRef(repo).append({target: [line]}, f"agentops: {record.status} by {identity} "
                              f"for {change.label}", commits=change.commit is not None)
        where = f"commit {target[:12]}" if change.commit else f"staged tree {target[:12]}"
        click.echo(f"agentops: recorded in {VERDICTS_REF} on {where}", err=True)
    for key, value in pairs:
        click.echo(f"{key}: {value}")


def _staged_tree(repo: git.Repo, change: Change) -> str:
    """The tree the staged change would commit: where a staged verdict's note hangs."""
    assert isinstance(change, StagedChange)
    return repo.git("write-tree", env=repo.index_env(change.env or {})).decode().strip()


def _refuse_agent_session(repo: git.Repo) -> None:
    """No self-serve: inside a detected agent session, write no verdict in anyone's name.

    A speed bump for an honest agent that read a refusal; an agent that unsets
    its session variables gets past it, and is stopped by the signatures the
    enforcement points require (docs/trust.md).
    """
    import os

    from agentops_hooks import config as config_file
    from agentops_hooks.authorship import AgentRules
    from agentops_hooks.authorship import detect_agent

    agents = config_file.load(repo.root, repo.cache_dir).agents
    rules = AgentRules(agents.emails, agents.patterns, agents.env, agents.trailers)
    signals = detect_agent(None, None, (), os.environ, rules)
    if signals:
        click.echo(
            f"agentops: refused: this is a {signals[0].agent} session ({signals[0].reason}): "
            "an agent does not write verdicts, in its own name or anyone's. Ask for review: "
            "an independent judge runs `agentops verdict` on your change", err=True,
        )
        raise SystemExit(1)
