"""The Verdict trailer: `Verdict: PASS judge="Name <email>" patch=<patch-id>`."""
from __future__ import annotations

from typing import NamedTuple
import re
from collections.abc import Iterator
from collections.abc import Sequence
from functools import lru_cache

from agentops_hooks.authorship import Identity

STATUSES = ("PASS", "FAIL", "NOT_PROVEN")
VERDICT_KEY = "Verdict"
EVIDENCE_KEY = "Verdict-Evidence"

_FIELD = re.compile(r'\s*([A-Za-z][A-Za-z0-9_-]*)=(?:"((?:[^"\\]|\\.)*)"|(\S*))')
_PATCH_ID = re.compile(r"[0-9a-f]{40}(?:[0-9a-f]{24})?")
_UNESCAPE = re.compile(r"\\(.)")


class VerdictSyntaxError(ValueError):
    """A Verdict trailer we cannot read; the message says which part."""


_KIND = re.compile(r"[a-z][a-z0-9-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")


class EvidenceRef(NamedTuple):
    """What a verdict rests on: a test log, a CI run, a review file; with the sha256
    of its bytes when it is a file, so anyone can check it is the one judged."""

    kind: str
    """What it is, e.g. "test-log", "ci-run", "review"."""
    ref: str
    """Where it is: a path in the repository or a URL."""
    sha256: str | None = None
    """The sha256 of its bytes (64 hex digits), when it is a file."""

    def to_dict(self) -> dict[str, str | None]:
        """As the notes record holds it."""
        return {"kind": self.kind, "ref": self.ref, "sha256": self.sha256}

    def trailer_value(self) -> str:
        digest = f" sha256={self.sha256}" if self.sha256 else ""
        return f"kind={self.kind} ref={self.ref}{digest}"

    def signed(self) -> str:
        return f"{self.kind} {self.ref} {self.sha256 or '-'}"

    @classmethod
    def check(cls, kind: str, ref: str, sha256: str | None) -> EvidenceRef:
        """The reference, or ValueError saying which part is not one."""
        if not _KIND.fullmatch(kind):
            raise ValueError(f"evidence kind {kind!r} is not lower-case letters, digits and '-'")
        if not ref or any(ch.isspace() for ch in ref):
            raise ValueError(f"evidence ref {ref!r} is empty or holds whitespace")
        if sha256 is not None and not _SHA256.fullmatch(sha256):
            raise ValueError(f"sha256 {sha256!r} is not 64 lower-case hex digits")
        return cls(kind, ref, sha256)


