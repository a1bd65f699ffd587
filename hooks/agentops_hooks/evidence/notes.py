"""Evidence in git notes: JSON Lines under refs/notes/agentops/*, append-only.

Each note holds one record a line, so concurrent writers merge with
`git notes merge -s cat_sort_uniq` and nothing is ever lost. Writes go through
one `git fast-import` per batch whose parent is the tip we read: if someone
else moved the ref meanwhile, fast-import refuses the non-fast-forward update
and we read again and retry. The notes ref's commit history is the ledger.
"""
from __future__ import annotations

import datetime as dt
import json
import math
import time
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import fields
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal

from agentops_hooks.errors import FatalError
from agentops_hooks.evidence.verdicts import EvidenceRef
from agentops_hooks.evidence.verdicts import JudgeRun
from agentops_hooks.git import GitError
from agentops_hooks.git import Repo

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.evidence.verdicts import Verdict

from agentops_hooks.evidence.refs import NOTES_PREFIX as NOTES_PREFIX
from agentops_hooks.evidence.refs import VERDICTS_REF as VERDICTS_REF
RECORD_VERSION: Literal[1] = 1
_HEX = frozenset("0123456789abcdef")
_STATUSES = ("PASS", "FAIL", "NOT_PROVEN")
_RETRIES = 30


class NotesError(FatalError):
    """A notes ref could not be read or written."""


@dataclass(frozen=True)
class VerdictRecord:
    """One verdict as stored in refs/notes/agentops/verdicts (schemas/verdict.schema.json)."""

    __pydantic_config__ = {"extra": "forbid", "use_attribute_docstrings": True}

    v: Literal[1]
    """Record format version."""
    status: Literal["PASS", "FAIL", "NOT_PROVEN"]
    judge: str
    """The judge, "Name <email>"."""
    patch_id: str
    """The canonical patch-id of the change judged (40 or 64 hex digits)."""
    recorded_at: str
    """When the record was written, UTC, ISO 8601 ("2026-11-21T10:00:00Z")."""
    source: Literal["trailer", "note"]
    """Copied from the commit's Verdict trailer, or recorded directly in notes."""
    evidence: str | None = None
    """What the verdict rests on (Verdict-Evidence)."""
    signature: str | None = None
    """One-line SSH signature over the canonical payload, if signed."""
    author: str | None = None
    """The judged change's author, "Name <email>"."""
    task: str | None = None
    """The judged change's Task trailer, if any."""
    worker: str | None = None
    """Who made the attempt: the Agent trailer's session, else the author's email."""
    range: str | None = None
    """A PR-level verdict: the "BASE..HEAD" it judged as a whole (commit ids); patch_id
    is then the patch-id of the range's combined diff."""
    covers: tuple[str, ...] | None = None
    """A PR-level verdict: the patch-ids of the range's commits, which it admits together."""
    evidence_refs: tuple[EvidenceRef, ...] | None = None
    """What the verdict rests on, by reference: a test log, a CI run URL, a review file."""
    session: str | None = None
    """The judge's session id (an automated judge's run)."""
    judges: tuple[JudgeRun, ...] | None = None
    """An automated verdict (`agentops judge`): what each judge ran, on which tree, how it
    ended, and its output (the end of it) with the sha256 of all of it."""

    def to_line(self) -> str:
        """The record as one JSON line, keys in a fixed, legible order."""
        return record_line(self)

    @classmethod
    def from_line(cls, line: str) -> VerdictRecord:
        """Parse and check one line; ValueError says what is wrong with it."""
        data = record_object(
            line, cls, ("v", "status", "judge", "patch_id", "recorded_at", "source"),
        )
        known = {f.name for f in fields(cls)}
        if data["status"] not in _STATUSES:
            raise ValueError(f"status {data['status']!r} is not one of {', '.join(_STATUSES)}")
        if data["source"] not in ("trailer", "note"):
            raise ValueError(f"source {data['source']!r} is not trailer or note")
        for name in known - {"v", "covers", "evidence_refs", "judges"}:
            value = data.get(name)
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{name} must be a string")
        for patch in [data["patch_id"], *_patch_list(data.get("covers"))]:
            if len(patch) not in (40, 64) or not set(patch) <= _HEX:
                raise ValueError(f"patch_id {patch!r} is not 40 or 64 lower-case hex digits")
        if data.get("covers") is not None:
            data["covers"] = tuple(data["covers"])
        if data.get("evidence_refs") is not None:
            data["evidence_refs"] = _evidence_refs(data["evidence_refs"])
        if data.get("judges") is not None:
            if not isinstance(data["judges"], list) or not data["judges"]:
                raise ValueError("judges must be a non-empty list")
            data["judges"] = tuple(JudgeRun.from_dict(item) for item in data["judges"])
        if not data["judge"].strip():
            raise ValueError("judge is empty")
        return cls(**data)


