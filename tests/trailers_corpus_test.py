"""Every short message built from the lines that steer git's trailer rules, read
by us and by `git interpret-trailers --parse`.

The lines are the ones each rule turns on: blank, a trailer, a git-generated
trailer, continuations (space, tab), a comment, prose, `Conflicts:`, the
`---` divider, the scissors line, a form feed (blank to Python, not to git)
and a trailer whose value ends in one. Every sequence of up to four of them
is a message (with a final newline; up to three also without one and with
CRLF), and a second set of lines is read under a repository's trailer
settings (comment character, separators, configured keys).

git's answers for all of them are kept in tests/fixtures/trailers_oracle.json.gz,
so the whole corpus is read in a second, not one git process per message;
`test_the_kept_answers_are_gits` asks git again for a sample of them each run,
and `python -m pytest tests/trailers_corpus_test.py --update` asks git for all
of them again and rewrites the file.
"""
from __future__ import annotations

import gzip
import itertools
import json
import random
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from agentops_hooks import trailers
from trailers_test import oracle_loops_forever
from trailers_test import ours

KEPT = Path(__file__).parent / "fixtures" / "trailers_oracle.json.gz"
SCISSORS = "# " + trailers.SCISSORS_TEXT
LINES = ["", "Key: v", "Signed-off-by: A", " c", "\tc", "# c", "X", "Conflicts:", "---", SCISSORS,
         "\x0c", "XX: v\x0c"]
"""The default syntax's lines; "X" is prose, "\\x0c" a line git does not take for blank."""
CONFIG = ("core.commentChar=;", "trailer.separators=:=x", "trailer.ack.key=Acked-by",
          "trailer.fix.key=Fixes")
CONFIG_LINES = ["", "Ack-: v", "-: v", "ack: v", "Kexy= v", "; c", "# c", "X", " c", "FIX : w",
                "Signed-off-by: A"]
"""Lines read under CONFIG: a key cut short, keys of no letters, a configured key in any
case, a separator that is a letter, both comment characters."""


def corpus(lines: list[str]) -> Iterator[str]:
    """Every message of up to four of `lines` ending in a newline, and of up to three
    without one and with CRLF."""
    for n in range(5):
        for combo in itertools.product(lines, repeat=n):
            yield "".join(line + "\n" for line in combo)
            if 0 < n <= 3:
                yield "\n".join(combo)
                yield "".join(line + "\r\n" for line in combo)


def syntax_of(config: tuple[str, ...]) -> trailers.TrailerSyntax:
    return trailers.TrailerSyntax.from_config(
        [(item.split("=", 1)[0].lower(), item.split("=", 1)[1]) for item in config])


SETS = {"default": (LINES, ()), "configured": (CONFIG_LINES, CONFIG)}


def ask_git(message: str, config: tuple[str, ...]) -> str | None:
    """git's answer, or None where git 2.39 would never answer (a scissors line after
    a divider: see trailers_test.oracle_loops_forever)."""
    if oracle_loops_forever(message, syntax_of(config).comment_char):
        return None
    args = ["git"]
    for item in config:
        args += ["-c", item]
    proc = subprocess.run([*args, "interpret-trailers", "--parse"], input=message.encode(),
                          capture_output=True, check=True, timeout=20)
    return proc.stdout.decode()


def git_version() -> str:
    return subprocess.run(["git", "--version"], capture_output=True, text=True, check=True).stdout.strip()


def kept() -> dict[str, object]:
    with gzip.open(KEPT, "rt", encoding="utf-8") as f:
        data: dict[str, object] = json.load(f)
    return data


@pytest.mark.parametrize("name", SETS)
def test_we_read_every_message_as_git_does(name: str) -> None:
    lines, config = SETS[name]
    answers = kept()["answers"][name]  # type: ignore[index]
    messages = list(corpus(lines))
    assert len(answers) == len(messages), "the corpus changed: rewrite the answers with --update"
    syntax = syntax_of(config)
    wrong = [(m, a, ours(m, syntax)) for m, a in zip(messages, answers)
             if a is not None and ours(m, syntax) != a]
    assert not wrong, f"{len(wrong)} messages read otherwise than git, e.g. {wrong[:3]}"


def test_the_corpus_reaches_every_rule() -> None:
    """The answers hold trailers found and not found, folded continuations, and
    configured keys respelled: a corpus that reached no rule would agree with anything."""
    answers = kept()["answers"]
    default = [a for a in answers["default"] if a is not None]  # type: ignore[index]
    configured = [a for a in answers["configured"] if a is not None]  # type: ignore[index]
    assert sum(bool(a) for a in default) > 1000
    assert sum(not a for a in default) > 1000
    assert any("Key: v c\n" in a for a in default)
    assert any("Acked-by: v\n" in a for a in configured)
    assert any("Fixes: w\n" in a for a in configured)


def test_the_kept_answers_are_gits(request: pytest.FixtureRequest) -> None:
    """A sample of the kept answers, asked of git again (all of them with --update)."""
    data = kept() if KEPT.exists() else {}
    if request.config.getoption("--update"):
        with ThreadPoolExecutor(max_workers=4) as pool:
            answers = {name: list(pool.map(lambda m, c=config: ask_git(m, c), corpus(lines)))
                       for name, (lines, config) in SETS.items()}
        data = {"git": git_version(), "answers": answers}
        with gzip.open(KEPT, "wt", encoding="utf-8") as f:
            json.dump(data, f, ensure_ascii=True, separators=(",", ":"))
    if data.get("git") != git_version():
        pytest.skip(f"the answers were git's {data.get('git')}, this is {git_version()}: "
                    "rewrite them with --update to compare")
    rng = random.Random()
    for name, (lines, config) in SETS.items():
        messages = list(corpus(lines))
        for i in rng.sample(range(len(messages)), 40):
            assert data["answers"][name][i] == ask_git(messages[i], config), repr(messages[i])  # type: ignore[index]
