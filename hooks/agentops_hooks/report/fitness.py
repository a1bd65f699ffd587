"""Factor XII, Measure Outcomes: `agentops report`, the fitness of a range of history.

Not a gate: it refuses nothing. It counts what the other factors leave in
git (who wrote each commit, the verdicts in trailers and notes, FAILs and
escalations, ratchet baselines, learnings written and cited) over one set of
commits (the range, merges left out unless verdict.merges), so that every
share has the same denominator. The range is read as `agentops check --range`
reads it: a constant number of git processes, and only the agents' commits
diffed. Rendering is in report/pages.py.
"""
from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Callable
from collections.abc import Sequence
from concurrent.futures import Future
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any

from agentops_hooks.evidence.verdicts import UNSIGNED_ACCEPTED
from agentops_hooks import gates as gate_runner
from agentops_hooks.change import CommitChange
from agentops_hooks.change import DiffFeed
from agentops_hooks.change import load_commits
from agentops_hooks.change import patches_for
from agentops_hooks.config import Config
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import verdicts
from agentops_hooks.gates import verdict as verdict_gate
from agentops_hooks.gates.ratchet import RatchetConfig
from agentops_hooks.gates.verdict import VerdictConfig
from agentops_hooks.gates.knowledge import CITES_KEY
from agentops_hooks.gates.learnings import LearningsConfig
from agentops_hooks.gates.learnings import file_offers
from agentops_hooks.gates.learnings import trailer_offers
from agentops_hooks.git import GitError
from agentops_hooks.git import Repo
from agentops_hooks.report.adoption import NEVER
from agentops_hooks.report.adoption import Adoption
from agentops_hooks.report.adoption import History
from agentops_hooks.report.adoption import adopted_commits
from agentops_hooks.report.adoption import read_history
from agentops_hooks.trailers import values

if TYPE_CHECKING:
    from agentops_hooks.evidence.notes import StoredVerdict

Progress = Callable[[int, int], None]
"""Called with (commits measured, commits in the range) as the report goes."""
WEEKS_AT_MOST = 26
"""A longer range is counted per month: a bar a week would be too thin to read."""
_FULL_ID = re.compile(r"\b([0-9a-f]{12})(?:[0-9a-f]{28}|[0-9a-f]{52})\b")


@dataclass
class Period:
    """The counted commits of one week (from Monday) or month, by committer date."""

    start: str
    """Its first day, YYYY-MM-DD."""
    commits: int = 0
    agent_commits: int = 0
    admitted: int = 0
    """Agent commits with a valid PASS verdict."""
    bypassed: int = 0
    """Agent commits made after the hooks were adopted that gate VII refuses."""


@dataclass
class MetricTrend:
    """One ratcheted metric over the range's recorded baselines."""

    name: str
    direction: str
    points: list[tuple[str, float]] = field(default_factory=list)
    """(commit, value) of every baseline recorded in the range, oldest first."""
    reversals: list[tuple[str, str]] = field(default_factory=list)
    """(commit, reason) of every recorded Ratchet-Reversal of this metric."""

    @property
    def first(self) -> float | None:
        return self.points[0][1] if self.points else None

    @property
    def last(self) -> float | None:
        return self.points[-1][1] if self.points else None

    @property
    def trend(self) -> str:
        """"better", "worse", "flat", or "no data"."""
        if self.first is None or self.last is None:
            return "no data"
        if self.first == self.last:
            return "flat"
        up = self.last > self.first
        return "better" if up == (self.direction == "higher") else "worse"


@dataclass
class Bypass:
    """An agent commit made after the hooks were adopted that the verdict gate refuses."""

    commit: str
    subject: str
    rules: list[str]