def _patch_list(value: object) -> list[str]:
    """A record's list of patch-ids (ValueError when it is not one)."""
    if value is None:
        return []
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise ValueError("covers must be a non-empty list of patch-ids")
    return value


def _evidence_refs(value: object) -> tuple[EvidenceRef, ...]:
    """A record's evidence references (ValueError saying what is wrong)."""
    if not isinstance(value, list) or not value:
        raise ValueError("evidence_refs must be a non-empty list")
    refs = []
    for item in value:
        if not isinstance(item, dict) or set(item) - {"kind", "ref", "sha256"} or not all(
                isinstance(item.get(k), str) for k in ("kind", "ref")):
            raise ValueError("each of evidence_refs is {kind, ref, sha256}")
        sha = item.get("sha256")
        if sha is not None and not isinstance(sha, str):
            raise ValueError("an evidence sha256 must be a string")
        refs.append(EvidenceRef.check(item["kind"], item["ref"], sha))
    return tuple(refs)


def record_line(record: Any) -> str:
    """A record dataclass as one JSON line: fields in order, empty ones left out."""
    data = {k: v for k, v in asdict(record).items() if v is not None}
    if data.get("evidence_refs"):  # NamedTuples, which JSON would write as lists
        data["evidence_refs"] = [EvidenceRef(*ref).to_dict() for ref in data["evidence_refs"]]
    if data.get("judges"):
        data["judges"] = [JudgeRun(*run).to_dict() for run in data["judges"]]
    return json.dumps(data, ensure_ascii=False, separators=(", ", ": "))


def record_object(line: str, model: type, required: tuple[str, ...]) -> dict[str, Any]:
    """One note line as a JSON object with only `model`'s fields, the required
    ones present and version 1; ValueError says what is wrong."""
    try:
        data = json.loads(line)
    except ValueError as e:
        raise ValueError(f"not JSON: {e}") from None
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    extra = sorted(set(data) - {f.name for f in fields(model)})
    if extra:
        raise ValueError(f"unknown field(s): {', '.join(extra)}")
    for name in required:
        if name not in data:
            raise ValueError(f"missing field: {name}")
    if data["v"] != RECORD_VERSION or isinstance(data["v"], bool):
        raise ValueError(f"unsupported version v={data['v']!r}")
    return data


