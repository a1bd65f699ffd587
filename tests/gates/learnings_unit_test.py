"""Gate IX's parts called directly: word counting, placeholders, quoting, sections,
front matter, learning files, trailers and the refusal, each message word for word."""
from __future__ import annotations

from typing import Any

import pytest
from unidiff.patch import PatchSet

from agentops_hooks.change import ChangedPath
from agentops_hooks.config import Config
from agentops_hooks.findings import Finding
from agentops_hooks.gates import learnings as gate
from agentops_hooks.gates.learnings import Bullets
from agentops_hooks.gates.learnings import LearningsConfig
from agentops_hooks.gates.learnings import _cjk
from agentops_hooks.gates.learnings import _fold
from agentops_hooks.gates.learnings import _trim
from agentops_hooks.gates.learnings import _valid_date
from agentops_hooks.gates.learnings import _words
from agentops_hooks.gates.learnings import check
from agentops_hooks.gates.learnings import file_offers
from agentops_hooks.gates.learnings import front_matter
from agentops_hooks.gates.learnings import is_docs
from agentops_hooks.gates.learnings import learning_file_problems
from agentops_hooks.gates.learnings import learning_hint
from agentops_hooks.gates.learnings import learning_problem
from agentops_hooks.gates.learnings import new_sections
from agentops_hooks.gates.learnings import quote
from agentops_hooks.gates.learnings import trailer_offers

FRONT = (
    "---\ndate: 2026-11-21\nauthor: claude-code session=42\narea: limits\n"
    "evidence: tests/test_limits.py\nconfidence: high\nkind: learning\n---\n"
)
TOO_SHORT_3 = "policy asks for at least 3 (learnings.min_words)"


class FakeChange:
    """The parts of a Change the gate reads."""

    def __init__(self, trailers: list[tuple[str, str]] = (), changed_lines: int = 20,  # type: ignore[assignment]
                 paths: list[str] = ("app.py",), commit: str | None = None,  # type: ignore[assignment]
                 message_option: str | None = None, retry: str = "git commit") -> None:
        self.trailers = list(trailers)
        self.changed_lines = changed_lines
        self.paths = [ChangedPath("M", p) for p in paths]
        self.commit = commit
        self.message_option = message_option
        self.retry = retry


class FakeStore:
    """Evidence whose patch_for gives a fixed diff and records what it was asked."""

    def __init__(self, diff: str = "") -> None:
        self.diff = diff
        self.asked: list[tuple[Any, tuple[str, ...]]] = []

    def patch_for(self, change: Any, pathspecs: tuple[str, ...]) -> PatchSet:
        self.asked.append((change, tuple(pathspecs)))
        return PatchSet(self.diff)


class FakeContext:
    def __init__(self, config: LearningsConfig | None = None, agent: bool = True, diff: str = "") -> None:
        self.config = Config(sections=(config,) if config is not None else ())
        self.agent_signals = ["agent"] if agent else []
        self.store = FakeStore(diff)
        self.asked: list[str] = []

    def applies(self, required_for: str) -> bool:
        self.asked.append(required_for)
        return required_for == "everyone" or bool(self.agent_signals)


def added_file(path: str, content: str) -> str:
    lines = content.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    body = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n"
            f"--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}")


def modified_file(path: str, hunk_lines: list[str], old_start: int = 1) -> str:
    old = sum(1 for line in hunk_lines if line[:1] in (" ", "-"))
    new = sum(1 for line in hunk_lines if line[:1] in (" ", "+"))
    body = "".join(line + "\n" for line in hunk_lines)
    return (f"diff --git a/{path} b/{path}\nindex 1111111..2222222 100644\n"
            f"--- a/{path}\n+++ b/{path}\n@@ -{old_start},{old} +{old_start},{new} @@\n{body}")


def sections_of(*hunks: list[str]) -> list[tuple[str, str]]:
    diff = "".join(modified_file("learnings.md", h, old_start=1 + 100 * i) for i, h in enumerate(hunks))
    # one file, several hunks: drop the repeated file headers
    first, *rest = diff.split("diff --git ")[1:]
    text = "diff --git " + first + "".join(r[r.index("@@"):] for r in rest)
    (patched,) = PatchSet(text)
    return new_sections(patched)


# --- the settings -----------------------------------------------------------

def test_the_gate_names_and_defaults() -> None:
    """Factor IX, gate learnings, the select phase, and every default setting."""
    assert (gate.FACTOR, gate.GATE, gate.PHASE, gate.LEARNING_KEY) == ("IX", "learnings", "select", "Learning")
    assert gate.SETTINGS is LearningsConfig
    assert tuple(LearningsConfig()) == (
        "agents", "error", 10, 3, "learnings.md", ".agents/learnings", True,
        ("*.md", "*.rst", "*.txt", "*.adoc", "docs/**"))


