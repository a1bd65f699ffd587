"""`agentops pre-receive`: the same gates on the server, where --no-verify can't reach.

Installed as a bare repository's `pre-receive` hook, it reads one
`<old> <new> <ref>` line per updated ref and refuses the whole push when a
protected ref would gain a commit the gates refuse, when a protected ref would
be deleted, or when an update to refs/notes/agentops/* is anything but an
append (not a fast-forward, a deletion, or a commit that removes a line).
It fails closed: an internal error refuses the push and says why.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase

from agentops_hooks import config as config_file
from agentops_hooks import ledger
from agentops_hooks.checkrange import check_range
from agentops_hooks.checkrange import render_text
from agentops_hooks.errors import FatalError
from agentops_hooks.git import Repo
from agentops_hooks.git import keep_in_env
from agentops_hooks.notes import NOTES_PREFIX
from agentops_hooks.notes import VERDICTS_REF

# git hands pre-receive the pushed objects in a quarantine these variables name.
QUARANTINE_ENV = ("GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES")


@dataclass(frozen=True)
class RefUpdate:
    """One line of pre-receive's input."""

    old: str
    new: str
    ref: str

    @property
    def created(self) -> bool:
        return not self.old.strip("0")

    @property
    def deleted(self) -> bool:
        return not self.new.strip("0")


def parse_updates(text: str) -> list[RefUpdate]:
    """`<old> <new> <ref>` lines; anything else is an error (the push is refused)."""
    updates = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 3 or any(len(p) not in (40, 64) for p in parts[:2]):
            raise FatalError(f"pre-receive input line {number} is not `<old> <new> <ref>`: {line!r}")
        updates.append(RefUpdate(*parts))
    return updates


def load_server_config(repo: Repo) -> config_file.Config:
    """The policy as the protected default branch (HEAD) holds it, never as the pusher sends it."""
    head = repo.resolve("HEAD")
    return config_file.Config() if head is None else load_policy_at(repo, head)


def load_policy_at(repo: Repo, commit: str) -> config_file.Config:
    """The policy committed in `commit`: .agentops.toml, else [tool.agentops]; else defaults."""
    for name, prefix in ((config_file.CONFIG_FILE, ""), (config_file.PYPROJECT, "tool.agentops.")):
        raw = repo.git("cat-file", "blob", f"{commit}:{name}", ok_codes=(0, 128))
        if not raw or (prefix and b"tool.agentops" not in raw):
            continue
        return config_file.from_toml(raw, f"{commit[:12]}:{name}", prefix, repo.cache_dir)
    return config_file.Config()


def _protected(ref: str, patterns: Sequence[str]) -> bool:
    return any(fnmatchcase(ref, p) for p in patterns)


def _protected_tips(repo: Repo, patterns: Sequence[str]) -> dict[str, str]:
    out = repo.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/")
    tips = {}
    for line in out.decode("utf-8", "replace").splitlines():
        ref, _, oid = line.partition(" ")
        if _protected(ref, patterns):
            tips[ref] = oid
    return tips


def _policy_problem(repo: Repo, commit: str) -> str | None:
    """Why the policy file in `commit` cannot be read (None: it can, or there is none)."""
    try:
        load_policy_at(repo, commit)
    except config_file.ConfigError as e:
        return str(e)
    return None


def check_notes_update(repo: Repo, update: RefUpdate) -> list[str]:
    """Why an update to an agentops notes ref is refused (empty: it only appends)."""
    if update.deleted:
        return [f"{update.ref}: deleting the ledger is refused (notes are append-only)"]
    if update.created:
        return []
    if not repo.is_ancestor(update.old, update.new):
        return [f"{update.ref}: {update.new[:12]} does not contain {update.old[:12]}: rewriting "
                "the ledger is refused (fetch, merge with `agentops notes sync`, push again)"]
    report = ledger.verify(repo, update.ref, tip=update.new, since=update.old)
    return [f"{update.ref}: {v.describe()}" for v in report.violations]


def pre_receive(repo: Repo, updates: Sequence[RefUpdate]) -> tuple[bool, str]:
    """(accept?, what to tell the pusher)."""
    out: list[str] = []
    refused = False
    config = load_server_config(repo)
    verdicts_tip = None
    for update in updates:
        if update.ref.startswith(NOTES_PREFIX):
            problems = check_notes_update(repo, update)
            out.extend(f"agentops: refused: {p}" for p in problems)
            refused |= bool(problems)
            if update.ref == VERDICTS_REF and not problems and not update.deleted:
                verdicts_tip = update.new
    gates = [g for g in config.gates if g != "ratchet"]
    default_branch = repo.git("symbolic-ref", "-q", "HEAD", ok_codes=(0, 1)).decode().strip()
    protected_tips = _protected_tips(repo, config.protected)
    for update in updates:
        if not _protected(update.ref, config.protected):
            continue
        if update.deleted:
            out.append(f"agentops: refused: {update.ref} is protected and cannot be deleted")
            refused = True
            continue
        if update.ref == default_branch:
            problem = _policy_problem(repo, update.new)
            if problem:
                out.append(f"agentops: refused: {update.ref} would get a policy the server "
                           f"cannot read, which would refuse every later push: {problem}")
                refused = True
                continue
        if update.created:
            # Everything not yet on a protected ref: commits already on an
            # unprotected branch were never checked.
            others = [tip for ref, tip in protected_tips.items() if ref != update.ref]
            revs = [update.new, "--not", *others] if others else [update.new]
        else:
            revs = [f"{update.old}..{update.new}"]
        label = f"{update.ref} ({update.old[:12]}..{update.new[:12]})"
        report = check_range(repo, config, revs, label, gates, verdicts_tip=verdicts_tip,
                             notes_fix="push the verdict notes together with the commits "
                                       "(agentops notes push, or git push origin "
                                       "refs/notes/agentops/verdicts)")
        out.append(render_text(report))
        if "ratchet" in config.gates:
            out.append("agentops: the ratchet needs a work tree and is not checked here "
                       "(check it in CI: agentops check --range)")
        refused |= not report.passed
    if refused:
        out.append("agentops: push refused. Fix the commits (or fetch and merge the notes) "
                   "and push again; docs/ci.md explains each check.")
    return not refused, "\n".join(out)


def main(stdin_text: str) -> tuple[int, str]:
    """The hook: exit 0 to accept; 1 to refuse, for findings and for any error (fail closed)."""
    keep_in_env(*QUARANTINE_ENV)
    try:
        repo = Repo()
        accepted, message = pre_receive(repo, parse_updates(stdin_text))
    except FatalError as e:
        return 1, f"agentops: refused: the check could not run: {e}"
    except Exception as e:  # noqa: BLE001 - fail closed, and say why
        return 1, f"agentops: refused: internal error ({type(e).__name__}: {e})"
    return (0 if accepted else 1), message