@dataclass(frozen=True)
class RatchetRecord:
    """One baseline as stored in refs/notes/agentops/ratchet (schemas/ratchet.schema.json)."""

    __pydantic_config__ = {"extra": "forbid", "use_attribute_docstrings": True}

    v: Literal[1]
    """Record format version."""
    metrics: dict[str, float]
    """The measured value of each metric."""
    recorded_at: str
    """When, UTC, ISO 8601."""
    recorded_by: str | None = None
    """Who recorded it, "Name <email>"."""
    reversals: dict[str, str] | None = None
    """Metrics allowed to regress in this record, with the reason from Ratchet-Reversal."""

    def to_line(self) -> str:
        return record_line(self)

    @classmethod
    def from_line(cls, line: str) -> RatchetRecord:
        """Parse and check one line; ValueError says what is wrong with it."""
        data = record_object(line, cls, ("v", "metrics", "recorded_at"))
        if not isinstance(data["recorded_at"], str):
            raise ValueError("recorded_at must be a string")
        if data.get("recorded_by") is not None and not isinstance(data["recorded_by"], str):
            raise ValueError("recorded_by must be a string")
        metrics = data["metrics"]
        if not isinstance(metrics, dict):
            raise ValueError("metrics must be an object")
        for name, value in metrics.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(f"metric {name!r} is not a finite number")
        reversals = data.get("reversals")
        if reversals is not None and (
            not isinstance(reversals, dict)
            or not all(isinstance(v, str) for v in reversals.values())
        ):
            raise ValueError("reversals must map metric names to reasons")
        return cls(
            v=1, metrics={k: float(v) for k, v in metrics.items()},
            recorded_at=data["recorded_at"], recorded_by=data.get("recorded_by"),
            reversals=reversals,
        )


@dataclass(frozen=True)
class StoredVerdict:
    """A record and the object (usually a commit) whose note holds it."""

    record: VerdictRecord
    target: str


@dataclass(frozen=True)
class CorruptLine:
    """A note line that is not a valid record: reported, never trusted."""

    target: str
    line: str
    problem: str


def now_utc() -> str:
    """The current time as the records write it."""
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


class NotesRef:
    """One notes ref, read in a constant number of git processes, written append-only."""

    def __init__(self, repo: Repo, ref: str = VERDICTS_REF) -> None:
        self.repo = repo
        self.ref = ref

    def tip(self) -> str | None:
        out = self.repo.git("rev-parse", "--verify", "--quiet", self.ref, ok_codes=(0, 1, 128))
        return out.decode().strip() or None

    def paths(self, tip: str) -> dict[str, tuple[str, str]]:
        """{annotated object id: (path in the notes tree, note blob id)} at `tip`."""
        try:
            listing = self.repo.git("ls-tree", "-r", "-z", "--full-tree", tip)
        except GitError as e:
            raise NotesError(
                f"{self.ref} ({tip[:12]}) is not a notes commit git can read ({e}); "
                f"restore it from a clone that has it (agentops notes fetch) or remove it "
                f"(git update-ref -d {self.ref})",
            ) from None
        found: dict[str, tuple[str, str]] = {}
        for entry in listing.split(b"\0"):
            if not entry:
                continue
            meta, _, raw_path = entry.partition(b"\t")
            parts = meta.split()
            path = raw_path.decode()
            target = path.replace("/", "")
            if len(parts) == 3 and parts[1] == b"blob" and len(target) in (40, 64) \
                    and set(target) <= _HEX:
                found[target] = (path, parts[2].decode())
        return found

    def read_all(self, tip: str | None = None) -> dict[str, bytes]:
        """{annotated object id: note content} at `tip` (default: the ref now)."""
        tip = tip or self.tip()
        if tip is None:
            return {}
        paths = self.paths(tip)
        contents = self.repo.read_blobs([blob for _, blob in paths.values()])
        return {target: contents.get(blob, b"") for target, (_, blob) in paths.items()}

    def append(
        self, lines: Mapping[str, Iterable[str]], message: str,
        commits: bool = True,
    ) -> str:
        """Add lines to the notes of the given objects; return the new tip.

        `commits=False` when the objects are not commits (a staged tree):
        fast-import's note command takes only commits, so those notes are
        written as plain tree entries. Lines already present are not added
        again. Retries when another writer moves the ref between our read
        and our write.
        """
        wanted = {target: [ln for ln in new if ln.strip()] for target, new in lines.items()}
        for attempt in range(_RETRIES):
            tip = self.tip()
            where = self.paths(tip) if tip else {}
            blobs = self.repo.read_blobs([where[t][1] for t in wanted if t in where])
            current = {t: (where[t][0], blobs.get(where[t][1], b"")) for t in wanted if t in where}
            stream = self._stream(tip, current, wanted, message, commits)
            if stream is None:
                return tip or ""
            try:
                self.repo.git("fast-import", "--quiet", "--done", input=stream)
            except GitError as e:
                if "Not updating" not in str(e) or attempt == _RETRIES - 1:
                    raise NotesError(f"cannot write {self.ref}: {e}") from None
                time.sleep(0.01 * (attempt + 1))
                continue
            return self.tip() or ""
        raise NotesError(f"cannot write {self.ref}: too many concurrent writers")

    def _stream(
        self, tip: str | None, current: dict[str, tuple[str, bytes]],
        wanted: dict[str, list[str]], message: str, commits: bool,
    ) -> bytes | None:
        body: list[bytes] = []
        for target, new in wanted.items():
            path, raw = current.get(target, (None, b""))
            old = raw.decode("utf-8", "replace")
            have = set(old.split("\n"))
            added = [ln for ln in new if ln not in have]
            if not added:
                continue
            text = old if not old or old.endswith("\n") else old + "\n"
            data = (text + "\n".join(added) + "\n").encode("utf-8")
            if path is not None or not commits:
                command = f"M 100644 inline {path or target}"
            else:
                command = f"N inline {target}"
            body.append(f"{command}\ndata {len(data)}\n".encode() + data + b"\n")
        if not body:
            return None
        msg = message.encode("utf-8")
        head = (
            f"commit {self.ref}\ncommitter {self.repo.committer_ident()}\n"
            f"data {len(msg)}\n"
        ).encode() + msg + b"\n"
        if tip:
            head += f"from {tip}\n".encode()
        return head + b"".join(body) + b"done\n"


