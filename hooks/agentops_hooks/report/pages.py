"""The fitness report as markdown, JSON, or one self-contained HTML page."""
from __future__ import annotations

import datetime as dt
import html
import json
from collections.abc import Sequence

from agentops_hooks.report.charts import REVERSAL
from agentops_hooks.report.charts import Series
from agentops_hooks.report.charts import Stack
from agentops_hooks.report.charts import bars_svg
from agentops_hooks.report.charts import ratchet_svg
from agentops_hooks.report.fitness import Period
from agentops_hooks.report.fitness import Report


def _period(report: Report) -> str:
    if report.first_date is None:
        return ""
    return f" ({report.first_date} to {report.last_date})"


def _heading(report: Report) -> str:
    return f"Commits per {report.period}"


def _bypass_column(report: Report) -> str:
    return "bypassed" if report.adoption is not None else "no PASS"


def _bypass_cell(report: Report, p: Period) -> int:
    """After adoption, the bypasses; never adopted, the agent commits without a PASS."""
    return p.bypassed if report.adoption is not None else p.agent_commits - p.admitted


def _start(report: Report, p: Period) -> str:
    """A week by its Monday, a month as YYYY-MM."""
    return p.start[:7] if report.period == "month" else p.start


def render_markdown(report: Report) -> str:
    """The report as a markdown page (pull requests, GITHUB_STEP_SUMMARY, wikis)."""
    lines = [f"## agentops report: {report.label}{_period(report)}", ""]
    lines += [f"> {n}" for n in report.notices]
    if report.notices:
        lines.append("")
    lines += ["| measure | value | what it counts |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {what} |" for name, value, what in report.numbers()]
    if report.periods:
        lines += ["", f"### {_heading(report)}", "",
                  f"| {report.period} of | commits | agent | admitted | {_bypass_column(report)} |",
                  "|---|---|---|---|---|"]
        lines += [f"| {_start(report, p)} | {p.commits} | {p.agent_commits} | {p.admitted} | "
                  f"{_bypass_cell(report, p)} |" for p in report.periods]
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
    if report.constraints_fired:
        lines += ["", "### Constraints fired", "", f"| {report.period} of | constraint | learning | times |",
                  "|---|---|---|---|"]
        lines += [f"| {start} | {c} | {learning.replace('|', '/')} | {n} |"
                  for start, c, learning, n in report.constraints_fired]
    if report.bypassed:
        lines += ["", "### Agent commits that bypassed the hooks", ""]
        lines += [f"- `{b.commit[:12]}` {b.subject.replace('|', '/')}: {', '.join(b.rules)}"
                  for b in report.bypassed]
    return "\n".join(lines) + "\n"


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def render_json(report: Report) -> str:
    """Every number (with what it counts and the setting that applied), period, metric
    and bypassing commit, as JSON."""
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

_ADMITTED, _BYPASSED, _UNJUDGED, _HUMAN = "#2da44e", "#cf222e", "#d4a72c", "#afb8c1"


def _next_start(day: dt.date, period: str) -> dt.date:
    if period == "week":
        return day + dt.timedelta(days=7)
    return (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def _stacks(report: Report) -> tuple[list[Stack], list[tuple[str, str]]]:
    """The bars of the periods chart, and the legend (colour, what) of the parts it shows."""
    kinds = [(_ADMITTED, "agent commits with a PASS"),
             (_BYPASSED, "agent commits that bypassed the hooks"),
             (_UNJUDGED, "agent commits without a PASS, made where the hooks did not run"),
             (_HUMAN, "other commits")]
    stacks, shown = [], set()
    for p in report.periods:
        start = dt.date.fromisoformat(p.start)
        unjudged = p.agent_commits - p.admitted - p.bypassed
        counts = (p.admitted, p.bypassed, unjudged, p.commits - p.agent_commits)
        shown |= {i for i, n in enumerate(counts) if n}
        stacks.append(Stack(
            _utc(start), _utc(_next_start(start, report.period)), f"{report.period} of {_start(report, p)}",
            [(n, colour, what) for n, (colour, what) in zip(counts, kinds)],
        ))
    return stacks, [kind for i, kind in enumerate(kinds) if i in shown]


def _utc(day: dt.date) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc)


def _when(report: Report, commit: str) -> dt.datetime | None:
    stamp = report.dates.get(commit)
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")) if stamp else None


def _ratchet_charts(report: Report) -> list[str]:
    """One chart per metric over the report's dates (None when a commit has no date)."""
    assert report.ratchet is not None and report.first_date and report.last_date
    start = _utc(dt.date.fromisoformat(report.first_date))
    end = _utc(dt.date.fromisoformat(report.last_date)) + dt.timedelta(days=1)
    charts = []
    for m in report.ratchet:
        points = [(t, v, c) for c, v in m.points if (t := _when(report, c)) is not None]
        marks = [(t, c, why) for c, why in m.reversals if (t := _when(report, c)) is not None]
        charts.append(ratchet_svg(Series(m.name, m.direction, points, marks), start, end))
    return charts


def _legend(kinds: Sequence[tuple[str, str]]) -> str:
    return '<p class="legend">' + "".join(f'<span style="background:{c}"></span>{html.escape(w)}'
                                          for c, w in kinds) + "</p>"


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no scripts, no external assets."""
    e = html.escape
    period = e(_period(report).strip(" ()") or "no commits")
    body = [f"<h1>agentops report: {e(report.label)}</h1>",
            f'<p class="period">{period} · 12-Factor AgentOps, factor XII: Measure Outcomes</p>']
    body += [f'<p class="notice">{e(n)}</p>' for n in report.notices]
    body.append('<div class="cards">')
    for name, value, what in report.numbers():
        body.append(f'<div class="card"><div class="name">{e(name)}</div>'
                    f'<div class="value">{e(value)}</div><div class="what">{e(what)}</div></div>')
    body.append("</div>")
    if report.periods and report.first_date:
        stacks, kinds = _stacks(report)
        title = (f"{_heading(report)} ({report.commits} in all), by who wrote them and their "
                 "verdict; bar heights count commits")
        header = (f"<table><tr><th>{report.period} of</th><th>commits</th><th>agent</th>"
                  f"<th>admitted</th><th>{_bypass_column(report)}</th></tr>")
        body += [f"<h2>{e(_heading(report))}</h2>", bars_svg(title, "commits", stacks), _legend(kinds),
                 header]
        body += [f"<tr><td>{e(_start(report, p))}</td><td>{p.commits}</td><td>{p.agent_commits}</td>"
                 f"<td>{p.admitted}</td><td>{_bypass_cell(report, p)}</td></tr>" for p in report.periods]
        body.append("</table>")
    if report.ratchet:
        body.append("<h2>Ratchet baselines</h2>")
        if report.baselines:
            body += _ratchet_charts(report)
            body.append(_legend([("#1f6feb", "recorded baseline"), (REVERSAL, "ratchet reversal")]))
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
