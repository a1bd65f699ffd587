"""`agentops verdict`: a judge's verdict, bound to the change's patch-id."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import click

from agentops_hooks import git
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.change import Change
from agentops_hooks.change import StagedChange
from agentops_hooks.commands.options import change_options
from agentops_hooks.commands.options import git_identity
from agentops_hooks.commands.options import load_change
from agentops_hooks.commands.options import open_repo
from agentops_hooks.errors import FatalError


@click.command()
@click.argument("status", type=click.Choice(["pass", "fail", "not-proven"], case_sensitive=False))
@click.option("--judge", metavar='"NAME <EMAIL>"',
              help="Who judges: never the author, committer or a co-author of the change. "
                   "Default: your git identity (user.name, user.email).")
@click.option("--evidence", metavar="TEXT",
              help="What the verdict rests on (tests run, review notes); one line.")
@click.option("--evidence-ref", "evidence_refs", multiple=True, metavar="KIND=REF",
              help="What the verdict rests on, by reference (repeatable): a file here (its "
                   "sha256 is recorded) or a URL, e.g. test-log=build/pytest.log, "
                   "ci-run=https://ci.example.com/run/7.")
@click.option("--session", metavar="ID", help="The judge's session id (an automated judge's run).")
@click.option("--sign", is_flag=True,
              help="Sign the verdict with your git SSH signing key, as `git commit -S` finds "
                   "it (gpg.format = ssh, user.signingkey, ssh-agent, gpg.ssh.program).")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path),
              help="Sign the verdict with this SSH key file instead (ssh-keygen -Y sign).")
@click.option("--no-record", is_flag=True,
              help="Do not record the verdict in refs/notes/agentops/verdicts.")
@click.option("--range", "range_spec", metavar="BASE..HEAD",
              help="Judge a pull request as a whole: bound to the patch-id of its combined "
                   "diff, covering its commits, so it lands by squash, merge or rebase.")
@change_options
def verdict(
    status: str, judge: str | None, evidence: str | None, evidence_refs: tuple[str, ...],
    session: str | None, sign: bool, sign_key: Path | None, no_record: bool,
    range_spec: str | None,
    staged: bool, message_file: Path | None, rev: str | None, amend: bool,
) -> None:
    """Write a judge's verdict bound to the change's patch-id.

    Run by the judge after reviewing the change. For the staged change it
    prints the trailer lines, and with --message-file adds them to that file
    (as git would place them). With --commit REV it records the verdict on
    that commit in refs/notes/agentops/verdicts, where gates and CI find it.
    Every verdict is also recorded in the notes (staged ones on the staged
    tree), so FAILs count for gate XI; --no-record skips that. With --range
    BASE..HEAD it judges a pull request as a whole and records the verdict on
    HEAD: it admits each of the range's commits (a rebase), a squash of them
    and a merge of them.
    """
    from agentops_hooks import messages

    repo = open_repo()
    _refuse_agent_session(repo)
    if judge is None:  # the judge's own git identity, as their commits would carry it
        judge = git_identity(repo)
        if not judge:
            raise click.BadParameter("git knows no identity of yours (user.name, user.email): "
                                     'give the judge as "Name <email>"', param_hint="--judge")
    identity = Identity.parse(judge)
    local, _, domain = (identity.email if identity is not None else "").rpartition("@")
    if identity is None or not identity.name or not local or not domain:
        raise click.BadParameter('give the judge as "Name <email>", a name and an email address',
                                 param_hint="--judge")
    if evidence is not None:
        messages.check_trailer(verdicts.EVIDENCE_KEY, evidence)
        if verdicts.evidence_ref(evidence) is not None:
            raise click.BadParameter("give a reference with --evidence-ref", param_hint="--evidence")
    refs = _references(evidence_refs)
    if session is not None and (not session.strip() or any(ch.isspace() for ch in session)):
        raise click.BadParameter("a session id is one word", param_hint="--session")
    if range_spec is not None:
        if staged or message_file is not None or rev is not None or amend:
            raise click.UsageError("--range cannot be combined with --staged, --message-file, "
                                   "--commit or --amend")
        pr = pull_request(repo, range_spec)
        record = verdicts.Verdict(verdicts.normalise_status(status), identity, pr.patch_id,
                                  pr.covers, pr.label, evidence, refs, session)
        _warn_self_judged(identity, pr.changes)
        signature = sign_verdict(repo, record, sign_key) if sign or sign_key is not None else None
        record_verdict(repo, None, record, pr.head, f"the pull request {pr.label}", evidence, signature,
                no_record)
        click.echo(f"agentops: {record.status} for {pr.label}: patch {pr.patch_id}, covering "
                   f"{len(pr.covers)} commit(s)", err=True)
        return
    change = load_change(repo, staged, message_file, rev, amend, default_commit=False)
    if change.commit is None and not change.paths:
        raise click.UsageError("nothing is staged: a verdict binds the staged change, so stage "
                               "the change to judge first (git add)")
    record = verdicts.Verdict(verdicts.normalise_status(status), identity, change.patch_id,
                              evidence=evidence, refs=refs, session=session)
    signature = None
    if sign or sign_key is not None:
        signature = sign_verdict(repo, record, sign_key)
    pairs = [(verdicts.VERDICT_KEY, record.trailer_value())]
    if evidence:
        pairs.append((verdicts.EVIDENCE_KEY, evidence))
    pairs += [(verdicts.EVIDENCE_KEY, ref.trailer_value()) for ref in record.refs]
    if signature:
        pairs.append((verdicts.SIGNATURE_KEY, signature))
    _warn_self_judged(identity, [change])
    if message_file is not None:
        stale: list[str] = []

        def own_stale(trailers: Sequence[tuple[str, str]]) -> list[int]:
            """This judge's verdicts for another patch: the change as it was when judged."""
            lines: list[int] = []
            for group, old in verdicts.readable_trailers(trailers):
                if (verdicts.email_key(old.judge.email) == verdicts.email_key(identity.email)
                        and old.patch_id != change.patch_id):
                    stale.append(old.patch_id)
                    lines += group.lines
            return lines

        messages.add_trailers_to_file(repo, message_file, pairs, replace=own_stale)
        for patch in stale:
            click.echo(f"agentops: replaced your verdict for patch {patch[:12]} (the change as it "
                       f"was when you judged it) in {message_file}", err=True)
        click.echo(f"agentops: added to {message_file}:", err=True)
    target = change.commit or staged_tree(repo, change)
    record_verdict(repo, change, record, target, change.label, evidence, signature, no_record)
    for key, value in pairs:
        click.echo(f"{key}: {value}")


