"""Editing commit message files: trailers placed by git itself, written atomically."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Sequence
from pathlib import Path

from agentops_hooks.errors import FatalError
from agentops_hooks.git import Repo
from agentops_hooks.trailers import find_block


def check_trailer(key: str, value: str) -> None:
    """Refuse a key git would not read back as a trailer, or a value with a newline."""
    if not key or not all(c.isascii() and (c.isalnum() or c == "-") for c in key):
        raise FatalError(f"trailer key {key!r} must be ASCII letters, digits and '-'")
    if "\n" in value or "\r" in value:
        raise FatalError(f"the value of trailer {key} must be one line")


def add_trailers(repo: Repo, message: bytes, pairs: Sequence[tuple[str, str]]) -> bytes:
    """The message with trailers added where `git interpret-trailers` puts them."""
    args = ["interpret-trailers"]
    for key, value in pairs:
        check_trailer(key, value)
        args += ["--trailer", f"{key}: {value}"]
    if message and not message.endswith(b"\n"):
        # Without a final newline git glues the trailer onto the last line.
        message += b"\n"
    out = repo.git(*args, input=message)
    wanted = {(k.lower(), v) for k, v in pairs}
    found = {(k.lower(), v) for k, v in find_block(out.decode("utf-8", "replace")).trailers}
    if not wanted <= found:
        # git's trailer config (trailer.ifexists=doNothing, ...) may keep a value out.
        missing = ", ".join(f"{k}: {v}" for k, v in pairs if (k.lower(), v) not in found)
        raise FatalError(f"git did not add the trailer(s) {missing}; check your trailer.* config")
    return out


def write_atomic(path: Path, data: bytes) -> None:
    """Replace the file's content in one step: readers see the old or the new, never half."""
    directory = path.parent
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        mode = 0o644
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


Doomed = Callable[[Sequence[tuple[str, str]]], Iterable[int]]
"""Given a message's trailers, the positions of those to take out."""


def drop_trailers(repo: Repo, message: bytes, doomed: Doomed) -> bytes:
    """The message without the trailers `doomed` picks (their continuation lines too);
    every other byte kept."""
    text = message.decode("utf-8", "surrogateescape")
    block = find_block(text, repo.trailer_syntax)
    for i in sorted(set(doomed(block.trailers)), reverse=True):
        start, end = block.spans[i]
        text = text[:start] + text[end:]
    return text.encode("utf-8", "surrogateescape")


def add_trailers_to_file(repo: Repo, path: Path, pairs: Sequence[tuple[str, str]],
                         replace: Doomed | None = None) -> bytes:
    """Add trailers to a message file in place (first taking out those `replace`
    picks); the rest of the file is kept byte for byte."""
    try:
        original = path.read_bytes()
    except FileNotFoundError:
        raise FatalError(f"message file not found: {path}") from None
    except OSError as e:
        raise FatalError(f"cannot read message file {path}: {e.strerror}") from None
    if replace is not None:
        original = drop_trailers(repo, original, replace)
    updated = add_trailers(repo, original, pairs)
    try:
        write_atomic(path, updated)
    except OSError as e:
        raise FatalError(f"cannot write message file {path}: {e.strerror}") from None
    return updated
