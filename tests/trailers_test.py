"""Our trailer reader against the oracle, `git interpret-trailers --parse`."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import assume
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentops_hooks import trailers
from agentops_hooks.git import Repo
from agentops_hooks.messages import add_trailers
from agentops_hooks.messages import add_trailers_to_file
from agentops_hooks.errors import FatalError
from conftest import GitRepo


def oracle(message: str, *config: str, cwd: Path | None = None) -> str:
    args = ["git"]
    for item in config:
        args += ["-c", item]
    proc = subprocess.run(
        [*args, "interpret-trailers", "--parse"], input=message.encode("utf-8", "surrogateescape"),
        capture_output=True, check=True, cwd=cwd, timeout=20,
    )
    return proc.stdout.decode("utf-8", "surrogateescape")


def oracle_loops_forever(message: str, comment_char: str = "#") -> bool:
    """git before 2.42 spins forever when a scissors line follows a `---` divider.

    (ignore_non_trailer searches the whole buffer for the scissors line but
    walks only up to the divider.) There is no answer to compare with, and
    our reader stops at the divider, as later git does.
    """
    divider = trailers._patch_start(message)
    scissors = "\n" + comment_char + " ------------------------ >8 ------------------------\n"
    if message.startswith(scissors[1:]):
        return False
    found = message.find(scissors)
    return divider < len(message) and found >= 0 and found + 1 > divider


def ours(message: str, syntax: trailers.TrailerSyntax = trailers.DEFAULT_SYNTAX) -> str:
    """What we read, printed the way `interpret-trailers --parse` prints it."""
    out = []
    for key, value in trailers.parse(message, syntax):
        last = key.strip(" \t\n\r")[-1:]
        if last:
            out.append(f"{key}{value}\n" if last in syntax.separators else f"{key}{syntax.separators[0]} {value}\n")
    return "".join(out)


CASES = [
    # last paragraph only
    "subject\n\nbody\n\nKey: v\n",
    "subject\n\nKey: v\n\nbody after\n",
    "subject\nKey: v\n",
    "Key: v\n",
    "",
    "\n\nKey: v\n",
    # 25 % rule: all trailers, or a git-generated one and >= 25 % trailers
    "s\n\nbody line\nKey: v\n",
    "s\n\nSigned-off-by: A <a@b>\nnot\nnot\nnot\n",
    "s\n\nSigned-off-by: A <a@b>\nnot\nnot\nnot\nnot\n",
    "s\n\n(cherry picked from commit abc)\nx: y\nplain\n",
    # continuation lines
    "s\n\nKey: v\n  cont\n\tmore\n",
    "s\n\nKey: v\n  cont\nplain\n",
    "s\n\n  lead: v\nKey: w\n",
    # comments, custom comment char, scissors
    "s\n\nKey: v\n# comment\nOther: w\n",
    "s\n\n# only a comment\nKey: v\n",
    # a comment line is neither a trailer nor prose in the 25 % rule: counted as a
    # trailer, these four prose lines would be outweighed and git's answer (none) lost
    "s\n\nSigned-off-by: A <a@b>\n# comment\nprose one\nprose two\nprose three\nprose four\n",
    "s\n\nSigned-off-by: A <a@b>\n# comment\nprose one\nprose two\nprose three\n",
    "s\n\nKey: v\n# ------------------------ >8 ------------------------\nX: y\n",
    "# ------------------------ >8 ------------------------\ns\n\nKey: v\n",
    # the --- divider
    "s\n\nKey: v\n---\nA: b\n",
    "s\n\nbody\n--- not a divider\nA: b\n",
    "s\n\nbody\n---not a divider\n\nA: b\n",
    # CRLF
    "s\r\n\r\nKey: v\r\nOther: w\r\n",
    "s\r\n\r\nKey: v\r\n  c\r\n",
    # separators and spacing
    "s\n\nKey : v\n",
    "s\n\nKey\t:\tv\n",
    "s\n\nKey x: v\n",
    "s\n\nKey:v\n",
    "s\n\nKey:\n",
    "s\n\n-: v\n",
    "s\n\nÄrger: v\n",
    "s\n\nVerdict: PASS\nverdict: pass\nVERDICT: FAIL\n",
    "s\n\nA: b\n\n\n",
    "s\n\nA: b",
    "s\n\nA: b\nConflicts:\n\tpath\n",
    "title only\n",
    "s\n\n\n\n",
    # a tab line after a comment ends the trailing part once a line has ended the
    # Conflicts: block, and the lines it keeps outweigh the trailers
    "s\n\nConflicts:\n\tp\nKey: x\n# c\n\tq\n",
    # continuation lines under a comment count as other lines
    "s\n\nX\nKey: v\n# c\n c\n",
    # the 25 % rule at its edges: every trailer line counts once, continuation
    # lines under prose count as prose
    "s\n\nSigned-off-by: A\nSigned-off-by: B\nX\nX\nX\nX\n",
    "s\n\nSigned-off-by: A\nK: v\nK: v\nX\nX\nX\nX\nX\nX\nX\nX\nX\n",
    "s\n\nSigned-off-by: A\nK: v\nX\nX\nX\nX\nX\nX\nX\n",
    "s\n\nSigned-off-by: A\nX\n c\n c\n c\n",
    "s\n\nSigned-off-by: A\nX\n c\n c\n",
    # one paragraph, the title's, whatever its lines hold
    "tXX\nXX XX\nXXA: b\n",
]


@pytest.mark.parametrize("message", CASES)
def test_matches_git(message: str) -> None:
    assert ours(message) == oracle(message)


def test_cases_cover_every_shape() -> None:
    # Guard the table itself: it must hold trailers found and not found.
    assert sum(bool(oracle(m)) for m in CASES) > 10
    assert sum(not oracle(m) for m in CASES) > 5


@pytest.mark.parametrize("message", [
    "s\n\nKey: v\n; comment\nOther: w\n",
    "s\n\n; ------------------------ >8 ------------------------\nKey: v\n",
    "s\n\nKey: v\n; ------------------------ >8 ------------------------\nX: y\n",
    "s\n\n# not a comment: here\nKey: v\n",
])
def test_comment_char(message: str) -> None:
    syntax = trailers.TrailerSyntax.from_config([("core.commentchar", ";")])
    assert ours(message, syntax) == oracle(message, "core.commentChar=;")


def test_comment_char_auto_reads_hash() -> None:
    message = "s\n\nKey: v\n# c\nOther: w\n"
    syntax = trailers.TrailerSyntax.from_config([("core.commentchar", "auto")])
    assert ours(message, syntax) == oracle(message, "core.commentChar=auto")


@pytest.mark.parametrize("message", ["s\n\nKey= v\nOther: w\n", "s\n\nKey # 12\n"])
def test_separators(message: str) -> None:
    syntax = trailers.TrailerSyntax.from_config([("trailer.separators", "=#")])
    assert ours(message, syntax) == oracle(message, "trailer.separators==#")


@pytest.mark.parametrize("message", [
    "s\n\nbody\nbody\nbody\nreviewed: someone\n",
    "s\n\nrev: x\n",
    "s\n\nReviewed-by: x\n",
])
def test_configured_keys_are_recognised_and_respelled(message: str) -> None:
    config = [("trailer.rev.key", "Reviewed-by")]
    syntax = trailers.TrailerSyntax.from_config(config)
    assert ours(message, syntax) == oracle(message, "trailer.rev.key=Reviewed-by")


def test_a_separator_that_is_a_letter_ends_the_key_at_its_first_use() -> None:
    """With trailer.separators=x the key of `Kxex v` is `K`: the first separator ends it."""
    syntax = trailers.TrailerSyntax.from_config([("trailer.separators", "x")])
    assert ours("s\n\nKxex v\n", syntax) == oracle("s\n\nKxex v\n", "trailer.separators=x") == "Kx ex v\n"


@pytest.mark.parametrize("message", ["s\n\nKey X: v\n", "s\n\nKey val: v\n", "s\n\nKey\tX: v\nK: w\n",
                                     "s\n\nKey : v\n"])
def test_separators_with_a_letter_read_a_key_of_one_word(message: str) -> None:
    """Separators holding a letter are read character by character: after the key's
    word only spaces may come before the separator."""
    syntax = trailers.TrailerSyntax.from_config([("trailer.separators", ":x")])
    assert ours(message, syntax) == oracle(message, "trailer.separators=:x")


def test_a_configured_name_is_recognised_when_its_key_is_not() -> None:
    """`sob: v` is trailer.sob's name, not a prefix of its key: it reads as the key."""
    syntax = trailers.TrailerSyntax.from_config([("trailer.sob.key", "Signed-off-by")])
    assert ours("s\n\nsob: v\n", syntax) == oracle("s\n\nsob: v\n", "trailer.sob.key=Signed-off-by")
    assert ours("s\n\nsob: v\n", syntax) == "Signed-off-by: v\n"


