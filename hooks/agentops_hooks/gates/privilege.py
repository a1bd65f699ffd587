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

import math
import re
from collections import Counter
from functools import lru_cache
from typing import NamedTuple
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.config import PYPROJECT
from agentops_hooks.config import ConfigError
from agentops_hooks.config import parse_toml
from agentops_hooks.findings import Finding
from agentops_hooks.gates.verdict import candidates
from agentops_hooks.gates.verdict import judge_allowed
from agentops_hooks.gates.verdict import signature_problem
from agentops_hooks.gates.verdict import VerdictConfig

if TYPE_CHECKING:
    from collections.abc import Sequence

    from unidiff.patch import PatchedFile
    from unidiff.patch import PatchSet

    from agentops_hooks.change import Change
    from agentops_hooks.change import ChangedPath
    from agentops_hooks.gates import Context
    from agentops_hooks.gates import Evidence

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

MIN_SECRET_LENGTH = 20
"""A value assigned to a secret-sounding name must be at least this long..."""
MIN_ENTROPY = 3.5
"""...and have at least this Shannon entropy, in bits per character."""
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
    a leading `/` anchors it. A malformed character class is read literally."""
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
        elif ch == "[" and (end := glob.find("]", i + 2)) != -1:
            body = glob[i + 1:end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end
        else:
            out.append(re.escape(ch))
        i += 1
    source = "".join(out) + r"\Z"
    if "[" in source:  # the one part that can be malformed: only then compile to see
        try:
            re.compile(source)
        except re.error:
            return re.escape(glob) + r"\Z"
    return source


def protected_patterns(ctx: Context) -> tuple[str, ...]:
    """The configured protected globs plus the allowed-signers file, when set."""
    patterns = ctx.config.section(PrivilegeConfig).protected_paths
    signers = ctx.config.section(VerdictConfig).allowed_signers
    if signers:
        literal = re.sub(r"([*?\[])", r"[\1]", signers.removeprefix("./"))
        patterns = (*patterns, literal)
    return patterns


def is_protected(path: str, patterns: Sequence[str]) -> bool:
    """Does the repository-relative path match one of the protected globs?"""
    return _any_glob(tuple(patterns)).match(path) is not None


@lru_cache(maxsize=64)
def _any_glob(patterns: tuple[str, ...]) -> re.Pattern[str]:
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


def is_human_judge(email: str, human_judges: Sequence[str], config: VerdictConfig) -> bool:
    """Is the judge listed in `privilege.human_judges` (matched like `verdict.judges`)?"""
    if not human_judges:
        return False
    judges = _as_judges(config, tuple(human_judges))
    return judge_allowed(Identity("", email), judges)


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
        if not is_human_judge(v.judge.email, human_judges, config):
            reasons.append(f"{who} is not in privilege.human_judges")
        elif v.patch_id != change.patch_id:
            reasons.append(f"{who} is bound to patch {v.patch_id}, not this one")
        elif not v.admits:
            refused = True
            reasons.append(f"{who} gave {v.status}")
        elif verdicts.email_key(v.judge.email) in people:
            reasons.append(f"{who} is the author, committer or a co-author of this change")
        elif (problem := signature_problem(c, ctx)) is not None:
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


# --- Secrets in added lines ---------------------------------------------------

class _Patterns:
    """The secret detectors, compiled on first use: most changes hold no hint
    word, and compiling them would cost every commit a few milliseconds."""

    def __init__(self) -> None:
        # Each kind: its name in findings, the pattern (group "body" is the random
        # part), and how random the body must look: "any" (not a placeholder), or
        # "mixed" (also upper and lower case letters and digits, for the short
        # `sk-` prefixes that ordinary kebab-case words could follow).
        self.token_kinds: tuple[tuple[str, re.Pattern[str], str], ...] = (
            ("AWS access key id", re.compile(
                r"(?<![A-Za-z0-9])(?:AKIA|ASIA)(?P<body>[A-Z0-9]{16})(?![A-Za-z0-9])"), "any"),
            ("GitHub token", re.compile(
                r"(?<![A-Za-z0-9_])gh[pousr]_(?P<body>[A-Za-z0-9]{36,255})(?![A-Za-z0-9_])"), "any"),
            ("GitHub token", re.compile(
                r"(?<![A-Za-z0-9_])github_pat_(?P<body>[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"), "any"),
            ("Slack token", re.compile(r"(?<![A-Za-z0-9])xox[baprs]-(?P<body>[A-Za-z0-9-]{10,})"), "any"),
            ("Slack webhook URL", re.compile(
                r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<body>[A-Za-z0-9_/+-]{20,})"),
             "any"),
            ("Anthropic API key", re.compile(
                r"(?<![A-Za-z0-9_-])sk-ant-(?P<body>[A-Za-z0-9_-]{20,})"), "mixed"),
            ("OpenAI API key", re.compile(
                r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?P<body>[A-Za-z0-9_-]{20,})"),
             "mixed"),
        )
        self.private_key = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
        self.aws_secret = re.compile(
            r"(?i)aws[\w.-]{0,20}secret[\w.-]{0,20}[\"']?\s{0,3}(?::=|=>|=|:)\s{0,3}[\"']?"
            r"(?P<body>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
        self.assignment = re.compile(
            r"(?i)(?:key|secret|token|passw(?:or)?d|pwd)(?P<tail>[A-Za-z0-9_.-]{0,40})[\"']?\s{0,3}"
            r"(?::\s{0,3}[A-Za-z_][\w.\[\], |]{0,40}?\s{0,3}=(?!=)|:=|=>|==?|:)\s{0,3}"
            r"(?P<value>\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'|`[^`\n]{0,500}`|[^\s\"'`,;()\[\]{}<>]{1,500})")
        self.dotted_name = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    return _Patterns()


# A line worth a closer look holds one of these (lower-cased); most lines hold none.
SECRET_HINTS = _HINTS = ("key", "secret", "token", "passw", "pwd", "akia", "asia", "ghp_", "gho_", "ghu_",
          "ghs_", "ghr_", "github_pat_", "xox", "hooks.slack", "sk-")

# Names that hold a reference to a secret, not the secret (token_url, key_file...).
_REFERENCE_SUFFIXES = ("url", "uri", "path", "file", "dir", "name", "id", "type", "env", "var",
                       "field", "header", "prefix", "length", "size", "count")
_PLACEHOLDER_WORDS = ("example", "placeholder", "changeme", "change_me", "change-me", "your_",
                      "your-", "yourkey", "redacted", "dummy", "fake", "sample", "xxxx", "****",
                      "...", "<", "${", "{{", "%(")


def shannon_entropy(text: str) -> float:
    """Bits per character of the text's own character distribution."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def is_placeholder(value: str) -> bool:
    """An obvious stand-in: "xxxx", "<your-key>", "${VAR}", "changeme", one repeated char..."""
    text = value.strip().strip("\"'`")
    lower = text.lower()
    if not text or text.startswith(("$", "%")) or any(w in lower for w in _PLACEHOLDER_WORDS):
        return True
    return len(set(text.replace("-", "").replace("_", "").replace("/", ""))) <= 1


