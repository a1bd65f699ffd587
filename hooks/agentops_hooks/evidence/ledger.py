"""The notes ref's own history as an append-only, hash-chained ledger.

Every commit of a notes ref may only add lines: between each commit and each
of its parents, no note disappears and no line of a note goes missing. Reading
is batched: one rev-list, one diff-tree over every (commit, parent) pair, one
cat-file for the blobs involved, whatever the length of the history.
"""
from __future__ import annotations

from dataclasses import dataclass

from agentops_hooks.errors import FatalError
from agentops_hooks.git import Repo
from agentops_hooks.evidence.notes import CorruptLine
from agentops_hooks.evidence.notes import NotesRef
from agentops_hooks.evidence.notes import VERDICTS_REF
from agentops_hooks.evidence.notes import parse_note
from agentops_hooks.evidence.notes import RatchetRecord
from agentops_hooks.evidence.refs import RATCHET_REF


@dataclass(frozen=True)
class Violation:
    """A notes commit that removed or changed what an earlier commit recorded."""

    commit: str
    parent: str
    target: str
    removed: tuple[str, ...]
    """The lines that vanished; empty when the whole note was deleted."""

    def describe(self) -> str:
        if not self.removed:
            return (f"notes commit {self.commit[:12]} deleted the note on {self.target[:12]} "
                    f"(present in {self.parent[:12]})")
        lines = "; ".join(line[:120] for line in self.removed[:3])
        more = f" (+{len(self.removed) - 3} more)" if len(self.removed) > 3 else ""
        return (f"notes commit {self.commit[:12]} removed or changed {len(self.removed)} line(s) "
                f"of the note on {self.target[:12]}: {lines}{more}")


@dataclass
class LedgerReport:
    """The outcome of walking one notes ref."""

    ref: str
    commits: int
    violations: list[Violation]
    corrupt: list[CorruptLine]


def full_ref(name: str) -> str:
    """`verdicts`, `agentops/verdicts` or `refs/notes/agentops/verdicts` -> the full ref."""
    if name.startswith("refs/"):
        return name
    if name.startswith("notes/"):
        return "refs/" + name
    if "/" not in name:
        return "refs/notes/agentops/" + name
    return "refs/notes/" + name


def _unreadable(ref: str, target: str, content: bytes) -> list[CorruptLine]:
    """Lines of a note that its ref's record format cannot read."""
    if ref == VERDICTS_REF:
        return parse_note(target, content)[1]
    if ref == RATCHET_REF:
        bad = []
        for line in content.decode("utf-8", "replace").split("\n"):
            if line.strip():
                try:
                    RatchetRecord.from_line(line)
                except ValueError as e:
                    bad.append(CorruptLine(target, line, str(e)))
        return bad
    return []


def _lines(blob: bytes) -> set[str]:
    return {ln for ln in blob.decode("utf-8", "replace").split("\n") if ln.strip()}


def verify(repo: Repo, ref: str, *, tip: str | None = None, since: str | None = None) -> LedgerReport:
    """Walk the ref's history (or only the commits after `since`, up to `tip`);
    report every removal, and every unreadable line at the tip."""
    tip = tip or NotesRef(repo, ref).tip()
    if tip is None:
        raise FatalError(f"no notes ref {ref} in this repository (fetch it first: agentops notes fetch)")
    walk = [tip, "--not", since] if since else [tip]
    history = repo.git("rev-list", "--parents", "--reverse", *walk, "--").decode().split("\n")
    pairs: list[tuple[str, str]] = []
    count = 0
    for line in history:
        ids = line.split()
        if not ids:
            continue
        count += 1
        pairs.extend((ids[0], parent) for parent in ids[1:])

    violations: list[Violation] = []
    if pairs:
        raw = repo.git(
            "diff-tree", "-r", "-z", "--always", "--no-renames", "--stdin",
            input="".join(f"{c} {p}\n" for c, p in pairs).encode(),
        )
        changes = _parse_pairs(raw, len(pairs))
        blobs: set[str] = set()
        for entries in changes:
            for old, new in entries.values():
                if old and new:
                    blobs.update((old, new))
        contents = repo.read_blobs(sorted(blobs))
        for (commit, parent), entries in zip(pairs, changes):
            for target, (old, new) in sorted(entries.items()):
                if old is None:
                    continue
                if new is None:
                    violations.append(Violation(commit, parent, target, ()))
                    continue
                gone = _lines(contents.get(old, b"")) - _lines(contents.get(new, b""))
                if gone:
                    violations.append(Violation(commit, parent, target, tuple(sorted(gone))))

    corrupt: list[CorruptLine] = []
    if since is None:
        for target, content in NotesRef(repo, ref).read_all(tip).items():
            corrupt.extend(_unreadable(ref, target, content))
    return LedgerReport(ref, count, violations, corrupt)


def _parse_pairs(raw: bytes, count: int) -> list[dict[str, tuple[str | None, str | None]]]:
    """Per (commit, parent) pair: {annotated object: (old blob, new blob)}.

    Paths are folded to object ids, so a note that moved when git changed
    the fan-out of the notes tree is compared with itself.
    """
    fields = raw.split(b"\0")
    result: list[dict[str, tuple[str | None, str | None]]] = []
    i = 0
    while i < len(fields):
        field = fields[i]
        if not field:
            i += 1
            continue
        if not field.startswith(b":"):
            result.append({})  # the commit id line that opens each pair
            i += 1
            continue
        meta = field[1:].split()
        path = fields[i + 1].decode()
        i += 2
        old_blob, new_blob, status = meta[2].decode(), meta[3].decode(), meta[4].decode()[:1]
        target = path.replace("/", "")
        old_seen, new_seen = result[-1].get(target, (None, None))
        if status in ("D", "M", "T"):
            old_seen = old_blob
        if status in ("A", "M", "T"):
            new_seen = new_blob
        result[-1][target] = (old_seen, new_seen)
    if len(result) != count:
        raise FatalError(f"unexpected diff-tree output: {len(result)} pairs for {count} asked")
    return result