def test_syntax_from_no_config_is_the_default() -> None:
    message = "s\n\nKey: v\n# c\nOther: w\n"
    syntax = trailers.TrailerSyntax.from_config([])
    assert syntax == trailers.DEFAULT_SYNTAX
    assert ours(message, syntax) == oracle(message)


def test_empty_separators_read_as_colon() -> None:
    message = "s\n\nKey: v\nOther= w\n"
    syntax = trailers.TrailerSyntax.from_config([("trailer.separators", "")])
    assert syntax.separators == ":"
    assert ours(message, syntax) == oracle(message, "trailer.separators=")


def test_a_trailer_name_with_dots() -> None:
    """`[trailer "sign.off"]` is the variable trailer.sign.off.key: its name is all but the last part."""
    message = "s\n\nbody\nbody\nbody\nsign: someone\n"
    syntax = trailers.TrailerSyntax.from_config([("trailer.sign.off.key", "Signed-off-by")])
    assert ours(message, syntax) == oracle(message, "trailer.sign.off.key=Signed-off-by")
    assert "Signed-off-by: someone" in ours(message, syntax)


def test_other_sections_name_no_trailer() -> None:
    """difftool.vimdiff.cmd ends like a trailer item but is no trailer setting."""
    message = "s\n\nbody\nbody\nbody\nl.vimdiff: x\n"
    syntax = trailers.TrailerSyntax.from_config([("difftool.vimdiff.cmd", "vimdiff")])
    assert syntax.configured == ()
    assert ours(message, syntax) == oracle(message, "difftool.vimdiff.cmd=vimdiff")


