"""`agentops init`: adopt agentops in a repository, in one command."""
from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from typing import NamedTuple

import click

from agentops_hooks import __version__
from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks import git
from agentops_hooks.commands.options import git_identity
from agentops_hooks.commands.options import open_repo
from agentops_hooks.errors import FatalError

HOOK_REPO = "https://github.com/agentops-hooks/agentops-hooks"
HOOK_REV = f"v{__version__}"
"""This version's release tag: the `rev:` init pins and the README shows."""
HOOK_IDS = ("agentops", "agentops-record", "agentops-push")
HOOK_TYPES = ("commit-msg", "post-commit", "pre-push")
PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
DOCS = f"{HOOK_REPO}/blob/{HOOK_REV}/docs"

Say = Callable[[str, str], None]
"""Report a step: what was done, or (dry run) what would be."""


@click.command()
@click.option("--dry-run", "dry", is_flag=True, help="Say what would be done; change nothing.")
@click.option("--remote", "remotes", multiple=True, metavar="NAME",
              help="Make `git fetch NAME` bring the agentops notes (repeatable). "
                   "Default: origin, when there is one.")
@click.option("--phase", type=click.Choice(list(config_file.PHASES)),
              help="Also turn on the gates of this 12-Factor AgentOps phase and the phases "
                   "before it (writes `gates` in .agentops.toml; no gate already on is "
                   "turned off).")
@click.option("--no-signing", is_flag=True,
              help="Leave verdict.require_signature as it is (unsigned verdicts stay accepted).")
@click.option("--no-hooks", is_flag=True,
              help="Leave .pre-commit-config.yaml and the git hooks as they are.")
@click.option("--hook-repo", default=HOOK_REPO, show_default=True, metavar="URL",
              help="The hook repository .pre-commit-config.yaml names (a mirror, a fork).")
@click.option("--rev", default=HOOK_REV, show_default=True,
              help="The rev it pins (a tag or a commit id).")
def init(dry: bool, remotes: tuple[str, ...], phase: str | None, no_signing: bool,
         no_hooks: bool, hook_repo: str, rev: str) -> None:
    """Adopt agentops here: hooks, signed verdicts, notes that follow --amend and rebase.

    Adds the agentops, agentops-record and agentops-push hooks to
    .pre-commit-config.yaml (created, or extended keeping what it holds) and
    runs pre-commit install for the commit-msg, post-commit and pre-push hook
    types.

    Turns on verdict.require_signature with a trust root at
    .agentops/allowed_signers, and adds you as its first judge when git is
    set up to sign with SSH (else says how).

    Sets notes.rewriteRef and notes.rewriteMode (a verdict note is copied to
    the rewritten commit; it still counts only if the patch is unchanged)
    and notes.displayRef, and adds the fetch refspec that brings each
    remote's notes to refs/notes/remotes/NAME/agentops/* (then
    `agentops notes fetch` merges them into ours).

    Run it again at any time: it does only what is not done yet.
    """
    from agentops_hooks.evidence import sync
    from agentops_hooks.evidence.notes import NOTES_PREFIX

    def say(done: str, would: str) -> None:
        click.echo(f"agentops: {would if dry else done}")

    repo = open_repo()
    # What can refuse is read first, so that a refusal leaves everything as it was.
    enabled = gate_runner.policy(repo.root).gates if repo.root is not None else ()
    planned = None if no_hooks or repo.root is None else _plan_hooks(repo, hook_repo, rev)
    if phase is not None:
        root = repo.require_worktree("agentops init --phase")
        gates = gate_runner.gates_for_phase(phase, enabled)
        path = config_file.set_gates(root, gates, gate_runner.SECTIONS, dry=True)
    if not remotes:
        remotes = tuple(r for r in ("origin",) if repo.config_value("remote.origin.url"))
    for remote in remotes:
        sync.require_remote(repo, remote)
    if planned is not None:
        _install_hooks(planned, dry, say)
    elif not no_hooks:
        click.echo("agentops: no work tree, so no commit hooks to install: on a server, "
                   f"agentops pre-receive is the hook ({DOCS}/ci.md)")
    if phase is not None and gates == enabled:
        click.echo(f"agentops: {path.name}: gates = {list(gates)} already")
    elif phase is not None:
        config_file.set_gates(root, gates, gate_runner.SECTIONS, dry=dry)
        said = f"{path.name}: gates = {list(gates)} (phase {phase} and before, and the gates already on)"
        say(said, f"would write {said}")
    if phase is not None and not dry and path.exists() and "verdict" in gate_runner.gates_for_phase(phase, ()):
        _offer_tests_judge(path)
    if not no_signing:
        _signed_verdicts(repo, dry, say)
    # A glob: git log stays quiet until the refs exist, and shows them after.
    for var, value in (("notes.rewriteRef", NOTES_PREFIX + "*"),
                       ("notes.rewriteMode", "cat_sort_uniq"),
                       ("notes.displayRef", NOTES_PREFIX + "*")):
        present = [v for name, v in repo.config() if name == var.lower()]
        if value in present:
            click.echo(f"agentops: {var} = {value} already")
            continue
        if not dry:
            repo.git("config", "--replace-all" if var == "notes.rewriteMode" else "--add", var, value)
        say(f"set {var} = {value}", f"would set {var} = {value}")
    for remote in remotes:
        spec = sync.fetch_refspec(remote)
        present = [v for name, v in repo.config() if name == f"remote.{remote.lower()}.fetch"]
        if spec in present:
            click.echo(f"agentops: remote {remote} already fetches the notes")
            continue
        if not dry:
            repo.git("config", "--add", f"remote.{remote}.fetch", spec)
        say(f"git fetch {remote} now brings the notes ({spec})",
            f"would make git fetch {remote} bring the notes ({spec})")
    if not dry:
        _next_steps(repo.root)


