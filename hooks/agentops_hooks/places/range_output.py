"""A range check's output, written as the commits are judged: text, JSON,
GitHub annotations and markdown.

Each writer gets the range (`begin`), then each commit's result as it comes
(`commit`), then the range's own findings and outcome (`end`), and keeps
nothing of a commit once written: the output of a range of any length is
written in bounded memory. What a format must say before the commits but
knows only after them (markdown's headline) waits in a temporary file.
"""
from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Sequence
from typing import IO
from typing import Any
from typing import Protocol
from typing import TYPE_CHECKING

from agentops_hooks.git import UnreadableCommit
from agentops_hooks.render import BOLD_RED
from agentops_hooks.render import BOLD_YELLOW
from agentops_hooks.render import GREEN
from agentops_hooks.render import RED
from agentops_hooks.render import YELLOW
from agentops_hooks.render import paint
from agentops_hooks.render import who

if TYPE_CHECKING:
    from agentops_hooks.findings import Finding
    from agentops_hooks.places.range_check import CommitResult

Out = Callable[[str], object]
_SPOOL_BYTES = 8 << 20  # a temporary file in memory up to this size, on disk past it


class Checked(Protocol):
    """A range's results: all held (RangeReport) or judged as they are asked (RangeRun)."""

    label: str
    notices: list[str]
    range_findings: list[Finding]

    @property
    def count(self) -> int: ...

    @property
    def passed(self) -> bool: ...

    def each(self) -> Iterator[CommitResult]: ...


class Writer:
    """One output format; each method writes what it can say at that point."""

    def __init__(self, out: Out) -> None:
        self.out = out
        self.findings = 0

    def begin(self, report: Checked) -> None:
        """Before the first commit: the range, its size and notices."""

    def commit(self, result: CommitResult) -> None:
        """One commit's result, oldest first."""

    def end(self, report: Checked) -> None:
        """After the last commit: the range's own findings and the outcome."""


def write(report: Checked, writers: Sequence[Writer]) -> None:
    """Judge the range's commits (if not yet) and write each to every writer as it comes.

    Nothing is written before the first commit is judged: what stops a whole
    range (unreadable notes, a broken policy) stops it there, with no output.
    """
    results = report.each()
    first = next(results, None)
    for w in writers:
        w.begin(report)
    for result in itertools.chain(() if first is None else (first,), results):
        for w in writers:
            w.commit(result)
    for w in writers:
        w.end(report)


def spool() -> IO[str]:
    """A temporary text file: in memory while small, on disk past _SPOOL_BYTES."""
    return tempfile.SpooledTemporaryFile(_SPOOL_BYTES, mode="w+", encoding="utf-8")


def copy(spool: IO[str], out: Out) -> None:
    """Write out what a spool holds, and close it."""
    spool.seek(0)
    while chunk := spool.read(1 << 16):
        out(chunk)
    spool.close()