@dataclass
class Report:
    """What `agentops report` shows. Every count is over the same commits: those of
    the range, merges left out unless `verdict.merges` (`merges_counted`)."""

    label: str
    commits: int = 0
    """The counted commits: every share's whole."""
    merges: int = 0
    """Merges in the range (left out of every count unless merges_counted)."""
    merges_counted: bool = False
    agent_commits: int = 0
    admitted: int = 0
    first_pass: int = 0
    fails: int = 0
    escalations: int = 0
    learnings_added: int = 0
    learning_commits: int = 0
    citations: int = 0
    citing_commits: int = 0
    adoption: Adoption | None = None
    """When the history shows the hooks adopted (None: never)."""
    bypassed: list[Bypass] = field(default_factory=list)
    period: str = "week"
    """"week" or "month": how `periods` divide the range."""
    periods: list[Period] = field(default_factory=list)
    ratchet: list[MetricTrend] | None = None
    """None when no metrics are configured."""
    baselines: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    """(commit, {metric: value}) of each baseline recorded in the range, oldest first."""
    dates: dict[str, str] = field(default_factory=dict)
    """Committer time (ISO 8601, UTC) of the commits the ratchet and bypasses name."""
    first_date: str | None = None
    last_date: str | None = None
    constraints_fired: list[tuple[str, str, str, int]] = field(default_factory=list)
    """(period start, constraint, its learning, times) of the constraints that refused a
    change made on a commit of the range (refs/notes/agentops/constraints)."""
    settings: dict[str, Any] = field(default_factory=dict)
    """The settings that decided what is counted, by their config name."""
    notices: list[str] = field(default_factory=list)

    @property
    def agent_share(self) -> float | None:
        return _ratio(self.agent_commits, self.commits)

    @property
    def verdict_share(self) -> float | None:
        """Agent commits admitted by an independent PASS, of all agent commits."""
        return _ratio(self.admitted, self.agent_commits)

    @property
    def first_pass_yield(self) -> float | None:
        """Admitted agent commits whose task never failed before the PASS, of all admitted."""
        return _ratio(self.first_pass, self.admitted)

    @property
    def reversals(self) -> int:
        return sum(len(m.reversals) for m in self.ratchet or [])

    def numbers(self) -> list[tuple[str, str, str]]:
        """(name, value, what it counts) of every headline number, in reading order."""
        if self.merges_counted:
            merges = "commits in the range, merges included (verdict.merges = true)"
        elif self.merges:
            merges = (f"commits in the range, leaving out its {_count(self.merges, 'merge')} "
                      "(verdict.merges = false: a merge brings work its branches' commits hold)")
        else:
            merges = "commits in the range (it has no merges)"
        rows = [
            ("commits", str(self.commits), merges),
            ("agent commits", _share(self.agent_commits, self.agent_share, "no commits"),
             "written or co-written by a coding agent (the [agents] rules), of the commits"),
            ("admitted by a PASS", _share(self.admitted, self.verdict_share, "no agent commits"),
             ("agent commits with a valid, independent PASS verdict (gate VII, "
              f"verdict.required_for = {self.settings.get('verdict.required_for', 'agents')}), "
              "of the agent commits")),
            ("first-pass yield", _share(self.first_pass, self.first_pass_yield, "none admitted"),
             "admitted agent commits whose task had no FAIL before its PASS, of those admitted"),
            ("FAIL verdicts", str(self.fails),
             "FAIL records about the tasks, patches or commits of the agent commits"),
            ("escalations", str(self.escalations), "commits with an Escalated-To trailer"),
            self._bypass_row(),
            ("learnings added", _in_commits(self.learnings_added, self.learning_commits),
             (f"new dated sections of {self.settings.get('learnings.file')}, new files in "
              f"{self.settings.get('learnings.directory')}, Learning trailers")),
            ("learnings cited", _in_commits(self.citations, self.citing_commits),
             "Cites trailers naming a learning"),
        ]
        if self.ratchet is not None:
            trends = ", ".join(f"{m.name} {m.trend}" for m in self.ratchet) or "no metrics"
            rows.append(("ratchet", trends, "first to last recorded baseline in the range (ratchet.metrics)"))
            rows.append(("ratchet reversals", str(self.reversals),
                         "recorded Ratchet-Reversal trailers: a metric allowed to get worse"))
        return rows

    def _bypass_row(self) -> tuple[str, str, str]:
        if not self.commits and not self.merges:
            return ("bypassed hooks", "0", "the range holds no commits")
        if self.adoption is None:
            return ("bypassed hooks", "none possible", f"{NEVER}, so no commit could bypass them")
        return ("bypassed hooks", str(len(self.bypassed)),
                (f"agent commits made after the hooks were adopted ({self.adoption.describe()}) "
                 "that gate VII refuses: they landed without the hooks (git commit --no-verify, "
                 "or a clone where they were not installed)"))

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            agent_share=self.agent_share, verdict_share=self.verdict_share,
            first_pass_yield=self.first_pass_yield,
            bypassed_count=len(self.bypassed) if self.adoption is not None else None,
            ratchet_reversals=self.reversals if self.ratchet is not None else None,
            measures=[{"name": n, "value": v, "explanation": w} for n, v, w in self.numbers()],
        )
        if self.ratchet is not None:
            for trend, out in zip(self.ratchet, data["ratchet"]):
                out.update(
                    first=trend.first, last=trend.last, trend=trend.trend,
                    points=[{"commit": c, "value": v} for c, v in trend.points],
                    reversals=[{"commit": c, "reason": why} for c, why in trend.reversals],
                )
        data["baselines"] = [{"commit": c, "metrics": m} for c, m in self.baselines]
        return data


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole > 0 else None


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


