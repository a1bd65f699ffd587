"""The rules explained: each factor's page of docs/factors/, shipped inside the package
as agentops_hooks.factors, read for what a rule checks, why, and how to satisfy it.

The pages are the one source: a rule is a row of its gate's "rule id" table, the
factor's reason is the page's **Rule:** line, and the way out its "How to satisfy it"
section. `agentops explain` prints them; a test keeps every rule the gates can report
in a table.
"""
from __future__ import annotations

import re
import textwrap
from functools import lru_cache
from typing import NamedTuple

from agentops_hooks.shipped import shipped

PAGES_PACKAGE = "agentops_hooks.factors"
PAGES_DIR = "docs/factors"
_PAGE_NAME = re.compile(r"(\d\d)-([a-z]+)\.md")
_ROW = re.compile(r"\| `([a-z0-9-]+)` \| ([^|]+) \|")


class Page(NamedTuple):
    """One factor's page."""

    name: str
    """Its file name, e.g. "07-verdict.md"."""
    gate: str
    """The gate (or "report" for factor XII), e.g. "verdict"."""
    title: str
    """Its heading, e.g. "VII Validate Externally — gate `verdict`"."""
    text: str


class Rule(NamedTuple):
    """One rule id, as its page explains it."""

    rule: str
    page: Page
    when: str
    """The table row: when the rule reports a change."""
    header: str
    """The table's heading for `when`, e.g. "refuses when"."""


@lru_cache(maxsize=None)
def pages() -> tuple[Page, ...]:
    """The factors' pages in the doctrine's order."""
    found = []
    for entry in shipped(PAGES_PACKAGE, PAGES_DIR).iterdir():
        match = _PAGE_NAME.fullmatch(entry.name)
        if match:
            # HTML comments set the scene for the docs' sample runs: not for readers.
            text = re.sub(r"\n?<!--.*?-->\n", "", entry.read_text(encoding="utf-8"), flags=re.S)
            found.append(Page(entry.name, match.group(2), text.split("\n", 1)[0].lstrip("# "), text))
    return tuple(sorted(found))


@lru_cache(maxsize=None)
def rules() -> dict[str, Rule]:
    """Every rule id the pages' tables explain, in the pages' order."""
    out: dict[str, Rule] = {}
    for page in pages():
        header = ""
        for line in page.text.splitlines():
            if line.startswith("| rule id |"):
                header = line.split("|")[2].strip()
            elif header and (row := _ROW.match(line)):
                out[row.group(1)] = Rule(row.group(1), page, row.group(2).strip(), header)
            elif not line.startswith("|"):
                header = ""
    return out


def section(page: Page, heading: str) -> str:
    """The text under `## heading` of a page, up to the next `## `, fences respected."""
    lines, inside, fenced = [], False, False
    for line in page.text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith("## "):
            if inside:
                break
            inside = line[3:].strip() == heading
            continue
        if inside:
            lines.append(line)
    return "\n".join(lines).strip()


def reason(page: Page) -> str:
    """The factor's rule, the page's `**Rule:**` paragraph, as one line."""
    paragraph = page.text.split("**Rule:**", 1)[1].split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def explanation(rule: Rule) -> str:
    """What `agentops explain RULE` prints."""
    page = rule.page
    wrap = textwrap.TextWrapper(width=79, initial_indent="  ", subsequent_indent="  ")
    return "\n".join([
        f"{rule.rule}: factor {page.title}",
        "",
        f"{rule.header[0].upper()}{rule.header[1:]}:",
        wrap.fill(rule.when),
        "",
        "Why:",
        wrap.fill(reason(page)),
        "",
        "How to satisfy it:",
        "",
        section(page, "How to satisfy it"),
        "",
        f"All of factor {page.title.split()[0]}: {PAGES_DIR}/{page.name} in agentops-hooks, "
        f"or agentops explain {page.gate}",
    ])


def catalogue() -> str:
    """What `agentops explain` prints with no rule: every rule, under its factor."""
    lines = []
    for page in pages():
        own = [r for r in rules().values() if r.page == page]
        if not own:
            continue
        lines.append(page.title.replace("`", ""))
        width = max(len(r.rule) for r in own)
        for r in own:
            first = r.when.split(". ")[0].rstrip(".")
            line = f"  {r.rule:<{width}}  {first}"
            lines.append(line if len(line) <= 79 else line[:78] + "…")
        lines.append("")
    lines.append("agentops explain RULE: what it checks, why, and how to satisfy it.")
    lines.append("agentops explain GATE: the whole page of its factor.")
    return "\n".join(lines)