class TextWriter(Writer):
    """Findings grouped by commit, colour on a terminal.

    By default a commit is written only when it has something to say (a
    finding, notes missing); `verbose` writes every commit, `quiet` also drops
    the headline and notices, and writes nothing at all for a range with no
    finding.
    """

    def __init__(self, out: Out, color: bool = False, verbose: bool = False,
                 quiet: bool = False) -> None:
        super().__init__(out)
        self.color = color
        self.verbose = verbose
        self.quiet = quiet and not verbose
        self.shown = 0
        self.rules: dict[str, None] = {}
        """The rule ids reported, in order, for the closing `agentops explain` line."""

    def style(self, text: str, sgr: str) -> str:
        return paint(text, sgr, self.color)

    def begin(self, report: Checked) -> None:
        if self.quiet:
            return
        self.out(f"agentops: checking {report.label}: {report.count} commit(s)\n")
        for n in report.notices:
            self.out(f"agentops: {n}\n")

    def commit(self, r: CommitResult) -> None:
        if not (r.findings or r.unjudged or self.verbose):
            return
        self.shown += 1
        errors = [f for f in r.findings if f.severity == "error"]
        mark = (self.style("FAIL", BOLD_RED) if errors
                else self.style("warn", YELLOW) if r.findings
                else self.style("??", BOLD_YELLOW) if r.unjudged else self.style("ok", GREEN))
        lines = [f"{mark}  {r.change.label}  {r.change.subject[:60]}  ({who(r.signals)})"]
        for f in r.findings:
            kind = "" if f.severity == "error" else "warning: "
            self.rules[f.rule] = None
            lines.append(f"      [{f.factor} {f.gate}] {kind}{self.style(f.rule, RED)}: {f.message}")
            lines.append(f"      fix: {f.fix}")
        self.findings += len(r.findings)
        self.out("\n".join(lines) + "\n")

    def end(self, report: Checked) -> None:
        for f in report.range_findings:
            self.rules[f.rule] = None
            self.out(f"{self.style('FAIL', BOLD_RED)}  [{f.factor} {f.gate}] {f.rule}: {f.message}\n")
            self.out(f"      fix: {f.fix}\n")
        count = self.findings + len(report.range_findings)
        if count:
            self.out(f"agentops: {count} finding(s) in {report.label}. Why, and how to satisfy "
                     f"each: agentops explain {' '.join(self.rules)}\n")
        elif not self.quiet:
            hidden = report.count > self.shown
            more = f" ({report.count} commit(s); --verbose lists each)" if hidden else ""
            self.out(f"agentops: {report.label} passed{more}\n")


class ProgressWriter(Writer):
    """`checked N/TOTAL commits` on a terminal's stderr, redrawn at most ten times a
    second and wiped before any other writer writes a commit (`shows`) and at the end."""

    def __init__(self, stream: IO[str], shows: Callable[[CommitResult], bool]) -> None:
        super().__init__(lambda text: (stream.write(text), stream.flush()))  # no newline to flush it
        self.shows = shows
        self.done = self.total = 0
        self.drawn = 0.0
        self.visible = False

    def begin(self, report: Checked) -> None:
        self.total = report.count

    def commit(self, r: CommitResult) -> None:
        import time

        self.done += 1
        if self.shows(r):  # drawn again at the next commit, under what is written now
            self.wipe()
            return
        now = time.monotonic()
        if now - self.drawn >= 0.1:
            self.drawn = now
            self.out(f"\ragentops: checked {self.done}/{self.total} commits")
            self.visible = True

    def wipe(self) -> None:
        if self.visible:
            self.out("\r\033[K")
            self.visible = False

    def end(self, report: Checked) -> None:
        self.wipe()


def _nested(value: Any, depth: int) -> str:
    """`value` as json.dumps(indent=2) writes it `depth` levels down."""
    return json.dumps(value, indent=2).replace("\n", "\n" + "  " * depth)


def _patch_id(r: CommitResult) -> str | None:
    try:
        return r.change.patch_id
    except UnreadableCommit:  # no patch: said by a finding when a gate judges it
        return None


class JsonWriter(Writer):
    """One JSON document, written a commit at a time (what json.dumps(indent=2)
    would write of the whole; `passed` comes last, once it is known)."""

    def begin(self, report: Checked) -> None:
        self.first = True
        self.out(f'{{\n  "range": {json.dumps(report.label)},\n'
                 f'  "notices": {_nested(report.notices, 1)},\n  "commits": [')

    def commit(self, r: CommitResult) -> None:
        entry = {
            "commit": r.change.commit, "subject": r.change.subject,
            "patch_id": _patch_id(r), "agent": bool(r.signals),
            "why": [{"agent": s.agent, "reason": s.reason} for s in r.signals],
            "skipped": r.skipped,
            "unjudged_notes_missing": r.unjudged,
            "findings": [f._asdict() for f in r.findings],
        }
        self.out(("\n    " if self.first else ",\n    ") + _nested(entry, 2))
        self.first = False

    def end(self, report: Checked) -> None:
        findings = [f._asdict() for f in report.range_findings]
        self.out(("]" if self.first else "\n  ]") + f',\n  "range_findings": {_nested(findings, 1)}'
                 f',\n  "passed": {json.dumps(report.passed)}\n}}\n')


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