def test_syntax_from_a_real_repository(repo: GitRepo) -> None:
    repo.git("config", "core.commentChar", "%")
    syntax = trailers.TrailerSyntax.from_config(Repo().config())
    assert syntax.comment_char == "%"
    message = "s\n\nKey: v\n% hidden: x\n"
    assert ours(message, syntax) == oracle(message, cwd=repo.root)


def test_values_ignore_key_case() -> None:
    found = trailers.parse("s\n\nverdict: pass\nVERDICT: FAIL\nOther: x\n")
    assert trailers.values(found, "Verdict") == ["pass", "FAIL"]


# --- property test: generated messages -----------------------------------

_keys = st.sampled_from(["Verdict", "verdict", "Learning", "Co-authored-by", "Signed-off-by",
                         "Task", "Bad Key", "X", "a-b-c", "Ünï", "Key ", " Key"])
_values = st.text(
    alphabet=st.sampled_from(list("abc XYZ:=#-<>@.\"'\té漢")), max_size=12,
)
_line = st.one_of(
    st.builds(lambda k, v, sep: f"{k}{sep}{v}", _keys, _values, st.sampled_from([":", ": ", " : ", "="])),
    st.builds(lambda v: " " + v, _values),
    st.builds(lambda v: "\t" + v, _values),
    st.builds(lambda v: "# " + v, _values),
    st.just(""),
    st.just("   "),
    st.just("---"),
    st.just("--- "),
    st.just("# ------------------------ >8 ------------------------"),
    st.just("Conflicts:"),
    st.just("(cherry picked from commit 1234)"),
    _values,
)


@st.composite
def messages(draw: st.DrawFn) -> str:
    lines = draw(st.lists(_line, max_size=14))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    text = eol.join(lines)
    if draw(st.booleans()):
        text += eol
    return text


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(messages())
def test_property_agrees_with_git(message: str) -> None:
    assume(not oracle_loops_forever(message))
    assert ours(message) == oracle(message)