class JudgeRun(NamedTuple):
    """What one automated judge did (`agentops judge`), as a verdict record keeps it:
    enough to run it again on the same tree and compare."""

    name: str
    """The judge's name in policy ([[judge.judges]] name)."""
    kind: str
    """"check" (its exit code is the verdict) or "reviewer" (it printed a JSON verdict)."""
    status: str
    """What it said: PASS, FAIL or NOT_PROVEN."""
    command: str
    """The command run (by `sh -c`, in a fresh worktree of `tree`)."""
    exit_code: int | None
    """Its exit code (None: it was stopped at its timeout, or never started)."""
    duration: float
    """Seconds it ran."""
    tree: str
    """The tree id of the worktree it ran in."""
    output_sha256: str
    """The sha256 of its whole output (stdout, then stderr)."""
    output: str = ""
    """The end of its output, at most judge.output_limit characters."""
    reason: str | None = None
    """In words: a reviewer's summary, or why the judge is NOT_PROVEN."""

    def to_dict(self) -> dict[str, object]:
        """As the notes record holds it."""
        return dict(self._asdict())

    def signed(self) -> str:
        """What the signature covers of it, on one line: every field, the kept output
        by its sha256."""
        import hashlib
        import json

        kept = hashlib.sha256(self.output.encode("utf-8")).hexdigest()
        return json.dumps([self.name, self.kind, self.status, self.command, self.exit_code,
                           self.duration, self.tree, self.output_sha256, kept, self.reason],
                          ensure_ascii=True)

    @classmethod
    def from_dict(cls, item: object) -> JudgeRun:
        """A record's judge run, or ValueError saying what is wrong with it."""
        if not isinstance(item, dict) or set(item) - set(cls._fields):
            raise ValueError(f"each of judges is an object of {', '.join(cls._fields)}")
        for name in ("name", "kind", "status", "command", "tree", "output_sha256"):
            if not isinstance(item.get(name), str):
                raise ValueError(f"a judge run's {name} must be a string")
        if item["status"] not in STATUSES:
            raise ValueError(f"a judge run's status {item['status']!r} is not one of "
                             f"{', '.join(STATUSES)}")
        if not _SHA256.fullmatch(item["output_sha256"]):
            raise ValueError("a judge run's output_sha256 is not 64 lower-case hex digits")
        code = item.get("exit_code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise ValueError("a judge run's exit_code must be an integer or null")
        duration = item.get("duration")
        if isinstance(duration, bool) or not isinstance(duration, (int, float)):
            raise ValueError("a judge run's duration must be a number")
        if not isinstance(item.get("output", ""), str):
            raise ValueError("a judge run's output must be a string")
        if item.get("reason") is not None and not isinstance(item["reason"], str):
            raise ValueError("a judge run's reason must be a string")
        return cls(item["name"], item["kind"], item["status"], item["command"], code,
                   float(duration), item["tree"], item["output_sha256"], item.get("output", ""),
                   item.get("reason"))


def evidence_ref(value: str) -> EvidenceRef | None:
    """A `Verdict-Evidence: kind=K ref=R [sha256=H]` value as a reference; None when the
    value is free text (what the verdict rests on, in words)."""
    if not value.strip().startswith("kind="):
        return None
    fields = {}
    for m in _FIELD.finditer(value):
        fields[m.group(1).lower()] = m.group(2) if m.group(2) is not None else m.group(3)
    try:
        return EvidenceRef.check(fields.get("kind", ""), fields.get("ref", ""),
                                 fields.get("sha256"))
    except ValueError:
        return None


class Verdict(NamedTuple):
    """A judge's statement about one patch."""

    status: str
    judge: Identity
    patch_id: str
    covers: tuple[str, ...] = ()
    """A PR-level verdict: the patch-ids of the range's commits, judged as a whole."""
    range: str | None = None
    """A PR-level verdict: the `BASE..HEAD` it judged (commit ids, for people)."""
    evidence: str | None = None
    """What it rests on, in words (Verdict-Evidence)."""
    refs: tuple[EvidenceRef, ...] = ()
    """What it rests on, by reference."""
    session: str | None = None
    """The judge's session id (an automated judge's run)."""
    runs: tuple[JudgeRun, ...] = ()
    """An automated verdict: what each judge did (`agentops judge`)."""

    @property
    def admits(self) -> bool:
        return self.status == "PASS"

    def signed_fields(self) -> list[tuple[str, str]]:
        """What the signature covers beyond status, judge and patch, in payload order."""
        fields = []
        if self.range is not None:
            fields.append(("range", self.range))
        if self.covers:
            fields.append(("covers", " ".join(self.covers)))
        if self.evidence is not None:
            fields.append(("evidence", self.evidence))
        fields += [("evidence-ref", r.signed()) for r in self.refs]
        if self.session is not None:
            fields.append(("session", self.session))
        fields += [("judge-run", r.signed()) for r in self.runs]
        return fields

    def trailer_value(self) -> str:
        judge = str(self.judge).replace("\\", "\\\\").replace('"', '\\"')
        session = f" session={self.session}" if self.session else ""
        return f'{self.status} judge="{judge}" patch={self.patch_id}{session}'


def normalise_status(word: str) -> str:
    """PASS, FAIL or NOT_PROVEN from any case and `-`/`_` spelling."""
    return word.strip().upper().replace("-", "_")


def parse(value: str) -> Verdict:
    """Read a Verdict trailer value, or raise VerdictSyntaxError saying what is wrong."""
    text = value.strip()
    if not text:
        raise VerdictSyntaxError("the Verdict trailer is empty")
    word, _, rest = text.partition(" ")
    status = normalise_status(word)
    if status not in STATUSES:
        raise VerdictSyntaxError(
            f"status {word!r} is not one of {', '.join(STATUSES)}",
        )
    fields: dict[str, str] = {}
    pos = 0
    rest = rest.strip()
    while pos < len(rest):
        m = _FIELD.match(rest, pos)
        if not m:
            raise VerdictSyntaxError(f"cannot read {rest[pos:].strip()!r} (expected key=value)")
        key = m.group(1).lower()
        raw = m.group(2)
        if raw is None:
            val = m.group(3)
        else:
            val = _UNESCAPE.sub(r"\1", raw) if "\\" in raw else raw
        if key in fields:
            raise VerdictSyntaxError(f"{key}= is given twice")
        fields[key] = val
        pos = m.end()
        while pos < len(rest) and rest[pos] == " ":
            pos += 1
    judge_text = fields.get("judge")
    if not judge_text:
        raise VerdictSyntaxError('no judge="Name <email>"')
    judge = Identity.parse(judge_text)
    if judge is None or not judge.email:
        raise VerdictSyntaxError(f"judge {judge_text!r} is not \"Name <email>\"")
    patch_id = fields.get("patch", "").lower()
    if not patch_id:
        raise VerdictSyntaxError("no patch=<patch-id>: the verdict is not bound to a change")
    if not _PATCH_ID.fullmatch(patch_id):
        raise VerdictSyntaxError(f"patch={patch_id} is not a 40 or 64 digit hex patch-id")
    return Verdict(status, judge, patch_id, session=fields.get("session") or None)


# Letters of other scripts that render like Latin ones (after case folding), a
# small subset of Unicode's confusables (UTS #39) that covers email addresses.
_LOOKALIKES = str.maketrans({
    "\u0430": "a", "\u0435": "e", "\u043e": "o", "\u0440": "p", "\u0441": "c",
    "\u0445": "x", "\u0443": "y", "\u0456": "i", "\u0458": "j", "\u0455": "s",
    "\u04bb": "h", "\u0501": "d", "\u051b": "q", "\u051d": "w", "\u04cf": "l",
    "\u03bf": "o", "\u03b1": "a", "\u03b9": "i", "\u03ba": "k", "\u03bd": "v",
    "\u03c1": "p", "\u03c4": "t", "\u03c5": "u", "\u03c7": "x", "\u0261": "g",
    "\u0131": "i", "\u0269": "i", "\u1d0f": "o", "\u0578": "n", "\u057d": "u",
})


@lru_cache(maxsize=4096)
def email_key(email: str) -> str:
    """An email as one person: case folded, Unicode-normalised, look-alike
    letters mapped to the Latin ones they imitate, +tag dropped."""
    import unicodedata

    text = unicodedata.normalize("NFKC", email).strip().casefold()
    if not text.isascii():
        # Strip accents, then map Cyrillic/Greek letters that look Latin:
        # "h\u0430na@" must be the same person as "hana@".
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c)).translate(_LOOKALIKES)
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    return f"{local.split('+', 1)[0]}@{domain}"


