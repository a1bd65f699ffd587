"""Git trailers, read exactly as ``git interpret-trailers --parse`` reads them.

The algorithm follows git's trailer.c (2.39) line for line: only the last
paragraph counts, it must be all trailers or hold a git-generated one and be
at least 25 % trailers, comment lines are skipped, nothing after the scissors
line or a ``---`` divider counts, continuation lines fold into the trailer
above. Character classes are git's ASCII ones, never Unicode's.
"""
from __future__ import annotations

from typing import NamedTuple
import re
from collections.abc import Sequence


# git's sane_ctype: isspace is exactly these four; isalnum is ASCII only.
_SPACE = frozenset(" \t\n\r")
_ALNUM = frozenset(
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
)
_GIT_GENERATED_PREFIXES = ("Signed-off-by: ", "(cherry picked from commit ")
SCISSORS_TEXT = "------------------------ >8 ------------------------"
_CUT_LINE = SCISSORS_TEXT + "\n"


class TrailerSyntax(NamedTuple):
    """The repository settings that change how git reads trailers."""

    comment_char: str = "#"
    separators: str = ":"
    # One (name, key) per configured trailer.<name>.* section, in config
    # order: such tokens count as recognised prefixes and print as `key`.
    configured: tuple[tuple[str, str | None], ...] = ()

    @classmethod
    def from_config(cls, config: Sequence[tuple[str, str]]) -> TrailerSyntax:
        """Build from ``git config --list`` pairs (variable names lower-cased)."""
        comment_char = "#"
        separators = ":"
        names: dict[str, str | None] = {}
        for var, value in config:
            if var == "core.commentchar":
                # 'auto' only means something to git commit; elsewhere '#'.
                comment_char = "#" if not value or value.lower() == "auto" else value[0]
            elif var == "trailer.separators":
                separators = value or ":"
            elif var.startswith("trailer.") and var.count(".") >= 2:
                name, _, item = var[len("trailer."):].rpartition(".")
                if item in _TRAILER_ITEM_VARS:
                    names.setdefault(name, None)
                    if item == "key":
                        names[name] = value
        return cls(comment_char, separators, tuple(names.items()))


_TRAILER_ITEM_VARS = frozenset(
    ("key", "command", "cmd", "where", "ifexists", "ifmissing"),
)


DEFAULT_SYNTAX = TrailerSyntax()


class TrailerBlock(NamedTuple):
    """What the trailer block of a message holds, and where each trailer is."""

    trailers: tuple[tuple[str, str], ...]
    spans: tuple[tuple[int, int], ...] = ()
    """Where each trailer's lines (continuations too) are in the message."""


def _is_space(c: str) -> bool:
    return c in _SPACE


def _next_line(text: str, pos: int) -> int:
    nl = text.find("\n", pos)
    return len(text) if nl < 0 else nl + 1


def _last_line(text: str, length: int) -> int:
    """Start of the last line of text[:length]; -1 when length is 0."""
    if length == 0:
        return -1
    if length == 1:
        return 0
    nl = text.rfind("\n", 0, length - 1)
    return nl + 1


def _is_blank_line(text: str, pos: int) -> bool:
    nl = text.find("\n", pos)
    return not text[pos:nl if nl >= 0 else len(text)].strip(" \t\r")


_SEPARATOR_PATTERNS: dict[str, re.Pattern[str]] = {}


def _find_separator(text: str, pos: int, separators: str) -> int:
    """Offset from pos of the key/value separator, or -1 (git's rule)."""
    pattern = _SEPARATOR_PATTERNS.get(separators)
    if pattern is None and not any(c in _ALNUM or c in "- \t\n" for c in separators):
        # Same rule as the loop below: a token of letters, digits and '-',
        # then (only after a token) spaces or tabs, then a separator.
        pattern = re.compile(r"(?:[A-Za-z0-9-]+[ \t]*)?[" + re.escape(separators) + "]")
        _SEPARATOR_PATTERNS[separators] = pattern
    if pattern is not None:
        m = pattern.match(text, pos)
        return m.end() - 1 - pos if m else -1
    whitespace_found = False
    i = pos
    n = len(text)
    while i < n:
        c = text[i]
        if c in separators:
            return i - pos
        if not whitespace_found and (c in _ALNUM or c == "-"):
            i += 1
            continue
        if i != pos and c in " \t":
            whitespace_found = True
            i += 1
            continue
        break
    return -1