def _random_looking(body: str, level: str = "alnum") -> bool:
    """Not a placeholder; "alnum": letters and digits; "mixed": upper, lower and digits."""
    if is_placeholder(body):
        return False
    if level == "any":
        return True
    digits = any(c.isdigit() for c in body)
    if level == "mixed":
        return digits and any(c.isupper() for c in body) and any(c.islower() for c in body)
    return digits and any(c.isalpha() for c in body)


def _assigned_secret(text: str) -> bool:
    patterns = _patterns()
    for m in patterns.assignment.finditer(text):
        if m.group("tail").lower().endswith(_REFERENCE_SUFFIXES):
            continue
        raw = m.group("value")
        quoted = raw[:1] in "\"'`"
        if not quoted and text[m.end():m.end() + 1] in ("(", "["):
            continue  # a call or a subscript: code that fetches the secret
        value = raw[1:-1] if quoted else raw
        if (len(value) < MIN_SECRET_LENGTH or any(c.isspace() for c in value) or "://" in value
                or (not quoted and patterns.dotted_name.fullmatch(value))
                or not _random_looking(value)):
            continue
        if shannon_entropy(value) >= MIN_ENTROPY:
            return True
    return False


def secret_kinds(text: str, next_line: str | None = None) -> list[str]:
    """The kinds of secret an added line holds (empty: none). `next_line` is the
    added line after it, which shows whether a private key block is a real one."""
    lower = text.lower()
    if not any(hint in lower for hint in _HINTS):
        return []
    patterns = _patterns()
    kinds: list[str] = []
    header = patterns.private_key.search(text)
    if header is not None:
        rest = text[header.end():].replace("\\n", "").strip(" \t\"'`,;+")
        shown = rest or (next_line or "").strip(" \t\"'`,;+")
        if shown and not shown.startswith("-----END") and not is_placeholder(shown):
            kinds.append("private key")
    for kind, pattern, level in patterns.token_kinds:
        if kind not in kinds and any(_random_looking(m.group("body"), level)
                                     for m in pattern.finditer(text)):
            kinds.append(kind)
    if any(_random_looking(m.group("body"), "any") for m in patterns.aws_secret.finditer(text)):
        kinds.append("AWS secret access key")
    if not kinds and _assigned_secret(text):
        kinds.append("high-entropy value assigned to a secret-like name")
    return kinds