SIGNATURE_KEY = "Verdict-Signature"
UNSIGNED_ACCEPTED = "unsigned verdicts accepted: any agent can type one — see docs/trust.md"
"""Said by every range check and report whose policy does not require signatures."""
TASK_KEY = "Task"
AGENT_KEY = "Agent"
ESCALATED_KEY = "Escalated-To"


class TrailerVerdict(NamedTuple):
    """A Verdict trailer with the Verdict-Evidence and Verdict-Signature that follow it."""

    value: str
    evidence: str | None = None
    signature: str | None = None
    refs: tuple[EvidenceRef, ...] = ()
    lines: tuple[int, ...] = ()
    """The positions of its trailers in the list it was read from."""


def verdict_trailers(trailers: Sequence[tuple[str, str]]) -> list[TrailerVerdict]:
    """Group each Verdict trailer with the evidence and signature trailers after it:
    the first free-text Verdict-Evidence, every reference (`kind=… ref=…`), the
    first Verdict-Signature."""
    groups: list[TrailerVerdict] = []
    for i, (key, value) in enumerate(trailers):
        k = key.lower()
        if k == VERDICT_KEY.lower():
            groups.append(TrailerVerdict(value, lines=(i,)))
            continue
        last = groups[-1] if groups else None
        if last is None:
            continue
        if k == EVIDENCE_KEY.lower() and (ref := evidence_ref(value)) is not None:
            last = last._replace(refs=(*last.refs, ref))
        elif k == EVIDENCE_KEY.lower() and last.evidence is None:
            last = last._replace(evidence=value)
        elif k == SIGNATURE_KEY.lower() and last.signature is None:
            last = last._replace(signature=value.strip())
        else:
            continue
        groups[-1] = last._replace(lines=(*last.lines, i))
    return groups


def readable_trailers(trailers: Sequence[tuple[str, str]]) -> Iterator[tuple[TrailerVerdict, Verdict]]:
    """Each Verdict trailer group that parses, with its verdict (malformed ones are skipped)."""
    for group in verdict_trailers(trailers):
        try:
            yield group, parse(group.value)
        except VerdictSyntaxError:
            continue


def task_of(trailers: Sequence[tuple[str, str]]) -> str | None:
    """The change's task: its first non-empty Task trailer."""
    for key, value in trailers:
        if key.lower() == TASK_KEY.lower() and value.strip():
            return value.strip()
    return None


def worker_of(trailers: Sequence[tuple[str, str]], author: Identity | None) -> str | None:
    """Who made the attempt: `Agent: … session=ID` names a session, else the author's email."""
    for key, value in trailers:
        if key.lower() == AGENT_KEY.lower():
            for word in value.split():
                if word.startswith("session=") and len(word) > len("session="):
                    return f"session {word[len('session='):]}"
    return email_key(author.email) if author is not None and author.email else None