def _strip(s: str) -> str:
    return s.strip(" \t\n\r")


def _token_len_without_separator(token: str) -> int:
    n = len(token)
    while n > 0 and token[n - 1] not in _ALNUM:
        n -= 1
    return n


def _configured_match(
    token: str, length: int, syntax: TrailerSyntax,
) -> tuple[str, str | None] | None:
    """git's token_matches_item: a case-insensitive compare of `length` chars."""
    head = token[:length].lower()
    for name, key in syntax.configured:
        if head == name[:length].lower():
            return name, key
        if key is not None and head == key[:length].lower():
            return name, key
    return None


def _patch_start(text: str) -> int:
    pos = 0
    n = len(text)
    while pos < n:
        if text.startswith("---", pos) and pos + 3 < n and _is_space(text[pos + 3]):
            return pos
        pos = _next_line(text, pos)
    return n


def _scissors_cutoff(text: str, comment_char: str) -> int:
    pattern = "\n" + comment_char + " " + _CUT_LINE
    if text.startswith(pattern[1:]):
        return 0
    found = text.find(pattern)
    return len(text) if found < 0 else found + 1


def _trailer_end(text: str, length: int, comment_char: str) -> int:
    """git's ignore_non_trailer: drop trailing comments, blank lines, cut part."""
    cutoff = _scissors_cutoff(text[:length], comment_char)
    boc = 0
    bol = 0
    in_old_conflicts_block = False
    while bol < cutoff:
        nl = text.find("\n", bol, length)
        next_line = length if nl < 0 else nl + 1
        c = text[bol]
        if c == comment_char or c == "\n":
            if not boc:
                boc = bol
        elif text.startswith("Conflicts:\n", bol):
            in_old_conflicts_block = True
            if not boc:
                boc = bol
        elif in_old_conflicts_block and c == "\t":
            pass
        elif boc:
            boc = 0
            in_old_conflicts_block = False
        bol = next_line
    return boc if boc else cutoff


def _trailer_start(text: str, length: int, syntax: TrailerSyntax) -> int:
    comment = syntax.comment_char
    # The first paragraph is the title and cannot hold trailers.
    s = 0
    while s < length:
        if text[s] == comment:
            s = _next_line(text, s)
            continue
        if _is_blank_line(text, s):
            break
        s = _next_line(text, s)
    end_of_title = s

    only_spaces = True
    recognized_prefix = False
    trailer_lines = non_trailer_lines = possible_continuation_lines = 0
    bol = _last_line(text, length)
    while bol >= end_of_title:
        c = text[bol]
        if c == comment:
            non_trailer_lines += possible_continuation_lines
            possible_continuation_lines = 0
        elif _is_blank_line(text, bol):
            if not only_spaces:
                non_trailer_lines += possible_continuation_lines
                if recognized_prefix and trailer_lines * 3 >= non_trailer_lines:
                    return _next_line(text, bol)
                if trailer_lines and not non_trailer_lines:
                    return _next_line(text, bol)
                return length
        else:
            only_spaces = False
            if text.startswith(_GIT_GENERATED_PREFIXES, bol):
                trailer_lines += 1
                possible_continuation_lines = 0
                recognized_prefix = True
            else:
                sep = _find_separator(text, bol, syntax.separators)
                if sep >= 1 and not _is_space(c):
                    trailer_lines += 1
                    possible_continuation_lines = 0
                    if not recognized_prefix and _configured_match(
                        text[bol:bol + sep], sep, syntax,
                    ):
                        recognized_prefix = True
                elif _is_space(c):
                    possible_continuation_lines += 1
                else:
                    non_trailer_lines += 1 + possible_continuation_lines
                    possible_continuation_lines = 0
        if bol == 0:
            break
        bol = _last_line(text, bol)
    return length