@pytest.mark.parametrize(("lines", "words", "problems"), [
    (0, 1, []),
    (-1, 1, [("min_changed_lines", "must be 0 or more")]),
    (0, 0, [("min_words", "must be 1 or more")]),
    (-5, -2, [("min_changed_lines", "must be 0 or more"), ("min_words", "must be 1 or more")]),
])
def test_config_problems(lines: int, words: int, problems: list[tuple[str, str]]) -> None:
    """min_changed_lines may be 0 but not less; min_words must be 1 or more."""
    assert list(LearningsConfig(min_changed_lines=lines, min_words=words).problems()) == problems


# --- folding and word counting ----------------------------------------------

def test_fold_reads_lookalike_letters_as_latin() -> None:
    """Every Cyrillic and Greek lookalike folds to its Latin letter."""
    assert _fold("АВЕКМНОРСТУХЅІЈаеорсухѕіјԁѵΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοιρυνκτχı") == \
        "ABEKMHOPCTYXSIJaeopcyxsijdvABEZHIKMNOPTYXaoipuvktxi".casefold()


@pytest.mark.parametrize(("text", "folded"), [
    ("ToDo", "todo"),
    ("STRASSE", "strasse"),
    ("Straße", "strasse"),
    ("ＴＯＤＯ", "todo"),
    ("𝐓𝐎𝐃𝐎", "todo"),
    ("t\u200bodo", "todo"),
    ("t\u2060odo", "todo"),
    ("t\u0335odo", "todo"),
    ("to\u20dddo", "todo"),
    ("t\u115fodo", "todo"),
    ("t\u1160odo", "todo"),
    ("t\u3164odo", "todo"),
    ("t\uffa0odo", "todo"),
    ("t\u2800odo", "todo"),
    ("ТОDО", "todo"),
    ("café", "café"),
    ("é", "é"),
])
def test_fold(text: str, folded: str) -> None:
    """Compatibility forms as plain letters, invisible and combining marks dropped
    (a precomposed letter stays), lookalikes as Latin, case folded."""
    assert _fold(text) == folded


def test_fold_keeps_a_letter_that_is_neither_mark_nor_invisible() -> None:
    """Only the invisible letters and the Cf, Mn and Me categories are dropped."""
    assert _fold("a\u3164b\u00b7c") == "ab\u00b7c"


@pytest.mark.parametrize(("o", "cjk"), [
    (0x303F, False), (0x3040, True), (0x30FF, True), (0x3100, False),
    (0x33FF, False), (0x3400, True), (0x4DBF, True), (0x4DC0, False),
    (0x4DFF, False), (0x4E00, True), (0x9FFF, True), (0xA000, False),
    (0xF8FF, False), (0xF900, True), (0xFAFF, True), (0xFB00, False),
    (0x1FFFF, False), (0x20000, True), (0x2FA1F, True), (0x2FA20, False),
])
def test_cjk_ranges(o: int, cjk: bool) -> None:
    """Kana, the Han blocks and their compatibility ideographs, bounds included."""
    assert _cjk(chr(o)) is cjk


@pytest.mark.parametrize(("token", "trimmed"), [
    ("", ""), ("!!!", ""), ("a", "a"), ("(a.b)!", "a.b"), ("\"word,\"", "word"), ("1", "1"),
])
def test_trim(token: str, trimmed: str) -> None:
    """Punctuation around a token goes, inside it stays."""
    assert _trim(token) == trimmed


@pytest.mark.parametrize(("folded", "words", "refs"), [
    ("", [], 0),
    ("round money half-even.", ["round", "money", "half-even"], 0),
    ("see (https://example.com/x) now", ["see", "now"], 1),
    ("ftp://host", [], 1),
    ("www.example.com, www.x", [], 2),
    ("<www.example.com>", [], 1),
    ("xwww.example.com", ["xwww.example.com"], 0),
    ("123 4.5 !!", [], 0),
    ("1. round money", ["round", "money"], 0),
    ("abc1234 def5678 https://a.b", [], 3),
    ("abc1234", [], 1),
    ("abc123", ["abc123"], 0),
    ("abcdefa", ["abcdefa"], 0),
    ("abc123g", ["abc123g"], 0),
    ("(4b825dc).", [], 1),
    ("café au lait", ["café", "au", "lait"], 0),
    ("日本語", ["日", "本", "語"], 0),
    ("日本abc", ["日", "本", "abc"], 0),
    ("日1本", ["日", "本"], 0),
    ("日abc本def", ["日", "本", "abc", "def"], 0),
    ("テスト", ["テ", "ス", "ト"], 0),
])
def test_words(folded: str, words: list[str], refs: int) -> None:
    """Words have a letter; links and commit ids (7+ hex digits with a digit) are
    references; each Han or kana letter is a word."""
    assert _words(folded) == (words, refs)


