"""Factor IV, Enforce Least Privilege: an agent cannot widen its own envelope.

Two walls. What it may change: an agent's change may not add, modify,
delete or rename (from or to) a protected path — `privilege.protected_paths`
plus the allowed-signers file named by `verdict.allowed_signers` — unless a
judge listed in `privilege.human_judges` gave it a valid PASS verdict (gate
VII's checks: bound to this patch, not the author's, signed where required).
What may leave: the lines a change adds may not hold secrets (private keys,
cloud and API tokens, high-entropy values assigned to secret-sounding names).
A secret is reported by file, line and kind, never by its text.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.config import PYPROJECT
from agentops_hooks.config import ConfigError
from agentops_hooks.config import parse_toml
from agentops_hooks.findings import Finding
from agentops_hooks.gates._constraints import DIRECTORY as CONSTRAINTS
from agentops_hooks.gates.verdict import binds
from agentops_hooks.gates.verdict import candidates
from agentops_hooks.gates.verdict import judge_allowed
from agentops_hooks.gates.verdict import signature_problem
from agentops_hooks.gates.verdict import VerdictConfig
from agentops_hooks.gates.verdict import automated_problem
from agentops_hooks import secret_detection

if TYPE_CHECKING:
    from collections.abc import Sequence

    from unidiff.patch import PatchedFile
    from unidiff.patch import PatchSet

    from agentops_hooks.change import Change
    from agentops_hooks.change import ChangedPath
    from agentops_hooks.gates import Context

FACTOR = "IV"
GATE = "privilege"
PHASE = "bound"


class PrivilegeConfig(NamedTuple):
    """Gate IV: an agent cannot widen its own envelope, and leaks no secrets."""

    required_for: Audience = "agents"
    severity: Severity = "error"
    protected_paths: tuple[str, ...] = (
        ".agentops.toml", ".gitattributes", ".pre-commit-config.yaml", ".git-hooks/**",
        ".githooks/**", ".husky/**", "lefthook.yml", ".lefthook.yml",
        ".github/workflows/**", ".github/actions/**", ".gitlab-ci.yml", ".circleci/**",
        ".buildkite/**", "Jenkinsfile", "azure-pipelines.yml", "CODEOWNERS",
    )
    """Globs an agent may change only with a verdict from a human judge: what decides what is
    checked or how a diff reads (the allowed-signers file and pyproject.toml's [tool.agentops]
    table are added)."""
    human_judges: tuple[str, ...] = ()
    """Judges who are people: "Name <email>", an email, or a glob."""
    secrets: bool = True
    """Refuse added lines that look like secrets (keys, tokens, high-entropy assignments)."""


SETTINGS = PrivilegeConfig

MAX_LISTED = 20
"""Secret locations named in one finding; the rest are counted."""

_STATUS_WORDS = {"A": "added", "M": "modified", "D": "deleted", "T": "type changed", "C": "copied",
                 "P": "its [tool.agentops] policy table changed"}


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


# --- Protected paths ---------------------------------------------------------

def _glob_source(pattern: str) -> str:
    """A path glob as a regular expression's source, read as .gitignore reads
    one: `*` and `?` stay inside a directory, `**` crosses directories, `dir/`
    is everything under dir, a pattern with no other `/` matches at any depth,
    a leading `/` anchors it. A malformed character class is read literally
    (its `[` is a character), the rest of the glob still as a glob."""
    glob = pattern
    if glob.endswith("/"):
        glob += "**"
    if "/" not in glob.rstrip("/*"):
        glob = "**/" + glob
    glob = glob.lstrip("/")
    out: list[str] = []
    i = 0
    while i < len(glob):
        ch = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if glob.startswith("/**", i) and i + 3 == len(glob):
            out.append("(?:/.*)?")
            break
        if glob.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[" and (found := _class_source(glob, i)) is not None:
            cls, i = found
            out.append(cls)
        else:
            out.append(re.escape(ch))
        i += 1
    return "".join(out) + r"\Z"


def _class_source(glob: str, i: int) -> tuple[str, int] | None:
    """The bracket expression at glob[i] (`[a-z]`, `[!0-9]`, `[]x]`) as a class and
    the index of its `]`; None when it has no `]` or does not compile (`[z-a]`)."""
    end = glob.find("]", i + 2)
    if end == -1:
        return None
    body = glob[i + 1:end]
    if body.startswith("!"):
        body = "^" + body[1:]
    source = "[" + body.replace("\\", "\\\\").replace("[", "\\[") + "]"  # each a character
    try:
        re.compile(source)
    except re.error:
        return None
    return source, end


def protected_patterns(ctx: Context) -> tuple[str, ...]:
    """The configured protected globs, the constraints (a promoted constraint is switched
    off only with a human verdict) and the allowed-signers file, when set."""
    patterns = (*ctx.config.section(PrivilegeConfig).protected_paths, f"/{CONSTRAINTS}/**")
    signers = ctx.config.section(VerdictConfig).allowed_signers
    if signers:
        literal = re.sub(r"([*?\[])", r"[\1]", signers.removeprefix("./"))
        patterns = (*patterns, literal)
    return patterns


def is_protected(path: str, patterns: Sequence[str]) -> bool:
    """Does the repository-relative path match one of the protected globs?"""
    return glob_matcher(tuple(patterns)).match(path) is not None


@lru_cache(maxsize=64)
def glob_matcher(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One regular expression for all the globs: one match per path, not one per glob."""
    if not patterns:
        return re.compile(r"(?!)")
    return re.compile("|".join(f"(?s:{_glob_source(p)})" for p in patterns))