class PlannedHooks(NamedTuple):
    """What `agentops init` will do to .pre-commit-config.yaml and the git hooks."""

    path: Path
    before: str | None
    after: HookConfig
    url: str
    rev: str


def _plan_hooks(repo: git.Repo, url: str, rev: str) -> PlannedHooks:
    """Read .pre-commit-config.yaml and check the hooks can be installed; nothing written."""
    root = repo.require_worktree("agentops init")
    hooks_path = repo.config_value("core.hookspath")
    if hooks_path:
        raise FatalError(f"core.hooksPath is set ({hooks_path}), so git ignores the hooks "
                         "pre-commit installs (and pre-commit refuses to): unset it "
                         "(git config --unset-all core.hooksPath), or run agentops init "
                         "--no-hooks and call agentops-hook from your own hooks")
    path = root / PRE_COMMIT_CONFIG
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else None
    except (OSError, UnicodeDecodeError) as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    return PlannedHooks(path, text, with_hooks(text, url, rev), url, rev)


def _install_hooks(plan: PlannedHooks, dry: bool, say: Say) -> None:
    """Our hooks in .pre-commit-config.yaml, and pre-commit's git hooks installed."""
    new, added, pinned, rewritten = plan.after
    where = f"({plan.url} at {pinned})"
    if added:
        if not dry:
            from agentops_hooks.messages import write_atomic

            write_atomic(plan.path, new.encode("utf-8"))
        said = (f"{PRE_COMMIT_CONFIG}: {'created with' if plan.before is None else 'added'} hooks "
                f"{', '.join(added)} {where}")
        if rewritten:
            said += "; its layout could not be extended, so it is written out whole (comments are not kept)"
        say(said, f"would write {said}")
    else:
        click.echo(f"agentops: {PRE_COMMIT_CONFIG}: hooks {', '.join(HOOK_IDS)} already {where}")
    if pinned != plan.rev:
        click.echo(f"agentops: {PRE_COMMIT_CONFIG} keeps {plan.url} at {pinned}, not {plan.rev}: "
                   "`pre-commit autoupdate` moves it")
    command = [sys.executable, "-m", "pre_commit", "install",
               *(arg for kind in HOOK_TYPES for arg in ("--hook-type", kind))]
    shown = " ".join(["pre-commit", *command[3:]])
    if not dry:
        done = subprocess.run(command, cwd=plan.path.parent, capture_output=True, text=True)
        if done.returncode != 0:
            why = (done.stdout + done.stderr).strip().splitlines() or [f"exit {done.returncode}"]
            raise FatalError(f"{shown} failed: {why[-1]}")
    say(f"ran {shown}", f"would run {shown}")