@pytest.mark.parametrize(("text", "words"), [
    ("日・本", ["日", "本"]),
    ("・ー・", []),
    ("ー日本", ["日", "本"]),
    ("コーヒー", ["コ", "ヒ"]),
    ("ヽヾ日本", ["日", "本"]),
    ("ゝゞ", []),
    ("日本。", ["日", "本"]),
    ("日。本", ["日", "本"]),
    ("ｺｰﾋｰ", ["コ", "ヒ"]),
])
def test_kana_punctuation_and_marks_are_no_words(text: str, words: list[str]) -> None:
    """The middle dot, the long-vowel mark and the iteration marks of kana (and 。)
    are not words of their own."""
    assert _words(_fold(text)) == (words, 0)


@pytest.mark.parametrize("text", ["日・本", "ー日本", "日・本。", "コーヒー"])
def test_kana_punctuation_does_not_make_a_short_learning_long(text: str) -> None:
    """Two kanji and a middle dot are two words, short of three."""
    assert learning_problem(text, 3) == (
        "too-short", f"is too short: 2 words, {TOO_SHORT_3}")


def test_only_kana_marks_have_no_words() -> None:
    assert learning_problem("ーー・", 1) == (
        "placeholder", "has no words, only punctuation, digits or symbols")


# --- learning_problem -------------------------------------------------------

# Written out, not read from learnings.PLACEHOLDERS: a word lost or misspelt there must fail here.
PLACEHOLDER_WORDS = [
    "x", "xx", "xxx", "none", "na", "nil", "null", "no", "yes", "ok", "okay", "done",
    "todo", "tbd", "tba", "tbc", "wip", "fixme", "placeholder", "see", "same", "misc",
    "stuff", "various", "minor", "etc", "test", "tests", "testing", "asdf", "foo", "bar",
    "baz", "foobar", "blah", "fix", "fixed", "fixes", "bugfix", "update", "updated",
    "change", "changes", "changed", "works", "itworks", "lgtm",
    "learning", "learnings", "lesson", "lessons", "learned", "learnt", "lessonlearned",
    "lessonslearned", "nothing", "nolearning", "nolearnings", "nolesson", "nolessons",
    "nothinglearned", "nothinglearnt", "nothingnew", "nothingtolearn", "nothingtoadd",
    "notapplicable", "fixedit", "fixedbug", "fixedthebug", "seeabove", "seecommit",
    "seediff", "seecode", "asabove", "sameasabove",
    "whatthischangetaught", "whatwaslearned", "shorttitle",
]


@pytest.mark.parametrize("word", PLACEHOLDER_WORDS)
def test_every_placeholder_is_refused(word: str) -> None:
    """Each placeholder, alone, is refused as one even at min_words 1."""
    assert learning_problem(word, 1) == ("placeholder", "is a placeholder, not a lesson")
    assert learning_problem(word.upper() + ".", 1) == ("placeholder", "is a placeholder, not a lesson")


@pytest.mark.parametrize(("text", "min_words", "found"), [
    ("https://example.com", 3, ("placeholder", "is only a link or commit id, not a lesson")),
    ("4b825dc642cb6eb9a060e54bf8d69288fbee4904", 1, ("placeholder", "is only a link or commit id, not a lesson")),
    ("", 1, ("placeholder", "is empty")),
    (" \t ", 1, ("placeholder", "is empty")),
    ("\u200b", 1, ("placeholder", "is empty")),
    (".", 1, ("placeholder", "has no words, only punctuation, digits or symbols")),
    ("42 -- 7", 1, ("placeholder", "has no words, only punctuation, digits or symbols")),
    ("N/A.", 1, ("placeholder", "is a placeholder, not a lesson")),
    ("n.a.", 1, ("placeholder", "is a placeholder, not a lesson")),
    ("no lessons", 1, ("placeholder", "is a placeholder, not a lesson")),
    ("what this change taught", 1, ("placeholder", "is a placeholder, not a lesson")),
    ("Lorem ipsum dolor sit amet", 1, ("placeholder", "is a placeholder, not a lesson")),
    ("loremipsum", 1, ("placeholder", "is a placeholder, not a lesson")),
    ("<the thing we should have known>", 1,
     ("placeholder", "is a template slot left unfilled, not a lesson")),
    ("  <slot here>  ", 1, ("placeholder", "is a template slot left unfilled, not a lesson")),
    ("very very very", 1, ("placeholder", "repeats one word, which says nothing")),
    ("hello hello", 1, ("placeholder", "repeats one word, which says nothing")),
    ("Very, very. VERY", 1, ("placeholder", "repeats one word, which says nothing")),
    ("todo fixme wip", 1, ("placeholder", "is only placeholder words, not a lesson")),
    ("n/a n/a tbd", 1, ("placeholder", "is only placeholder words, not a lesson")),
    ("a b c", 1, ("placeholder", "is only single letters, which say nothing")),
    ("q r", 1, ("placeholder", "is only single letters, which say nothing")),
    ("hello world", 3, ("too-short", f"is too short: 2 words, {TOO_SHORT_3}")),
    ("hello", 2, ("too-short", "is too short: 1 word, policy asks for at least 2 (learnings.min_words)")),
    ("hello https://example.com", 3,
     ("too-short", f"is too short: 1 word (links and commit ids do not count), {TOO_SHORT_3}")),
    ("cache keys 4b825dc6", 3,
     ("too-short", f"is too short: 2 words (links and commit ids do not count), {TOO_SHORT_3}")),
])
def test_learning_problem(text: str, min_words: int, found: tuple[str, str]) -> None:
    """Each reason a learning does not count, in the order they are tried."""
    assert learning_problem(text, min_words) == found