@lru_cache(maxsize=64)
def _directory_patterns(patterns: tuple[str, ...]) -> tuple[str, ...]:
    """The directories protected globs lie in, as globs (`.github/workflows/**`:
    `/.github` and `/.github/workflows`), up to the first wildcard."""
    out: list[str] = []
    for pattern in patterns:
        glob = pattern + "**" if pattern.endswith("/") else pattern
        anchored = "/" in glob.rstrip("/*")
        parts = glob.lstrip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            directory = "/".join(parts[:i])
            if any(ch in directory for ch in "*?["):
                break
            out.append("/" + directory if anchored else directory)
    return tuple(dict.fromkeys(out))


def touched_protected(paths: Sequence[ChangedPath], patterns: Sequence[str]) -> list[ChangedPath]:
    """The changed paths that touch a protected path; a rename, from or to one.

    A changed path is never a directory, so one at a protected directory's own
    path (a symlink `.github -> tools`, a file, a submodule) stands in for that
    directory: whatever follows the link on disk (`uses: ./.github/actions/x`)
    then reads files no protected glob names. It is a protected change too.
    """
    every = (*patterns, *_directory_patterns(tuple(patterns)))

    def protected(path: str | None) -> bool:
        return path is not None and is_protected(path, every)

    return [p for p in paths if protected(p.path) or (p.status == "R" and protected(p.old_path))]


def policy_table_touched(change: Change, ctx: Context) -> list[ChangedPath]:
    """pyproject.toml, when the change alters its [tool.agentops] table: that
    table is policy, the rest of the file is not (so only the table is judged)."""
    if not any(PYPROJECT in (p.path, p.old_path) for p in change.paths):
        return []
    before = _agentops_table(ctx.store.file_at(change.base, PYPROJECT))
    if before == _agentops_table(change.file_after(PYPROJECT)):
        return []
    from agentops_hooks.change import ChangedPath

    return [ChangedPath("P", PYPROJECT)]


def _agentops_table(raw: bytes | None) -> object:
    """The [tool.agentops] table of a pyproject.toml; a file TOML cannot read is
    its bytes, so that any edit of it counts as a change of the table."""
    if not raw:
        return None
    try:
        tool = parse_toml(raw, PYPROJECT).get("tool")
    except ConfigError:
        return raw
    return tool.get("agentops") if isinstance(tool, dict) else None


def _describe(p: ChangedPath) -> str:
    if p.status == "R" and p.old_path is not None:
        return f"{p.old_path} (renamed to {p.path})"
    return f"{p.path} ({_STATUS_WORDS.get(p.status, 'changed')})"


def is_human_judge(judge: Identity, human_judges: Sequence[str], config: VerdictConfig) -> bool:
    """Is the judge listed in `privilege.human_judges` (matched like `verdict.judges`)?"""
    if not human_judges:
        return False
    return judge_allowed(judge, _as_judges(config, tuple(human_judges)))


@lru_cache(maxsize=8)
def _as_judges(config: VerdictConfig, judges: tuple[str, ...]) -> VerdictConfig:
    return config._replace(judges=judges)


def _people(change: Change, config: VerdictConfig) -> set[str]:
    """The author, committer and co-authors as email keys, aliases included.

    Gate VII keeps the same rule in a private helper; it is small enough to say twice.
    """
    keys = {verdicts.email_key(i.email)
            for i in (change.author, change.committer, *change.co_authors)
            if i is not None and i.email}
    for group in config.aliases:
        group_keys = {verdicts.email_key(e) for e in group}
        if keys & group_keys:
            keys |= group_keys
    return keys


def human_verdict(change: Change, ctx: Context) -> tuple[bool, list[str]]:
    """Does a listed human judge admit this change? And why each other verdict does not."""
    human_judges = ctx.config.section(PrivilegeConfig).human_judges
    config = ctx.config.section(VerdictConfig)
    offered, _ = candidates(change, ctx)  # malformed trailers: gate VII reports them
    people = _people(change, config)
    admitted = refused = False
    reasons: list[str] = []
    for c in offered:
        v = c.verdict
        who = f"{v.judge} ({c.where})"
        if not is_human_judge(v.judge, human_judges, config):
            reasons.append(f"{who} is not in privilege.human_judges")
        elif not binds(v, change):
            reasons.append(f"{who} is bound to patch {v.patch_id}, not this one")
        elif not v.admits:
            refused = True
            reasons.append(f"{who} gave {v.status}")
        elif verdicts.email_key(v.judge.email) in people:
            reasons.append(f"{who} is the author, committer or a co-author of this change")
        elif (problem := signature_problem(c, ctx) or automated_problem(c, ctx, GATE)) \
                is not None:
            reasons.append(f"{who}: {problem}")
        else:
            admitted = True
    return admitted and not refused, reasons


