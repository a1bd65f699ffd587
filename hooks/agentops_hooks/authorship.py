"""Decide whether a commit was written by a coding agent.

The hooks call :func:`detect_agent` with the identities and trailers of a
commit (staged or already made) and, at commit time, the environment.  Every
signal found comes back as an :class:`AgentSignal` carrying a human-readable
reason; an empty list means "no sign of an agent".

Built-in knowledge lives in one data file, ``agents.json`` (see
:mod:`agentops_hooks.agent_catalog`); adding an agent is an entry there.  Users
add agents of their own with ``[[agents.known]]`` entries of the same shape,
and identities, patterns, environment variables and trailer keys through
:class:`AgentRules`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from agentops_hooks.agent_catalog import Catalog
from agentops_hooks.agent_catalog import Marker
from agentops_hooks.agent_catalog import catalog

__all__ = [
    "AgentRules",
    "AgentSignal",
    "Identity",
    "co_authors",
    "detect_agent",
]

CO_AUTHORED_BY = "Co-authored-by"
UNREADABLE = "unreadable commit"
CONFIGURED_AGENT = "configured agent"

# "Name <email>" optionally followed by git's "<unix-seconds> <+hhmm>".
_IDENT_RE = re.compile(
    r"(?P<name>[^<>\r\n]*)<(?P<email>[^<>\r\n]*)>"
    r"(?:\s+\d+(?:\s+[+-]\d{4})?)?"
)
# A bare "local@domain", optionally followed by the same git timestamp.
_BARE_EMAIL_RE = re.compile(
    r"(?P<email>[^\s<>@]+@[^\s<>]+)"
    r"(?:\s+\d+(?:\s+[+-]\d{4})?)?"
)


class Identity(NamedTuple):
    """A git identity: the ``Name <email>`` of an author, committer or co-author."""

    name: str
    email: str

    @classmethod
    def parse(cls, text: str) -> Identity | None:
        """Parse ``Name <email>``, a git ident line or a bare ``email@host`` (cached)."""
        end = text.rfind(">") + 1
        if 0 < end < len(text) and _GIT_DATE_TAIL.fullmatch(text, end):
            text = text[:end]  # the timestamp changes on every commit: cache without it
        return _parse_identity(text)

    @classmethod
    def _parse_uncached(cls, text: str) -> Identity | None:
        """Parse ``Name <email>``, a git ident line or a bare ``email@host``.

        Accepted forms (surrounding and repeated whitespace is tolerated; the
        name's inner whitespace is collapsed, a pair of surrounding double
        quotes around the name is dropped)::

            Jane Doe <jane@example.com>
            Jane Doe <jane@example.com> 1700000000 +0100
            <jane@example.com>
            jane@example.com

        Returns ``None`` for empty input, an empty or blank email (``Name <>``),
        unbalanced or repeated angle brackets, a name without an email, and
        anything spanning several lines.
        """
        stripped = text.strip()
        if not stripped:
            return None
        match = _IDENT_RE.fullmatch(stripped)
        if match is not None:
            email = match.group("email").strip()
            if not email or any(ch.isspace() for ch in email):
                return None
            name = " ".join(match.group("name").split())
            if len(name) >= 2 and name[0] == name[-1] == '"':
                name = " ".join(name[1:-1].split())
            return cls(name, email)
        bare = _BARE_EMAIL_RE.fullmatch(stripped)
        if bare is not None:
            return cls("", bare.group("email"))
        return None

    def __str__(self) -> str:
        if self.name:
            return f"{self.name} <{self.email}>"
        return f"<{self.email}>"

    @property
    def key(self) -> str:
        """The email normalised for comparisons: stripped and lower-cased."""
        return self.email.strip().lower()


_GIT_DATE_TAIL = re.compile(r"\s+\d+(?:\s+[+-]\d{4})?\s*")


@functools.lru_cache(maxsize=4096)
def _parse_identity(text: str) -> Identity | None:
    return Identity._parse_uncached(text)


class AgentSignal(NamedTuple):
    """One piece of evidence that an agent wrote the commit."""

    agent: str
    reason: str


def _as_str_tuple(field: str, value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        raise TypeError(f"AgentRules.{field} must be a sequence of strings, not a string")
    if not isinstance(value, Sequence):
        raise TypeError(f"AgentRules.{field} must be a sequence of strings")
    items = tuple(value)
    for item in items:
        if not isinstance(item, str):
            raise TypeError(f"AgentRules.{field} entries must be strings, got {item!r}")
    return items


@functools.lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _split_env(spec: str) -> tuple[str, str | None]:
    """``"VAR"`` -> ``("VAR", None)``; ``"VAR=value"`` -> ``("VAR", "value")``."""
    var, sep, value = spec.partition("=")
    return var.strip(), (value if sep else None)


@functools.lru_cache(maxsize=1024)
def _trailer_key(key: str) -> str:
    """Normalise a trailer key: stripped, lower-cased, trailing colon dropped."""
    key = key.strip()
    if key.endswith(":"):
        key = key[:-1].rstrip()
    return key.lower()


class _RuleLists(NamedTuple):
    emails: tuple[str, ...]
    patterns: tuple[str, ...]
    env: tuple[str, ...]
    trailers: tuple[str, ...]


class AgentRules(_RuleLists):
    """Extra identities from the user's config, added to the built-in ones.

    A regex that does not compile raises ``ValueError`` on construction (a
    bare string instead of a sequence raises ``TypeError``), so a broken
    config is reported instead of silently letting agent commits through.
    Blank emails, blank trailer keys and env entries without a variable name
    can match nothing and are ignored.  Lists are accepted and stored as
    tuples.

    - emails: exact emails, case-insensitive -> agent "configured agent".
    - patterns: regexes, ``re.search`` with IGNORECASE, against ``Name <email>``
      of the author, the committer and each co-author.
    - env: ``"VAR"`` (set, non-empty and not ``"0"``) or ``"VAR=value"`` (exact).
    - trailers: trailer keys (case-insensitive) whose presence marks an agent.
    """

    __slots__ = ()

    def __new__(cls, emails: Sequence[str] = (), patterns: Sequence[str] = (),
                env: Sequence[str] = (), trailers: Sequence[str] = ()) -> AgentRules:
        lists = [_as_str_tuple(name, value) for name, value in
                 (("emails", emails), ("patterns", patterns), ("env", env), ("trailers", trailers))]
        for pattern in lists[1]:
            try:
                _compile(pattern)
            except re.error as exc:
                raise ValueError(f"invalid agent pattern {pattern!r}: {exc}") from exc
        return super().__new__(cls, *lists)


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------

AI_NOTES_REF = "refs/notes/ai"
"""Where git-ai keeps its authorship logs (Git AI Standard v3.0.0)."""

_CO_AUTHOR_KEY = "co-authored-by"


def _co_author_lines(message: str, low: str) -> list[str]:
    """The values of `Co-authored-by:` lines in any paragraph (any case, after
    indentation, `>` or a list bullet): git's trailer block is for admission, not
    for suspicion, so a paragraph after it, or stray text, must not hide one."""
    found = []
    pos = low.find(_CO_AUTHOR_KEY)
    while pos >= 0:
        start = low.rfind("\n", 0, pos) + 1
        end = low.find("\n", pos)
        rest = message[pos + len(_CO_AUTHOR_KEY):end if end >= 0 else len(message)].lstrip(" \t")
        if not low[start:pos].strip(" \t>*-") and rest.startswith(":") and rest[1:].strip():
            found.append(rest[1:].strip())
        pos = low.find(_CO_AUTHOR_KEY, pos + len(_CO_AUTHOR_KEY))
    return found


def co_authors(trailers: Sequence[tuple[str, str]]) -> list[Identity]:
    """Identities of the ``Co-authored-by`` trailers, in message order.

    The key is matched case-insensitively; values that do not parse as an
    identity are skipped.
    """
    wanted = _trailer_key(CO_AUTHORED_BY)
    found: list[Identity] = []
    for key, value in trailers:
        if _trailer_key(key) == wanted:
            ident = Identity.parse(value)
            if ident is not None:
                found.append(ident)
    return found


def _cited(marker: Marker, what: str) -> str:
    return f"{what} [rule {marker.rule}]"


@functools.lru_cache(maxsize=4096)
def _identity_signals(ident: Identity, role: str, cat: Catalog) -> tuple[AgentSignal, ...]:
    """Signals of one identity (cached: a range repeats the same people)."""
    name = ident.name.strip()
    email = ident.email.strip()
    hits: list[tuple[Marker, str]] = []
    hits += [(m, f"email {email}") for m in cat.emails.get(ident.key, ())]
    hits += [(m, f"name '{name}'") for m in cat.names.get(name.lower(), ())]
    for pattern, m in cat.patterns:
        field = email if m.kind == "email-regex" else name
        if pattern.fullmatch(field):
            hits.append((m, f"email {email}" if m.kind == "email-regex" else f"name '{name}'"))
    hits += [(m, f"name '{name}'") for m in cat.suffixes if name.lower().endswith(m.value.lower())]
    signals = []
    for m, what in hits:
        if role not in m.roles:
            continue
        subject = f"{CO_AUTHORED_BY} '{ident}'" if role == "co-author" else f"{role} {what}"
        signals.append(AgentSignal(m.agent, _cited(m, subject)))
    return tuple(signals)


def _message_signals(message: str, trailers: Sequence[tuple[str, str]],
                     cat: Catalog) -> list[AgentSignal]:
    """Markers anywhere in the message: co-author lines, stamps, session trailers."""
    found: list[AgentSignal] = []
    low = message.lower()  # each regex is tried only on a message that holds its words
    values = [v for k, v in trailers if _trailer_key(k) == _CO_AUTHOR_KEY]
    values += _co_author_lines(message, low)
    for value in values:
        ident = Identity.parse(value)
        if ident is not None:
            found.extend(_identity_signals(ident, "co-author", cat))
    pairs = [(k, v) for k, v in trailers if _trailer_key(k) in cat.session_keys]
    if any(key in low for key in cat.session_keys):
        pairs += [(m.group("key"), m.group("value")) for m in cat.session_re.finditer(message)]
    for key, value in pairs:
        for marker in cat.session_keys[_trailer_key(key)]:
            found.append(AgentSignal(marker.agent, _cited(marker, f"{marker.value} trailer '{value.strip()}'")))
    claimed: set[int] = set()  # lines a tool's own stamp matched: the generic one adds nothing
    present = {h for h in cat.hints if h in low}
    for pattern, marker in cat.lines:
        if marker.hints and present.isdisjoint(marker.hints):
            continue
        for hit in pattern.finditer(message):
            start = message.rfind("\n", 0, hit.start()) + 1
            if "agent" in pattern.groupindex and start in claimed:
                continue
            claimed.add(start)
            end = message.find("\n", hit.end())
            line = message[start:end if end >= 0 else len(message)].strip()
            agent = hit.groupdict().get("agent") or marker.agent
            found.append(AgentSignal(agent, _cited(marker, f"message line '{line}'")))
    subject = low.lstrip().split("\n", 1)[0]
    for marker in cat.prefixes:
        if subject.startswith(marker.value.lower()):
            found.append(AgentSignal(marker.agent, _cited(marker, f"subject starts '{marker.value}'")))
    for key, value in trailers:  # generic disclosure trailers: git's trailer block only
        for marker in cat.trailer_values.get(_trailer_key(key), ()):
            agent = value.strip() or marker.agent
            if marker.value.lower() == "agent":
                agent = (value.split() or [marker.agent])[0]
            found.append(AgentSignal(agent, _cited(marker, f"{marker.value} trailer '{value.strip()}'")))
    return found


def _env_signals(env: Mapping[str, str], cat: Catalog) -> list[AgentSignal]:
    found = []
    for m in cat.env:
        var, _, expected = m.value.partition("=")
        current = env.get(var)
        if m.kind == "env-equals" and current == expected:
            found.append(AgentSignal(m.agent, _cited(m, f"environment {var}={expected}")))
        elif m.kind == "env-set" and current is not None and current.strip():
            # The value is deliberately left out: it might be a secret.
            found.append(AgentSignal(m.agent, _cited(m, f"environment {var} is set")))
    return found


def note_signals(note: bytes | str, cat: Catalog) -> list[AgentSignal]:
    """What a git-ai authorship note (refs/notes/ai) says about a commit.

    `note` is the note's bytes, or a string saying why it cannot be read (its
    blob is missing). A note that cannot be read counts as an agent's: it is
    there to say who wrote the lines, and a broken one must not clear a commit.
    """
    unreadable = "refs/notes/ai note cannot be read ({}): counted as an agent's [rule git-ai.unreadable]"
    if isinstance(note, str):
        return [AgentSignal("git-ai", unreadable.format(note))]
    import json

    try:
        text = note.decode("utf-8")
        attestation, divider, meta = ("", "---", text[4:]) if text.startswith("---\n") \
            else text.partition("\n---\n")
        metadata = json.loads(meta) if divider else None
        if not isinstance(metadata, dict) or \
                not str(metadata.get("schema_version", "")).startswith("authorship/"):
            raise ValueError("not a git-ai authorship log")
        records = {**(metadata.get("prompts") or {}), **(metadata.get("sessions") or {})}
    except (UnicodeDecodeError, ValueError, AttributeError, TypeError) as e:
        return [AgentSignal("git-ai", unreadable.format(e))]
    found = []
    for line in attestation.split("\n"):
        if not line.startswith("  ") or line[2:3].isspace():
            continue
        key = line.split()[0].split("::")[0] if line.split() else ""
        if not key or key.startswith("h_"):
            continue  # a known human's lines
        agent_id = (records.get(key) or {}).get("agent_id") or {}
        tool = str(agent_id.get("tool", "") if isinstance(agent_id, dict) else "") or "unknown"
        marker = cat.tools.get(tool.lower())
        agent = marker.agent if marker else f"{tool} (git-ai)"
        rule = marker.rule if marker else "git-ai.tool"
        found.append(AgentSignal(agent, f"refs/notes/ai: git-ai attributes lines to {tool} [rule {rule}]"))
    return found


def _configured_identity_signals(
    ident: Identity, role: str, rules: AgentRules
) -> list[AgentSignal]:
    if role == CO_AUTHORED_BY:
        subject = f"{CO_AUTHORED_BY} trailer '{ident}'"
    else:
        subject = f"{role} '{ident}'"
    signals: list[AgentSignal] = []
    for email in rules.emails:
        if email.strip() and ident.key == email.strip().lower():
            signals.append(
                AgentSignal(CONFIGURED_AGENT, f"{subject}: configured agent email {email.strip()}")
            )
    text = str(ident)
    for pattern in rules.patterns:
        if _compile(pattern).search(text):
            signals.append(
                AgentSignal(CONFIGURED_AGENT, f"{subject} matches configured pattern '{pattern}'")
            )
    return signals


def _configured_env_signal(spec: str, env: Mapping[str, str]) -> AgentSignal | None:
    var, expected = _split_env(spec)
    current = env.get(var) if var else None
    if current is None:
        return None
    if expected is None:
        if current.strip() and current.strip() != "0":
            return AgentSignal(CONFIGURED_AGENT, f"environment {var} is set (configured)")
    elif current == expected:
        return AgentSignal(CONFIGURED_AGENT, f"environment {var}={expected} (configured)")
    return None


def _configured_signals(
    people: Sequence[tuple[Identity, str]], trailers: Sequence[tuple[str, str]],
    env: Mapping[str, str] | None, rules: AgentRules,
) -> list[AgentSignal]:
    found: list[AgentSignal] = []
    for ident, role in people:
        found.extend(_configured_identity_signals(ident, role, rules))
    co_key = _trailer_key(CO_AUTHORED_BY)
    configured_keys = {
        _trailer_key(k): k.strip().rstrip(":").strip() for k in rules.trailers if _trailer_key(k)
    }
    for key, value in trailers:
        norm = _trailer_key(key)
        if norm == co_key:
            co_author = Identity.parse(value)
            if co_author is not None:
                found.extend(_configured_identity_signals(co_author, CO_AUTHORED_BY, rules))
        if norm in configured_keys:
            found.append(AgentSignal(
                CONFIGURED_AGENT, f"{configured_keys[norm]} trailer '{value.strip()}' (configured)"))
    if env is not None:
        for spec in sorted(rules.env, key=lambda s: _split_env(s)[0]):
            signal = _configured_env_signal(spec, env)
            if signal is not None:
                found.append(signal)
    return found


def detect_agent(
    author: Identity | None,
    committer: Identity | None,
    trailers: Sequence[tuple[str, str]],
    env: Mapping[str, str] | None = None,
    rules: AgentRules = AgentRules(),
    *,
    message: str = "",
    ai_note: bytes | str | None = None,
    known: tuple[Marker, ...] = (),
    defects: Sequence[str] = (),
) -> list[AgentSignal]:
    """Every sign that a coding agent wrote the commit; empty means human.

    Detection is made for suspicion: besides git's trailer block (``trailers``,
    the ``(key, value)`` pairs `git interpret-trailers --parse` reads), the
    whole ``message`` is searched for co-author lines, "Generated with" stamps,
    session trailers and an agent's subject prefix. ``env`` is the environment
    at commit time, or ``None`` for an already-made commit, in which case
    environment rules are skipped (``os.environ`` is never consulted).
    ``ai_note`` is the commit's git-ai note (see :func:`note_signals`).
    ``known`` are markers from the config's ``[[agents.known]]``.
    ``defects`` say what of a commit made cannot be read (an empty or
    non-UTF-8 message or identity): each counts the commit as an agent's,
    since nothing readable says a person wrote it.

    Every built-in reason ends with ``[rule <agent>.<marker>]``, the marker's
    id in agents.json. Order: the author, the committer, the message, the
    note, the environment; then the configured rules. Identical signals are
    reported once.
    """
    cat = catalog(known)
    people: list[tuple[Identity, str]] = []
    if author is not None:
        people.append((author, "author"))
    if committer is not None:
        people.append((committer, "committer"))
    found: list[AgentSignal] = []
    for ident, role in people:
        found.extend(_identity_signals(ident, role, cat))
    found.extend(_message_signals(message, trailers, cat))
    if ai_note is not None:
        found.extend(note_signals(ai_note, cat))
    found.extend(AgentSignal(UNREADABLE, f"{d} [rule commit.unreadable]")
                 for d in defects)
    if env is not None:
        found.extend(_env_signals(env, cat))
    if rules.emails or rules.patterns or rules.trailers or rules.env:
        found.extend(_configured_signals(people, trailers, env, rules))
    return list(dict.fromkeys(found))