@pytest.mark.parametrize(("text", "min_words"), [
    ("hello", 1),
    ("hello world", 2),
    ("round money half-even", 3),
    ("日本語", 3),
    ("日 本 語", 3),
    ("a b cd", 1),
    ("<a> and <b>", 1),
    ("<ab <cd ef>", 1),
    ("<<not a slot>", 1),
    ("retry <twice", 1),
    ("todo: cache the keys", 1),
    ("lorem is fine", 1),
    ("see https://example.com for rounding", 1),
])
def test_learning_that_says_something(text: str, min_words: int) -> None:
    """One word is a learning at min_words 1; a slot needs to be the whole text."""
    assert learning_problem(text, min_words) is None


# --- quote and hint ---------------------------------------------------------

@pytest.mark.parametrize(("text", "limit", "shown"), [
    ("x", 60, '"x"'),
    ("  a \n\t b  ", 60, '"a b"'),
    ("x\u200b", 60, '"x\\u200b"'),
    ("\u3164x", 60, '"\u3164x"'),
    ("x\U000e0001", 60, '"x\\ue0001"'),
    ("a" * 60, 60, '"' + "a" * 60 + '"'),
    ("a" * 61, 60, '"' + "a" * 57 + '..."'),
    ("abcdefgh", 5, '"ab..."'),
    ("abcde", 5, '"abcde"'),
])
def test_quote(text: str, limit: int, shown: str) -> None:
    """Quoted on one line, invisible characters as \\uXXXX, cut at the limit."""
    assert quote(text, limit) == shown


def test_quote_default_limit_is_60() -> None:
    assert quote("b" * 61) == '"' + "b" * 57 + '..."'
    assert quote("b" * 60) == '"' + "b" * 60 + '"'


@pytest.mark.parametrize(("n", "hint"), [
    (1, "say what this change taught, in at least 1 word"),
    (2, "say what this change taught, in at least 2 words"),
    (0, "say what this change taught, in at least 0 words"),
])
def test_learning_hint(n: int, hint: str) -> None:
    assert learning_hint(n) == hint


# --- docs paths and dates ---------------------------------------------------

@pytest.mark.parametrize(("path", "patterns", "docs"), [
    ("README.md", None, True),
    ("a/b/notes.rst", None, True),
    ("x.txt", None, True),
    ("guide.adoc", None, True),
    ("docs/api/x.py", None, True),
    ("docs/", None, True),
    ("docsx/a.py", None, False),
    ("docs", None, False),
    ("src/docs/a.py", None, False),
    ("README.MD", None, False),
    ("app.py", None, False),
    ("sub/README", ("README",), True),
    ("a/b/README", ("README",), True),
    ("README", ("README",), True),
    ("READMEx", ("README",), False),
    ("sub/x.md", ("sub/*.md",), True),
    ("other/sub/x.md", ("sub/*.md",), False),
    ("x.md", ("sub/*.md",), False),
    ("guide/a/b.py", ("guide/**",), True),
    ("a/guide/b.py", ("guide/**",), False),
    ("packages/api/docs/x.py", ("packages/*/docs/**",), True),
    ("packages/api/src/x.py", ("packages/*/docs/**",), False),
    ("doc1/x.py", ("doc[0-9]/**",), True),
    ("doc[0-9]/x.py", ("doc[0-9]/**",), False),
    ("a/docs/x.py", ("**/docs/**",), True),
    ("notes.md", (), False),
    ("a/b", ("[!/]",), False),
    ("b", ("[!/]",), True),
])
def test_is_docs(path: str, patterns: tuple[str, ...] | None, docs: bool) -> None:
    """Globs whose `*` spans `/` (so `docs/**` is all under docs/, and a glob may come
    before it); a pattern without `/` matches the file name too."""
    config = LearningsConfig() if patterns is None else LearningsConfig(docs_patterns=patterns)
    assert is_docs(path, config) is docs


