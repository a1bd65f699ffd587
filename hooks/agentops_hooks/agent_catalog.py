"""The coding agents we recognise and their markers, from the package's agents.json.

The data file is read once (json, through the package's loader) and compiled into
lookup tables: a dict per exact identity field, one combined regex for the
message lines, one for the session trailers. Entries from `[agents] known` in
the config are appended with the same shape. See docs/detection.md.
"""
from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import NamedTuple

ROLES = ("author", "committer", "co-author")
IDENTITY_KINDS = frozenset({"email", "email-regex", "name", "name-regex", "name-suffix"})
KINDS = IDENTITY_KINDS | {"subject-prefix", "line", "trailer", "trailer-value",
                          "env-equals", "env-set", "git-ai-tool"}


class Marker(NamedTuple):
    """One mark an agent leaves on a commit, and the rule id that names it."""

    rule: str
    """`<agent id>.<marker id>`: what a detection reason cites."""
    agent: str
    kind: str
    value: str
    roles: tuple[str, ...] = ROLES
    source: str = ""
    hints: tuple[str, ...] = ()
    """For a line marker: lower-case text one of which the message must hold for
    the regex to be tried (a range check reads thousands of messages)."""


class CatalogError(ValueError):
    """An agent definition that cannot be used (the message says which and why)."""


def _markers(entries: Iterable[Mapping[str, Any]], prefix: str = "", *,
             check: bool = True) -> list[Marker]:
    """Markers of agent entries; with `check`, a kind, role or regex we cannot use is an error
    (the built-in file is checked by its tests instead, off the commit-msg path)."""
    found: list[Marker] = []
    for entry in entries:
        agent_id = str(entry.get("id") or entry["name"]).strip().lower().replace(" ", "-")
        for m in entry.get("markers", ()):
            kind = str(m["kind"])
            rule = f"{prefix}{agent_id}.{m.get('id') or kind}"
            roles = tuple(m.get("roles") or ROLES)
            value = str(m["value"])
            found.append(Marker(rule, str(m.get("agent") or entry["name"]), kind, value, roles,
                                str(m.get("source", "")),
                                tuple(str(h).lower() for h in m.get("hints", ()))))
            if not check:
                continue
            if kind not in KINDS:
                raise CatalogError(f"agent rule {rule}: unknown kind {kind!r} "
                                   f"(one of {', '.join(sorted(KINDS))})")
            if not set(roles) <= set(ROLES):
                raise CatalogError(f"agent rule {rule}: roles must be among {', '.join(ROLES)}")
            if kind in ("email-regex", "name-regex", "line"):
                try:
                    re.compile(value)
                except re.error as e:
                    raise CatalogError(f"agent rule {rule}: invalid regex {value!r}: {e}") from None
    return found


@functools.lru_cache(maxsize=1)
def builtin_markers() -> tuple[Marker, ...]:
    """The package's agents.json, read once through this module's loader.

    `loader.get_data` is what `pkgutil.get_data` and importlib.resources' file
    readers come down to; importing importlib.resources itself (tempfile,
    zipfile, bz2, lzma, random, ...) would cost the commit-msg check a third
    of its time.
    """
    path = os.path.join(os.path.dirname(__file__), "agents.json")
    data = json.loads(__spec__.loader.get_data(path))  # type: ignore[union-attr]
    return tuple(_markers(data["agents"], check=False))


def checked_builtin_markers() -> tuple[Marker, ...]:
    """The built-in markers, every kind, role and regex checked (for the tests)."""
    path = os.path.join(os.path.dirname(__file__), "agents.json")
    with open(path, "rb") as f:
        return tuple(_markers(json.load(f)["agents"]))


def configured_markers(entries: Sequence[Mapping[str, Any]]) -> tuple[Marker, ...]:
    """Markers of `[[agents.known]]` entries; their rule ids start with "config."."""
    return tuple(_markers(entries, prefix="config."))


class Catalog:
    """Markers compiled for lookups: identity fields by dict, message text by regex."""

    def __init__(self, markers: Sequence[Marker]) -> None:
        self.markers = tuple(markers)
        self.emails: dict[str, list[Marker]] = {}
        self.names: dict[str, list[Marker]] = {}
        self.patterns: list[tuple[re.Pattern[str], Marker]] = []
        self.suffixes: list[Marker] = []
        self.prefixes: list[Marker] = []
        self.trailer_values: dict[str, list[Marker]] = {}
        self.env: list[Marker] = []
        self.tools: dict[str, Marker] = {}
        lines: list[Marker] = []
        session_keys: dict[str, list[Marker]] = {}
        for m in self.markers:
            if m.kind == "email":
                self.emails.setdefault(m.value.strip().lower(), []).append(m)
            elif m.kind == "name":
                self.names.setdefault(m.value.strip().lower(), []).append(m)
            elif m.kind in ("email-regex", "name-regex"):
                self.patterns.append((re.compile(m.value, re.IGNORECASE), m))
            elif m.kind == "name-suffix":
                self.suffixes.append(m)
            elif m.kind == "subject-prefix":
                self.prefixes.append(m)
            elif m.kind == "line":
                lines.append(m)
            elif m.kind == "trailer":
                session_keys.setdefault(m.value.strip().lower(), []).append(m)
            elif m.kind == "trailer-value":
                self.trailer_values.setdefault(m.value.strip().lower(), []).append(m)
            elif m.kind.startswith("env-"):
                self.env.append(m)
            elif m.kind == "git-ai-tool":
                self.tools.setdefault(m.value.strip().lower(), m)
        self.env.sort(key=lambda m: m.value.partition("=")[0])
        compiled = [(re.compile(m.value, re.IGNORECASE | re.MULTILINE), m) for m in lines]
        # A tool's own stamp first: a generic one (naming its agent) then adds nothing.
        self.lines = sorted(compiled, key=lambda pm: "agent" in pm[0].groupindex)
        self.hints = tuple(sorted({h for m in lines for h in m.hints}))
        """Every line marker's words, looked for once in each message."""
        self.session_keys = session_keys
        keys = "|".join(re.escape(k) for k in sorted(session_keys, key=len, reverse=True))
        self.session_re = re.compile(
            rf"^[ \t]*(?P<key>{keys})[ \t]*:[ \t]*(?P<value>\S[^\n]*)$" if keys else r"(?!x)x",
            re.IGNORECASE | re.MULTILINE)


@functools.lru_cache(maxsize=8)
def catalog(extra: tuple[Marker, ...] = ()) -> Catalog:
    """The built-in catalog, with `extra` markers appended (cached per set)."""
    return Catalog(builtin_markers() + extra)
