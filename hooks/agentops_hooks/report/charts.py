"""The report's charts: inline SVG on a dated x axis, with tick labels on both axes.

No script and no external asset: the page must open anywhere, offline. Every
tick label is a `<text class="tick">`, every chart a `<svg class="chart">`
with a `<title>` that says what it shows.
"""
from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

WIDTH = 760
LEFT, RIGHT = 56, 16
_MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)
_DAY_STEPS = (1, 2, 7, 14)
MAX_TICKS = 9


@dataclass(frozen=True)
class TimeAxis:
    """Dates from `start` to `end` mapped onto x from LEFT to WIDTH - RIGHT."""

    start: dt.datetime
    end: dt.datetime

    def x(self, when: dt.datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        return LEFT + (WIDTH - LEFT - RIGHT) * (when - self.start).total_seconds() / span

    def ticks(self) -> list[tuple[dt.datetime, str]]:
        """Days, Mondays or month starts, at most MAX_TICKS; the year is named on the
        first tick and wherever it changes."""
        first, last = self.start.date(), self.end.date()
        days = _day_ticks(first, last)
        found, step = (days, 0) if days else _month_ticks(first, last)
        labels = []
        year = None
        for day in found:
            if step >= 12:
                text = str(day.year)
            elif step:
                text = f"{day:%b}" if day.year == year else f"{day:%b} {day.year}"
            else:
                text = f"{day:%b} {day.day}" if day.year == year else f"{day:%b} {day.day} {day.year}"
            year = day.year
            labels.append((dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc), text))
        return labels


