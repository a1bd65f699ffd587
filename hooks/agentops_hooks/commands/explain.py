"""`agentops explain`: what a rule checks, why, and how to satisfy it, from the
factors' pages shipped inside the package."""
from __future__ import annotations

import difflib

import click

from agentops_hooks import rules as explained
from agentops_hooks.errors import FatalError


def _text(name: str) -> str:
    """The explanation of a rule id, or the whole page of a gate or factor numeral."""
    rule = explained.rules().get(name)
    if rule is not None:
        return explained.explanation(rule)
    for page in explained.pages():
        if name in (page.gate, page.title.split()[0]):
            return page.text.rstrip()
    known = [*explained.rules(), *(p.gate for p in explained.pages())]
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else "agentops explain lists them"
    raise FatalError(f"no rule or gate {name!r}: {hint}")


@click.command()
@click.argument("names", nargs=-1, metavar="[RULE|GATE]...")
def explain(names: tuple[str, ...]) -> None:
    """Print what a rule checks, why, and how to satisfy it (RULE, e.g.
    verdict-missing, as a refusal names it), or a gate's whole page (GATE, e.g.
    verdict, or its factor's numeral). With no argument, list every rule."""
    texts = [_text(name) for name in names] if names else [explained.catalogue()]
    click.echo("\n\n".join(texts))