# --- writing trailers -------------------------------------------------------

@pytest.mark.parametrize("message", [
    "subject\n",
    "subject\n\nbody\n",
    "subject\n\nbody\n\nKey: v\n",
    "subject\n\nbody\n---\ndiff --git a b\n",
    "subject\n\nbody\n# Please enter the commit message\n",
    "subject",
])
def test_add_trailer_places_it_where_git_reads_it(repo: GitRepo, message: str) -> None:
    out = add_trailers(Repo(), message.encode(), [("Learning", "a lesson")]).decode()
    assert ("Learning", "a lesson") in trailers.parse(out)
    assert "Learning: a lesson" in oracle(out)
    # nothing of the original is lost
    for line in message.splitlines():
        assert line in out


def test_add_trailer_to_file_is_atomic_and_keeps_mode(repo: GitRepo) -> None:
    path = repo.write("MSG", "subject\n\nbody\n", mode=0o640)
    add_trailers_to_file(Repo(), path, [("Task", "PROJ-1")])
    assert path.read_text() == "subject\n\nbody\n\nTask: PROJ-1\n"
    assert path.stat().st_mode & 0o777 == 0o640
    assert not [p for p in path.parent.iterdir() if p.name.startswith(".MSG.")]


@pytest.mark.parametrize(("key", "value"), [("Bad Key", "v"), ("Key", "two\nlines"), ("", "v")])
def test_add_trailer_refuses_what_git_would_not_read_back(
    repo: GitRepo, key: str, value: str,
) -> None:
    path = repo.write("MSG", "subject\n")
    with pytest.raises(FatalError):
        add_trailers_to_file(Repo(), path, [(key, value)])
    assert path.read_text() == "subject\n"


_trailer_line = st.builds(lambda k, v, sep: f"{k}{sep}{v}", _keys, _values,
                          st.sampled_from([":", ": ", "="]))


@st.composite
def plain_messages(draw: st.DrawFn) -> str:
    """Messages near the common shape (title, body, a paragraph of trailers), with
    the lines that make git read them otherwise mixed in now and then."""
    odd = draw(st.integers(0, 3)) == 0  # a quarter of them hold an odd line somewhere
    title = draw(_line if odd else _values.filter(lambda v: v.strip(" \t") != ""))
    body = draw(st.lists(_line if odd else _values, max_size=3))
    block = draw(st.lists(st.one_of(_trailer_line, _line) if odd else _trailer_line,
                          min_size=1, max_size=5))
    parts = [title, "", *body, "", *block] if body else [title, "", *block]
    return "\n".join(parts) + draw(st.sampled_from(["", "\n", "\n\n", "\n  \n"]))


@settings(max_examples=3000, deadline=None)
@given(st.one_of(plain_messages(), messages()))
def test_the_short_way_reads_as_the_long_way(message: str) -> None:
    """parse() takes a short way for the common shape; it must read what git's rules read."""
    assert trailers.parse(message) == list(trailers.find_block(message).trailers)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plain_messages())
def test_plain_messages_agree_with_git(message: str) -> None:
    assume(not oracle_loops_forever(message))
    assert ours(message) == oracle(message)


@pytest.mark.parametrize(("message", "lines"), [
    ("s\n\nA: 1\n  more\nB: 2\n", ["A: 1\n  more\n", "B: 2\n"]),
    ("s\n\nA: 1\n# c\nB: 2\n\n\n", ["A: 1\n", "B: 2\n"]),  # not the comment, not the blank lines after
    ("s\r\n\r\nA: 1\r\n\tx\r\nB: 2", ["A: 1\r\n\tx\r\n", "B: 2"]),
    ("\nKey: v\n# c\n", ["Key: v\n"]),
    ("s\n\nbody\n\nA: 1\nConflicts:\n\tp\n", ["A: 1\n"]),
])
def test_each_trailer_spans_its_own_lines(message: str, lines: list[str]) -> None:
    """What `drop_trailers` cuts out: a trailer's lines and its continuations, nothing more."""
    block = trailers.find_block(message)
    assert [message[a:b] for a, b in block.spans] == lines
    assert len(block.trailers) == len(lines)