@pytest.mark.parametrize(("text", "valid"), [
    ("2026-01-01", True), ("2024-02-29", True), ("2026-02-30", False),
    ("2026-13-01", False), ("soon", False), ("", False),
])
def test_valid_date(text: str, valid: bool) -> None:
    assert _valid_date(text) is valid


# --- bullets and sections ---------------------------------------------------

@pytest.mark.parametrize(("lines", "text", "open_"), [
    (["- one"], "one", True),
    (["* one", "+ two"], "one two", True),
    (["  -   spaced   out  "], "spaced   out", True),
    (["\t-\ttab"], "tab", True),
    (["-x"], "", False),
    (["- "], "", False),
    (["text"], "", False),
    (["  indented"], "", False),
    (["- one", "  more", "\tand more "], "one more and more", True),
    (["- one", "", "  not more"], "one", False),
    (["- one", "   "], "one", False),
    (["- one", "plain", "  not more"], "one", False),
    (["- one", "  more", "- two"], "one more two", True),
])
def test_bullets(lines: list[str], text: str, open_: bool) -> None:
    """A bullet and its indented continuation lines; a blank or unindented line ends it."""
    bullets = Bullets()
    for line in lines:
        bullets.add(line)
    assert (bullets.text(), bullets.open) == (text, open_)


def test_bullets_start_empty() -> None:
    bullets = Bullets()
    assert (bullets.parts, bullets.open, bullets.text()) == ([], False, "")


@pytest.mark.parametrize(("hunks", "found"), [
    ([["+## Clocks (2026-01-02)", "+", "+- use monotonic time"]], [("Clocks", "use monotonic time")]),
    ([["+##\tTabbed title\t(2026-01-02)\t", "+- a lesson here"]], [("Tabbed title", "a lesson here")]),
    ([["+## Two (2026-01-02)", "+- first", "+  goes on", "+- second"]], [("Two", "first goes on second")]),
    ([["+## No bullet (2026-01-02)", "+just text"]], []),
    ([["+## Bad date (2026-02-30)", "+- a lesson here"]], []),
    ([["+## No date", "+- a lesson here"]], []),
    ([["+## Padded (2026-01-02)\u00a0", "+- a lesson here"]], []),
    ([["+## Types (2026-01-02)", "+- use type X"]], [("Types", "use type X")]),
    ([["+##No space (2026-01-02)", "+- a lesson here"]], []),
    ([["+### Deeper (2026-01-02)", "+- a lesson here"]], []),
    ([[" ## Old (2026-01-01)", "+- added under an old title"]], []),
    ([["+## New (2026-01-02)", " - an old bullet", "+- new one"]], [("New", "new one")]),
    ([["+## New (2026-01-02)", "+- new one", " - an old bullet"]], [("New", "new one")]),
    ([["+## New (2026-01-02)", "+- new one", " ", "+  not a continuation"]], [("New", "new one")]),
    ([["+## New (2026-01-02)", "-- removed bullet", "+- kept"]], [("New", "kept")]),
    ([["+## New (2026-01-02)", "-## Old (2026-01-01)", "+- kept"]], [("New", "kept")]),
    ([["+## A (2026-01-02)", "+- one", "+# Top", "+- after a heading"]], [("A", "one")]),
    ([["+## A (2026-01-02)", "+- one", "+## B (2026-01-03)", "+- two"]], [("A", "one"), ("B", "two")]),
    ([["+## A (2026-01-02)", "+## B (2026-01-03)", "+- two"]], [("B", "two")]),
    ([["+## A (2026-01-02)", "+- one"], ["+- orphan", "+## B (2026-01-03)", "+- two"]],
     [("A", "one"), ("B", "two")]),
    ([["+## A (2026-01-02)"], ["+- other hunk"]], []),
])
def test_new_sections(hunks: list[list[str]], found: list[tuple[str, str]]) -> None:
    """Added `## Title (date)` sections with an added bullet, hunk by hunk; lines the
    file already had are not the new learning's."""
    assert sections_of(*hunks) == found


def test_new_sections_ignores_crlf() -> None:
    diff = modified_file("learnings.md", ["+## Win (2026-01-02)\r", "+- crlf lesson\r"])
    (patched,) = PatchSet(diff)
    assert new_sections(patched) == [("Win", "crlf lesson")]


# --- front matter and learning files ----------------------------------------

