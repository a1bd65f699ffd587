"""Factor IX, Extract Learnings: every non-trivial change leaves a lesson behind.

An agent's change over `learnings.min_changed_lines` must add one of:
a new `## Title (YYYY-MM-DD)` section with a bullet in the learnings file,
a new file under the learnings directory whose front matter matches
schemas/learning.schema.json, or a `Learning:` trailer. Whichever it is, the
learning must say something: a placeholder (`x`, `n/a`, `TODO`, `<lesson>`)
never counts, and a learning needs `learnings.min_words` words.
Added lines are read from the unidiff view of the patch.
"""
from __future__ import annotations

from collections.abc import Iterator
import re
from fnmatch import fnmatchcase
from typing import NamedTuple
from typing import TYPE_CHECKING
from typing import Any

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.findings import Finding
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from unidiff.patch import PatchedFile

    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context
    from agentops_hooks.gates import Evidence

FACTOR = "IX"
GATE = "learnings"
PHASE = "select"


class LearningsConfig(NamedTuple):
    """Gate IX: a non-trivial change leaves a learning behind."""

    required_for: Audience = "agents"
    """Whose changes need a learning: "agents" or "everyone"."""
    severity: Severity = "error"
    min_changed_lines: int = 10
    """A change with more added plus removed lines than this is non-trivial."""
    min_words: int = 3
    """A learning must have at least this many words; placeholders ("x", "n/a", "TODO") never count."""
    file: str = "learnings.md"
    """The learnings file: a new `## Title (YYYY-MM-DD)` section with a bullet counts."""
    directory: str = ".agents/learnings"
    """A new file here whose front matter matches schemas/learning.schema.json counts."""
    exempt_docs_only: bool = True
    """A change that touches only documentation needs no learning."""
    docs_patterns: tuple[str, ...] = ("*.md", "*.rst", "*.txt", "*.adoc", "docs/**")
    """Globs that make a path documentation."""

    def problems(self) -> Iterator[tuple[str, str]]:
        """What pydantic's types cannot say: (key, problem) pairs."""
        if self.min_changed_lines < 0:
            yield "min_changed_lines", "must be 0 or more"
        if self.min_words < 1:
            yield "min_words", "must be 1 or more"


SETTINGS = LearningsConfig
LEARNING_KEY = "Learning"

SECTION = re.compile(r"^##[ \t]+(?P<title>\S.*?)[ \t]*\((?P<date>\d{4}-\d{2}-\d{2})\)[ \t]*$")
BULLET = re.compile(r"^[ \t]*[-*+][ \t]+\S")

# Whole learnings that say nothing, compared by their letters and digits only, so
# "N/A.", "n.a." and "na" are one entry. Our own fix lines' slots are here too.
PLACEHOLDERS = frozenset({
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
})
# Invisible letters that str.isalpha() counts (Hangul fillers, the braille blank).
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u2800")
_LOOKALIKES: dict[int, int] | None = None


def _lookalikes() -> dict[int, int]:
    """Cyrillic and Greek letters that look like Latin ones, as the Latin letter."""
    global _LOOKALIKES
    if _LOOKALIKES is None:
        _LOOKALIKES = str.maketrans(
            "АВЕКМНОРСТУХЅІЈаеорсухѕіјԁѵΑΒΕΖΗΙΚΜΝΟΡΤΥΧαοιρυνκτχı",
            "ABEKMHOPCTYXSIJaeopcyxsijdvABEZHIKMNOPTYXaoipuvktxi",
        )
    return _LOOKALIKES


def _fold(text: str) -> str:
    """Text as the placeholder rules compare it: compatibility forms (fullwidth,
    math letters) as plain ones, invisible characters and combining marks dropped,
    lookalike letters as Latin, case folded."""
    if not text.isascii():
        import unicodedata  # only for non-ASCII text: most learnings never pay for it

        text = unicodedata.normalize("NFKC", text)
        text = "".join(c for c in text if c not in _INVISIBLE
                       and unicodedata.category(c) not in ("Cf", "Mn", "Me"))
        text = text.translate(_lookalikes())
    return text.casefold()


def _cjk(c: str) -> bool:
    """A Han or kana character: a word of its own, since these scripts use no spaces."""
    o = ord(c)
    return 0x3040 <= o <= 0x30FF or 0x3400 <= o <= 0x4DBF or 0x4E00 <= o <= 0x9FFF \
        or 0xF900 <= o <= 0xFAFF or 0x20000 <= o <= 0x2FA1F


def _trim(token: str) -> str:
    """A token without the punctuation, quotes and symbols around it."""
    start, end = 0, len(token)
    while start < end and not token[start].isalnum():
        start += 1
    while end > start and not token[end - 1].isalnum():
        end -= 1
    return token[start:end]


