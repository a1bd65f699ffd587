"""Factor IX, Extract Learnings: every non-trivial change leaves a lesson behind.

An agent's change over `learnings.min_changed_lines` must add one of:
a new `## Title (YYYY-MM-DD)` section with a bullet in the learnings file,
a new file under the learnings directory whose front matter matches
schemas/learning.schema.json, or a non-empty `Learning:` trailer.
Added lines are read from the unidiff view of the patch.
"""
from __future__ import annotations

import re
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from typing import Any

from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from unidiff.patch import PatchedFile

    from agentops_hooks.change import Change
    from agentops_hooks.config import LearningsConfig
    from agentops_hooks.gates import Context

FACTOR = "IX"
GATE = "learnings"
LEARNING_KEY = "Learning"

SECTION = re.compile(r"^##[ \t]+(?P<title>\S.*?)[ \t]*\((?P<date>\d{4}-\d{2}-\d{2})\)[ \t]*$")
BULLET = re.compile(r"^[ \t]*[-*+][ \t]+\S")


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def is_docs(path: str, config: LearningsConfig) -> bool:
    """Does the path match one of `learnings.docs_patterns`?"""
    name = path.rsplit("/", 1)[-1]
    for pattern in config.docs_patterns:
        if pattern.endswith("/**"):
            if path.startswith(pattern[:-2]):
                return True
        elif fnmatchcase(path, pattern) or ("/" not in pattern and fnmatchcase(name, pattern)):
            return True
    return False


def _valid_date(text: str) -> bool:
    import datetime as dt  # here: most commits never reach a learning's date

    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def new_sections(patched: PatchedFile) -> list[str]:
    """Titles of `## Title (YYYY-MM-DD)` sections added with at least one added bullet."""
    titles: list[str] = []
    for hunk in patched:
        open_title: str | None = None
        for line in hunk:
            if line.is_removed:
                continue
            text = line.value.rstrip("\r\n")
            if text.startswith("#"):
                open_title = None
                m = SECTION.match(text)
                if line.is_added and m and _valid_date(m.group("date")):
                    open_title = m.group("title")
            elif open_title is not None and line.is_added and BULLET.match(text):
                titles.append(open_title)
                open_title = None
    return titles


def front_matter(text: str) -> tuple[dict[str, Any], str] | None:
    """`key: value` front matter between `---` lines, and the body after it.

    Values are read as JSON scalars when they are one (numbers, quoted
    strings, true/false), else as plain text: the subset of YAML that
    provenance needs.
    """
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        return None
    import json

    data: dict[str, Any] = {}
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return data, "\n".join(lines[i + 1:])
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep or not key.strip():
            return None
        value = value.strip()
        try:
            data[key.strip()] = json.loads(value) if value else ""
        except ValueError:
            data[key.strip()] = value.strip("'")
    return None


def learning_file_problems(content: str) -> list[str]:
    """Why a learning file is not acceptable (empty when it is)."""
    parsed = front_matter(content)
    if parsed is None:
        return ["it does not start with a `---` front matter block of `key: value` lines"]
    data, body = parsed
    from jsonschema import Draft202012Validator

    from agentops_hooks.schemafiles import load_schema

    validator = Draft202012Validator(load_schema("learning.schema.json"))
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "front matter"
        problems.append(f"{where}: {error.message}")
    if not problems and not body.strip():
        problems.append("the learning itself (the text after the front matter) is empty")
    return problems


def _added_text(patched: PatchedFile) -> str:
    return "".join(line.value for hunk in patched for line in hunk if line.is_added)


def _learn_command(change: Change) -> str:
    trailer = 'add a `Learning: <what this change taught>` trailer to the message'
    if change.message_option is not None:
        trailer = f'agentops trailer add Learning "<lesson>" {change.message_option}'
    if change.commit:
        return f"{trailer}, then {change.retry}"
    return (
        'agentops learn "<what this change taught>" --title "<short title>"   '
        f"then {change.retry}; or {trailer}"
    )


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate IX; none when the change is trivial or leaves a learning."""
    config = ctx.config.learnings
    if not ctx.applies(config.required_for):
        return []
    if any(v.strip() for v in values(change.trailers, LEARNING_KEY)):
        return []
    size = change.changed_lines
    if size <= config.min_changed_lines:
        return []
    paths = change.paths
    if config.exempt_docs_only and paths and all(is_docs(p.path, config) for p in paths):
        return []

    directory = config.directory.strip("/") + "/"
    problems: list[str] = []
    for patched in ctx.store.patch_for(change, (config.file, directory)):
        path = patched.path
        if path == config.file and new_sections(patched):
            return []
        if path.startswith(directory) and patched.is_added_file and not patched.is_binary_file:
            bad = learning_file_problems(_added_text(patched))
            if not bad:
                return []
            problems.extend(f"{path}: {p}" for p in bad)

    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    message = (
        f"{who} of {size} changed lines (over learnings.min_changed_lines = "
        f"{config.min_changed_lines}) must leave a learning: a new `## Title (YYYY-MM-DD)` "
        f"section with a bullet in {config.file}, a new file in {directory}, "
        "or a `Learning:` trailer."
    )
    if problems:
        message += " Not accepted: " + "; ".join(problems) + "."
    return [_finding(change, "learning-missing", message, _learn_command(change))]
