"""`agentops judge`: the independent checker, in a fresh context, writes the verdict."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import click

from agentops_hooks import git
from agentops_hooks.authorship import Identity
from agentops_hooks.change import Change
from agentops_hooks.commands import verdict as verdict_command
from agentops_hooks.commands.options import open_repo
from agentops_hooks.config import Config
from agentops_hooks.config import JudgeConfig
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import verdicts
from agentops_hooks.judge.worktree import Material

KEY_VARIABLE = "AGENTOPS_JUDGE_KEY"
"""Holds the judge's private key, or its path (a CI secret)."""
_EVIDENCE_KEYS = (verdicts.EVIDENCE_KEY.lower(), "evidence")


@click.command()
@click.option("--staged", is_flag=True, help="The staged change: the index's tree against HEAD.")
@click.option("--commit", "rev", metavar="REV", help="A commit already made (default: HEAD).")
@click.option("--range", "range_spec", metavar="BASE..HEAD",
              help="A pull request as a whole: its combined diff, HEAD's tree; the verdict "
                   "covers its commits, as `agentops verdict --range` does.")
@click.option("--sign-key", type=click.Path(dir_okay=False, path_type=Path),
              help=f"The judge identity's private key (else ${KEY_VARIABLE}, else judge.key).")
@click.option("--policy-from", "policy_rev", metavar="REV",
              help="Read [judge] from the policy committed at REV (default: the change's "
                   "base, never the change itself: its judges are not the worker's to pick).")
@click.option("--no-record", is_flag=True,
              help="Run the judges and say what they found; sign and record nothing.")
@click.option("--explain", "explain_rev", metavar="COMMIT",
              help="Print the automated verdicts recorded for COMMIT: each judge's command, "
                   "exit code, time, tree, output digest and output.")
def judge(staged: bool, rev: str | None, range_spec: str | None, sign_key: Path | None,
          policy_rev: str | None, no_record: bool, explain_rev: str | None) -> None:
    """Run the policy's judges on exactly one change and write the signed verdict.

    The change is checked out in a new temporary worktree (never your working
    directory); each judge of [[judge.judges]] runs there with a clean
    environment and its timeout; the council rule combines them; the verdict is
    signed as judge.identity and recorded in refs/notes/agentops/verdicts, with
    each judge's command, exit code, time, tree and output. Exit 0 PASS, 1 FAIL
    or NOT_PROVEN, 2 could not judge (nothing recorded).
    """
    repo = open_repo()
    if explain_rev is not None:
        if staged or rev or range_spec:
            raise click.UsageError("--explain cannot be combined with --staged, --commit or --range")
        raise SystemExit(explain(repo, explain_rev))
    if sum((staged, rev is not None, range_spec is not None)) > 1:
        raise click.UsageError("give one of --staged, --commit REV or --range BASE..HEAD")
    pr = verdict_command.pull_request(repo, range_spec) if range_spec is not None else None
    change, material, label, target = _change(repo, staged, rev, pr)
    config = _policy(repo, policy_rev, material.base)
    settings = config.judge
    if not settings.judges:
        raise FatalError(f"no judges are configured ([[judge.judges]] in the policy at "
                         f"{config.source or 'defaults'}): nothing to run, nothing recorded")
    identity = _identity(settings)
    with _key(sign_key, settings, no_record) as key, ThreadPoolExecutor(1) as pool:
        # A key that cannot sign, or that the trust root does not list, is found out
        # before any judge runs: tried while the worktree is made.
        probe = None if key is None else pool.submit(
            verdict_command.sign_verdict, repo,
            verdicts.Verdict("NOT_PROVEN", identity, material.patch_id), key)
        runs, status, why = run_judges(repo, material, settings,
                                       before=probe.result if probe is not None else None)
        record = verdicts.Verdict(status, identity, material.patch_id,
                                  evidence=f"agentops judge: {why}", runs=tuple(runs))
        if pr is not None:
            record = record._replace(covers=pr.covers, range=pr.label)
        click.echo(f"agentops: {status} for {label}: {why}", err=True)
        if key is not None:
            # the probe's signature by this key was checked against the trust root
            signature = verdict_command.sign_verdict(repo, record, key, check_trust=False)
            verdict_command.record_verdict(repo, change, record, target, label,
                                           record.evidence, signature, no_record=False)
    raise SystemExit(0 if status == "PASS" else 1)


def run_judges(repo: git.Repo, material: Material, settings: JudgeConfig,
               before: Callable[[], object] | None = None) -> tuple[
        list[verdicts.JudgeRun], str, str]:
    """Every judge run in a fresh worktree of the change, and their combined verdict
    (`before`: called once the first worktree is ready, before the first judge starts)."""
    from agentops_hooks.judge import run
    from agentops_hooks.judge.council import combine
    from agentops_hooks.judge.worktree import fresh_worktree

    runs = []
    given = dict(os.environ)
    for i, spec in enumerate(settings.judges):
        # Each judge a worktree of its own: what one judge (the worker's tests) leaves
        # behind, in the files or the inputs, is never what the next one is given.
        with fresh_worktree(repo, material) as space:
            if i == 0:
                for each in settings.judges:
                    run.require_runnable(each, space, given.get("PATH", os.defpath))
                if before is not None:
                    before()
            click.echo(f"agentops: judge {spec.name} ({spec.kind}): {spec.command}", err=True)
            env = run.environment(spec, space, given, space.variables(material))
            done = run.run_judge(spec, space, env, material.tree, settings.output_limit)
        why = f": {done.reason}" if done.reason else ""
        click.echo(f"agentops: judge {spec.name}: {done.status} in {done.duration:.1f}s{why}",
                   err=True)
        runs.append(done)
    status, why = combine(settings.judges, runs, settings.at_least)
    return runs, status, why