def _words(folded: str) -> tuple[list[str], int]:
    """The words of folded text (a word has a letter), and how many tokens were
    links or commit ids, which are references, not words."""
    words: list[str] = []
    refs = 0
    for token in folded.split():
        word = _trim(token)
        if "://" in token or word.startswith("www."):
            refs += 1
        elif not any(c.isalpha() for c in word):
            continue
        elif len(word) >= 7 and all(c in "0123456789abcdef" for c in word) \
                and any(c.isdigit() for c in word):
            refs += 1
        elif word.isascii() or not any(_cjk(c) for c in word):
            words.append(word)
        else:
            import unicodedata  # non-ASCII text only, as in _fold

            # Each Han or kana letter is a word; the middle dot, the long-vowel and
            # iteration marks of kana (・ ー ゝ) are none.
            words.extend(c for c in word if _cjk(c) and unicodedata.category(c) == "Lo")
            rest = "".join(" " if _cjk(c) else c for c in word).split()
            words.extend(r for r in rest if any(c.isalpha() for c in r))
    return words, refs


def _squash(word: str) -> str:
    return "".join(c for c in word if c.isalnum())


def learning_problem(text: str, min_words: int) -> tuple[str, str] | None:
    """Why a learning's text does not count: ("placeholder" or "too-short", the
    reason, to follow the quoted text); None when it says something."""
    folded = _fold(text)
    words, refs = _words(folded)
    if not words:
        if refs:
            return "placeholder", "is only a link or commit id, not a lesson"
        if not folded.strip():
            return "placeholder", "is empty"
        return "placeholder", "has no words, only punctuation, digits or symbols"
    squashed = [_squash(w) for w in words]
    whole = "".join(squashed)
    if whole in PLACEHOLDERS or whole.startswith("loremipsum"):
        return "placeholder", "is a placeholder, not a lesson"
    stripped = folded.strip()
    if stripped.startswith("<") and stripped.endswith(">") and "<" not in stripped[1:]:
        return "placeholder", "is a template slot left unfilled, not a lesson"
    if len(words) > 1 and len(set(squashed)) == 1:
        return "placeholder", "repeats one word, which says nothing"
    if all(w in PLACEHOLDERS for w in squashed):
        return "placeholder", "is only placeholder words, not a lesson"
    if all(len(w) == 1 and not _cjk(w) for w in words):
        return "placeholder", "is only single letters, which say nothing"
    if len(words) < min_words:
        counted = f"{len(words)} word{'s' if len(words) != 1 else ''}"
        if refs:
            counted += " (links and commit ids do not count)"
        return "too-short", (f"is too short: {counted}, policy asks for at least {min_words} "
                             "(learnings.min_words)")
    return None


def quote(text: str, limit: int = 60) -> str:
    """A learning as a message shows it: quoted, on one line, invisible characters as
    \\uXXXX (so padding is seen), cut at `limit` characters."""
    shown = "".join(c if c.isprintable() else f"\\u{ord(c):04x}" for c in " ".join(text.split()))
    if len(shown) > limit:
        shown = shown[:limit - 3] + "..."
    return f'"{shown}"'


def learning_hint(min_words: int) -> str:
    """What to write instead of a refused learning."""
    return f"say what this change taught, in at least {min_words} word{'s' if min_words != 1 else ''}"


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def is_docs(path: str, config: LearningsConfig) -> bool:
    """Does the path match one of `learnings.docs_patterns`?"""
    name = path.rsplit("/", 1)[-1]
    for pattern in config.docs_patterns:
        # `*` spans `/` here, so `docs/**` is everything under docs/, and a glob
        # before it (`packages/*/docs/**`) is a glob too, not literal text.
        if fnmatchcase(path, pattern) or ("/" not in pattern and fnmatchcase(name, pattern)):
            return True
    return False


def _valid_date(text: str) -> bool:
    import datetime as dt  # here: most commits never reach a learning's date

    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