def _day_ticks(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day, every other day, Mondays or every other Monday; [] for a longer span."""
    days = (last - first).days
    for step in _DAY_STEPS:
        if days // step < MAX_TICKS:
            day = first if step < 7 else first + dt.timedelta(days=-first.weekday() % 7)
            found = []
            while day <= last:
                found.append(day)
                day += dt.timedelta(days=step)
            return found
    return []


def _month_ticks(first: dt.date, last: dt.date) -> tuple[list[dt.date], int]:
    """Month starts every `step` months (1, 2, 3, 6, 12, ...), and the step."""
    months = (last.year - first.year) * 12 + last.month - first.month
    step = next((s for s in _MONTH_STEPS if months // s < MAX_TICKS), _MONTH_STEPS[-1])
    index = first.year * 12 + first.month - 1 + (first.day > 1)
    index += -index % step
    found = []
    while (day := dt.date(index // 12, index % 12 + 1, 1)) <= last:
        found.append(day)
        index += step
    return found, step


def _frame(title: str, height: int) -> list[str]:
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{WIDTH}" '
           f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-size="11" '
           f'font-family="sans-serif"><title>{escape(title)}</title>')
    return [svg, f'<rect width="{WIDTH}" height="{height}" fill="white"/>']


def _x_ticks(axis: TimeAxis, top: float, bottom: float) -> list[str]:
    parts = []
    for when, text in axis.ticks():
        x = axis.x(when)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom + 4}" stroke="#d1d9e0"/>')
        parts.append(f'<text class="tick x" x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">'
                     f"{escape(text)}</text>")
    return parts


def _y_ticks(values: Sequence[float], low: float, high: float, top: float, bottom: float) -> list[str]:
    parts = []
    span = (high - low) or 1.0
    for value in values:
        y = bottom - (bottom - top) * (value - low) / span
        parts.append(f'<line x1="{LEFT - 4}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     'stroke="#eaeef2"/>')
        parts.append(f'<text class="tick y" x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{value:g}</text>")
    return parts


def count_ticks(high: int) -> list[int]:
    """0 to at least `high` in steps of 1, 2 or 5 times a power of ten, at most six ticks."""
    raw = max(high, 1) / 5
    magnitude = 10 ** max(math.floor(math.log10(raw)), 0)
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(math.ceil(max(high, 1) / step) + 1)]


@dataclass(frozen=True)
class Stack:
    """One bar: the period it covers and its parts, bottom first: (count, colour, what)."""

    start: dt.datetime
    end: dt.datetime
    label: str
    parts: Sequence[tuple[int, str, str]]


def bars_svg(title: str, unit: str, bars: Sequence[Stack]) -> str:
    """Stacked bars over a dated axis, a count axis on the left."""
    height, top, bottom = 270, 30, 236
    axis = TimeAxis(bars[0].start, bars[-1].end)
    steps = count_ticks(max((sum(n for n, _, _ in b.parts) for b in bars), default=0))
    peak = steps[-1]
    parts = _frame(title, height) + _y_ticks(steps, 0, peak, top, bottom) + _x_ticks(axis, top, bottom)
    for b in bars:
        x0, x1 = axis.x(b.start), axis.x(b.end)
        width = max((x1 - x0) * 0.8, 1.0)
        x = x0 + (x1 - x0 - width) / 2
        y = float(bottom)
        for count, colour, what in b.parts:
            if count <= 0:
                continue
            h = (bottom - top) * count / peak
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{h:.1f}" '
                         f'fill="{colour}"><title>{escape(b.label)}: {count} {escape(what)}'
                         "</title></rect>")
    parts.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#59636e"/>')
    parts.append(f'<text x="{LEFT - 8}" y="12" text-anchor="start" fill="#59636e">{escape(unit)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


@dataclass(frozen=True)
class Series:
    """One metric's recorded values over time, and its reversals."""

    name: str
    direction: str
    points: Sequence[tuple[dt.datetime, float, str]]
    """(when, value, commit) oldest first."""
    reversals: Sequence[tuple[dt.datetime, str, str]]
    """(when, commit, reason) of each Ratchet-Reversal."""


REVERSAL = "#cf222e"


def ratchet_svg(series: Series, start: dt.datetime, end: dt.datetime) -> str:
    """One metric's baselines as a line over the report's dates; each reversal a red
    dashed line with a triangle, named in its tooltip."""
    height, top, bottom = 200, 24, 166
    if end <= start:
        start, end = start - dt.timedelta(hours=12), end + dt.timedelta(hours=12)
    axis = TimeAxis(start, end)
    title = (f"Ratchet baselines of {series.name} ({series.direction} is better), "
             f"{len(series.reversals)} reversal(s) marked")
    values = [v for _, v, _ in series.points]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    if low == high:
        low, high = low - 1, high + 1
    parts = _frame(title, height) + _y_ticks(sorted({low, high, (low + high) / 2}), low, high, top, bottom)
    parts += _x_ticks(axis, top, bottom)
    span = high - low
    xy = [(axis.x(when), bottom - (bottom - top) * (v - low) / span, v, c) for when, v, c in series.points]
    if xy:
        coords = " ".join(f"{x:.1f},{y:.1f}" for x, y, _, _ in xy)
        parts.append(f'<polyline points="{coords}" fill="none" stroke="#1f6feb" stroke-width="2"/>')
    for x, y, value, commit in xy:
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="#1f6feb"><title>{escape(series.name)} '
                     f"= {value:g} at {commit[:12]}</title></circle>")
    for when, commit, why in series.reversals:
        x = axis.x(when)
        parts.append(f'<g class="reversal"><title>ratchet reversal of {escape(series.name)} at '
                     f"{commit[:12]}: {escape(why)}</title>"
                     f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" stroke="{REVERSAL}" '
                     'stroke-dasharray="4 3"/>'
                     f'<path d="M{x - 6:.1f},{top - 10} L{x + 6:.1f},{top - 10} L{x:.1f},{top - 1} Z" '
                     f'fill="{REVERSAL}"/>'
                     f'<text x="{x + 8:.1f}" y="{top - 2}" fill="{REVERSAL}">reversal</text></g>')
    parts.append(f'<line x1="{LEFT}" y1="{bottom}" x2="{WIDTH - RIGHT}" y2="{bottom}" stroke="#59636e"/>')
    parts.append(f'<text x="8" y="14" font-weight="bold">{escape(series.name)} '
                 f"({escape(series.direction)} is better)</text>")
    parts.append("</svg>")
    return "\n".join(parts)
