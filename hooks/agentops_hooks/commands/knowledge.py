"""`agentops knowledge verify`: every constraint catches its own witness, in time."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from agentops_hooks import gates as gate_runner
from agentops_hooks.commands.options import open_repo
from agentops_hooks.errors import FatalError

if TYPE_CHECKING:
    from agentops_hooks.gates._constraints import Constraint


@click.group()
def knowledge() -> None:
    """Learnings and the constraints that carry them (factor X)."""


@knowledge.command()
def verify() -> None:
    """Run each constraint of .agents/constraints/ on its witness; refuse one that does not fire.

    Reads the work tree. A file or entry that cannot be used (TOML, schema, a
    pattern that is not a regular expression or backtracks badly, a learning
    that is not there, a command that cannot run or hangs) is one line naming
    the file and entry, exit 2. A constraint its witness does not trigger:
    exit 1. Nothing is written.
    """
    from agentops_hooks.gates import _constraints as rules
    from agentops_hooks.gates._learning_entries import citation_key
    from agentops_hooks.gates.knowledge import Places
    from agentops_hooks.gates.knowledge import learnings_in

    repo = open_repo()
    root = repo.require_worktree("agentops knowledge verify")
    config = gate_runner.policy(root, repo.cache_dir)
    directory = root / rules.DIRECTORY
    files = {f"{rules.DIRECTORY}/{p.name}": p.read_bytes()
             for p in sorted(directory.glob("*.toml")) if p.is_file()} if directory.is_dir() else {}
    constraints = rules.read_all(files)
    if not constraints:
        click.echo(f"agentops: no constraints in {rules.DIRECTORY}/")
        return
    names = {n for e in learnings_in(root, Places.of(config)) for n in e.names}
    refused = []
    for c in constraints:
        if citation_key(c.learning) not in names:
            raise FatalError(f"{c.label}: the learning `{c.learning}` is not in the learnings")
        if not _fires(c):
            refused.append(c)
            click.echo(f"agentops: refused {c.label}: its witness does not trigger it, so it "
                       "is a check that cannot fail")
        else:
            click.echo(f"agentops: {c.label} ({c.kind}) catches its witness")
    if refused:
        raise SystemExit(1)


def _fires(c: Constraint) -> bool:
    """Does the constraint catch its witness? FatalError when it cannot say, or not in time."""
    from agentops_hooks.gates import _constraints

    if c.kind == "command":
        try:
            return _constraints.witness_fires(c)
        except FatalError as e:
            raise FatalError(f"{c.label}: {e}") from None
    # The witness, each of its lines and each of its characters stretched to a window's
    # length: a pattern that backtracks badly shows it here, in the time budget, not on a commit.
    lines = [line for line in c.witness.split("\n") if line]
    probes = [line * (_constraints.WINDOW // len(line)) for line in lines]
    probes += [ch * _constraints.WINDOW for ch in sorted(set(c.witness) - {"\n"})]
    try:
        with _constraints.Budget(_constraints.BUDGET_SECONDS):
            fires = _constraints.witness_fires(c)
            for probe in probes:
                c.fires_on_line(probe)
    except _constraints.OutOfTime:
        raise FatalError(f"{c.label}: its {c.kind} pattern {c.check!r} took more than "
                         f"{_constraints.BUDGET_SECONDS:g} s on its witness: it backtracks badly; "
                         "write it with fewer repeats") from None
    return fires