class HookConfig(NamedTuple):
    """A .pre-commit-config.yaml with our hooks in it."""

    text: str
    added: list[str]
    pinned: str
    """The rev our hook repository is pinned at."""
    rewritten: bool = False
    """Written out whole from its data (its layout could not be extended)."""


def with_hooks(text: str | None, url: str, rev: str) -> HookConfig:
    """`text` (a .pre-commit-config.yaml; None: there is none) with our hook ids added.

    The text is only added to, where pre-commit's own YAML parser places the
    entries, so comments and layout stay; the result is parsed again and must
    hold exactly the old config plus the additions, else the file is written
    out whole from its data, as `pre-commit autoupdate` does.
    """
    from pre_commit.yaml import yaml_compose
    from pre_commit.yaml import yaml_dump
    from pre_commit.yaml import yaml_load
    from yaml import YAMLError

    if not (text or "").strip():
        return HookConfig((text or "") + "repos:\n" + _entry(url, rev, HOOK_IDS, 2, 2), list(HOOK_IDS), rev)
    assert text is not None
    try:
        data, root = yaml_load(text), yaml_compose(text)
    except YAMLError as e:
        raise FatalError(f"cannot read {PRE_COMMIT_CONFIG}: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict) or not isinstance(data.get("repos") or [], list):
        raise FatalError(f"{PRE_COMMIT_CONFIG} is not a pre-commit config (a mapping with a "
                         "`repos` list)")
    repos = data["repos"] = data.get("repos") or []
    found = _our_entry(repos, url)
    if found is None:
        repos.append({"repo": url, "rev": rev, "hooks": [{"id": i} for i in HOOK_IDS]})
        added, pinned = list(HOOK_IDS), rev
    else:
        entry = repos[found]
        listed = {h.get("id") for h in entry.get("hooks") or [] if isinstance(h, dict)}
        added, pinned = [i for i in HOOK_IDS if i not in listed], str(entry.get("rev", rev))
        entry.setdefault("hooks", []).extend({"id": i} for i in added)
    if not added:
        return HookConfig(text, added, pinned)
    new = _insert(text, root, found, url, rev, added)
    try:
        if new is not None and yaml_load(new) == data:
            return HookConfig(new, added, pinned)
    except YAMLError:
        pass
    return HookConfig(yaml_dump(data), added, pinned, rewritten=True)


def _our_entry(repos: list[Any], url: str) -> int | None:
    """Which entry of `repos` is ours: the one naming `url`, else one listing our hooks."""
    def ids(entry: Any) -> set[str]:
        hooks = entry.get("hooks") if isinstance(entry, dict) else None
        return {str(h.get("id")) for h in hooks if isinstance(h, dict)} if isinstance(hooks, list) else set()

    for i, entry in enumerate(repos):
        if isinstance(entry, dict) and entry.get("repo") == url:
            return i
    return next((i for i, entry in enumerate(repos) if ids(entry) & set(HOOK_IDS)), None)


def _entry(url: str, rev: str, ids: tuple[str, ...] | list[str], dash: int, step: int,
           hook_dash: int | None = None) -> str:
    """A repository entry; its hooks' dashes at `hook_dash` (default: two in from its keys)."""
    pad, inner = " " * dash, " " * (dash + step)
    return (f"{pad}-{' ' * (step - 1)}repo: {url}\n{inner}rev: {rev}\n{inner}hooks:\n"
            + _items(ids, dash + step + 2 if hook_dash is None else hook_dash, step))


def _items(ids: tuple[str, ...] | list[str], dash: int, step: int) -> str:
    return "".join(f"{' ' * dash}-{' ' * (step - 1)}id: {i}\n" for i in ids)


def _insert(text: str, root: Any, found: int | None, url: str, rev: str,
            added: list[str]) -> str | None:
    """The text with the new lines placed after the last item of the block sequence
    they belong to; None where the layout is not one this can extend (flow style)."""
    from yaml import MappingNode
    from yaml import SequenceNode

    def value(node: Any, key: str) -> Any:
        return next((v for k, v in node.value if k.value == key), None) if isinstance(
            node, MappingNode) else None

    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    repos = value(root, "repos")
    if repos is None:
        return "".join(lines) + "repos:\n" + _entry(url, rev, added, 2, 2)
    if not isinstance(repos, SequenceNode) or repos.flow_style or not repos.value:
        return None
    seq = repos if found is None else value(repos.value[found], "hooks")
    if not isinstance(seq, SequenceNode) or seq.flow_style or not seq.value:
        return None
    def dash_of(item: Any) -> int:  # the column of the `-` before a block sequence item
        return lines[int(item.start_mark.line)].rfind("-", 0, int(item.start_mark.column))

    first = seq.value[0]
    dash = dash_of(first)
    if dash < 0:
        return None
    step = first.start_mark.column - dash
    if found is None:  # laid out as the first entry is
        hooks = value(first, "hooks")
        hook_dash = dash_of(hooks.value[0]) if isinstance(hooks, SequenceNode) and hooks.value \
            and not hooks.flow_style else -1
        made = _entry(url, rev, added, dash, step, hook_dash if hook_dash > dash else None)
    else:
        made = _items(added, dash, step)
    at = _end_line(seq.value[-1])
    return "".join(lines[:at] + [made] + lines[at:])


def _end_line(node: Any) -> int:
    """The line after a node's last character: its last child's, for a block collection,
    whose own end mark lies past any comment lines that follow it."""
    from yaml import MappingNode
    from yaml import SequenceNode

    if isinstance(node, MappingNode) and not node.flow_style and node.value:
        return max(_end_line(part) for pair in node.value for part in pair)
    if isinstance(node, SequenceNode) and not node.flow_style and node.value:
        return max(_end_line(child) for child in node.value)
    end = node.end_mark
    return int(end.line if end.column == 0 else end.line + 1)


def _next_steps(root: Path | None) -> None:
    """What init cannot do: commit its files, and enforce where hooks cannot be skipped."""
    from agentops_hooks.evidence import trust

    written = [name for name in (PRE_COMMIT_CONFIG, config_file.CONFIG_FILE, trust.DEFAULT_PATH)
               if root is not None and (root / name).exists()]
    steps = [f"commit {', '.join(written)}"] if written else []
    steps += ["local hooks can be skipped (--no-verify): make `agentops check --range "
              "BASE..HEAD` a required CI job, and run `agentops pre-receive` as the server's "
              f"pre-receive hook ({DOCS}/ci.md)"]
    click.echo("agentops: next: " + "; ".join(steps))


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


def _signed_verdicts(repo: git.Repo, dry: bool, say: Say) -> None:
    """Require signed verdicts, with a trust root that lists you when git can sign."""
    from agentops_hooks.authorship import Identity
    from agentops_hooks.commands.judges import add_signer
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
            if not dry:
                add_signer(signers, ident, signing.require_supported(public, key.source), "")
            said = f"{name}: added you ({ident}) as a judge, key {public.fingerprint}"
            say(said, f"would write {said}")
    if not signers.exists() and not dry:
        signers.parent.mkdir(parents=True, exist_ok=True)
        signers.write_text("# agentops judges: agentops judges add \"Name <email>\" KEY.pub\n",
                           encoding="utf-8")
    if policy.require_signature and policy.allowed_signers == name:
        click.echo("agentops: verdict.require_signature = true already")
        return
    try:
        written = config_file.set_in_table(root, "verdict", {
            "require_signature": True, "allowed_signers": name}, gate_runner.SECTIONS, dry=dry)
    except config_file.ConfigError as e:
        click.echo(f"agentops: signed verdicts are not required yet: {e}")
        return
    said = (f"{written.name}: verdict.require_signature = true, verdict.allowed_signers = {name!r}: "
            "CI and the server count only signed verdicts (commit both files)")
    say(said, f"would write {said}")
