"""The learnings as gate X reads them: entries of the learnings file and learning files.

Each entry is normalised (lower-cased, punctuation and repeated whitespace
dropped) for the duplicate check, and named as a `Cites:` trailer may cite it.
A helper module of `gates/` (its name starts with `_`: not a gate).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from dataclasses import field

from agentops_hooks.gates.learnings import SECTION
from agentops_hooks.gates.learnings import Bullets
from agentops_hooks.gates.learnings import front_matter
from agentops_hooks.gates.learnings import learning_file_problems
from agentops_hooks.gates.learnings import learning_problem
from agentops_hooks.gates.learnings import quote

_PUNCTUATION = re.compile(r"[^\w\s]|_")
_DATED = re.compile(r"\s*\(\d{4}-\d{2}-\d{2}\)\s*$")
_HEADING = re.compile(r"^(#{1,6})(?:[ \t]|$)")
_FENCE = re.compile(r"^[ \t]{0,3}(?:```|~~~)")


@dataclass(frozen=True)
class Entry:
    """One learning: a section of the learnings file, or a learning file."""

    title: str
    day: dt.date | None
    text: str
    """The entry's words, normalised (see `normalise`)."""
    where: str
    """`learnings.md:12`, or the learning file's path."""
    names: frozenset[str]
    """What a `Cites:` trailer may call it (see `citation_key`)."""


@dataclass
class Learnings:
    """What one file holds: its entries, and what is wrong with it (where, what)."""

    entries: list[Entry] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)


def normalise(text: str) -> str:
    """Lower-case, punctuation dropped, whitespace collapsed: how duplicates are compared."""
    return " ".join(_PUNCTUATION.sub("", text.casefold()).split())


def citation_key(title: str) -> str:
    """A title as `Cites:` names it: case-insensitive, spacing and a trailing (date) ignored."""
    return " ".join(_DATED.sub("", title).casefold().split())


def _date(text: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(text))
    except ValueError:
        return None


# --- reading the learnings ---------------------------------------------------------

def parse_learnings_file(path: str, text: str) -> Learnings:
    """The `## Title (YYYY-MM-DD)` sections of the learnings file, and the broken ones."""
    found = Learnings()
    title: str | None = None
    day: dt.date | None = None
    start = 0
    body: list[str] = []
    bullets = Bullets()
    fenced = False

    def close() -> None:
        if title is None:
            return
        # Gate IX's placeholder rule, without its word count: a terse old entry is
        # still knowledge, a placeholder never is.
        said = learning_problem(bullets.text(), 1)
        if not bullets.parts:
            found.problems.append((f"{path}:{start}", f"section `{title}` has no `- ` bullet"))
        elif said is not None:
            problem = f"section `{title}`: its learning {quote(bullets.text())} {said[1]}"
            found.problems.append((f"{path}:{start}", problem))
        found.entries.append(Entry(
            title, day, normalise("\n".join(body)), f"{path}:{start}",
            frozenset({citation_key(title)}),
        ))

    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if _FENCE.match(line):
            fenced = not fenced
        heading = None if fenced else _HEADING.match(line)
        if heading is None or len(heading.group(1)) > 2:
            if title is not None:
                body.append(line)
                bullets.add("" if fenced else line)
            continue
        close()
        title = None
        if len(heading.group(1)) == 1:
            continue  # the page title (`# Learnings`): not an entry
        match = SECTION.match(line)
        where = f"{path}:{number}"
        if match is None:
            found.problems.append((where, f"`{line.strip()}` is not `## Title (YYYY-MM-DD)`"))
            continue
        day = _date(match.group("date"))
        if day is None:
            found.problems.append((where, f"`{line.strip()}`: {match.group('date')} is not a "
                                          "real date"))
            continue
        title, start, body, bullets = match.group("title"), number, [], Bullets()
    close()
    return found


def parse_learning_file(path: str, text: str) -> Learnings:
    """One file of the learnings directory: its entry, and its front matter problems."""
    found = Learnings([], [(path, p) for p in learning_file_problems(text)])
    parsed = front_matter(text)
    if parsed is None:
        return found
    data, body = parsed
    stem = path.rsplit("/", 1)[-1]
    title = data.get("title") if isinstance(data.get("title"), str) else None
    names = {citation_key(stem), citation_key(stem.rsplit(".", 1)[0]), citation_key(path)}
    if title:
        names.add(citation_key(title))
    text_of = normalise(body)
    if text_of:
        found.entries.append(Entry(title or stem, _date(data.get("date")), text_of, path,
                                   frozenset(names)))
    return found