def parse_note(target: str, content: bytes) -> tuple[list[StoredVerdict], list[CorruptLine]]:
    """The records of one note; bad lines come back as CorruptLine, never raise."""
    records: list[StoredVerdict] = []
    corrupt: list[CorruptLine] = []
    for line in content.decode("utf-8", "replace").split("\n"):
        if not line.strip():
            continue
        try:
            records.append(StoredVerdict(VerdictRecord.from_line(line), target))
        except (ValueError, TypeError) as e:
            corrupt.append(CorruptLine(target, line, str(e)))
    return records, corrupt


class VerdictIndex:
    """Every verdict record in the notes, by patch-id and by annotated object."""

    def __init__(self, stored: list[StoredVerdict], corrupt: list[CorruptLine]) -> None:
        self.stored = stored
        self.corrupt = corrupt
        self.by_patch: dict[str, list[StoredVerdict]] = {}
        self.by_target: dict[str, list[StoredVerdict]] = {}
        for item in stored:
            self.by_patch.setdefault(item.record.patch_id, []).append(item)
            self.by_target.setdefault(item.target, []).append(item)
            for covered in item.record.covers or ():
                if covered != item.record.patch_id:
                    self.by_patch.setdefault(covered, []).append(item)

    @classmethod
    def load(cls, repo: Repo, ref: str = VERDICTS_REF, tip: str | None = None) -> VerdictIndex:
        """Every record of the ref (at `tip`, e.g. a value being pushed, else now)."""
        stored: list[StoredVerdict] = []
        corrupt: list[CorruptLine] = []
        for target, content in NotesRef(repo, ref).read_all(tip).items():
            good, bad = parse_note(target, content)
            stored.extend(good)
            corrupt.extend(bad)
        return cls(stored, corrupt)

    def for_change(self, patch_id: str, commit: str | None) -> list[StoredVerdict]:
        """Records bound to this patch-id anywhere (a PR-level verdict: or covering it),
        plus any note on this commit."""
        seen: set[int] = set()
        out: list[StoredVerdict] = []
        for item in self.by_patch.get(patch_id, []) + self.by_target.get(commit or "", []):
            if id(item) not in seen:
                seen.add(id(item))
                out.append(item)
        return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one verdict record, generated from VerdictRecord."""
    from agentops_hooks.config_model import model as _model
    from agentops_hooks.config import schema_of

    schema = schema_of(VerdictRecord, "verdict.schema.json",
                       "A verdict record: one line of a note in refs/notes/agentops/verdicts")
    patch = schema["properties"]["patch_id"]
    patch["pattern"] = "^([0-9a-f]{40}|[0-9a-f]{64})$"
    # An evidence reference is a NamedTuple (the commit path imports no dataclasses):
    # pydantic would describe it as an array; the record holds it as an object.
    ref = {k: v for k, v in schema_of(_model(EvidenceRef), "", "").items()
           if k not in ("$schema", "$id")}
    ref["title"] = "EvidenceRef"
    ref["properties"]["sha256"]["anyOf"][0]["pattern"] = "^[0-9a-f]{64}$"
    run = {k: v for k, v in schema_of(_model(JudgeRun), "", "").items()
           if k not in ("$schema", "$id")}
    run["title"] = "JudgeRun"
    run["properties"]["output_sha256"]["pattern"] = "^[0-9a-f]{64}$"
    run["properties"]["status"]["enum"] = list(_STATUSES)
    schema["$defs"] = {"EvidenceRef": ref, "JudgeRun": run}
    schema["properties"]["judges"]["anyOf"][0]["items"] = {"$ref": "#/$defs/JudgeRun"}
    schema["properties"]["judges"]["anyOf"][0]["minItems"] = 1
    schema["properties"]["evidence_refs"]["anyOf"][0]["items"] = {"$ref": "#/$defs/EvidenceRef"}
    covers = schema["properties"]["covers"]["anyOf"][0]
    covers["items"]["pattern"] = patch["pattern"]
    covers["minItems"] = 1
    schema["properties"]["judge"]["minLength"] = 1
    return schema


def record_for(
    change: Change | None, verdict: Verdict, *, source: Literal["trailer", "note"],
    evidence: str | None = None, signature: str | None = None,
) -> VerdictRecord:
    """The record of one verdict on one change, with the change's author, task and worker."""
    from agentops_hooks.evidence import verdicts

    return VerdictRecord(
        v=RECORD_VERSION,
        status=verdict.status,  # type: ignore[arg-type]
        judge=str(verdict.judge),
        patch_id=verdict.patch_id,
        recorded_at=now_utc(),
        source=source,
        evidence=evidence or verdict.evidence or None,
        signature=signature or None,
        author=str(change.author) if change is not None and change.author else None,
        task=verdicts.task_of(change.trailers) if change is not None else None,
        worker=verdicts.worker_of(change.trailers, change.author) if change is not None else None,
        range=verdict.range,
        covers=verdict.covers or None,
        evidence_refs=verdict.refs or None,
        session=verdict.session,
        judges=verdict.runs or None,
    )