def _share(count: int, share: float | None, empty: str) -> str:
    return f"0 ({empty})" if share is None else f"{count} ({percent(share)})"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _in_commits(count: int, commits: int) -> str:
    return "none" if not count else f"{count} in {_count(commits, 'commit')}"


def short_ids(text: str) -> str:
    """Full object ids shortened to 12 hex digits, as git's short ids read."""
    return _FULL_ID.sub(r"\1", text)


# --- measuring --------------------------------------------------------------------

def _touching(repo: Repo, changes: Sequence[CommitChange], pathspecs: Sequence[str]) -> set[str]:
    """The commits that change these paths (one `rev-list --no-walk`), their patches of
    those paths prefetched: no other commit can add a learning file or section."""
    if not changes:
        return set()
    out = repo.git("rev-list", "--no-walk=unsorted", "--stdin", "--", *pathspecs,
                   input="".join(f"{c.commit}\n" for c in changes).encode())
    touched = set(out.decode().split())
    wanted = [c for c in changes if c.commit in touched]
    read, key = patches_for(repo, wanted, pathspecs), tuple(pathspecs)
    for change in wanted:
        change.take_patch_for(key, read)
    return touched


def iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def period_start(day: dt.date, period: str) -> dt.date:
    """The Monday of its week, or the first of its month."""
    return day.replace(day=1) if period == "month" else day - dt.timedelta(days=day.weekday())


def _learnings_added(
    change: CommitChange, evidence: gate_runner.Evidence, config: Config, touches: bool,
) -> int:
    """Learnings the commit adds that gate IX counts: new dated sections, new learning
    files and `Learning:` trailers, placeholders left out. `touches`: it changes the
    learnings file or directory."""
    offers = trailer_offers(change, config.section(LearningsConfig).min_words)
    if touches:
        offers += file_offers(change, evidence, config.section(LearningsConfig))
    return sum(1 for kind, _ in offers if kind == "")


def _settings(config: Config) -> dict[str, Any]:
    verdict, learnings = config.section(VerdictConfig), config.section(LearningsConfig)
    return {"verdict.merges": verdict.merges, "verdict.required_for": verdict.required_for,
            "learnings.file": learnings.file,
            "learnings.directory": learnings.directory.strip("/") + "/",
            "ratchet.metrics": sorted(config.section(RatchetConfig).metrics)}


def build_report(
    repo: Repo, config: Config, revs: Sequence[str], label: str | None = None,
    progress: Progress | None = None,
) -> Report:
    """Measure the commits `git rev-list REVS` names (a constant number of git processes)."""
    # As in a range check: a few objects per commit and no cycles, so the cyclic
    # collector would only walk them again and again.
    collecting = gc.isenabled()
    gc.disable()
    try:
        with ThreadPoolExecutor(max_workers=2) as pool:
            return _build_report(repo, config, revs, label, progress, pool)
    finally:
        if collecting:
            gc.enable()


@dataclass
class _Alongside:
    """What git reads in other threads while Python reads who wrote each commit."""

    history: Future[tuple[History, set[str]]]
    """The walk of the history (adoption, committer times), and the commits made after
    the adoption."""
    learnings: Future[set[str]]
    """The counted commits that change the learnings file or directory."""