def _unfold(value: str) -> str:
    if "\n" not in value:
        return _strip(value)
    out = []
    i = 0
    n = len(value)
    while i < n:
        c = value[i]
        i += 1
        if c == "\n":
            while i < n and _is_space(value[i]):
                i += 1
            out.append(" ")
        else:
            out.append(c)
    return _strip("".join(out))


def _canonical_key(token: str, syntax: TrailerSyntax) -> str:
    match = _configured_match(token, _token_len_without_separator(token), syntax)
    if match is not None and match[1] is not None:
        return match[1]
    return token


def find_block(message: str, syntax: TrailerSyntax = DEFAULT_SYNTAX) -> TrailerBlock:
    """Locate and parse the trailer block of a message, as git does."""
    patch_start = _patch_start(message)
    end = _trailer_end(message, patch_start, syntax.comment_char)
    start = _trailer_start(message, end, syntax)

    lines: list[list[str]] = []
    line_starts: list[int] = []
    has_separator: list[bool] = []
    pos = start
    while pos < end:
        nl = message.find("\n", pos, end)
        stop = end if nl < 0 else nl + 1
        line = message[pos:stop]
        if lines and has_separator[-1] and line and _is_space(line[0]):
            lines[-1].append(line)
        else:
            lines.append([line])
            line_starts.append(pos)
            has_separator.append(_find_separator(line, 0, syntax.separators) >= 1)
        pos = stop

    trailers: list[tuple[str, str]] = []
    spans: list[tuple[int, int]] = []
    for parts, at in zip(lines, line_starts):
        line = "".join(parts)
        if line.startswith(syntax.comment_char):
            continue
        sep = _find_separator(line, 0, syntax.separators)
        if sep >= 1:
            token = _canonical_key(_strip(line[:sep]), syntax)
            trailers.append((token, _unfold(_strip(line[sep + 1 :]))))
            spans.append((at, at + len(line)))
    return TrailerBlock(trailers=tuple(trailers), spans=tuple(spans))


def parse(message: str, syntax: TrailerSyntax = DEFAULT_SYNTAX) -> list[tuple[str, str]]:
    """The (key, value) trailers of a message, as ``interpret-trailers --parse``."""
    if not any(sep in message for sep in syntax.separators):
        return []  # --parse prints only lines with a separator: there can be none
    simple = _plain_block(message, syntax)
    if simple is not None:
        return simple
    return list(find_block(message, syntax).trailers)


def _plain_block(message: str, syntax: TrailerSyntax) -> list[tuple[str, str]] | None:
    """The trailers of a message of the common shape, or None to take the long way.

    The shape: no comment, divider, conflicts or carriage-return lines, a
    first line that is not blank, and a last paragraph (not the first) whose
    every line is `Key<sep>value` without leading whitespace. git's rules
    then reduce to: the last paragraph is the trailer block, all of it.
    """
    lines = message.split("\n")
    if not lines[0].strip(" \t") or "\r" in message:
        return None
    text = "\n" + message
    if "\n" + syntax.comment_char in text or "\n---" in text or "\nConflicts:" in text:
        return None
    end = len(lines)
    while end and not lines[end - 1].strip(" \t"):
        end -= 1
    start = end
    while start and lines[start - 1].strip(" \t"):
        start -= 1
    if start == 0:
        return None  # the last paragraph is the title's
    trailers = []
    separators = syntax.separators
    for line in lines[start:end]:
        sep = _find_separator(line, 0, separators)
        if sep < 1:  # not a trailer (a leading space: a continuation, which has none)
            return None
        token = _strip(line[:sep])
        if syntax.configured:
            token = _canonical_key(token, syntax)
        trailers.append((token, _strip(line[sep + 1:])))
    return trailers


def values(trailers: Sequence[tuple[str, str]], key: str) -> list[str]:
    """Values of every trailer whose key equals ``key``, ignoring case."""
    wanted = key.lower()
    return [v for k, v in trailers if k.lower() == wanted]
