"""Factor VIII's store and rules: metric baselines in refs/notes/agentops/ratchet.

A baseline is a JSON line on a commit's note. The baseline of a commit is the
record on its nearest first-parent ancestor that has one; several records on
one commit (concurrent writers, merged with cat_sort_uniq) fold to the better
value per metric, so merging never loosens the ratchet. A metric may get worse
than its baseline only in a commit that says why with
`Ratchet-Reversal: METRIC: reason`, and that reason is recorded.
"""
from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from agentops_hooks import trailers as trailer_format
from agentops_hooks.ratchet.metrics import MetricConfig
from agentops_hooks.errors import FatalError
from agentops_hooks.git import Repo
from agentops_hooks.evidence.refs import RATCHET_REF as RATCHET_REF
from agentops_hooks.evidence.notes import NotesRef
from agentops_hooks.evidence.notes import RatchetRecord as RatchetRecord
from agentops_hooks.evidence.notes import now_utc

REVERSAL_KEY = "Ratchet-Reversal"


class RatchetError(FatalError):
    """The ratchet cannot decide (corrupt baseline, bad reversal syntax...): exit 2."""


@dataclass(frozen=True)
class Baseline:
    """The folded records of the commit that holds the baseline."""

    commit: str
    values: dict[str, float]
    recorded_at: str
    reversals: dict[str, str]


@dataclass(frozen=True)
class Reversal:
    """A `Ratchet-Reversal: METRIC: reason` trailer."""

    metric: str
    reason: str
    commit: str | None
    """The commit that carries it; None for the message being committed."""


@dataclass
class MetricResult:
    """One row of `agentops ratchet check`."""

    name: str
    baseline: float | None
    now: float
    allowed: float | None
    verdict: Literal["ok", "new", "regressed", "reversed"]
    reason: str = ""


@dataclass
class Evaluation:
    """The outcome of comparing measured values with a baseline."""

    baseline: Baseline | None
    results: list[MetricResult]
    problems: list[str] = field(default_factory=list)
    """Reversals that are refused (no reason, unknown metric, no regression)."""

    @property
    def regressions(self) -> list[MetricResult]:
        return [r for r in self.results if r.verdict == "regressed"]

    @property
    def passed(self) -> bool:
        return not self.regressions and not self.problems

    def used_reversals(self) -> dict[str, str]:
        return {r.name: r.reason for r in self.results if r.verdict == "reversed"}


def fold(records: Sequence[RatchetRecord], metrics: Mapping[str, MetricConfig]) -> dict[str, float]:
    """Per metric, the better value over all records of one commit (for a metric
    no longer configured, the larger)."""
    from agentops_hooks.ratchet.metrics import better

    values: dict[str, float] = {}
    for record in records:
        for name, value in record.metrics.items():
            if name not in values:
                values[name] = value
            elif name in metrics:
                values[name] = better(values[name], value, metrics[name])
            else:
                values[name] = max(values[name], value)
    return values


def read_records(repo: Repo, commit: str, content: bytes) -> list[RatchetRecord]:
    """The records of one note; a corrupt line stops everything (never a silent pass)."""
    records = []
    for line in content.decode("utf-8", "replace").split("\n"):
        if not line.strip():
            continue
        try:
            records.append(RatchetRecord.from_line(line))
        except ValueError as e:
            raise RatchetError(
                f"the ratchet note on {commit[:12]} has a corrupt line ({e}): {line[:80]!r}; "
                f"fix the note (it is in {RATCHET_REF}) before the ratchet can decide",
            ) from None
    return records


def annotated(repo: Repo) -> dict[str, str]:
    """{commit: note blob} for every commit holding a ratchet record."""
    if not repo.has_ref(RATCHET_REF):
        return {}
    tip = NotesRef(repo, RATCHET_REF).tip()
    return {target: blob for target, (_, blob) in NotesRef(repo, RATCHET_REF).paths(tip or "").items()}