def secrets_in(patched: PatchedFile) -> list[tuple[int, str]]:
    """(line number, kind) of every secret in a file's added lines."""
    found: list[tuple[int, str]] = []
    for hunk in patched:
        lines = list(hunk)
        for i, line in enumerate(lines):
            if not line.is_added:
                continue
            after = lines[i + 1] if i + 1 < len(lines) else None
            following = after.value.rstrip("\r\n") if after is not None and after.is_added else None
            for kind in secret_kinds(line.value.rstrip("\r\n"), following):
                found.append((line.target_line_no or 0, kind))
    return found


def _whole_patch(change: Change, ctx: Context) -> PatchSet | None:
    """The change's patch, or None when no line of it holds a hint of a secret.

    In a range check every commit's diff comes from one git process; the raw
    diffs are kept per Evidence and parsed only for the commits this gate
    reads, and only when a hint word appears at all (most diffs hold none).
    """
    store = ctx.store
    raw: bytes | None = change.kept_patch()
    if raw is not None:  # the range's patch stream kept exactly the hinted commits
        return _parse(raw) if raw else None
    if change.commit is not None and store.batch:
        diffs = _RANGE_DIFFS.get(store)
        if diffs is None:
            pairs = [(c.commit, c.base) for c in store.batch if c.commit is not None]
            diffs = _RANGE_DIFFS[store] = dict.fromkeys((c for c, _ in pairs), b"")
            diffs.update(store.repo.diff_tree_many(pairs, ()))
        raw = diffs.pop(change.commit, None)  # each commit is read once: free it
    if raw is None:
        raw = change.diff
    lowered = raw.lower()
    if not any(hint.encode() in lowered for hint in _HINTS):
        return None
    if raw is change.__dict__.get("diff"):
        return change.patch
    return _parse(raw)


def _parse(raw: bytes) -> PatchSet:
    from unidiff.patch import PatchSet  # only for the rare patch that hints at a secret

    return PatchSet(raw.decode("utf-8", "replace"))


_RANGE_DIFFS: WeakKeyDictionary[Evidence, dict[str, bytes]] = WeakKeyDictionary()


def check_secrets(change: Change, ctx: Context, who: str) -> list[Finding]:
    patch = _whole_patch(change, ctx)
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