def _change(repo: git.Repo, staged: bool, rev: str | None,
            pr: verdict_command.PullRequest | None) -> tuple[Change | None, Material, str, str]:
    """The change to judge, what its judges are given, its label and where its note goes."""
    from agentops_hooks.change import CommitChange
    from agentops_hooks.change import StagedChange

    if pr is not None:
        base = pr.label.split("..")[0]
        head = pr.changes[-1]
        patch = repo.diff_tree(pr.head, base)
        messages = "\n".join(c.message for c in pr.changes)
        return head, _material(repo, head, pr.head, base, patch, pr.patch_id, messages), \
            f"the pull request {pr.label}", pr.head
    if staged:
        change: Change = StagedChange.from_message_file(repo, None)
        if not change.paths:
            raise FatalError("nothing is staged: stage the change to judge first (git add)")
        tree = verdict_command.staged_tree(repo, change)
        commit = repo.commit_tree(tree, change.base, "the staged change, as judged")
        return change, _material(repo, change, commit, change.base, change.diff,
                                 change.patch_id, change.message), change.label, tree
    change = CommitChange.load(repo, rev or "HEAD")
    assert change.commit is not None
    return change, _material(repo, change, change.commit, change.base, change.diff,
                             change.patch_id, change.message), change.label, change.commit


def _material(repo: git.Repo, change: Change, commit: str, base: str | None, patch: bytes,
              patch_id: str, message: str) -> Material:
    tree = repo.git("rev-parse", "--verify", "--quiet", f"{commit}^{{tree}}",
                    ok_codes=(0, 1, 128)).decode().strip()
    if not tree:
        raise FatalError(f"cannot read the tree of {commit[:12]}: an object is missing")
    claims = tuple((k, v) for k, v in change.trailers if k.lower() in _EVIDENCE_KEYS)
    refs = tuple((r.kind, r.ref, r.sha256) for _, v in claims
                 if (r := verdicts.evidence_ref(v)) is not None)
    return Material(commit, base, tree, patch, patch_id, message,
                    verdicts.task_of(change.trailers), claims, refs)


def _policy(repo: git.Repo, rev: str | None, base: str | None) -> Config:
    """The policy whose judges run: at --policy-from, else at the change's base; never
    the work tree's or the change's own, which the worker wrote."""
    from agentops_hooks import gates

    where = rev or base
    if where is None:
        raise FatalError("the change has no base (a root commit, or an unborn branch) whose "
                         "policy names its judges: give --policy-from REV")
    commit = repo.resolve(where)
    if commit is None:
        raise FatalError(f"--policy-from {where!r} does not name a commit here")
    return gates.policy_at(repo, commit)


def _identity(settings: JudgeConfig) -> Identity:
    found = Identity.parse(settings.identity) if settings.identity else None
    if found is None:
        raise FatalError('no judge identity: set judge.identity = "Name <email>", the identity '
                         "its key signs as; nothing was recorded")
    return found


@contextmanager
def _key(option: Path | None, settings: JudgeConfig, no_record: bool) -> Iterator[Path | None]:
    """The private key file that signs: --sign-key, $AGENTOPS_JUDGE_KEY (a path, or the key
    itself, written to a private temporary file for ssh-keygen), or judge.key."""
    if no_record:
        yield None
        return
    held = os.environ.get(KEY_VARIABLE, "").strip()
    if option is not None or not held.startswith("-----BEGIN"):
        path = option or (Path(held) if held else None) or (
            Path(settings.key).expanduser() if settings.key else None)
        if path is None:
            raise FatalError(f"no key to sign the verdict with: give --sign-key FILE, set "
                             f"${KEY_VARIABLE} or judge.key; nothing was recorded")
        if not path.is_file():
            raise FatalError(f"cannot sign the verdict: the key {path} is not a file; nothing "
                             "was recorded")
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="agentops-key-") as place:
        path = Path(place) / "judge_key"
        path.touch(mode=0o600)
        path.write_text(held + "\n", encoding="utf-8")
        yield path


def explain(repo: git.Repo, rev: str) -> int:
    """Print the automated verdicts recorded for a commit; 1 when there are none."""
    from agentops_hooks.change import CommitChange
    from agentops_hooks.evidence.notes import VerdictIndex

    change = CommitChange.load(repo, rev)
    found = [item.record for item in VerdictIndex.load(repo).for_change(change.patch_id,
                                                                        change.commit)
             if item.record.judges]
    if not found:
        click.echo(f"agentops: no automated verdict is recorded for {change.label} "
                   f"(patch {change.patch_id})")
        return 1
    for record in found:
        signed = "signed" if record.signature else "unsigned"
        click.echo(f"{record.status} by {record.judge} at {record.recorded_at} ({signed}), "
                   f"patch {record.patch_id}")
        if record.evidence:
            click.echo(f"  {record.evidence}")
        for r in record.judges or ():
            code = "stopped" if r.exit_code is None else f"exit {r.exit_code}"
            click.echo(f"\n  judge {r.name} ({r.kind}): {r.status}, {code}, {r.duration:.1f}s")
            click.echo(f"    command: {r.command}")
            click.echo(f"    tree:    {r.tree}")
            click.echo(f"    output:  sha256 {r.output_sha256}")
            if r.reason:
                click.echo(f"    reason:  {r.reason}")
            for line in r.output.rstrip("\n").split("\n") if r.output.strip() else ():
                click.echo(f"    | {line}")
        click.echo("")
    return 0
