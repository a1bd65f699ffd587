"""Decide whether a commit was written by a coding agent.

The hooks call :func:`detect_agent` with the identities and trailers of a
commit (staged or already made) and, at commit time, the environment.  Every
signal found comes back as an :class:`AgentSignal` carrying a human-readable
reason; an empty list means "no sign of an agent".

Built-in knowledge lives in one table, :data:`_BUILTIN_RULES`; adding an agent
is one line there.  Users can add identities, patterns, environment variables
and trailer keys through :class:`AgentRules`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import NamedTuple
from typing import Literal


__all__ = [
    "AgentRules",
    "AgentSignal",
    "Identity",
    "co_authors",
    "detect_agent",
]

CO_AUTHORED_BY = "Co-authored-by"
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
# Built-in rules
# --------------------------------------------------------------------------

_Kind = Literal[
    "email",  # exact email (case-insensitive) of author, committer or co-author
    "contains",  # substring (case-insensitive) of the name or email of any identity
    "name-suffix",  # author or committer name ends with `value` (case-insensitive)
    "trailer",  # a trailer with key `value` is present
    "trailer-value",  # like "trailer"; agent = the trailer value, else `agent`
    "trailer-word",  # like "trailer"; agent = first word of the value, else `agent`
    "env-equals",  # `value` is "VAR=value"; the variable equals exactly that
    "env-set",  # the variable named `value` is set to a non-blank value
]


class _Rule(NamedTuple):
    agent: str
    kind: _Kind
    value: str


_BUILTIN_RULES: tuple[_Rule, ...] = (
    _Rule("Claude Code", "email", "noreply@anthropic.com"),
    _Rule("Claude Code", "env-equals", "CLAUDECODE=1"),
    _Rule("Codex", "email", "noreply@openai.com"),
    _Rule("Codex", "env-set", "CODEX_THREAD_ID"),
    _Rule("Aider", "email", "aider@aider.chat"),
    _Rule("Aider", "name-suffix", " (aider)"),
    _Rule("GitHub Copilot coding agent", "contains", "copilot-swe-agent[bot]"),
    _Rule("GitHub Copilot coding agent", "trailer", "Agent-Logs-Url"),
    _Rule("GitHub Copilot", "email", "copilot@github.com"),
    _Rule("Cursor", "email", "cursoragent@cursor.com"),
    _Rule("Cursor", "env-equals", "CURSOR_AGENT=1"),
    _Rule("Devin", "contains", "devin-ai-integration[bot]"),
    _Rule("OpenHands", "email", "openhands@all-hands.dev"),
    _Rule("Gemini CLI", "env-equals", "GEMINI_CLI=1"),
    _Rule("Amp", "email", "amp@ampcode.com"),
    _Rule("Amp", "trailer", "Amp-Thread-ID"),
    _Rule("Amp", "trailer", "Amp-Thread"),
    _Rule("OpenCode", "email", "noreply@opencode.ai"),
    _Rule("OpenCode", "env-equals", "OPENCODE=1"),
    _Rule("AI assistant", "trailer-value", "Assisted-by"),
    _Rule("AI assistant", "trailer-value", "Generated-by"),
    _Rule("agent", "trailer-word", "Agent"),
)

_IDENTITY_KINDS = frozenset({"email", "contains", "name-suffix"})
_TRAILER_KINDS = frozenset({"trailer", "trailer-value", "trailer-word"})
_ENV_KINDS = frozenset({"env-equals", "env-set"})


def _rule_env_var(rule: _Rule) -> str:
    return rule.value.partition("=")[0] if rule.kind == "env-equals" else rule.value


_ENV_RULES: tuple[_Rule, ...] = tuple(
    sorted((r for r in _BUILTIN_RULES if r.kind in _ENV_KINDS), key=_rule_env_var)
)


# --------------------------------------------------------------------------
# Detection
# --------------------------------------------------------------------------


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


def _identity_match(rule: _Rule, ident: Identity, role: str) -> list[str]:
    """What of ``ident`` matches ``rule``: a list of "email X" / "name 'Y'"."""
    needle = rule.value.lower()
    hits: list[str] = []
    if rule.kind == "email":
        if ident.key == needle:
            hits.append(f"email {ident.email.strip()}")
    elif rule.kind == "contains":
        if needle in ident.name.lower():
            hits.append(f"name '{ident.name}'")
        if needle in ident.email.lower():
            hits.append(f"email {ident.email.strip()}")
    elif rule.kind == "name-suffix":
        if role != CO_AUTHORED_BY and ident.name.strip().lower().endswith(needle):
            hits.append(f"name '{ident.name}'")
    return hits


_EMAIL_RULES: dict[str, tuple[_Rule, ...]] = {}
for _r in _BUILTIN_RULES:
    if _r.kind == "email":
        _EMAIL_RULES[_r.value.lower()] = (*_EMAIL_RULES.get(_r.value.lower(), ()), _r)
_OTHER_IDENTITY_RULES = tuple(
    r for r in _BUILTIN_RULES if r.kind in _IDENTITY_KINDS and r.kind != "email"
)


_TRAILER_RULES: dict[str, tuple[_Rule, ...]] = {}
for _r in _BUILTIN_RULES:
    if _r.kind in _TRAILER_KINDS:
        _key = _trailer_key(_r.value)
        _TRAILER_RULES[_key] = (*_TRAILER_RULES.get(_key, ()), _r)


@functools.lru_cache(maxsize=4096)
def _identity_signals(ident: Identity, role: str) -> tuple[AgentSignal, ...]:
    """Built-in signals of one identity (cached: a range repeats the same people)."""
    signals: list[AgentSignal] = []
    rules = [r for r in _BUILTIN_RULES if r in _EMAIL_RULES.get(ident.key, ())
             or r in _OTHER_IDENTITY_RULES]
    for rule in rules:
        for hit in _identity_match(rule, ident, role):
            if role == CO_AUTHORED_BY:
                reason = f"{CO_AUTHORED_BY} trailer '{ident}'"
            else:
                reason = f"{role} {hit}"
            signals.append(AgentSignal(rule.agent, reason))
    return tuple(signals)


def _trailer_signals(key: str, value: str) -> list[AgentSignal]:
    signals: list[AgentSignal] = []
    norm = _trailer_key(key)
    rules = _TRAILER_RULES.get(norm)
    if not rules:
        return signals
    value = value.strip()
    for rule in rules:
        agent = rule.agent
        if rule.kind == "trailer-value" and value:
            agent = value
        elif rule.kind == "trailer-word" and value:
            agent = value.split()[0]
        signals.append(AgentSignal(agent, f"{rule.value} trailer '{value}'"))
    return signals


def _env_signal(rule: _Rule, env: Mapping[str, str]) -> AgentSignal | None:
    if rule.kind == "env-equals":
        var, _, expected = rule.value.partition("=")
        if env.get(var) == expected:
            return AgentSignal(rule.agent, f"environment {var}={expected}")
    elif rule.kind == "env-set":
        current = env.get(rule.value)
        if current is not None and current.strip():
            # The value is deliberately left out: it might be a secret.
            return AgentSignal(rule.agent, f"environment {rule.value} is set")
    return None


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


def detect_agent(
    author: Identity | None,
    committer: Identity | None,
    trailers: Sequence[tuple[str, str]],
    env: Mapping[str, str] | None = None,
    rules: AgentRules = AgentRules(),
) -> list[AgentSignal]:
    """Every sign that a coding agent wrote the commit; empty means human.

    ``trailers`` are the ``(key, value)`` pairs of the commit message, keys
    in any case.  ``env`` is the environment at commit time, or ``None`` for
    an already-made commit, in which case environment rules are skipped
    (``os.environ`` is never consulted).

    Order: built-in signals of the author, the committer, the trailers in
    message order (co-authors included), the environment sorted by variable
    name; then the configured rules in the same subject order.  Identical
    signals are reported once.
    """
    people: list[tuple[Identity, str]] = []
    if author is not None:
        people.append((author, "author"))
    if committer is not None:
        people.append((committer, "committer"))

    found: list[AgentSignal] = []

    # Built-in rules.
    for ident, role in people:
        found.extend(_identity_signals(ident, role))
    co_key = _trailer_key(CO_AUTHORED_BY)
    for key, value in trailers:
        if _trailer_key(key) == co_key:
            co_author = Identity.parse(value)
            if co_author is not None:
                found.extend(_identity_signals(co_author, CO_AUTHORED_BY))
        found.extend(_trailer_signals(key, value))
    if env is not None:
        for rule in _ENV_RULES:
            signal = _env_signal(rule, env)
            if signal is not None:
                found.append(signal)

    # Configured rules.
    if not (rules.emails or rules.patterns or rules.trailers or rules.env):
        return list(dict.fromkeys(found))
    for ident, role in people:
        found.extend(_configured_identity_signals(ident, role, rules))
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
            found.append(
                AgentSignal(
                    CONFIGURED_AGENT,
                    f"{configured_keys[norm]} trailer '{value.strip()}' (configured)",
                )
            )
    if env is not None:
        for spec in sorted(rules.env, key=lambda s: _split_env(s)[0]):
            signal = _configured_env_signal(spec, env)
            if signal is not None:
                found.append(signal)

    return list(dict.fromkeys(found))