def baseline_for(
    repo: Repo, start: str | None, metrics: Mapping[str, MetricConfig],
) -> Baseline | None:
    """The record on `start` or its nearest first-parent ancestor (None: there is none)."""
    if start is None:
        return None
    notes = annotated(repo)
    if not notes:
        return None
    for commit in repo.git("rev-list", "--first-parent", start, "--").decode().split():
        if commit in notes:
            content = repo.read_blobs([notes[commit]]).get(notes[commit], b"")
            records = read_records(repo, commit, content)
            if not records:
                continue
            reversals: dict[str, str] = {}
            for r in records:
                reversals.update(r.reversals or {})
            return Baseline(commit, fold(records, metrics),
                            max(r.recorded_at for r in records), reversals)
    return None


def reversal_trailers(
    trailers: Sequence[tuple[str, str]], commit: str | None,
) -> tuple[list[Reversal], list[str]]:
    """Reversals in one message, and the problems of those that are malformed."""
    found: list[Reversal] = []
    problems: list[str] = []
    where = f"commit {commit[:12]}" if commit else "the commit message"
    for value in trailer_format.values(trailers, REVERSAL_KEY):
        metric, sep, reason = value.partition(":")
        if not sep or not metric.strip():
            problems.append(f"`{REVERSAL_KEY}: {value}` in {where} is not `METRIC: reason`")
        elif not reason.strip():
            problems.append(f"`{REVERSAL_KEY}: {value}` in {where} gives no reason: "
                            "a regression needs a recorded why")
        else:
            found.append(Reversal(metric.strip(), reason.strip(), commit))
    return found, problems


def reversals_since(
    repo: Repo, baseline: Baseline | None, start: str | None,
) -> tuple[list[Reversal], list[str]]:
    """Reversal trailers of the commits after the baseline, up to `start`."""
    if start is None or baseline is None:
        return [], []
    # Every commit the baseline lacks, merged branches included: a reversal
    # made on a branch must still count once the branch is merged.
    out = repo.git("log", "-z", "--format=%H%n%B", f"{baseline.commit}..{start}", "--")
    syntax = trailer_format.TrailerSyntax.from_config(repo.config())
    found: list[Reversal] = []
    problems: list[str] = []
    for entry in out.decode("utf-8", "replace").split("\0"):
        commit, _, message = entry.partition("\n")
        if commit.strip():
            got, bad = reversal_trailers(trailer_format.parse(message, syntax), commit.strip())
            found += got
            problems += bad
    return found, problems


def evaluate(
    metrics: Mapping[str, MetricConfig],
    baseline: Baseline | None,
    measured: Mapping[str, float],
    reversals: Sequence[Reversal],
    problems: Sequence[str] = (),
) -> Evaluation:
    """Compare measured values with the baseline, honouring reversals."""
    from agentops_hooks.ratchet.metrics import limit
    from agentops_hooks.ratchet.metrics import regressed

    result = Evaluation(baseline, [], list(problems))
    by_metric: dict[str, Reversal] = {}
    for rev in reversals:
        if rev.metric not in metrics:
            result.problems.append(
                f"`{REVERSAL_KEY}: {rev.metric}: …` names no configured metric "
                f"(configured: {', '.join(sorted(metrics)) or 'none'})",
            )
        else:
            by_metric.setdefault(rev.metric, rev)
    for name, metric in metrics.items():
        now = measured[name]
        base = baseline.values.get(name) if baseline else None
        if base is None:
            result.results.append(MetricResult(name, None, now, None, "new"))
            continue
        allowed = limit(base, metric)
        if not regressed(base, now, metric):
            result.results.append(MetricResult(name, base, now, allowed, "ok"))
            if name in by_metric and by_metric[name].commit is None:
                result.problems.append(
                    f"`{REVERSAL_KEY}: {name}` but {name} did not regress "
                    f"({now:g}, allowed {allowed:g}): a reversal is only for a regression",
                )
        elif name in by_metric:
            result.results.append(MetricResult(name, base, now, allowed, "reversed",
                                               by_metric[name].reason))
        else:
            result.results.append(MetricResult(name, base, now, allowed, "regressed"))
    return result


