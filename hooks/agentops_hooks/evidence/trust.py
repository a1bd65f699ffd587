"""The trust root: an allowed-signers file in git's (ssh-keygen's) format.

One judge a line: `principals [options] keytype base64 [comment]`, options
such as `namespaces="agentops-verdict"`, `valid-after="20260101"`,
`valid-before=...`. ssh-keygen does the matching when a signature is
verified (signatures.verify); this module reads the file to say clearly what
is wrong with it, and writes the lines `agentops judges add` adds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from agentops_hooks.errors import FatalError
from agentops_hooks.evidence.signing import PublicKey
from agentops_hooks.evidence.signing import read_blob

DEFAULT_PATH = ".agentops/allowed_signers"
_OPTION = re.compile(r'([A-Za-z][A-Za-z0-9-]*)(?:="([^"]*)")?')
_OPTION_NAMES = ("cert-authority", "namespaces", "valid-after", "valid-before")
_KEY_TYPE_PREFIXES = ("ssh-", "ecdsa-", "sk-")
_TIME = re.compile(r"\d{8}(?:\d{4}(?:\d{2})?)?Z?")


class TrustFileError(FatalError):
    """An allowed-signers file that cannot be read; the message names the line."""


@dataclass(frozen=True)
class Signer:
    """One line of an allowed-signers file."""

    principals: str
    options: str
    key: PublicKey
    comment: str = ""

    def line(self) -> str:
        """The line as the file holds it."""
        parts = [self.principals, self.options, str(self.key), self.comment]
        return " ".join(p for p in parts if p)

    def names(self, email: str) -> bool:
        """Is `email` one of this line's principals (written out, not a pattern)?"""
        return email.casefold() in (p.casefold() for p in self.principals.split(","))


def _tokens(line: str) -> list[str]:
    """Whitespace-separated words; a double-quoted part may hold spaces."""
    words: list[str] = []
    current = ""
    quoted = False
    for ch in line:
        if ch == '"':
            quoted = not quoted
        if ch.isspace() and not quoted:
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
    if quoted:
        raise ValueError("a quote is not closed")
    if current:
        words.append(current)
    return words


def _check_options(text: str) -> None:
    """ValueError unless `text` is an options field as ssh-keygen reads it."""
    pos = 0
    while True:
        m = _OPTION.match(text, pos)
        end = m.end() if m else pos
        if m is None or m.group(1).lower() not in _OPTION_NAMES or (
                end < len(text) and text[end] != ","):
            item = text[pos:].split(",", 1)[0]
            raise ValueError(f"{item!r} is not an option ({', '.join(_OPTION_NAMES)})")
        name, value = m.group(1).lower(), m.group(2)
        if name.startswith("valid-") and (value is None or not _TIME.fullmatch(value)):
            raise ValueError(f'{name} needs a time, {name}="YYYYMMDD[HHMM[SS]][Z]"')
        if name == "namespaces" and not value:
            raise ValueError('namespaces needs a list, namespaces="agentops-verdict"')
        if end == len(text):
            return
        pos = end + 1
        if pos == len(text):
            raise ValueError("nothing follows the last ',' of the options")


def parse_line(line: str) -> Signer | None:
    """One line as a Signer; None for a blank or comment line; ValueError says why not."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    words = _tokens(stripped)
    if len(words) < 3:
        raise ValueError("expected `principals [options] keytype base64`")
    principals, rest = words[0].strip('"'), words[1:]
    options = ""
    if not rest[0].startswith(_KEY_TYPE_PREFIXES):
        options, rest = rest[0], rest[1:]
        _check_options(options)
    key = read_blob(" ".join(rest[:2]))
    if key is None:
        raise ValueError(f"{' '.join(rest[:2])[:40]!r} is not an SSH public key")
    return Signer(principals, options, key, " ".join(rest[2:]))


def parse(content: bytes, where: str) -> list[Signer]:
    """Every judge of an allowed-signers file; TrustFileError naming the first bad line."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        raise TrustFileError(f"{where} is not UTF-8 text, so not an allowed-signers file") from None
    signers = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            signer = parse_line(line)
        except ValueError as e:
            raise TrustFileError(f"{where} line {number} is not an allowed-signers line: "
                                 f"{e}") from None
        if signer is not None:
            signers.append(signer)
    return signers


def options_for(namespaces: tuple[str, ...], valid_after: str | None,
                valid_before: str | None) -> str:
    """The options field of a new line, only what was given; ValueError for a bad time."""
    parts = []
    if namespaces:
        parts.append(f'namespaces="{",".join(namespaces)}"')
    for name, value in (("valid-after", valid_after), ("valid-before", valid_before)):
        if value is not None:
            parts.append(f'{name}="{value}"')
    text = ",".join(parts)
    if text:
        _check_options(text)
    return text


def read_outside(path: str, what: str) -> tuple[bytes, str]:
    """A trust root kept outside the repository: its content (checked to parse, and
    to list a judge) and what to call it; TrustFileError saying what is wrong."""
    import os

    try:
        with open(os.path.expanduser(path), "rb") as f:
            content = f.read()
    except OSError as exc:
        raise TrustFileError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if not parse(content, f"{what} {path}"):
        raise TrustFileError(f"{what} {path} lists no judge: no verdict could ever count")
    return content, f"{what} {path}"