@pytest.mark.parametrize(("text", "parsed"), [
    ("", None),
    ("no front matter", None),
    ("x\n---\n", None),
    ("---\n", None),
    ("---\na: 1\n", None),
    ("---\n---\n", ({}, "")),
    ("---\n---\nbody", ({}, "body")),
    (" --- \na: 1\n  ---  \nbody\nmore", ({"a": 1}, "body\nmore")),
    ("---\na: 1\n---\nbody\n", ({"a": 1}, "body\n")),
    ("---\n\n# comment\n  # indented comment\na: x\n---\n", ({"a": "x"}, "")),
    ("---\nno colon\n---\n", None),
    ("---\n: value\n---\n", None),
    ("---\n  : value\n---\n", None),
    ("---\n key : value \n---\n", ({"key": "value"}, "")),
    ("---\nn: 0.5\nt: true\nz: null\ns: \"q\"\ne:\n---\n", ({"n": 0.5, "t": True, "z": None, "s": "q", "e": ""}, "")),
    ("---\np: 'single'\nu: a: b\n---\n", ({"p": "single", "u": "a: b"}, "")),
    ("---\nd: 2026-11-21\n---\n", ({"d": "2026-11-21"}, "")),
    ("---\nl: [1, 2]\n---\n", ({"l": [1, 2]}, "")),
    ("---\nq: 'it's'\n---\n", ({"q": "it's"}, "")),
    ("---\nx: fooX\ny: 'X'\n---\n", ({"x": "fooX", "y": "X"}, "")),
])
def test_front_matter(text: str, parsed: tuple[dict[str, Any], str] | None) -> None:
    """`key: value` lines between `---` lines, JSON scalars where they are one; None
    for anything else."""
    assert front_matter(text) == parsed


def test_learning_file_that_counts() -> None:
    assert learning_file_problems(FRONT + "Round money half-even.\n") == []
    assert learning_file_problems(FRONT + "Rounding\n") == []


@pytest.mark.parametrize(("content", "problems"), [
    ("Round money half-even.\n",
     ["it does not start with a `---` front matter block of `key: value` lines"]),
    (FRONT.replace("confidence: high", "confidence: 2").replace("kind: learning", "kind: guess")
     .replace("area: limits", "area: \"\""),
     ["area: '' should be non-empty",
      "confidence: 2 is not valid under any of the given schemas",
      "kind: 'guess' is not one of ['observation', 'learning', 'pattern']"]),
    (FRONT, ["the learning itself (the text after the front matter) is empty"]),
    (FRONT + " \n\n", ["the learning itself (the text after the front matter) is empty"]),
    (FRONT + "x\n", ['the learning itself "x" is a placeholder, not a lesson']),
    (FRONT + "TODO  tbd\n", ['the learning itself "TODO tbd" is only placeholder words, not a lesson']),
])
def test_learning_file_problems(content: str, problems: list[str]) -> None:
    """Its front matter, then the schema's errors by path, then its text (no word count)."""
    assert learning_file_problems(content) == problems


def test_missing_keys_are_all_named() -> None:
    assert learning_file_problems("---\nkind: learning\n---\nbody\n") == [
        f"front matter: '{key}' is a required property"
        for key in ("date", "author", "area", "evidence", "confidence")]


def test_file_problems_kinds() -> None:
    """Each problem's kind; the word count applies here (gate X's view does not)."""
    assert gate._file_problems("nope", 3)[0] == "malformed"
    assert gate._file_problems(FRONT, 3)[0] == "malformed"
    assert gate._file_problems(FRONT + "x", 3)[0] == "placeholder"
    assert gate._file_problems(FRONT + "two words", 3) == (
        "too-short", [f'the learning itself "two words" is too short: 2 words, {TOO_SHORT_3}'])
    assert gate._file_problems(FRONT + "three whole words", 3) == ("", [])


# --- trailers, files and the check ------------------------------------------

def test_trailer_offers() -> None:
    """Each non-blank `Learning:` trailer (any case), in order; blank ones are skipped."""
    change = FakeChange(trailers=[
        ("Learning", "x"), ("learning", "  "), ("Other", "nothing"), ("LEARNING", "round money half-even"),
        ("Learning", "two words"), ("Learning", "")])
    assert trailer_offers(change, 3) == [  # type: ignore[arg-type]
        ("placeholder", 'the `Learning:` trailer "x" is a placeholder, not a lesson'),
        ("", ""),
        ("too-short", f'the `Learning:` trailer "two words" is too short: 2 words, {TOO_SHORT_3}'),
    ]
    assert trailer_offers(FakeChange(), 3) == []  # type: ignore[arg-type]


def offers_of(diff: str, config: LearningsConfig | None = None) -> tuple[list[tuple[str, str]], FakeStore]:
    store = FakeStore(diff)
    change = FakeChange()
    got = file_offers(change, store, config or LearningsConfig())  # type: ignore[arg-type]
    assert [c for c, _ in store.asked] == [change]
    return got, store


def test_file_offers_asks_for_the_file_and_the_directory() -> None:
    _, store = offers_of("")
    assert store.asked[0][1] == ("learnings.md", ".agents/learnings/")
    _, store = offers_of("", LearningsConfig(file="NOTES.md", directory="/lessons//"))
    assert store.asked[0][1] == ("NOTES.md", "lessons/")
    _, store = offers_of("", LearningsConfig(directory="Xnotes"))
    assert store.asked[0][1] == ("learnings.md", "Xnotes/")


