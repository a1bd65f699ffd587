"""`agentops init`: set a repository up for agentops."""
from __future__ import annotations

from pathlib import Path

import click

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks.commands.options import git_identity
from agentops_hooks.commands.options import open_repo


@click.command()
@click.option("--remote", "remotes", multiple=True, metavar="NAME",
              help="Also make `git fetch NAME` bring the agentops notes (repeatable).")
@click.option("--phase", type=click.Choice(list(config_file.PHASES)),
              help="Turn on the gates of this 12-Factor AgentOps phase and the phases before "
                   "it (writes `gates` in .agentops.toml).")
@click.option("--no-signing", is_flag=True,
              help="Leave verdict.require_signature as it is (unsigned verdicts stay accepted).")
def init(remotes: tuple[str, ...], phase: str | None, no_signing: bool) -> None:
    """Set up this clone: signed verdicts, notes that follow --amend and rebase.

    Turns on verdict.require_signature with a trust root at
    .agentops/allowed_signers, and adds you as its first judge when git is
    set up to sign with SSH (else says how).

    Sets notes.rewriteRef and notes.rewriteMode (a verdict note is copied to
    the rewritten commit; it still counts only if the patch is unchanged)
    and notes.displayRef; with --remote, adds the fetch refspec that brings
    the remote's notes to refs/notes/remotes/NAME/agentops/* (then
    `agentops notes fetch` merges them into ours).
    """
    from agentops_hooks.evidence import sync
    from agentops_hooks.evidence.notes import NOTES_PREFIX

    repo = open_repo()
    if phase is not None:
        gates = gate_runner.gates_for_phase(phase)
        path = config_file.set_gates(repo.require_worktree("agentops init --phase"), gates, gate_runner.SECTIONS)
        click.echo(f"agentops: {path.name}: gates = {list(gates)} (phase {phase} and before)")
        if "verdict" in gates:
            _offer_tests_judge(path)
    if not no_signing:
        _signed_verdicts(repo)
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


def _offer_tests_judge(own: Path) -> None:
    """Add a `[judge]` that runs the project's tests, when the policy has none and a test
    runner is found."""
    from agentops_hooks.judge.suggest import tests_judge_table
    from agentops_hooks.messages import write_atomic

    text = own.read_text(encoding="utf-8")
    table = tests_judge_table(own.parent)
    if table is None or "judge" in config_file.parse_toml(text.encode("utf-8"), str(own)):
        return
    new = text + ("" if text.endswith("\n") else "\n") + "\n" + table
    config_file.validate(config_file.parse_toml(new.encode("utf-8"), str(own)),
                         gate_runner.SECTIONS, where=str(own))
    write_atomic(own, new.encode("utf-8"))
    click.echo(f"agentops: {own.name}: [judge] runs your tests on each change with "
               "`agentops judge`; set judge.identity and its key (docs/judges.md)")


def _signed_verdicts(repo: git.Repo) -> None:
    """Require signed verdicts, with a trust root that lists you when git can sign."""
    from agentops_hooks.authorship import Identity
    from agentops_hooks.commands.judges import add_signer
    from agentops_hooks.errors import FatalError
    from agentops_hooks.evidence import signing
    from agentops_hooks.evidence import trust

    if repo.root is None:
        click.echo("agentops: no work tree, so no policy to write: on a server, require signed "
                   "verdicts with git config agentops.requireSignature true (docs/trust.md)")
        return
    root = repo.root
    policy = gate_runner.settings(gate_runner.policy(root), "verdict")
    name = policy.allowed_signers or trust.DEFAULT_PATH
    signers = root / name
    try:
        key = signing.from_git_config(dict(repo.config()))
        public = signing.public_key_of(key)
        if public is None:
            raise FatalError(f"cannot read the public half of {key.key} (user.signingkey)")
    except FatalError as e:
        click.echo(f"agentops: you are not a judge yet: {e}; then run "
                   f'agentops judges add "Your Name <you@example.com>" ~/.ssh/id_ed25519.pub')
    else:
        ident = Identity.parse(git_identity(repo) or "")
        listed = trust.parse(signers.read_bytes(), name) if signers.exists() else []
        if ident is not None and not any(s.names(ident.email) and s.key == public for s in listed):
            add_signer(signers, ident, signing.require_supported(public, key.source), "")
            click.echo(f"agentops: {name}: added you ({ident}) as a judge, key {public.fingerprint}")
    if not signers.exists():
        signers.parent.mkdir(parents=True, exist_ok=True)
        signers.write_text("# agentops judges: agentops judges add \"Name <email>\" KEY.pub\n",
                           encoding="utf-8")
    if policy.require_signature and policy.allowed_signers == name:
        click.echo("agentops: verdict.require_signature = true already")
        return
    try:
        written = config_file.set_in_table(root, "verdict", {
            "require_signature": True, "allowed_signers": name}, gate_runner.SECTIONS)
    except config_file.ConfigError as e:
        click.echo(f"agentops: signed verdicts are not required yet: {e}")
        return
    click.echo(f"agentops: {written.name}: verdict.require_signature = true, "
               f"verdict.allowed_signers = {name!r}: CI and the server count only signed verdicts "
               "(commit both files)")
