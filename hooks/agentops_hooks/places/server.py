"""`agentops pre-receive`: the same gates on the server, where --no-verify can't reach.

Installed as a bare repository's `pre-receive` hook, it reads one
`<old> <new> <ref>` line per updated ref and refuses the whole push when a
protected ref (the configured patterns, the server's default branch, every
tag) would gain a commit the gates refuse, would be deleted, rewound or
rewritten, or would name something other than a commit; when a tag would
move; when a replace ref would be written; or when an update to
refs/notes/agentops/* is anything but an append (not a fast-forward, a
deletion, or a commit that removes a line). Policy and trust roots come from
the protected side: the updated ref's old tip, or the default branch.
It fails closed: an internal error refuses the push and says why.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import NamedTuple

from agentops_hooks import config as config_file
from agentops_hooks import gates as gate_runner
from agentops_hooks.evidence import ledger
from agentops_hooks.places.range_check import check_range
from agentops_hooks.places.range_check import render_text
from agentops_hooks.errors import FatalError
from agentops_hooks.git import Repo
from agentops_hooks.git import keep_in_env
from agentops_hooks.evidence.notes import NOTES_PREFIX
from agentops_hooks.evidence.notes import VERDICTS_REF

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


REPLACE_PREFIX = "refs/replace/"
TAGS_PREFIX = "refs/tags/"


class Protection:
    """Which refs the server protects: the configured patterns, the server's
    default branch (its HEAD, whatever it is called) and every tag."""

    def __init__(self, patterns: Sequence[str], default_branch: str) -> None:
        self.patterns = tuple(patterns)
        self.default_branch = default_branch

    def covers(self, ref: str) -> bool:
        return (ref == self.default_branch or ref.startswith(TAGS_PREFIX)
                or any(fnmatchcase(ref, p) for p in self.patterns))


def _protected_tips(refs: dict[str, ServerRef], protection: Protection) -> dict[str, str]:
    """Protected refs that name a commit (a tag: the commit it points at), and that commit."""
    return {name: ref.commit for name, ref in refs.items() if ref.commit and protection.covers(name)}


def _policy_problem(repo: Repo, commit: str) -> str | None:
    """Why the policy file in `commit` cannot be read (None: it can, or there is none)."""
    try:
        gate_runner.policy_at(repo, commit)
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


def update_problem(repo: Repo, update: RefUpdate, default_branch: str) -> str | None:
    """Why a protected ref may not move this way at all (None: its commits get checked).

    History on a protected ref only grows: it is neither deleted nor rewound
    or rewritten, a tag is never moved, and it names a commit (or a tag of one).
    """
    if update.deleted:
        return f"{update.ref} is protected and cannot be deleted"
    if repo.resolve(update.new) is None:
        return (f"{update.ref} would point at {update.new[:12]}, which is not a commit (nor a tag "
                "of one): a protected ref names commits, so that they can be checked")
    if update.created:
        return None
    if update.ref.startswith(TAGS_PREFIX):
        return (f"{update.ref} already exists: a protected tag is never moved (releases are "
                "built from tags); push a new tag instead")
    if not repo.is_ancestor(update.old, update.new):
        return (f"{update.ref}: {update.new[:12]} does not contain {update.old[:12]}: a force-push "
                "that rewinds or rewrites a protected branch is refused (merge or revert with a "
                "new commit instead)")
    if update.ref == default_branch:
        problem = _policy_problem(repo, update.new)
        if problem:
            return (f"{update.ref} would get a policy the server cannot read, which would "
                    f"refuse every later push: {problem}")
    return None


class ServerRef(NamedTuple):
    """A ref on the server before the push."""

    symref: str
    """The ref a symbolic ref points at; "" for a plain one."""
    commit: str
    """The commit it names (through one tag); "" when it names a tree or a blob."""


def _server_refs(repo: Repo) -> dict[str, ServerRef]:
    """Every ref on the server before the push, from one for-each-ref."""
    out = repo.git("for-each-ref", "--format=%(refname) %(symref) %(objecttype) %(objectname) "
                   "%(*objecttype) %(*objectname)", "refs/")
    refs = {}
    for line in out.decode("utf-8", "replace").splitlines():
        name, symref, kind, oid, peeled_kind, peeled = (line.split(" ") + [""] * 6)[:6]
        commit = oid if kind == "commit" else peeled if peeled_kind == "commit" else ""
        refs[name] = ServerRef(symref, commit)
    return refs


def _through_symrefs(updates: Sequence[RefUpdate], refs: dict[str, ServerRef]) -> list[RefUpdate]:
    """Each update under the name of the ref it writes: git updates the target of
    a symbolic ref pushed to (refs/heads/stable -> refs/heads/main moves main)."""
    resolved = []
    for update in updates:
        ref, seen = update.ref, set()
        while ref in refs and refs[ref].symref and ref not in seen:
            seen.add(ref)
            ref = refs[ref].symref
        resolved.append(update if ref == update.ref else RefUpdate(update.old, update.new, ref))
    return resolved


def server_trust(repo: Repo) -> tuple[tuple[bytes, str] | None, bool]:
    """The trust root the server's own git config names (`agentops.allowedSigners`,
    a path, relative to the repository), and whether only signed verdicts count
    (`agentops.requireSignature`; default: true when a trust root is named)."""
    from agentops_hooks.evidence import trust

    path = repo.config_value("agentops.allowedsigners")
    outside = None
    if path:
        outside = trust.read_outside(str(repo.git_dir / path), "agentops.allowedSigners")
    said = repo.git("config", "--type=bool", "--get", "agentops.requiresignature",
                    ok_codes=(0, 1)).decode().strip()
    return outside, (said == "true") if said else outside is not None


def pre_receive(repo: Repo, updates: Sequence[RefUpdate]) -> tuple[bool, str]:
    """(accept?, what to tell the pusher)."""
    out: list[str] = []
    refused = False
    refs = _server_refs(repo)
    updates = _through_symrefs(updates, refs)
    head = repo.resolve("HEAD")
    default_branch = repo.git("symbolic-ref", "-q", "HEAD", ok_codes=(0, 1)).decode().strip()
    if head is None and any(r.startswith(("refs/heads/", TAGS_PREFIX)) for r in refs) and not any(
            u.ref == default_branch and not u.deleted for u in updates):
        # The policy lives on the default branch: without one, every protected
        # ref would be judged by the built-in defaults, whatever the team set.
        return False, (f"agentops: refused: the server's HEAD names {default_branch or 'no branch'}"
                       ", which does not exist, so the policy (on the default branch) cannot be "
                       "read: an administrator points HEAD at the default branch on the server "
                       "(git symbolic-ref HEAD refs/heads/main)")
    config = config_file.Config() if head is None else gate_runner.policy_at(repo, head)
    outside, require = server_trust(repo)
    verdicts_tip = None
    for update in updates:
        problems: list[str] = []
        if not repo.valid_ref_name(update.ref):
            problems = [f"{update.ref!r} is not a valid ref name"]
        elif update.ref.startswith(REPLACE_PREFIX):
            problems = [f"{update.ref}: replace refs are refused: they would make every git "
                        "command on the server show other objects than the ones stored"]
        elif update.ref.startswith(NOTES_PREFIX):
            problems = check_notes_update(repo, update)
            if update.ref == VERDICTS_REF and not problems and not update.deleted:
                verdicts_tip = update.new
        out.extend(f"agentops: refused: {p}" for p in problems)
        refused |= bool(problems)
    protection = Protection(config.protected, default_branch)
    protected_tips = _protected_tips(refs, protection)
    for update in updates:
        if not protection.covers(update.ref):
            continue
        problem = update_problem(repo, update, default_branch)
        if problem:
            out.append(f"agentops: refused: {problem}")
            refused = True
            continue
        if update.created:
            # Everything not yet on a protected ref: commits already on an
            # unprotected branch were never checked.
            others = [tip for ref, tip in protected_tips.items() if ref != update.ref]
            revs = [update.new, "--not", *others] if others else [update.new]
            trusted = head  # a new ref has no history of its own: the default branch's
        else:
            revs = [f"{update.old}..{update.new}"]
            trusted = update.old
        # The policy and trust roots as the protected side holds them, never as pushed.
        policy = config if trusted is None or trusted == head else gate_runner.policy_at(repo, trusted)
        label = f"{update.ref} ({update.old[:12]}..{update.new[:12]})"
        report = check_range(repo, policy, revs, label, [g for g in policy.gates if g != "ratchet"],
                             verdicts_tip=verdicts_tip, trust_commit=trusted,
                             outside_signers=outside, require_signature=require,
                             notes_fix="push the verdict notes together with the commits "
                                       "(agentops notes push, or git push origin "
                                       "refs/notes/agentops/verdicts)")
        out.append(render_text(report))
        if "ratchet" in policy.gates:
            out.append("agentops: the ratchet needs a work tree and is not checked here "
                       "(check it in CI: agentops check --range)")
        refused |= not report.passed
    if refused:
        out.append("agentops: push refused. Fix the commits (or fetch and merge the notes) "
                   "and push again; agentops explain RULE says why each rule refuses and how to "
                   "satisfy it.")
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