def test_file_offers_of_sections() -> None:
    diff = modified_file("learnings.md", [
        "+## Empty (2026-01-02)", "+- n/a", "+## Short (2026-01-03)", "+- two words",
        "+## Good (2026-01-04)", "+- round money half-even"])
    assert offers_of(diff)[0] == [
        ("placeholder", 'learnings.md section `Empty`: "n/a" is a placeholder, not a lesson'),
        ("too-short", f'learnings.md section `Short`: "two words" is too short: 2 words, {TOO_SHORT_3}'),
        ("", ""),
    ]


def test_file_offers_of_sections_use_min_words() -> None:
    diff = modified_file("learnings.md", ["+## Short (2026-01-03)", "+- two words"])
    assert offers_of(diff, LearningsConfig(min_words=2))[0] == [("", "")]


def test_file_offers_of_learning_files() -> None:
    diff = (added_file(".agents/learnings/good.md", FRONT + "Round money half-even.\n")
            + added_file(".agents/learnings/bad.md", "---\nkind: learning\n---\nbody\n")
            + added_file(".agents/learnings/short.md", FRONT + "two words\n"))
    assert offers_of(diff)[0] == [
        ("", ""),
        ("malformed", "; ".join(f".agents/learnings/bad.md: front matter: '{k}' is a required property"
                                for k in ("date", "author", "area", "evidence", "confidence"))),
        ("too-short", f'.agents/learnings/short.md: the learning itself "two words" is too short: 2 words, '
                      f"{TOO_SHORT_3}"),
    ]


def test_file_offers_ignore_what_is_not_a_new_learning() -> None:
    """A changed (not added) learning file, a binary one, a file beside the
    directory and a learnings file elsewhere offer nothing."""
    diff = (modified_file(".agents/learnings/old.md", ["+more text here"], old_start=3)
            + "diff --git a/.agents/learnings/pic.png b/.agents/learnings/pic.png\n"
              "new file mode 100644\nindex 0000000..1111111\n"
              "Binary files /dev/null and b/.agents/learnings/pic.png differ\n"
            + added_file(".agents/learningsX/a.md", FRONT + "Round money half-even.\n")
            + added_file("sub/learnings.md", "## A (2026-01-02)\n- round money half-even\n"))
    assert offers_of(diff)[0] == []


def test_file_offers_learnings_file_added_whole() -> None:
    diff = added_file("learnings.md", "# Learnings\n\n## A (2026-01-02)\n- round money half-even\n")
    assert offers_of(diff)[0] == [("", "")]


def test_file_offers_configured_directory() -> None:
    diff = added_file("lessons/a.md", FRONT + "x\n")
    assert offers_of(diff, LearningsConfig(directory="lessons"))[0] == [
        ("placeholder", 'lessons/a.md: the learning itself "x" is a placeholder, not a lesson')]


@pytest.mark.parametrize(("option", "commit", "command"), [
    (None, "abc", "add a `Learning: <what this change taught>` trailer to the message, then RETRY"),
    ("-F .git/MSG", "abc", 'agentops trailer add Learning "<lesson>" -F .git/MSG, then RETRY'),
    (None, None, 'agentops learn "<what this change taught>" --title "<short title>"   then RETRY; '
                 "or add a `Learning: <what this change taught>` trailer to the message"),
    ("-F .git/MSG", None, 'agentops learn "<what this change taught>" --title "<short title>"   then RETRY; '
                          'or agentops trailer add Learning "<lesson>" -F .git/MSG'),
])
def test_learn_command(option: str | None, commit: str | None, command: str) -> None:
    change = FakeChange(message_option=option, commit=commit, retry="RETRY")
    assert gate._learn_command(change) == command  # type: ignore[arg-type]


def test_finding_carries_the_change_commit() -> None:
    change = FakeChange(commit="c0ffee")
    assert gate._finding(change, "r", "m", "f") == Finding(  # type: ignore[arg-type]
        "IX", "learnings", "r", "m", "f", "c0ffee")
    assert gate._finding(change, "r", "m", "f").severity == "error"  # type: ignore[arg-type]


MISSING = ("an agent-authored change of 20 changed lines (over learnings.min_changed_lines = 10) must "
           "leave a learning: a new `## Title (YYYY-MM-DD)` section with a bullet in learnings.md, a new "
           "file in .agents/learnings/, or a `Learning:` trailer.")
FIX = ('agentops learn "<what this change taught>" --title "<short title>"   then git commit; '
       "or add a `Learning: <what this change taught>` trailer to the message")


def run_check(change: FakeChange, config: LearningsConfig | None = None, agent: bool = True,
              diff: str = "") -> tuple[list[Finding], FakeContext]:
    ctx = FakeContext(config, agent, diff)
    return check(change, ctx), ctx  # type: ignore[arg-type]


