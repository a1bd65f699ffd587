"""Factor XII, Measure Outcomes: `agentops report`, the fitness of a range of history.

Not a gate: it refuses nothing. It counts what the other factors leave in
git (who wrote each commit, the verdicts in trailers and notes, FAILs and
escalations, ratchet baselines, learnings written and cited) and shows them
as markdown, JSON or one self-contained HTML page. The range is read in a
constant number of git processes, as `agentops check --range` reads it.
"""
from __future__ import annotations

import datetime as dt
import html
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

import click

from agentops_hooks import gates as gate_runner
from agentops_hooks.evidence import verdicts
from agentops_hooks.change import CommitChange
from agentops_hooks.change import load_commits
from agentops_hooks.config import Config
from agentops_hooks.errors import FatalError
from agentops_hooks.gates import verdict as verdict_gate
from agentops_hooks.gates.knowledge import CITES_KEY
from agentops_hooks.gates.learnings import file_offers
from agentops_hooks.gates.learnings import trailer_offers
from agentops_hooks.git import GitError
from agentops_hooks.git import Repo
from agentops_hooks.trailers import values
from agentops_hooks.gates.learnings import LearningsConfig
from agentops_hooks.gates.ratchet import RatchetConfig
from agentops_hooks.gates.verdict import VerdictConfig

DEFAULT_COUNT = 100


@dataclass
class Week:
    """The commits of one week (Monday to Sunday, by committer date)."""

    start: str
    """The Monday, YYYY-MM-DD."""
    commits: int = 0
    agent_commits: int = 0
    admitted: int = 0
    """Agent commits with a valid PASS verdict."""
    bypassed: int = 0
    """Agent commits the verdict gate refuses."""


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
    """An agent commit the verdict gate refuses: it landed around the hooks."""

    commit: str
    subject: str
    rules: list[str]


@dataclass
class Report:
    """What `agentops report` shows; every count is over the commits of the range."""

    label: str
    commits: int = 0
    merges: int = 0
    agent_commits: int = 0
    admitted: int = 0
    first_pass: int = 0
    fails: int = 0
    escalations: int = 0
    learnings_added: int = 0
    learning_commits: int = 0
    citations: int = 0
    citing_commits: int = 0
    bypassed: list[Bypass] = field(default_factory=list)
    weeks: list[Week] = field(default_factory=list)
    ratchet: list[MetricTrend] | None = None
    """None when no metrics are configured."""
    baselines: list[tuple[str, dict[str, float]]] = field(default_factory=list)
    """(commit, {metric: value}) of each baseline recorded in the range, oldest first."""
    first_date: str | None = None
    last_date: str | None = None
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
        rows = [
            ("commits", str(self.commits), f"commits in the range ({self.merges} merges)"),
            ("agent commits", f"{self.agent_commits} ({_percent(self.agent_share)})",
             "written or co-written by a coding agent, of all commits"),
            ("admitted by a PASS", f"{self.admitted} ({_percent(self.verdict_share)})",
             "agent commits with a valid, independent PASS verdict (gate VII), of agent commits"),
            ("first-pass yield", f"{self.first_pass} ({_percent(self.first_pass_yield)})",
             "admitted agent commits whose task had no FAIL before its PASS, of admitted"),
            ("FAIL verdicts", str(self.fails),
             "FAIL records about the range's tasks, patches or commits"),
            ("escalations", str(self.escalations), "commits with an Escalated-To trailer"),
            ("bypassed hooks", str(len(self.bypassed)),
             "agent commits gate VII refuses: they could only land with --no-verify"),
            ("learnings added", f"{self.learnings_added} in {self.learning_commits} commits",
             "new dated sections of the learnings file, new learning files, Learning trailers"),
            ("learnings cited", f"{self.citations} in {self.citing_commits} commits",
             "Cites trailers naming a learning"),
        ]
        if self.ratchet is not None:
            trends = ", ".join(f"{m.name} {m.trend}" for m in self.ratchet) or "no metrics"
            rows.append(("ratchet", trends, "first to last recorded baseline in the range"))
            rows.append(("ratchet reversals", str(self.reversals),
                         "recorded Ratchet-Reversal trailers: a metric allowed to get worse"))
        return rows

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(
            agent_share=self.agent_share, verdict_share=self.verdict_share,
            first_pass_yield=self.first_pass_yield,
            bypassed_count=len(self.bypassed),
            ratchet_reversals=self.reversals if self.ratchet is not None else None,
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


def _percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.0f}%"


# --- measuring --------------------------------------------------------------------