class GithubWriter(Writer):
    """GitHub Actions workflow commands: one ::error per finding, a ::notice per
    notice; then the text output (kept in a temporary file meanwhile)."""

    def begin(self, report: Checked) -> None:
        self.spool = spool()
        self.text = TextWriter(self.spool.write)
        for n in report.notices:
            self.out(f"::notice title=agentops::{_escape_data(n)}\n")
        self.text.begin(report)

    def commit(self, r: CommitResult) -> None:
        for f in r.findings:
            title = _escape_property(f"agentops {f.factor} {f.rule} ({r.change.label})")
            body = _escape_data(f"{r.change.subject}\n{f.message}\nfix: {f.fix}")
            command = "error" if f.severity == "error" else "warning"
            self.out(f"::{command} title={title}::{body}\n")
        self.text.commit(r)

    def end(self, report: Checked) -> None:
        for f in report.range_findings:
            title = _escape_property(f"agentops {f.factor} {f.rule}")
            self.out(f"::error title={title}::{_escape_data(f.message + chr(10) + 'fix: ' + f.fix)}\n")
        self.text.end(report)
        copy(self.spool, self.out)


class MarkdownWriter(Writer):
    """A summary for pull requests and GITHUB_STEP_SUMMARY: a headline with the
    outcome, a table of the commits, then the findings."""

    def begin(self, report: Checked) -> None:
        self.table, self.details = spool(), spool()
        self.notices = [f"> {n}\n" for n in report.notices]

    def commit(self, r: CommitResult) -> None:
        result = ", ".join(f"`{f.rule}`" for f in r.findings) or (
            "unjudged? (notes missing)" if r.unjudged else "ok")
        subject = r.change.subject.replace("|", "\\|")[:70]
        author = "agent" if r.signals else "human"
        self.table.write(f"| `{r.change.label}` | {subject} | {author} | {result} |\n")
        self._details(r.change.label, r.findings)

    def _details(self, label: str, findings: Sequence[Finding]) -> None:
        for f in findings:
            self.findings += 1
            self.details.write(f"- **{label}** [{f.factor} {f.gate}] `{f.rule}`: {f.message}  \n"
                               f"  fix: `{f.fix}`\n")

    def end(self, report: Checked) -> None:
        self._details("range", report.range_findings)
        status = "passed" if report.passed else f"{self.findings} finding(s)"
        self.out(f"### agentops: {report.label} {status}\n\n" + "".join(self.notices)
                 + "| commit | subject | author | result |\n|---|---|---|---|\n")
        copy(self.table, self.out)
        if self.findings:
            self.out("\n#### Findings\n\n")
        copy(self.details, self.out)


WRITERS: dict[str, Callable[[Out, bool], Writer]] = {
    "text": TextWriter,
    "json": lambda out, color: JsonWriter(out),
    "github": lambda out, color: GithubWriter(out),
    "markdown": lambda out, color: MarkdownWriter(out),
}


def render(report: Checked, fmt: str, color: bool = False) -> str:
    """The whole output as one string (for a range already judged, or a small one)."""
    buf = io.StringIO()
    write(report, [WRITERS[fmt](buf.write, color)])
    return buf.getvalue()


def render_text(report: Checked, color: bool = False) -> str:
    return render(report, "text", color).rstrip("\n")


def render_json(report: Checked) -> str:
    return render(report, "json").rstrip("\n")


def render_github(report: Checked) -> str:
    return render(report, "github").rstrip("\n")


def render_markdown(report: Checked) -> str:
    return render(report, "markdown")


def append_step_summary(markdown: IO[str]) -> None:
    """Append to $GITHUB_STEP_SUMMARY (when running in GitHub Actions) what was
    written to `markdown`, only now that the whole range is judged."""
    path = os.environ.get("GITHUB_STEP_SUMMARY")
    markdown.seek(0)
    if path:
        with open(path, "a", encoding="utf-8") as f:
            shutil.copyfileobj(markdown, f)
    markdown.close()