class Bullets:
    """The text of a section's bullets, fed a line at a time: each `- ` line and the
    indented lines that continue it."""

    __slots__ = ("open", "parts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.open = False

    def add(self, line: str) -> None:
        """Take one line of the section (without its line ending)."""
        m = BULLET.match(line)
        if m:
            self.parts.append(line[m.end() - 1:].strip())
            self.open = True
        elif self.open and line[:1] in (" ", "\t") and line.strip():
            self.parts.append(line.strip())
        else:
            self.open = False

    def text(self) -> str:
        """The bullets' words together."""
        return " ".join(self.parts)


def new_sections(patched: PatchedFile) -> list[tuple[str, str]]:
    """(title, text of its added bullets) of each `## Title (YYYY-MM-DD)` section
    added with at least one added bullet."""
    found: list[tuple[str, str]] = []
    for hunk in patched:
        open_title: str | None = None
        bullets = Bullets()
        for line in hunk:
            if line.is_removed:
                continue
            text = line.value.rstrip("\r\n")
            if text.startswith("#"):
                if open_title is not None and bullets.parts:
                    found.append((open_title, bullets.text()))
                open_title, bullets = None, Bullets()
                m = SECTION.match(text)
                if line.is_added and m and _valid_date(m.group("date")):
                    open_title = m.group("title")
            elif open_title is not None:
                # A line the section already had is not part of the new learning.
                bullets.add(text if line.is_added else "")
        if open_title is not None and bullets.parts:
            found.append((open_title, bullets.text()))
    return found


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
    """Why a learning file is not acceptable (empty when it is): its front matter, or
    its text being a placeholder (gate X's view: no word count, see `learning_problem`)."""
    return _file_problems(content, 1)[1]


def _file_problems(content: str, min_words: int) -> tuple[str, list[str]]:
    """("malformed", "placeholder" or "too-short", the problems) of a learning file."""
    parsed = front_matter(content)
    if parsed is None:
        return "malformed", ["it does not start with a `---` front matter block of `key: value` lines"]
    data, body = parsed
    from jsonschema import Draft202012Validator

    from agentops_hooks.schemafiles import load_schema

    validator = Draft202012Validator(load_schema("learning.schema.json"))
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        where = ".".join(str(p) for p in error.path) or "front matter"
        problems.append(f"{where}: {error.message}")
    if problems:
        return "malformed", problems
    if not body.strip():
        return "malformed", ["the learning itself (the text after the front matter) is empty"]
    found = learning_problem(body, min_words)
    if found is None:
        return "", []
    kind, why = found
    return kind, [f"the learning itself {quote(body)} {why}"]


def _added_text(patched: PatchedFile) -> str:
    return "".join(line.value for hunk in patched for line in hunk if line.is_added)


def trailer_offers(change: Change, min_words: int) -> list[tuple[str, str]]:
    """(kind, why) of each non-blank `Learning:` trailer: kind "" for one that counts."""
    offers = []
    for value in values(change.trailers, LEARNING_KEY):
        if value.strip():
            found = learning_problem(value, min_words)
            offers.append(("", "") if found is None else
                          (found[0], f"the `{LEARNING_KEY}:` trailer {quote(value)} {found[1]}"))
    return offers


def file_offers(change: Change, store: Evidence, config: LearningsConfig) -> list[tuple[str, str]]:
    """(kind, why) of each learning the change adds to the learnings file or directory:
    kind "" for one that counts, "malformed" for a learning file whose front matter fails."""
    directory = config.directory.strip("/") + "/"
    offers = []
    for patched in store.patch_for(change, (config.file, directory)):
        path = patched.path
        if path == config.file:
            for title, text in new_sections(patched):
                found = learning_problem(text, config.min_words)
                offers.append(("", "") if found is None else
                              (found[0], f"{path} section `{title}`: {quote(text)} {found[1]}"))
        elif path.startswith(directory) and patched.is_added_file and not patched.is_binary_file:
            kind, bad = _file_problems(_added_text(patched), config.min_words)
            offers.append((kind, "; ".join(f"{path}: {p}" for p in bad)))
    return offers


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
    """Findings for gate IX; none when the change is trivial or leaves a learning
    that says something."""
    config = ctx.config.section(LearningsConfig)
    if not ctx.applies(config.required_for):
        return []
    # Trailers first: judged in-process, they spare a passing commit reading its diff.
    offers = trailer_offers(change, config.min_words)
    if any(kind == "" for kind, _ in offers):
        return []
    size = change.changed_lines
    if size <= config.min_changed_lines:
        return []
    paths = change.paths
    if config.exempt_docs_only and paths and all(is_docs(p.path, config) for p in paths):
        return []
    offers += file_offers(change, ctx.store, config)
    if any(kind == "" for kind, _ in offers):
        return []
    return [_refusal(change, ctx, size, offers)]


def _refusal(change: Change, ctx: Context, size: int, offers: list[tuple[str, str]]) -> Finding:
    """The one finding of a change that leaves no learning, or none that counts."""
    config = ctx.config.section(LearningsConfig)
    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    directory = config.directory.strip("/") + "/"
    message = (
        f"{who} of {size} changed lines (over learnings.min_changed_lines = "
        f"{config.min_changed_lines}) must leave a learning: a new `## Title (YYYY-MM-DD)` "
        f"section with a bullet in {config.file}, a new file in {directory}, "
        "or a `Learning:` trailer."
    )
    kinds = {kind for kind, _ in offers}
    rule = "learning-placeholder" if "placeholder" in kinds else \
        "learning-too-short" if "too-short" in kinds else "learning-missing"
    fix = _learn_command(change)
    if offers:
        message += " Not accepted: " + "; ".join(why for _, why in offers) + "."
    if rule != "learning-missing":
        fix = f"{learning_hint(config.min_words)}: {fix}"
    return _finding(change, rule, message, fix)