def check_at(
    repo: Repo, metrics: Mapping[str, MetricConfig], start: str | None,
    measured: Mapping[str, float], message_trailers: Sequence[tuple[str, str]] = (),
    *, since_baseline: bool = False,
    range_messages: Sequence[tuple[str, Sequence[tuple[str, str]]]] = (),
) -> Evaluation:
    """Measured values against the baseline at `start` (inclusive).

    A reversal counts for the change being judged: the message being
    committed, the commits of a pushed or checked range (`range_messages`:
    (commit, trailers) pairs), or with `since_baseline` every commit after
    the baseline up to `start` (the view of a branch against its last
    baseline). Otherwise an earlier commit's reversal does not excuse a
    later regression: after a reversal, record a new baseline.
    """
    baseline = baseline_for(repo, start, metrics)
    reversals, problems = reversal_trailers(message_trailers, None)
    if since_baseline:
        earlier, bad = reversals_since(repo, baseline, start)
        reversals, problems = earlier + reversals, bad + problems
    for commit, trailers in range_messages:
        got, bad = reversal_trailers(trailers, commit)
        reversals, problems = reversals + got, problems + bad
    evaluation = evaluate(metrics, baseline, measured, reversals, problems)
    if evaluation.regressions and not since_baseline and baseline is not None:
        unrecorded, _ = reversals_since(repo, baseline, start)
        for r in evaluation.regressions:
            for rev in unrecorded:
                if rev.metric == r.name and rev.commit:
                    r.reason = (f"commit {rev.commit[:12]} reversed {r.name} but no baseline was "
                                "recorded after it: run `agentops ratchet record` on that commit")
    return evaluation


def table(evaluation: Evaluation) -> str:
    """metric, baseline, now, allowed, verdict: one row per metric."""
    rows = [("metric", "baseline", "now", "allowed", "verdict")]
    for r in evaluation.results:
        verdict = {
            "ok": "ok", "regressed": "REGRESSED", "new": "new (no baseline yet: passes)",
            "reversed": f"reversed: {r.reason}",
        }[r.verdict]
        rows.append((
            r.name, "-" if r.baseline is None else f"{r.baseline:g}", f"{r.now:g}",
            "-" if r.allowed is None else f"{r.allowed:g}", verdict,
        ))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(row[:4], widths)), row[4]]).rstrip()
             for row in rows]
    base = evaluation.baseline
    lines.append("")
    lines.append(f"baseline: {base.commit[:12]} recorded {base.recorded_at}" if base
                 else f"baseline: none yet in {RATCHET_REF}")
    lines.extend(f"refused: {p}" for p in evaluation.problems)
    return "\n".join(lines)


def record_at(
    repo: Repo, metrics: Mapping[str, MetricConfig], commit: str, measured: Mapping[str, float],
) -> tuple[Evaluation, RatchetRecord | None]:
    """Record `measured` as the baseline of `commit`, unless a metric regressed
    without a reversal since the previous baseline (then nothing is written)."""
    parent = repo.resolve(f"{commit}^")
    baseline = baseline_for(repo, parent, metrics)
    reversals, problems = reversals_since(repo, baseline, commit)
    evaluation = evaluate(metrics, baseline, measured, reversals, problems)
    if evaluation.regressions:
        return evaluation, None
    # The baseline is a high-water mark: a value worse than the baseline but
    # within tolerance does not lower it, or the tolerance would let it slide.
    reversed_ = evaluation.used_reversals()
    level = dict(measured)
    if baseline is not None:
        from agentops_hooks.ratchet.metrics import better

        for name, value in measured.items():
            if name in baseline.values and name not in reversed_:
                level[name] = better(value, baseline.values[name], metrics[name])
    return evaluation, record(repo, commit, level, reversed_)