def test_missing_learning_is_refused() -> None:
    change = FakeChange()
    found, ctx = run_check(change)
    assert found == [Finding("IX", "learnings", "learning-missing", MISSING, FIX, None)]
    assert ctx.asked == ["agents"]
    assert ctx.store.asked == [(change, ("learnings.md", ".agents/learnings/"))]


def test_refusal_for_everyone_names_the_policy() -> None:
    config = LearningsConfig(required_for="everyone", min_changed_lines=5, file="L.md", directory="Xd/")
    (finding,), ctx = run_check(FakeChange(changed_lines=6, commit="abc"), config, agent=False)
    assert ctx.asked == ["everyone"]
    assert finding == Finding(
        "IX", "learnings", "learning-missing",
        "every change (policy) of 6 changed lines (over learnings.min_changed_lines = 5) must leave a "
        "learning: a new `## Title (YYYY-MM-DD)` section with a bullet in L.md, a new file in Xd/, "
        "or a `Learning:` trailer.",
        "add a `Learning: <what this change taught>` trailer to the message, then git commit", "abc")


def test_human_change_needs_no_learning_by_default() -> None:
    found, ctx = run_check(FakeChange(), agent=False)
    assert found == []
    assert ctx.store.asked == []


@pytest.mark.parametrize(("lines", "refused"), [(10, False), (11, True), (0, False)])
def test_only_changes_over_the_threshold_need_one(lines: int, refused: bool) -> None:
    found, _ = run_check(FakeChange(changed_lines=lines))
    assert bool(found) is refused


def test_threshold_zero_refuses_one_line() -> None:
    found, _ = run_check(FakeChange(changed_lines=1), LearningsConfig(min_changed_lines=0))
    assert [f.rule for f in found] == ["learning-missing"]


def test_good_trailer_passes_without_reading_the_diff() -> None:
    found, ctx = run_check(FakeChange(trailers=[("Learning", "x"), ("Learning", "round money half-even")]))
    assert found == []
    assert ctx.store.asked == []


def test_good_trailer_passes_a_small_change_too() -> None:
    assert run_check(FakeChange(trailers=[("Learning", "round money half-even")], changed_lines=1))[0] == []


def test_docs_only_change_is_exempt() -> None:
    found, ctx = run_check(FakeChange(paths=["README.md", "docs/a.py"]))
    assert found == []
    assert ctx.store.asked == []
    assert run_check(FakeChange(paths=["README.md", "app.py"]))[0] != []
    assert run_check(FakeChange(paths=["README.md"]), LearningsConfig(exempt_docs_only=False))[0] != []
    assert run_check(FakeChange(paths=[]))[0] != []


def test_learning_in_the_file_passes() -> None:
    diff = modified_file("learnings.md", ["+## Good (2026-01-04)", "+- round money half-even"])
    assert run_check(FakeChange(), diff=diff)[0] == []


def test_placeholder_refusal_names_every_offer() -> None:
    diff = modified_file("learnings.md", ["+## Short (2026-01-04)", "+- two words"])
    (finding,), _ = run_check(FakeChange(trailers=[("Learning", "x")]), diff=diff)
    assert finding.rule == "learning-placeholder"
    assert finding.message == MISSING + (
        ' Not accepted: the `Learning:` trailer "x" is a placeholder, not a lesson; '
        f'learnings.md section `Short`: "two words" is too short: 2 words, {TOO_SHORT_3}.')
    assert finding.fix == "say what this change taught, in at least 3 words: " + FIX


def test_too_short_refusal() -> None:
    (finding,), _ = run_check(FakeChange(trailers=[("Learning", "two words")]), LearningsConfig(min_words=4))
    assert finding.rule == "learning-too-short"
    assert finding.message == MISSING + (
        ' Not accepted: the `Learning:` trailer "two words" is too short: 2 words, '
        "policy asks for at least 4 (learnings.min_words).")
    assert finding.fix == "say what this change taught, in at least 4 words: " + FIX


def test_malformed_file_is_named_but_the_rule_is_missing() -> None:
    diff = added_file(".agents/learnings/a.md", "no front matter\n")
    (finding,), _ = run_check(FakeChange(), diff=diff)
    assert finding.rule == "learning-missing"
    assert finding.message == MISSING + (
        " Not accepted: .agents/learnings/a.md: it does not start with a `---` front matter block "
        "of `key: value` lines.")
    assert finding.fix == FIX


def test_placeholder_wins_over_too_short_in_any_order() -> None:
    diff = modified_file("learnings.md", ["+## P (2026-01-04)", "+- x"])
    (finding,), _ = run_check(FakeChange(trailers=[("Learning", "two words")]), diff=diff)
    assert finding.rule == "learning-placeholder"