def _read_alongside(
    pool: ThreadPoolExecutor, repo: Repo, config: Config, changes: Sequence[CommitChange],
    counted: Sequence[CommitChange], evidence: gate_runner.Evidence,
) -> _Alongside:
    def history() -> tuple[History, set[str]]:
        noted = {s.target for s in evidence.verdicts.stored} if evidence.has_verdict_notes else set()
        parents = {p for c in changes for p in c.parents}
        tips = [c.commit or "" for c in changes if c.commit not in parents]
        found = read_history(repo, tips, noted)
        return found, adopted_commits(repo, found.adoption, tips) if found.adoption else set()

    learnings = config.section(LearningsConfig)
    pathspecs = (learnings.file, learnings.directory.strip("/") + "/")
    return _Alongside(pool.submit(history),
                      pool.submit(_touching, repo, [c for c in counted if not c.is_merge], pathspecs))


def _build_report(
    repo: Repo, config: Config, revs: Sequence[str], label: str | None,
    progress: Progress | None, pool: ThreadPoolExecutor,
) -> Report:
    merges = config.section(VerdictConfig).merges
    report = Report(short_ids(label or " ".join(revs)), merges_counted=merges, settings=_settings(config))
    feed = DiffFeed(repo)
    changes: list[CommitChange] = []
    counted: list[CommitChange] = []
    contexts: list[gate_runner.Context] = []
    try:
        try:
            changes = load_commits(repo, revs, defer=True)
        except GitError as e:
            raise FatalError(f"cannot read {' '.join(revs)}: {e}") from None
        changes.reverse()  # oldest first
        if "verdict" in config.gates and not gate_runner.settings(config, "verdict").require_signature:
            report.notices.append(UNSIGNED_ACCEPTED)
        if not changes:
            report.notices.append("the range holds no commits")
            return report
        report.merges = sum(c.is_merge for c in changes)
        counted = [c for c in changes if merges or not c.is_merge]
        evidence = gate_runner.Evidence(repo)
        alongside = _read_alongside(pool, repo, config, changes, counted, evidence)
        contexts = [gate_runner.Context(c, config, evidence) for c in counted]
        for change, ctx in zip(counted, contexts):  # git diffs the agents' commits meanwhile
            if ctx.agent_signals:
                feed.want(change)
    finally:  # always end git's input, or its pipeline waits for more
        feed.later([c for c, ctx in zip(counted, contexts) if not ctx.agent_signals])
    if not evidence.has_verdict_notes:
        report.notices.append("no verdict notes in this clone (refs/notes/agentops/verdicts): only "
                              "Verdict trailers count; fetch the notes for the full picture")
    _measure(report, repo, config, changes, list(zip(counted, contexts)), evidence, alongside, progress)
    report.constraints_fired = _constraints_fired(repo, {c.commit for c in changes}, report.period)
    return report


def _constraints_fired(repo: Repo, inside: set[str | None], period: str) -> list[tuple[str, str, str, int]]:
    """Firings recorded on the range's commits, counted by period, constraint and learning."""
    import json
    from collections import Counter

    from agentops_hooks.evidence.notes import NotesRef
    from agentops_hooks.evidence.refs import CONSTRAINTS_REF

    if not repo.has_ref(CONSTRAINTS_REF):
        return []
    counts: Counter[tuple[str, str, str]] = Counter()
    for target, note in NotesRef(repo, CONSTRAINTS_REF).read_all().items():
        if target not in inside:
            continue
        for line in note.decode("utf-8", "replace").splitlines():
            try:
                record = json.loads(line)
                start = period_start(dt.date.fromisoformat(record["day"]), period).isoformat()
                counts[(start, str(record["constraint"]), str(record["learning"]))] += 1
            except (ValueError, KeyError, TypeError):
                continue  # a line this version cannot read counts nothing
    return [(*key, n) for key, n in sorted(counts.items())]