def record(
    repo: Repo, commit: str, measured: Mapping[str, float], reversals: Mapping[str, str],
) -> RatchetRecord:
    """Write a baseline on `commit` (append-only, merge-safe)."""
    entry = RatchetRecord(
        v=1, metrics=dict(measured), recorded_at=now_utc(),
        recorded_by=_who(repo), reversals=dict(reversals) or None,
    )
    NotesRef(repo, RATCHET_REF).append(
        {commit: [entry.to_line()]}, f"agentops: ratchet baseline for {commit[:12]}",
    )
    repo.forget_refs()
    return entry


def _who(repo: Repo) -> str | None:
    ident = repo.committer_ident()
    name, _, rest = ident.partition("<")
    email = rest.partition(">")[0]
    return f"{name.strip()} <{email}>" if email and email != "agentops@localhost" else None


def history(
    repo: Repo, start: str, metrics: Mapping[str, MetricConfig],
) -> list[tuple[str, list[RatchetRecord]]]:
    """(commit, records) for every first-parent commit from `start` that has records, oldest first."""
    notes = annotated(repo)
    commits = [c for c in repo.git("rev-list", "--first-parent", start, "--").decode().split()
               if c in notes]
    contents = repo.read_blobs([notes[c] for c in commits])
    out = [(c, read_records(repo, c, contents.get(notes[c], b""))) for c in commits]
    return list(reversed(out))


@dataclass
class HistoryRow:
    """One recorded baseline along the history."""

    commit: str
    recorded_at: str
    metrics: dict[str, float]
    reversals: dict[str, str]


def history_rows(
    repo: Repo, start: str, metrics: Mapping[str, MetricConfig], wanted: Sequence[str],
) -> list[HistoryRow]:
    """The folded baselines of `history`, restricted to the wanted metrics."""
    rows = []
    for commit, records in history(repo, start, metrics):
        values = fold(records, metrics)
        reversals: dict[str, str] = {}
        for r in records:
            reversals.update(r.reversals or {})
        rows.append(HistoryRow(
            commit, max(r.recorded_at for r in records),
            {n: values[n] for n in wanted if n in values},
            {n: why for n, why in reversals.items() if n in wanted},
        ))
    return rows


def json_schema() -> dict[str, Any]:
    """The JSON Schema of one ratchet record, generated from RatchetRecord."""
    from agentops_hooks.config import schema_of

    return schema_of(RatchetRecord, "ratchet.schema.json",
                     "A ratchet baseline: one line of a note in refs/notes/agentops/ratchet")


def trend_svg(rows: Sequence[tuple[str, Mapping[str, float]]], names: Sequence[str]) -> str:
    """A small SVG line chart, one panel per metric, oldest commit on the left."""
    width, panel, pad = 640, 120, 36
    height = pad + len(names) * (panel + pad)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for i, name in enumerate(names):
        top = pad + i * (panel + pad)
        points = [(j, v[name]) for j, (_, v) in enumerate(rows) if name in v]
        parts.append(f'<text x="8" y="{top - 8}" font-weight="bold">{_escape(name)}</text>')
        parts.append(f'<rect x="60" y="{top}" width="{width - 80}" height="{panel}" '
                     'fill="none" stroke="#ccc"/>')
        if not points:
            continue
        low = min(v for _, v in points)
        high = max(v for _, v in points)
        span = (high - low) or 1.0
        steps = max(len(rows) - 1, 1)

        def xy(j: int, v: float) -> tuple[float, float]:
            return 60 + (width - 80) * j / steps, top + panel - panel * (v - low) / span

        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(j, v) for j, v in points))
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
        for j, v in points:
            x, y = xy(j, v)
            parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="#1f6feb">'
                         f"<title>{_escape(rows[j][0][:12])}: {v:g}</title></circle>")
        parts.append(f'<text x="56" y="{top + 10}" text-anchor="end">{high:g}</text>')
        parts.append(f'<text x="56" y="{top + panel}" text-anchor="end">{low:g}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