def record_trailer_verdicts(change: Change) -> list[VerdictRecord]:
    """Copy a commit's Verdict trailers into its note; malformed ones are skipped.

    Returns what was recorded (lines already in the note are not written twice).
    """
    from agentops_hooks.evidence import verdicts

    assert change.commit is not None
    records = []
    for group, verdict in verdicts.readable_trailers(change.trailers):
        records.append(record_for(
            change, verdict._replace(evidence=group.evidence, refs=group.refs), source="trailer",
            signature=group.signature,
        ))
    if records:
        existing = NotesRef(change.repo).read_all().get(change.commit, b"").decode("utf-8", "replace")
        known = _identities(existing)
        fresh = [r for r in records if _identity(r) not in known]
        if fresh:
            NotesRef(change.repo).append(
                {change.commit: [r.to_line() for r in fresh]},
                f"agentops: record {len(fresh)} verdict(s) of {change.commit[:12]} from trailers",
            )
        return fresh
    return []


def _identity(record: VerdictRecord) -> tuple[str, str, str, str, str | None]:
    """What makes two records the same verdict, whenever they were written."""
    return (record.status, record.judge, record.patch_id, record.source, record.signature)


def _identities(note: str) -> set[tuple[str, str, str, str, str | None]]:
    out = set()
    for line in note.split("\n"):
        try:
            out.add(_identity(VerdictRecord.from_line(line)))
        except (ValueError, TypeError):
            continue
    return out