def _references(given: Sequence[str]) -> tuple[verdicts.EvidenceRef, ...]:
    """`KIND=REF` options as evidence references: a file's sha256 read now."""
    import hashlib

    refs = []
    for item in given:
        kind, eq, ref = item.partition("=")
        if not eq:
            raise click.BadParameter(f"{item!r} is not KIND=REF", param_hint="--evidence-ref")
        digest = None
        if os.path.isfile(ref):
            with open(ref, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
        elif "://" not in ref:
            raise click.BadParameter(f"{ref!r} is neither a file here nor a URL",
                                     param_hint="--evidence-ref")
        try:
            refs.append(verdicts.EvidenceRef.check(kind, ref, digest))
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--evidence-ref") from None
    return tuple(refs)


def _warn_self_judged(identity: Identity, changes: Sequence[Change]) -> None:
    for change in changes:
        author = change.author
        if author is not None and verdicts.email_key(author.email) == verdicts.email_key(
                identity.email):
            click.echo(
                f"agentops: warning: the judge {identity} is the author of {change.label}; "
                "gate VII will not accept a self-judged verdict", err=True,
            )


def record_verdict(
    repo: git.Repo, change: Change | None, record: verdicts.Verdict, target: str, label: str,
    evidence: str | None, signature: str | None, no_record: bool,
) -> None:
    """The verdict as a line of the note on `target` (a commit, or a staged tree)."""
    if no_record:
        return
    from agentops_hooks.evidence.notes import VERDICTS_REF
    from agentops_hooks.evidence.notes import NotesRef
    from agentops_hooks.evidence.notes import record_for

    line = record_for(change, record, source="note", evidence=evidence,
                      signature=signature).to_line()
    commit = change is None or change.commit is not None
    NotesRef(repo).append({target: [line]}, f"agentops: {record.status} by {record.judge} "
                          f"for {label}", commits=commit)
    where = f"commit {target[:12]}" if commit else f"staged tree {target[:12]}"
    click.echo(f"agentops: recorded in {VERDICTS_REF} on {where}", err=True)


@dataclass(frozen=True)
class PullRequest:
    """A range judged as a whole: its combined diff's patch-id and its commits'."""

    label: str
    head: str
    patch_id: str
    covers: tuple[str, ...]
    changes: Sequence[Change]


def pull_request(repo: git.Repo, spec: str) -> PullRequest:
    """`BASE..HEAD` as GitHub diffs a pull request: from the merge base of the two ends
    to HEAD; the covered commits are the range's non-merge commits, oldest first."""
    from agentops_hooks.change import load_commits

    ends = spec.split("...") if "..." in spec else spec.split("..")
    if len(ends) != 2 or not all(e.strip() for e in ends) or spec.startswith("-"):
        raise FatalError(f"{spec!r} is not a range: use BASE..HEAD, both ends given")
    ids = []
    for end in ends:
        found = repo.resolve(end)
        if found is None:
            raise FatalError(f"{end!r} in {spec!r} does not name a commit here")
        ids.append(found)
    base = repo.git("merge-base", *ids, ok_codes=(0, 1)).decode().strip()
    if not base:
        raise FatalError(f"{ends[0]!r} and {ends[1]!r} share no history")
    changes = [c for c in reversed(load_commits(repo, [f"{base}..{ids[1]}"])) if not c.is_merge]
    if not changes:
        raise FatalError(f"{spec} holds no commits to judge")
    combined = repo.patch_id(repo.diff_tree(ids[1], base))
    return PullRequest(f"{base}..{ids[1]}", ids[1], combined,
                       tuple(c.patch_id for c in changes), changes)


def staged_tree(repo: git.Repo, change: Change) -> str:
    """The tree the staged change would commit: where a staged verdict's note hangs."""
    assert isinstance(change, StagedChange)
    return repo.git("write-tree", env=repo.index_env(change.env or {})).decode().strip()


def sign_verdict(repo: git.Repo, record: verdicts.Verdict, sign_key: Path | None,
                 check_trust: bool = True) -> str:
    """The verdict signed with the judge's key, checked against the trust root if
    there is one: a signature no enforcement point would accept is not written.
    (`check_trust=False`: the same key's signature was checked already.)"""
    from agentops_hooks.evidence import signatures
    from agentops_hooks.evidence import signing

    try:
        key = (signing.SigningKey(str(sign_key)) if sign_key is not None
               else signing.from_git_config(dict(repo.config())))
    except FatalError as e:
        raise FatalError(f"cannot sign the verdict: {e}; or give --sign-key FILE") from None
    payload = signatures.payload(record.status, record.judge, record.patch_id,
                                 record.signed_fields())
    signature = signing.sign_with(payload, key)
    trusted = _trust_root(repo) if check_trust else None
    if trusted is not None:
        check = signatures.verify(payload, signature, record.judge.email, trusted[0])
        if not check.ok:
            raise FatalError(
                f"the key {key.key if not key.literal else key.source} is not in the trust root "
                f"({trusted[1]}) for {record.judge.email}: an existing judge adds it "
                "(agentops judges add); nothing was written",
            )
    return signature


def _trust_root(repo: git.Repo) -> tuple[bytes, str] | None:
    """The allowed signers this repository's checks would use, and where they are:
    `agentops.allowedSigners` in git config, else verdict.allowed_signers at HEAD."""
    from agentops_hooks import gates as gate_runner

    outside = repo.config_value("agentops.allowedsigners")
    if outside:
        path = Path(outside).expanduser()
        try:
            return path.read_bytes(), str(path)
        except OSError as exc:
            raise FatalError(f"cannot read agentops.allowedSigners {path}: "
                             f"{exc.strerror or exc}") from None
    name = gate_runner.settings(gate_runner.policy(repo.root, repo.cache_dir), "verdict").allowed_signers
    head = repo.head()
    if not name or head is None:
        return None
    content = repo.read_file(f"{head}:{name}")
    return (content, f"{name} at HEAD") if content else None


def _refuse_agent_session(repo: git.Repo) -> None:
    """No self-serve: inside a detected agent session, write no verdict in anyone's name.

    A speed bump for an honest agent that read a refusal; an agent that unsets
    its session variables gets past it, and is stopped by the signatures the
    enforcement points require (docs/trust.md).
    """
    from agentops_hooks import config as config_file
    from agentops_hooks import gates as gate_runner
    from agentops_hooks.authorship import AgentRules
    from agentops_hooks.authorship import detect_agent

    try:
        agents = gate_runner.policy(repo.root, repo.cache_dir).agents
        rules = AgentRules(agents.emails, agents.patterns, agents.env, agents.trailers)
    except config_file.ConfigError:  # the built-in markers still speak
        rules = AgentRules()
    signals = detect_agent(None, None, (), os.environ, rules)
    if signals:
        click.echo(
            f"agentops: refused: this is a {signals[0].agent} session ({signals[0].reason}): "
            "an agent does not write verdicts, in its own name or anyone's. Ask for review: "
            "an independent judge runs `agentops verdict` on your change", err=True,
        )
        raise SystemExit(1)
