"""The `agentops` command: write verdicts, trailers and learnings; check changes."""
from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import TypeVar

import click

from agentops_hooks import __version__
from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks import render
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.change import Change
from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.errors import FatalError
from agentops_hooks.findings import refusing

F = TypeVar("F", bound=Callable[..., Any])


class AgentopsGroup(click.Group):
    """Turns FatalError into one line on stderr and exit 2, never a traceback."""

    lazy = {"report": ("agentops_hooks.report.fitness", "report_command")}
    """Commands imported only when used (the report pulls in much more than a hook needs)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.lazy])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy:
            import importlib

            module, attr = self.lazy[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except FatalError as e:
            click.echo(f"agentops: error: {e}", err=True)
            ctx.exit(2)


@click.group(name="agentops", cls=AgentopsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="agentops")
def cli() -> None:
    """Hold coding-agent commits to the 12-Factor AgentOps factors.

    An agent's commit needs an independent verdict bound to exactly that
    change (factor VII) and a learning (factor IX). Exit codes: 0 passed,
    1 refused, 2 could not run.
    """


def _repo() -> git.Repo:
    return git.Repo()


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


def _load_change(
    repo: git.Repo, staged: bool, message_file: Path | None, rev: str | None,
    amend: bool, *, default_commit: bool,
) -> Change:
    if rev is not None and (staged or message_file is not None or amend):
        raise click.UsageError("--commit cannot be combined with --staged, --message-file or --amend")
    if rev is None and not staged and message_file is None and default_commit:
        rev = "HEAD"
    if rev is not None:
        return CommitChange.load(repo, rev)
    return StagedChange.from_message_file(repo, message_file, amend=amend)


@cli.command()
@change_options
@click.option("--range", "range_spec", metavar="BASE..HEAD",
              help="Every commit of a range (CI): findings grouped by commit.")
@click.option(
    "--gate", "gates", multiple=True, type=click.Choice(sorted(gate_runner.FACTORS)),
    help="Run only this gate (repeatable). Default: the gates the config enables.",
)
@click.option("--policy", type=click.Choice(["base", "worktree"]), default="base", show_default=True,
              help="With --range: read .agentops.toml from the range's BASE commit (a change "
                   "cannot relax the policy it is judged by) or from the work tree.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "github", "markdown"]),
              default="text", show_default=True,
              help="Output: text (colour on a terminal), json, github (workflow annotations), "
                   "markdown (also appended to $GITHUB_STEP_SUMMARY when set).")
def check(
    staged: bool, message_file: Path | None, rev: str | None, amend: bool, range_spec: str | None,
    gates: tuple[str, ...], policy: str, fmt: str,
) -> None:
    """Run the enabled gates on one change, or on every commit of a range.

    With no option, checks the HEAD commit. Use --staged (with
    --message-file for the message) for the commit about to be made, and
    --range BASE..HEAD in CI (on a pull request: base.sha..head.sha).
    """
    repo = _repo()
    if range_spec is not None:
        if staged or message_file is not None or rev is not None or amend:
            raise click.UsageError("--range cannot be combined with --staged, --message-file, "
                                   "--commit or --amend")
        from agentops_hooks.places import range_check as checkrange

        revs = checkrange.resolve_range(repo, range_spec)
        base = checkrange.range_base(repo, range_spec)
        # The base's policy only: the work tree's may be the very change being judged.
        config = (config_file.load_at(repo, base) if base is not None and policy == "base"
                  else config_file.load(repo.root, repo.cache_dir))
        report = checkrange.check_range(
            repo, config, revs, range_spec, list(gates) or None, trust_commit=base,
        )
        if fmt == "markdown" or os.environ.get("GITHUB_STEP_SUMMARY"):
            markdown = checkrange.render_markdown(report)
            checkrange.write_step_summary(markdown)
        out = {
            "text": lambda: checkrange.render_text(report, color=sys.stdout.isatty()),
            "json": lambda: checkrange.render_json(report),
            "github": lambda: checkrange.render_github(report),
            "markdown": lambda: checkrange.render_markdown(report),
        }[fmt]()
        click.echo(out)
        sys.exit(0 if report.passed else 1)
    if fmt in ("github", "markdown"):
        raise click.UsageError(f"--format {fmt} goes with --range")
    config = config_file.load(repo.root, repo.cache_dir)
    change = _load_change(repo, staged, message_file, rev, amend, default_commit=True)
    selected = list(gates) or list(config.gates)
    ctx = gate_runner.Context(change, config)
    findings = (gate_runner.run(ctx, selected) if change.commit
                else gate_runner.run_staged(ctx, selected, explicit=bool(gates)))
    label = f"commit {change.label}" if change.commit else "the staged change"
    if fmt == "json":
        click.echo(json.dumps({
            "change": change.commit or "staged",
            "patch_id": change.patch_id,
            "agent": [{"agent": s.agent, "reason": s.reason} for s in ctx.agent_signals],
            "gates": selected,
            "findings": [f.__dict__ for f in findings],
        }, indent=2))
    elif findings:
        click.echo(render.findings_text(label, ctx.agent_signals, findings))
    else:
        click.echo(render.passed_text(label, ctx.agent_signals, selected))
    sys.exit(1 if refusing(findings) else 0)


@cli.command()
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

    repo = _repo()
    identity = Identity.parse(judge)
    if identity is None or not identity.email:
        raise click.BadParameter('give the judge as "Name <email>"', param_hint="--judge")
    if evidence is not None:
        messages.check_trailer(verdicts.EVIDENCE_KEY, evidence)
    change = _load_change(repo, staged, message_file, rev, amend, default_commit=False)
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


@cli.command("review")
@click.argument("revisions", nargs=-1, metavar="[RANGE]...")
@click.option("-n", "--max-count", type=click.IntRange(min=1), default=None,
              help="At most this many commits (default: 20 when no RANGE is given).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format.")
def review_command(revisions: tuple[str, ...], max_count: int | None, fmt: str) -> None:
    """Show each commit's author kind and verdicts, from trailers and notes.

    RANGE is anything `git rev-list` takes (main..feature, HEAD~10..,
    a branch). Columns: commit, subject, agent or human, verdict, judge,
    bound to this patch or not, signature verified or not, and the gate's
    outcome.
    """
    from agentops_hooks.change import load_commits
    from agentops_hooks.report.review import review
    from agentops_hooks.report.review import table

    repo = _repo()
    config = config_file.load(repo.root, repo.cache_dir)
    revs = list(revisions) or ["HEAD"]
    if max_count is None and not revisions:
        max_count = 20
    for rev in revs:
        if rev.startswith("-"):
            raise click.UsageError(f"{rev!r} is not a revision")
    if max_count is not None:
        revs = [f"--max-count={max_count}", *revs]
    try:
        changes = load_commits(repo, revs)
    except git.GitError as e:
        raise FatalError(f"cannot read {' '.join(revisions) or 'HEAD'}: {e}") from None
    rows = review(repo, config, changes)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
    else:
        click.echo(table(rows))


@cli.group()
def notes() -> None:
    """Share and audit the verdict notes (refs/notes/agentops/*)."""


@notes.command("fetch")
@click.argument("remote", default="origin")
def notes_fetch(remote: str) -> None:
    """Fetch REMOTE's notes and merge them into ours, keeping every line."""
    from agentops_hooks.evidence import sync

    report = sync.fetch(_repo(), remote)
    click.echo(f"agentops: fetched and merged {len(report.merged)} notes ref(s) from {remote}")


@notes.command("push")
@click.argument("remote", default="origin")
def notes_push(remote: str) -> None:
    """Push our notes to REMOTE without force; merge and retry when rejected."""
    from agentops_hooks.evidence import sync

    report = sync.push(_repo(), remote)
    click.echo(f"agentops: pushed {len(report.pushed)} notes ref(s) to {remote}"
               + (f" after {report.retries} retries" if report.retries else ""))


@notes.command("sync")
@click.argument("remote", default="origin")
def notes_sync(remote: str) -> None:
    """Fetch and merge, then push: both sides end with every verdict of both."""
    from agentops_hooks.evidence import sync

    report = sync.sync(_repo(), remote)
    click.echo(f"agentops: synced {len(set(report.merged) | set(report.pushed))} notes ref(s) "
               f"with {remote}" + (f" ({report.retries} retries)" if report.retries else ""))


@notes.command("verify")
@click.argument("ref", default="refs/notes/agentops/verdicts")
def notes_verify(ref: str) -> None:
    """Prove REF's history only ever added lines; name any commit that removed one."""
    from agentops_hooks.evidence import ledger

    report = ledger.verify(_repo(), ledger.full_ref(ref))
    for item in report.corrupt:
        click.echo(f"agentops: warning: unreadable line in the note on {item.target[:12]}: "
                   f"{item.problem}: {item.line[:100]}", err=True)
    if report.violations:
        for v in report.violations:
            click.echo(f"agentops: {v.describe()}")
        click.echo(f"agentops: {report.ref} is NOT append-only "
                   f"({len(report.violations)} violation(s) in {report.commits} commits)")
        sys.exit(1)
    click.echo(f"agentops: {report.ref} is append-only ({report.commits} commits checked, "
               f"{len(report.corrupt)} unreadable line(s))")


@cli.command("pre-receive")
def pre_receive_command() -> None:
    """Run as a bare repository's pre-receive hook: refuse pushes the gates refuse.

    Reads `<old> <new> <ref>` lines on stdin. New commits on protected refs
    (config `protected`, read from the repository's HEAD) go through the
    enabled gates; updates to refs/notes/agentops/* must only append. Any
    error refuses the push (fail closed).
    """
    from agentops_hooks.places import server

    code, message = server.main(sys.stdin.read())
    if message:
        click.echo(message, err=True)
    sys.exit(code)


@cli.group("ratchet")
def ratchet_group() -> None:
    """Factor VIII: metrics that may only get better (baselines in git notes)."""


def _ratchet_setup() -> tuple[git.Repo, Path, config_file.Config]:
    repo = _repo()
    root = repo.require_worktree("the ratchet")
    config = config_file.load(root, repo.cache_dir)
    if not config.ratchet.metrics:
        where = config.source or ".agentops.toml"
        raise FatalError(f"no metrics configured: add [ratchet.metrics.NAME] to {where}")
    return repo, root, config


def _rev(repo: git.Repo, rev: str) -> str:
    commit = repo.resolve(rev)
    if commit is None:
        raise FatalError(f"{rev!r} does not name a commit in this repository")
    return commit


@ratchet_group.command("check")
@click.option("--rev", default="HEAD", show_default=True, help="Compare with the baseline of this commit.")
@click.option("--message-file", type=click.Path(dir_okay=False, path_type=Path),
              help="The message of the commit being made (its Ratchet-Reversal trailers count).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ratchet_check(rev: str, message_file: Path | None, fmt: str) -> None:
    """Measure the metrics now and compare them with the baseline; exit 1 on a regression.

    The baseline is the nearest first-parent record at or before REV; a
    Ratchet-Reversal in any commit since it (or in --message-file) excuses
    the regression of its metric.
    """
    from agentops_hooks.ratchet import baselines as ratchet
    from agentops_hooks.change import read_message_file
    from agentops_hooks.ratchet.metrics import measure
    from agentops_hooks.trailers import TrailerSyntax
    from agentops_hooks.trailers import parse

    repo, root, config = _ratchet_setup()
    start = repo.resolve(rev) if rev == "HEAD" else _rev(repo, rev)
    trailers: list[tuple[str, str]] = []
    if message_file is not None:
        message = read_message_file(message_file).decode("utf-8", "replace")
        trailers = parse(message, TrailerSyntax.from_config(repo.config()))
    measured = {name: measure(name, m, root) for name, m in config.ratchet.metrics.items()}
    evaluation = ratchet.check_at(repo, config.ratchet.metrics, start, measured, trailers,
                                  since_baseline=True)
    if fmt == "json":
        click.echo(json.dumps({
            "baseline": evaluation.baseline.__dict__ if evaluation.baseline else None,
            "results": [r.__dict__ for r in evaluation.results],
            "problems": evaluation.problems, "passed": evaluation.passed,
        }, indent=2))
    else:
        click.echo(ratchet.table(evaluation))
    sys.exit(0 if evaluation.passed else 1)


@ratchet_group.command("record")
@click.option("--rev", default="HEAD", show_default=True, help="The commit the baseline is recorded on.")
def ratchet_record(rev: str) -> None:
    """Record the metrics measured now as the baseline of REV.

    Never records a regression, unless a commit since the last baseline
    (REV included) carries `Ratchet-Reversal: METRIC: reason` for it: that
    reason is recorded too.
    """
    from agentops_hooks.ratchet import baselines as ratchet
    from agentops_hooks.ratchet.metrics import measure

    repo, root, config = _ratchet_setup()
    commit = _rev(repo, rev)
    if commit != repo.head():
        click.echo(f"agentops: warning: recording on {commit[:12]}, which is not checked out: "
                   "the work tree is what gets measured", err=True)
    elif repo.git("status", "--porcelain", "--untracked-files=no").strip():
        click.echo("agentops: warning: the work tree has uncommitted changes; "
                   "they are part of what gets measured", err=True)
    measured = {name: measure(name, m, root) for name, m in config.ratchet.metrics.items()}
    evaluation, entry = ratchet.record_at(repo, config.ratchet.metrics, commit, measured)
    click.echo(ratchet.table(evaluation))
    if entry is None:
        names = ", ".join(r.name for r in evaluation.regressions)
        click.echo(f"agentops: not recorded: {names} regressed with no Ratchet-Reversal")
        sys.exit(1)
    click.echo(f"agentops: recorded the baseline on {commit[:12]} in {ratchet.RATCHET_REF}"
               + (f" (reversed: {', '.join(entry.reversals or {})})" if entry.reversals else ""))


@ratchet_group.command("show")
@click.argument("rev", default="HEAD")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def ratchet_show(rev: str, fmt: str) -> None:
    """The baseline REV is held to: the nearest first-parent record."""
    from agentops_hooks.ratchet import baselines as ratchet

    repo, _, config = _ratchet_setup()
    baseline = ratchet.baseline_for(repo, _rev(repo, rev), config.ratchet.metrics)
    if fmt == "json":
        click.echo(json.dumps(baseline.__dict__ if baseline else None, indent=2))
        return
    if baseline is None:
        click.echo(f"agentops: no baseline for {rev} yet (agentops ratchet record writes one)")
        return
    click.echo(f"baseline of {rev}: recorded on {baseline.commit[:12]} at {baseline.recorded_at}")
    for name, value in sorted(baseline.values.items()):
        why = baseline.reversals.get(name)
        click.echo(f"  {name}: {value:g}" + (f"   (reversed: {why})" if why else ""))


@ratchet_group.command("history")
@click.option("--rev", default="HEAD", show_default=True, help="Walk first-parent history from here.")
@click.option("--metric", "names", multiple=True, help="Only this metric (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--svg", "svg_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a trend chart to this SVG file.")
def ratchet_history(rev: str, names: tuple[str, ...], fmt: str, svg_file: Path | None) -> None:
    """Every recorded baseline along first-parent history, oldest first, with reversals."""
    from agentops_hooks.ratchet import baselines as ratchet

    repo, _, config = _ratchet_setup()
    metrics = config.ratchet.metrics
    for name in names:
        if name not in metrics:
            raise click.BadParameter(f"{name!r} is not a configured metric", param_hint="--metric")
    wanted = list(names) or sorted(metrics)
    rows = ratchet.history_rows(repo, _rev(repo, rev), metrics, wanted)
    if svg_file is not None:
        svg_file.write_text(ratchet.trend_svg([(r.commit, r.metrics) for r in rows], wanted))
    if fmt == "json":
        click.echo(json.dumps([r.__dict__ for r in rows], indent=2))
        return
    header = ["commit", "recorded", *wanted]
    lines = [header]
    for row in rows:
        lines.append([row.commit[:12], row.recorded_at,
                      *(f"{row.metrics[n]:g}" if n in row.metrics else "-" for n in wanted)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        click.echo("  ".join(c.ljust(w) for c, w in zip(line, widths)).rstrip())
    for row in rows:
        for n, why in row.reversals.items():
            click.echo(f"reversal on {row.commit[:12]}: {n}: {why}")
    if svg_file is not None:
        click.echo(f"agentops: wrote {svg_file}")


@cli.command()
@click.option("--remote", "remotes", multiple=True, metavar="NAME",
              help="Also make `git fetch NAME` bring the agentops notes (repeatable).")
@click.option("--phase", type=click.Choice(list(config_file.PHASES)),
              help="Turn on the gates of this 12-Factor AgentOps phase and the phases before "
                   "it (writes `gates` in .agentops.toml).")
def init(remotes: tuple[str, ...], phase: str | None) -> None:
    """Set up this clone: notes follow --amend and rebase, `git log` shows verdicts.

    Sets notes.rewriteRef and notes.rewriteMode (a verdict note is copied to
    the rewritten commit; it still counts only if the patch is unchanged)
    and notes.displayRef; with --remote, adds the fetch refspec that brings
    the remote's notes to refs/notes/remotes/NAME/agentops/* (then
    `agentops notes fetch` merges them into ours).
    """
    from agentops_hooks.evidence import sync
    from agentops_hooks.evidence.notes import NOTES_PREFIX

    repo = _repo()
    if phase is not None:
        gates = config_file.gates_for_phase(phase)
        path = config_file.set_gates(repo.require_worktree("agentops init --phase"), gates)
        click.echo(f"agentops: {path.name}: gates = {list(gates)} (phase {phase} and before)")
    # A glob: git log stays quiet until the refs exist, and shows them after.
    for var, value in (("notes.rewriteRef", NOTES_PREFIX + "*"),
                       ("notes.rewriteMode", "cat_sort_uniq"),
                       ("notes.displayRef", NOTES_PREFIX + "*")):
        present = [v for name, v in repo.config() if name == var.lower()]
        if value not in present:
            repo.git("config", "--replace-all" if var == "notes.rewriteMode" else "--add", var, value)
            click.echo(f"agentops: set {var} = {value}")
        else:
            click.echo(f"agentops: {var} = {value} already")
    for remote in remotes:
        sync.require_remote(repo, remote)
        spec = sync.fetch_refspec(remote)
        present = [v for name, v in repo.config() if name == f"remote.{remote.lower()}.fetch"]
        if spec not in present:
            repo.git("config", "--add", f"remote.{remote}.fetch", spec)
            click.echo(f"agentops: git fetch {remote} now brings the notes ({spec})")
        else:
            click.echo(f"agentops: remote {remote} already fetches the notes")


@cli.group()
def trailer() -> None:
    """Read and write git trailers in commit messages."""


@trailer.command("add")
@click.argument("key")
@click.argument("value")
@click.option("--message-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Edit this message file in place (atomically). Default: "
                   "read the message on stdin, print the result.")
def trailer_add(key: str, value: str, message_file: Path | None) -> None:
    """Add the trailer KEY: VALUE where git would place it."""
    from agentops_hooks import messages

    repo = _repo()
    if key.lower() == "learning":
        _require_learning(value, config_file.load(repo.root, repo.cache_dir))
    if message_file is not None:
        messages.add_trailers_to_file(repo, message_file, [(key, value)])
        click.echo(f"agentops: added {key}: {value} to {message_file}", err=True)
        return
    message = sys.stdin.buffer.read()
    sys.stdout.buffer.write(messages.add_trailers(repo, message, [(key, value)]))


def _require_learning(text: str, config: config_file.Config) -> None:
    """Refuse, before anything is written, a learning gate IX would not count."""
    from agentops_hooks.gates.learnings import learning_hint
    from agentops_hooks.gates.learnings import learning_problem
    from agentops_hooks.gates.learnings import quote

    min_words = config.learnings.min_words
    found = learning_problem(text, min_words)
    if found is not None:
        raise FatalError(f"the learning {quote(text)} {found[1]}; {learning_hint(min_words)}")


def _default_title(text: str) -> str:
    words = text.split()
    title = " ".join(words[:8])
    return title.rstrip(".,;:!") + ("..." if len(words) > 8 else "")


@cli.command()
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

    repo = _repo()
    root = repo.require_worktree("agentops learn")
    config = config_file.load(root, repo.cache_dir)
    text = " ".join(text.split())
    _require_learning(text, config)
    title = " ".join((title or _default_title(text)).split())
    if not title:
        raise click.BadParameter("the title is empty", param_hint="--title")
    if when is None:
        when = dt.date.today().isoformat()
    elif not re.fullmatch(r"\d{4}-\d{2}-\d{2}", when):
        raise click.BadParameter("use YYYY-MM-DD", param_hint="--date")
    path = root / config.learnings.file
    try:
        existing = path.read_text(encoding="utf-8") if path.exists() else "# Learnings\n"
    except (OSError, UnicodeDecodeError) as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    if existing and not existing.endswith("\n"):
        existing += "\n"
    entry = f"\n## {title} ({when})\n\n- {text}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    messages.write_atomic(path, (existing + entry).encode("utf-8"))
    if not no_stage:
        repo.git("add", "--", str(path))
    click.echo(f"agentops: added \"{title}\" to {config.learnings.file}"
               + ("" if no_stage else " (staged)"))


@cli.command()
@click.argument("name", type=click.Choice(["config", "learning", "verdict", "ratchet"]))
def schema(name: str) -> None:
    """Print a JSON Schema: config (for editors of .agentops.toml), learning
    (front matter of .agents/learnings files), verdict (a notes record)."""
    if name == "config":
        click.echo(json.dumps(config_file.json_schema(), indent=2))
    elif name == "ratchet":
        from agentops_hooks.ratchet.baselines import json_schema as ratchet_schema

        click.echo(json.dumps(ratchet_schema(), indent=2))
    elif name == "verdict":
        from agentops_hooks.evidence.notes import json_schema as verdict_schema

        click.echo(json.dumps(verdict_schema(), indent=2))
    else:
        from agentops_hooks.schemafiles import load_schema

        click.echo(json.dumps(load_schema("learning.schema.json"), indent=2))


@cli.command()
@click.option("--keep", is_flag=True, help="Keep the throwaway repository and print its path.")
def demo(keep: bool) -> None:
    """Show the main job in a throwaway repository.

    An agent's commit is refused, then accepted once it carries a learning
    and an independent judge's verdict.
    """
    from agentops_hooks.demo import run_demo

    sys.exit(run_demo(keep=keep))


def main() -> None:
    """Console entry point."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            reconfigure(errors="replace")
    cli(prog_name="agentops")


if __name__ == "__main__":
    main()