def _measure(
    report: Report, repo: Repo, config: Config, changes: Sequence[CommitChange],
    counted: Sequence[tuple[CommitChange, gate_runner.Context]], evidence: gate_runner.Evidence,
    alongside: _Alongside, progress: Progress | None,
) -> None:
    stored = evidence.verdicts.stored if evidence.has_verdict_notes else []
    inside = {c.commit for c in changes}
    try:
        history, after = alongside.history.result()
        learning = alongside.learnings.result()
    except GitError as e:
        raise FatalError(f"cannot read {report.label}: {e}") from None
    report.adoption = history.adoption
    when = {c.commit: dt.datetime.fromtimestamp(history.times[c.commit], dt.timezone.utc)
            for c in changes if c.commit in history.times}
    if when:
        report.first_date = min(when.values()).date().isoformat()
        report.last_date = max(when.values()).date().isoformat()
        days = (max(when.values()) - min(when.values())).days
        report.period = "week" if days <= WEEKS_AT_MOST * 7 else "month"
    fails = [s for s in stored if s.record.status == "FAIL"]
    periods: dict[str, Period] = {}
    tasks: set[str] = set()
    patches: set[str] = set()
    judged: set[str] = set()
    for done, (change, ctx) in enumerate(counted, 1):
        if progress is not None and (done % 250 == 0 or done == len(counted)):
            progress(done, len(counted))
        moment = when.get(change.commit or "")
        start = period_start(moment.date(), report.period).isoformat() if moment else "?"
        period = periods.setdefault(start, Period(start))
        period.commits += 1
        report.commits += 1
        _count_trailers(report, change)
        if not change.is_merge:  # a merge brings learnings its branch already counted
            added = _learnings_added(change, evidence, config, change.commit in learning)
            report.learnings_added += added
            report.learning_commits += bool(added)
        if not ctx.agent_signals:
            continue
        report.agent_commits += 1
        period.agent_commits += 1
        judged.add(change.commit or "")
        task = verdicts.task_of(change.trailers)
        if task:
            tasks.add(task)
        try:
            patches.add(change.patch_id)
        except GitError as e:
            raise FatalError(f"cannot read the change of commit {change.label}: {e}") from None
        refused = verdict_gate.check(change, ctx)
        if refused:
            if change.commit in after:
                period.bypassed += 1
                report.bypassed.append(Bypass(change.commit or "", change.subject,
                                              sorted({f.rule for f in refused})))
                report.dates[change.commit or ""] = iso(moment) if moment else ""
            continue
        report.admitted += 1
        period.admitted += 1
        report.first_pass += _first_pass(change, task, moment, evidence, fails)
    report.fails = sum(1 for f in fails if f.record.task in tasks or f.record.patch_id in patches
                       or f.target in judged)
    report.periods = [periods[k] for k in sorted(periods)]
    if config.section(RatchetConfig).metrics:
        _ratchet_trends(report, repo, config, changes[-1].commit or "", inside)
        report.dates.update((c, iso(when[c])) for c, _ in report.baselines if c in when)


def _first_pass(
    change: CommitChange, task: str | None, moment: dt.datetime | None,
    evidence: gate_runner.Evidence, fails: Sequence[StoredVerdict],
) -> bool:
    """No FAIL of its patch or task was recorded at or before its first PASS (the
    commit's date for a verdict only in a trailer)."""
    passes = [s.record.recorded_at for s in evidence.verdicts.for_change(change.patch_id, change.commit)
              if s.record.status == "PASS"] if fails else []
    passed_at = min(passes) if passes else (iso(moment) if moment else "9999")
    return not any(f.record.recorded_at <= passed_at
                   and (f.record.patch_id == change.patch_id or (task and f.record.task == task))
                   for f in fails)


def _count_trailers(report: Report, change: CommitChange) -> None:
    cites = [v for v in values(change.trailers, CITES_KEY) if v.strip()]
    report.citations += len(cites)
    report.citing_commits += bool(cites)
    if any(v.strip() for v in values(change.trailers, verdicts.ESCALATED_KEY)):
        report.escalations += 1


def _ratchet_trends(
    report: Report, repo: Repo, config: Config, tip: str, commits: set[str | None],
) -> None:
    from agentops_hooks.ratchet.baselines import history_rows

    metrics = config.section(RatchetConfig).metrics
    trends = {name: MetricTrend(name, metrics[name].direction) for name in sorted(metrics)}
    for row in history_rows(repo, tip, metrics, sorted(metrics)):
        if row.commit not in commits:
            continue
        report.baselines.append((row.commit, dict(row.metrics)))
        for name, value in row.metrics.items():
            trends[name].points.append((row.commit, value))
        for name, why in row.reversals.items():
            trends[name].reversals.append((row.commit, why))
    report.ratchet = list(trends.values())
