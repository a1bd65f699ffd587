"""`agentops judges add|remove|list`: the trust root, an allowed-signers file.

The file is the repository's `verdict.allowed_signers` (or, with --file, one
kept outside it: a CI secret, the server's `agentops.allowedSigners`).
Changing the tracked file is a privileged change: the commit needs a verdict
signed by a judge the file listed before it.
"""
from __future__ import annotations

from pathlib import Path

import click

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks.authorship import Identity
from agentops_hooks.commands.options import open_repo
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import trust
from agentops_hooks.evidence.signing import PublicKey
from agentops_hooks.evidence.signing import read_public_key_file


def _file(path: Path | None) -> tuple[Path, bool]:
    """The allowed-signers file to edit, and whether it is the repository's own."""
    if path is not None:
        return path, False
    root = open_repo().require_worktree("agentops judges")
    name = gate_runner.settings(gate_runner.policy(root), "verdict").allowed_signers
    return root / (name or trust.DEFAULT_PATH), True


def _read(path: Path) -> tuple[str, list[trust.Signer]]:
    if not path.exists():
        return "", []
    raw = path.read_bytes()
    return raw.decode("utf-8", "replace"), trust.parse(raw, str(path))


def _write(path: Path, text: str) -> None:
    from agentops_hooks.messages import write_atomic

    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, text.encode("utf-8"))


file_option = click.option(
    "--file", "path", type=click.Path(dir_okay=False, path_type=Path),
    help="An allowed-signers file outside the repository (a CI secret, the server's "
         "agentops.allowedSigners) instead of verdict.allowed_signers.")


@click.group()
def judges() -> None:
    """The judges whose signed verdicts count: the allowed-signers file."""


def with_signer(path: Path, identity: Identity, key: PublicKey, options: str) -> tuple[str, trust.Signer]:
    """The file's text with the judge's line appended, and the line; nothing written."""
    text, signers = _read(path)
    if any(s.names(identity.email) and s.key == key for s in signers):
        raise FatalError(f"{identity.email} is already a judge with that key in {path}")
    signer = trust.Signer(identity.email, options, key, identity.name)
    if text and not text.endswith("\n"):
        text += "\n"
    return text + signer.line() + "\n", signer


def add_signer(path: Path, identity: Identity, key: PublicKey, options: str) -> trust.Signer:
    """Append the judge's line to the file (created if needed); the line added."""
    text, signer = with_signer(path, identity, key, options)
    _write(path, text)
    return signer


@judges.command()
@click.argument("judge", metavar='"NAME <EMAIL>"')
@click.argument("key_file", metavar="KEYFILE.pub", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--namespace", "namespaces", multiple=True, metavar="NS",
              help='Restrict the key to these signature namespaces (namespaces="..."; '
                   "verdicts are signed in agentops-verdict). Repeatable.")
@click.option("--valid-after", metavar="YYYYMMDD", help="The key counts from this time on.")
@click.option("--valid-before", metavar="YYYYMMDD", help="The key counts until this time.")
@file_option
def add(judge: str, key_file: Path, namespaces: tuple[str, ...], valid_after: str | None,
        valid_before: str | None, path: Path | None) -> None:
    """Add a judge's public key to the trust root."""
    identity = Identity.parse(judge)
    if identity is None or not identity.email:
        raise click.BadParameter('give the judge as "Name <email>"', param_hint="JUDGE")
    if any(ch in identity.email for ch in "*?!,"):
        raise click.BadParameter("a judge's email holds no pattern characters (* ? ! ,)",
                                 param_hint="JUDGE")
    try:
        options = trust.options_for(namespaces, valid_after, valid_before)
    except ValueError as e:
        raise click.UsageError(str(e)) from None
    target, own = _file(path)
    text, signer = with_signer(target, identity, read_public_key_file(key_file), options)
    if own:  # the policy first: if it cannot be written, neither is the file
        _ensure_policy(target)
    _write(target, text)
    click.echo(f"agentops: {target}: added {identity} ({signer.key.kind} {signer.key.fingerprint})")
    if own:
        click.echo("agentops: commit it as yourself: the trust root is a protected path, and "
                   "gate IV refuses an agent's change to it (docs/trust.md)")


def _ensure_policy(target: Path) -> None:
    """Point verdict.allowed_signers at the file, and require signatures."""
    root = open_repo().require_worktree("agentops judges")
    policy = gate_runner.settings(gate_runner.policy(root), "verdict")
    name = target.relative_to(root).as_posix()
    if policy.allowed_signers != name or not policy.require_signature:
        written = config_file.set_in_table(root, "verdict", {
            "require_signature": True, "allowed_signers": name}, gate_runner.SECTIONS)
        click.echo(f"agentops: {written.name}: verdict.require_signature = true, "
                   f"verdict.allowed_signers = {name!r}")


@judges.command()
@click.argument("judge", metavar="EMAIL")
@file_option
def remove(judge: str, path: Path | None) -> None:
    """Remove every key of a judge (by email, or "Name <email>") from the trust root."""
    identity = Identity.parse(judge)
    email = identity.email if identity is not None and identity.email else judge.strip()
    target, _ = _file(path)
    text, _ = _read(target)
    kept = []
    removed = 0
    for line in text.splitlines(keepends=True):
        signer = trust.parse_line(line)
        if signer is not None and signer.names(email):
            removed += 1
            continue
        kept.append(line)
    if not removed:
        raise FatalError(f"{email} is not a judge in {target}")
    _write(target, "".join(kept))
    click.echo(f"agentops: {target}: removed {removed} key(s) of {email}")


@judges.command(name="list")
@file_option
def list_judges(path: Path | None) -> None:
    """The judges of the trust root: principals, key fingerprint, options."""
    target, _ = _file(path)
    if not target.exists():
        raise FatalError(f"{target} does not exist: no judges yet (agentops judges add)")
    _, signers = _read(target)
    for s in signers:
        extra = f"  {s.options}" if s.options else ""
        name = f"  ({s.comment})" if s.comment else ""
        click.echo(f"{s.principals}  {s.key.kind} {s.key.fingerprint}{extra}{name}")
    if not signers:
        click.echo(f"agentops: {target} lists no judges", err=True)