def _commit_days(repo: Repo, commits: Sequence[str]) -> dict[str, dt.datetime]:
    """Committer date of each commit, from one `git log --no-walk`."""
    if not commits:
        return {}
    out = repo.git("log", "--no-walk=unsorted", "--format=%H %ct", "--stdin",
                   input="".join(f"{c}\n" for c in commits).encode())
    days = {}
    for line in out.decode().splitlines():
        commit, _, stamp = line.partition(" ")
        if stamp.isdigit():
            days[commit] = dt.datetime.fromtimestamp(int(stamp), dt.timezone.utc)
    return days


def _iso(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _learnings_added(change: CommitChange, evidence: gate_runner.Evidence, config: Config) -> int:
    """Learnings the commit adds that gate IX counts: new dated sections, new learning
    files and `Learning:` trailers, placeholders left out."""
    offers = trailer_offers(change, config.section(LearningsConfig).min_words)
    offers += file_offers(change, evidence, config.section(LearningsConfig))
    return sum(1 for kind, _ in offers if kind == "")


def build_report(repo: Repo, config: Config, revs: Sequence[str], label: str | None = None) -> Report:
    """Measure the commits `git rev-list REVS` names (a constant number of git processes)."""
    try:
        changes = load_commits(repo, revs)
    except GitError as e:
        raise FatalError(f"cannot read {' '.join(revs)}: {e}") from None
    report = Report(label or " ".join(revs))
    if not changes:
        report.notices.append("the range holds no commits")
        return report
    changes.reverse()  # oldest first
    evidence = gate_runner.Evidence(repo)
    evidence.batch = changes
    when = _commit_days(repo, [c.commit or "" for c in changes])
    dates = sorted(when.values())
    if dates:
        report.first_date, report.last_date = dates[0].date().isoformat(), dates[-1].date().isoformat()
    stored = evidence.verdicts.stored if evidence.has_verdict_notes else []
    if not evidence.has_verdict_notes:
        report.notices.append("no verdict notes in this clone (refs/notes/agentops/verdicts): only "
                              "Verdict trailers count; fetch the notes for the full picture")
    fails = [s for s in stored if s.record.status == "FAIL"]
    weeks: dict[str, Week] = {}
    tasks: set[str] = set()
    patches: set[str] = set()
    for change in changes:
        report.commits += 1
        moment = when.get(change.commit or "")
        monday = (moment.date() - dt.timedelta(days=moment.weekday())).isoformat() if moment else "?"
        week = weeks.setdefault(monday, Week(monday))
        week.commits += 1
        cites = [v for v in values(change.trailers, CITES_KEY) if v.strip()]
        report.citations += len(cites)
        report.citing_commits += bool(cites)
        if any(v.strip() for v in values(change.trailers, verdicts.ESCALATED_KEY)):
            report.escalations += 1
        if change.is_merge:
            report.merges += 1
            if not config.section(VerdictConfig).merges:
                continue
        task = verdicts.task_of(change.trailers)
        if task:
            tasks.add(task)
        patches.add(change.patch_id)
        if not change.is_merge:  # a merge brings learnings its branch already counted
            added = _learnings_added(change, evidence, config)
            report.learnings_added += added
            report.learning_commits += bool(added)
        ctx = gate_runner.Context(change, config, evidence)
        if not ctx.agent_signals:
            continue
        report.agent_commits += 1
        week.agent_commits += 1
        refused = verdict_gate.check(change, ctx)
        if refused:
            week.bypassed += 1
            report.bypassed.append(Bypass(change.commit or "", change.subject,
                                          sorted({f.rule for f in refused})))
            continue
        report.admitted += 1
        week.admitted += 1
        passes = [s.record.recorded_at for s in evidence.verdicts.for_change(change.patch_id, change.commit)
                  if s.record.status == "PASS"] if stored else []
        passed_at = min(passes) if passes else (_iso(moment) if moment else "9999")
        if not any(f.record.recorded_at <= passed_at
                   and (f.record.patch_id == change.patch_id or (task and f.record.task == task))
                   for f in fails):
            report.first_pass += 1
    commits = {c.commit for c in changes}
    report.fails = sum(1 for f in fails if f.record.task in tasks or f.record.patch_id in patches
                       or f.target in commits)
    report.weeks = [weeks[k] for k in sorted(weeks)]
    if config.section(RatchetConfig).metrics:
        _ratchet_trends(report, repo, config, changes[-1].commit or "", commits)
    return report


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


# --- rendering ----------------------------------------------------------------------

def _period(report: Report) -> str:
    if report.first_date is None:
        return ""
    return f" ({report.first_date} to {report.last_date})"


def render_markdown(report: Report) -> str:
    """The report as a markdown page (pull requests, GITHUB_STEP_SUMMARY, wikis)."""
    lines = [f"## agentops report: {report.label}{_period(report)}", ""]
    lines += [f"> {n}" for n in report.notices]
    if report.notices:
        lines.append("")
    lines += ["| measure | value | what it counts |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {what} |" for name, value, what in report.numbers()]
    if report.weeks:
        lines += ["", "### By week", "", "| week of | commits | agent | admitted | bypassed |",
                  "|---|---|---|---|---|"]
        lines += [f"| {w.start} | {w.commits} | {w.agent_commits} | {w.admitted} | {w.bypassed} |"
                  for w in report.weeks]
    if report.ratchet:
        lines += ["", "### Ratchet", "", "| metric | direction | first | last | trend | reversals |",
                  "|---|---|---|---|---|---|"]
        for m in report.ratchet:
            lines.append(f"| {m.name} | {m.direction} | {_number(m.first)} | {_number(m.last)} | "
                         f"{m.trend} | {len(m.reversals)} |")
        reversals = [(m.name, c, why) for m in report.ratchet for c, why in m.reversals]
        if reversals:
            lines.append("")
        lines += [f"- reversal of {name} in `{c[:12]}`: {why}" for name, c, why in reversals]
    if report.bypassed:
        lines += ["", "### Agent commits that bypassed the hooks", ""]
        lines += [f"- `{b.commit[:12]}` {b.subject.replace('|', '/')}: {', '.join(b.rules)}"
                  for b in report.bypassed]
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def render_json(report: Report) -> str:
    """Every number, week, metric and bypassing commit, as JSON."""
    return json.dumps(report.to_dict(), indent=2)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:960px;
color:#1f2328;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.period{color:#59636e;margin-top:0}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:.75rem}
.card{border:1px solid #d1d9e0;border-radius:8px;padding:.75rem}
.card .value{font-size:1.4rem;font-weight:600}.card .name{font-weight:600}
.card .what{color:#59636e;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #d1d9e0;padding:.35rem .5rem;text-align:left}
.notice{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:.5rem}
code{font-family:ui-monospace,monospace}
.legend span{display:inline-block;width:.8rem;height:.8rem;margin:0 .3rem 0 1rem;vertical-align:middle}
"""

_ADMITTED, _BYPASSED, _HUMAN = "#2da44e", "#cf222e", "#afb8c1"


def _week_slots(weeks: Sequence[Week]) -> list[int]:
    """Each week's slot on the x axis: weeks without commits stay empty gaps."""
    try:
        mondays = [dt.date.fromisoformat(w.start) for w in weeks]
    except ValueError:
        return list(range(len(weeks)))
    slots = [(m - mondays[0]).days // 7 for m in mondays]
    return slots if slots and slots[-1] < 520 else list(range(len(weeks)))


def weekly_svg(weeks: Sequence[Week]) -> str:
    """Stacked bars per week (agent commits admitted, agent commits that bypassed the hooks,
    other commits), each topped by the admitted share of that week's agent commits."""
    width, height, left, bottom, top = 720, 240, 40, 40, 30
    peak = max((w.commits for w in weeks), default=0) or 1
    slots = _week_slots(weeks)
    slot = (width - left - 10) / max((slots[-1] + 1) if slots else 1, 1)
    bar = max(min(slot * 0.7, 60), 1)
    scale = (height - bottom - top) / peak
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" font-size="11" font-family="sans-serif">',
             "<title>Commits per week: agent commits admitted by a PASS, agent commits that "
             "bypassed the hooks, and other commits</title>",
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" '
             'stroke="#59636e"/>',
             f'<text x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>',
             f'<text x="{left - 6}" y="{height - bottom}" text-anchor="end">0</text>']
    label_every = max(len(weeks) // 12, 1)
    for i, (w, at) in enumerate(zip(weeks, slots)):
        x = left + at * slot + (slot - bar) / 2
        y = float(height - bottom)
        other = w.commits - w.admitted - w.bypassed
        for count, colour, what in ((w.admitted, _ADMITTED, "agent, admitted"),
                                    (w.bypassed, _BYPASSED, "agent, bypassed the hooks"),
                                    (other, _HUMAN, "other")):
            if count <= 0:
                continue
            h = count * scale
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>week of {w.start}: {count} {what}</title></rect>')
        if w.agent_commits and bar >= 14:
            share = _percent(_ratio(w.admitted, w.agent_commits))
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                         f"{share}</text>")
        if i % label_every == 0:
            parts.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 14}" '
                         f'text-anchor="middle">{html.escape(w.start[5:])}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, no external assets."""
    e = html.escape
    body = [f"<h1>agentops report: {e(report.label)}</h1>",
            f'<p class="period">{e(_period(report).strip(" ()") or "no commits")} · '
            "12-Factor AgentOps, factor XII: Measure Outcomes</p>"]
    body += [f'<p class="notice">{e(n)}</p>' for n in report.notices]
    body.append('<div class="cards">')
    for name, value, what in report.numbers():
        body.append(f'<div class="card"><div class="name">{e(name)}</div>'
                    f'<div class="value">{e(value)}</div><div class="what">{e(what)}</div></div>')
    body.append("</div>")
    if report.weeks:
        body += ["<h2>Verdicts per week</h2>", weekly_svg(report.weeks),
                 f'<p class="legend"><span style="background:{_ADMITTED}"></span>agent, admitted'
                 f'<span style="background:{_BYPASSED}"></span>agent, bypassed the hooks'
                 f'<span style="background:{_HUMAN}"></span>other commits</p>',
                 "<table><tr><th>week of</th><th>commits</th><th>agent</th><th>admitted</th>"
                 "<th>bypassed</th></tr>"]
        body += [f"<tr><td>{e(w.start)}</td><td>{w.commits}</td><td>{w.agent_commits}</td>"
                 f"<td>{w.admitted}</td><td>{w.bypassed}</td></tr>" for w in report.weeks]
        body.append("</table>")
    if report.ratchet:
        from agentops_hooks.ratchet.baselines import trend_svg

        body.append("<h2>Ratchet</h2>")
        if report.baselines:
            body.append(trend_svg(report.baselines, [m.name for m in report.ratchet]))
        body.append("<table><tr><th>metric</th><th>direction</th><th>first</th><th>last</th>"
                    "<th>trend</th><th>reversals</th></tr>")
        for m in report.ratchet:
            reasons = "; ".join(f"{c[:12]}: {why}" for c, why in m.reversals)
            body.append(f"<tr><td>{e(m.name)}</td><td>{e(m.direction)}</td><td>{_number(m.first)}"
                        f"</td><td>{_number(m.last)}</td><td>{e(m.trend)}</td>"
                        f"<td>{len(m.reversals)}{' (' + e(reasons) + ')' if reasons else ''}</td></tr>")
        body.append("</table>")
    if report.bypassed:
        body.append("<h2>Agent commits that bypassed the hooks</h2><table><tr><th>commit</th>"
                    "<th>subject</th><th>refused by</th></tr>")
        body += [f"<tr><td><code>{e(b.commit[:12])}</code></td><td>{e(b.subject)}</td>"
                 f"<td>{e(', '.join(b.rules))}</td></tr>" for b in report.bypassed]
        body.append("</table>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>agentops report: {e(report.label)}</title><style>{_CSS}</style></head>"
            "<body>\n" + "\n".join(body) + "\n</body></html>\n")


RENDERERS = {"markdown": render_markdown, "json": render_json, "html": render_html}


@click.command("report")
@click.argument("revisions", nargs=-1, metavar="[RANGE]...")
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="markdown",
              show_default=True, help="markdown, json, or html (one self-contained page).")
@click.option("--output", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Write the report to FILE instead of standard output.")
def report_command(revisions: tuple[str, ...], fmt: str, output: Path | None) -> None:
    """Measure outcomes over a range (factor XII): agent share, verdicts, first-pass
    yield, FAILs, escalations, ratchet trends, learnings added and cited, and
    agent commits that bypassed the hooks.

    RANGE is anything `git rev-list` takes (main..feature, v1.0..HEAD, a
    branch). Default: the last 100 commits of HEAD.
    """

    try:
        for rev in revisions:
            if rev.startswith("-"):
                raise click.UsageError(f"{rev!r} is not a revision")
        repo = Repo()
        config = gate_runner.policy(repo.root, repo.cache_dir)
        revs = list(revisions) or [f"--max-count={DEFAULT_COUNT}", "HEAD"]
        label = " ".join(revisions) or f"the last {DEFAULT_COUNT} commits of HEAD"
        if not revisions and repo.head() is None:
            raise FatalError("HEAD has no commits yet: nothing to report")
        text = RENDERERS[fmt](build_report(repo, config, revs, label))
        if output is None:
            click.echo(text, nl=False)
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            raise FatalError(f"cannot write {output}: {e.strerror}") from None
        click.echo(f"agentops: wrote the report to {output}", err=True)
    except FatalError as e:
        click.echo(f"agentops: error: {e}", err=True)
        sys.exit(2)