def check_protected_paths(change: Change, ctx: Context, who: str) -> list[Finding]:
    touched = touched_protected(change.paths, protected_patterns(ctx))
    touched += policy_table_touched(change, ctx)
    if not touched:
        return []
    admitted, reasons = human_verdict(change, ctx)
    if admitted:
        return []
    human_judges = ctx.config.section(PrivilegeConfig).human_judges
    message = (
        f"{who} touches protected paths: {', '.join(map(_describe, touched))}. Changing them "
        "widens what agents may do, so it needs a PASS verdict from a human judge listed in "
        f"privilege.human_judges, bound to patch {change.patch_id}."
    )
    if not human_judges:
        message += (" privilege.human_judges lists no one, so no verdict can admit it: "
                    "a human adds the reviewers under [privilege] human_judges in .agentops.toml.")
    if reasons:
        message += " Not counted: " + "; ".join(reasons) + "."
    moved = "leave the protected paths to a human"
    if change.commit is None:
        names = [n for p in touched for n in (p.old_path if p.status == "R" else None, p.path) if n]
        paths = " ".join(map(_shell_quote, names))
        moved = f"unstage them (git restore --staged -- {paths}) and leave them to a human"
    return [_finding(
        change, "privilege-protected-path", message,
        f'agentops verdict pass --judge "Human Name <human@example.com>" {change.selector}   '
        f"# run by a human judge listed in privilege.human_judges, then {change.retry}; "
        f"or {moved}",
    )]


def _shell_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


# --- Secrets in added lines (what a secret looks like: secret_detection.py) ---

SECRET_HINTS = _HINTS = secret_detection.SECRET_HINTS
secret_kinds = secret_detection.secret_kinds

def secrets_in(patched: PatchedFile) -> list[tuple[int, str]]:
    """(line number, kind) of every secret in a file's added lines."""
    found: list[tuple[int, str]] = []
    for hunk in patched:
        lines = list(hunk)
        for i, line in enumerate(lines):
            if not line.is_added:
                continue
            after = lines[i + 1] if i + 1 < len(lines) else None
            # Whitespace around a key's lines (a form feed after its header) hides no key.
            following = after.value.strip() if after is not None and after.is_added else None
            for kind in secret_kinds(line.value.rstrip(), following):
                found.append((line.target_line_no or 0, kind))
    return found


def _whole_patch(change: Change) -> PatchSet | None:
    """The change's patch, or None when no line of it holds a hint of a secret.

    In a range check the patch stream kept each judged commit's hinted files
    (only those whose added lines hold a hint word, or none), so no commit is
    diffed again; a commit or staged change on its own reads its diff. Either
    is parsed only when a hint word appears at all (most diffs hold none).
    """
    kept = change.kept_patch()
    if kept is None:
        return change.patch if _hinted(change.diff) else None
    return _parse(kept) if _hinted(kept) else None


def _hinted(raw: bytes) -> bool:
    lowered = raw.lower()
    return any(hint.encode() in lowered for hint in _HINTS)


def _parse(raw: bytes) -> PatchSet:
    from unidiff.patch import PatchSet  # only for the rare patch that hints at a secret

    return PatchSet(raw.decode("utf-8", "replace"))


def check_secrets(change: Change, ctx: Context, who: str) -> list[Finding]:
    patch = _whole_patch(change)
    if patch is None:
        return []
    located = [f"{patched.path}:{line} ({kind})"
               for patched in patch if not patched.is_binary_file
               for line, kind in secrets_in(patched)]
    if not located:
        return []
    listed = ", ".join(located[:MAX_LISTED])
    if len(located) > MAX_LISTED:
        listed += f" and {len(located) - MAX_LISTED} more"
    message = (f"{who} adds lines that look like secrets: {listed}. The values are not shown "
               "here; a secret in a commit leaves with every clone and push.")
    if change.commit is None:
        fix = ("take the secret out of those lines and read it at run time (an environment "
               f"variable or a secret manager), git add the files, then {change.retry}; "
               "rotate it if it was ever real. ")
    else:
        fix = (f"rewrite the history without it (git rebase -i {(change.base or '--root')[:12]}, "
               "edit the file, git commit --amend) and rotate the secret: it is in the "
               "repository's history. ")
    fix += ('A false positive: use an obvious placeholder ("<your-key>", "${VAR}"), or set '
            "[privilege] secrets = false in .agentops.toml.")
    return [_finding(change, "privilege-secret", message, fix)]


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate IV: protected paths without a human verdict, secrets in added lines."""
    config = ctx.config.section(PrivilegeConfig)
    if not ctx.applies(config.required_for):
        return []
    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    findings = check_protected_paths(change, ctx, who)
    if config.secrets:
        findings += check_secrets(change, ctx, who)
    return findings
