"""Every relative link in the README and docs/ points at a file that exists, and at a
heading that exists in it (GitHub's anchors)."""
from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def outside_fences(text: str) -> list[str]:
    """The lines outside fenced code blocks (a ```` fence holds ``` lines)."""
    kept, fence = [], ""
    for line in text.splitlines():
        run = re.match(r"\s*(`{3,})", line)
        if run and (not fence or run.group(1) == fence and line.strip() == fence):
            fence = "" if fence else run.group(1)
        elif not fence:
            kept.append(line)
    return kept


def prose(text: str) -> str:
    """The text outside code blocks and inline code, where links are links."""
    return "\n".join(re.sub(r"`[^`]*`", "", line) for line in outside_fences(text))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[`*]|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


@lru_cache(maxsize=None)
def anchors(page: Path) -> frozenset[str]:
    seen: dict[str, int] = {}
    out = set()
    for line in outside_fences(page.read_text(encoding="utf-8")):
        if m := re.match(r"#{1,6} (.*)", line):
            base = slug(m.group(1))
            n = seen.get(base, 0)
            seen[base] = n + 1
            out.add(base if n == 0 else f"{base}-{n}")
    return frozenset(out)


def test_slug_is_githubs() -> None:
    assert slug("VII Validate Externally — gate `verdict`") == "vii-validate-externally--gate-verdict"
    assert slug("`.agents/learnings/` files") == "agentslearnings-files"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(page: Path) -> None:
    broken = []
    for target in LINK.findall(prose(page.read_text(encoding="utf-8"))):
        if re.match(r"[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        dest = (page.parent / path).resolve() if path else page
        if not dest.exists():
            broken.append(f"{target}: no such file")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            broken.append(f"{target}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    assert not broken, broken
