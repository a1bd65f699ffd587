"""Measuring ratcheted metrics (gate VIII) and comparing them with a baseline.

A metric is one number, taken either from a shell command's output or from a
file a tool wrote (coverage.py JSON, JUnit XML, ruff/pylint/mypy JSON, or any
JSON document through an RFC 6901 pointer). Anything that keeps us from getting
one finite number is a `MetricError` whose one-line message starts with the
metric's name and says what went wrong and where.
"""
from __future__ import annotations

import json
import math
import os
import re
import signal
import subprocess
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple
from typing import Literal
from typing import Any

from agentops_hooks.errors import FatalError

MetricFormat = Literal[
    "number", "coverage-json", "junit", "json-pointer", "ruff-json", "pylint-json", "mypy-json",
]


class MetricConfig(NamedTuple):
    """One ratcheted metric: where its number comes from, and which way is better."""

    direction: Literal["higher", "lower"]
    """Which way is better: "higher" (coverage, tests) or "lower" (warnings)."""
    command: str | None = None
    """A shell command, run at the repository root, that prints one number."""
    file: str | None = None
    """A file (relative to the repository root) the number is read from."""
    format: MetricFormat | None = None
    """How to read `file`: number, coverage-json, junit, json-pointer, ruff-json, pylint-json, mypy-json."""
    field: Literal["tests", "failures", "errors", "skipped", "passed"] | None = None
    """For junit: which count (summed over every testsuite)."""
    pointer: str | None = None
    """For json-pointer: an RFC 6901 pointer, e.g. "/totals/percent_covered"."""
    tolerance: float | str = 0
    """How much worse than the baseline still passes: a number, or "N%" of the baseline."""
    timeout: float = 300
    """Seconds a command may run before it is stopped (and the metric fails)."""


def metric_problem(metric: MetricConfig) -> str | None:
    """What is inconsistent in one metric's config (None: nothing)."""
    if (metric.command is None) == (metric.file is None):
        return "give exactly one of command or file"
    if metric.file is not None and metric.format is None:
        return "a file metric needs a format"
    if metric.command is not None and (metric.format or metric.field or metric.pointer):
        return "format, field and pointer go with file, not command"
    if metric.format == "junit" and metric.field is None:
        return "the junit format needs field (tests, failures, errors, skipped or passed)"
    if metric.format != "junit" and metric.field is not None:
        return "field goes with the junit format only"
    if metric.format == "json-pointer" and not (metric.pointer or "").startswith("/"):
        return 'the json-pointer format needs pointer, starting with "/"'
    if metric.format != "json-pointer" and metric.pointer is not None:
        return "pointer goes with the json-pointer format only"
    if isinstance(metric.tolerance, str):
        text = metric.tolerance.strip()
        try:
            ok = text.endswith("%") and float(text[:-1]) >= 0
        except ValueError:
            ok = False
        if not ok:
            return f'tolerance {metric.tolerance!r} is neither a number nor "N%"'
    elif metric.tolerance < 0:
        return "tolerance must be 0 or more"
    if metric.timeout <= 0:
        return "timeout must be more than 0"
    return None


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_NON_FINITE = re.compile(r"[+-]?(?:nan|inf|infinity)", re.IGNORECASE)
_JUNIT_FIELDS = ("tests", "failures", "errors", "skipped")
_SHOWN = 120  # at most this many characters of foreign text go into a message
_REAP_SECONDS = 5.0  # how long to wait for a killed command's pipes to close


class MetricError(FatalError):
    """A metric could not be measured; the message starts with the metric's name."""


class _Problem(Exception):
    """What is wrong, without the metric's name (added by `measure`)."""


def measure(name: str, metric: MetricConfig, root: Path) -> float:
    """Measure one metric in the work tree at `root`.

    A command runs as `sh -c COMMAND` in `root`, stdin from /dev/null, the
    environment inherited, in a session of its own so that on timeout the whole
    process group (children included) is killed. It must exit 0 and print one
    number on stdout. The number is read from the *last non-empty line* of the
    output, so a tool that prints a header or progress first still works; that
    line, stripped of surrounding whitespace, must be exactly one int or float
    (``42``, ``-1.5``, ``87.25``, ``1e3``) and nothing else. The same rule reads
    a file of format ``number``.

    Raises MetricError (one line, starting with `name`) when the command fails,
    prints nothing or something that is not one number, times out, or cannot be
    run; when the file is missing, unreadable, empty, not valid JSON/XML or
    lacks the value; and when the value is NaN or infinite.
    """
    try:
        problem = metric_problem(metric)
        if problem is not None:
            raise _Problem(problem)
        if metric.command is not None:
            value = _run(metric.command, metric.timeout, root)
        else:
            assert metric.file is not None and metric.format is not None
            value = _read_file(metric, root)
    except _Problem as e:
        raise MetricError(f"{name}: {e}") from None
    return value


def limit(baseline: float, metric: MetricConfig) -> float:
    """The worst value that still passes: baseline - tol (higher) or baseline + tol (lower);
    tol is the absolute tolerance, or pct/100*abs(baseline) for "N%"."""
    tolerance = _tolerance(baseline, metric.tolerance)
    if metric.direction == "higher":
        return baseline - tolerance
    return baseline + tolerance


def regressed(baseline: float, now: float, metric: MetricConfig) -> bool:
    """True when `now` is worse than `limit(baseline, metric)` (strictly).

    A value equal to the limit passes. "Equal" allows for binary floating-point
    noise (a relative difference below 1e-9), so that e.g. baseline 2.2 with
    tolerance 0.3 accepts 1.9 although 2.2 - 0.3 == 1.9000000000000001.
    """
    worst = limit(baseline, metric)
    if math.isclose(now, worst, rel_tol=1e-9, abs_tol=1e-12):
        return False
    if metric.direction == "higher":
        return now < worst
    return now > worst


def better(a: float, b: float, metric: MetricConfig) -> float:
    """The better of two values (max for higher, min for lower)."""
    return max(a, b) if metric.direction == "higher" else min(a, b)


def _tolerance(baseline: float, tolerance: float | str) -> float:
    if isinstance(tolerance, str):
        text = tolerance.strip()
        if text.endswith("%"):
            return float(text[:-1]) / 100 * abs(baseline)
        return float(text)
    return float(tolerance)


# --- commands -----------------------------------------------------------------


class CommandFailed(FatalError):
    """A command that could not be run, or did not finish in time: the one-line reason."""


def run_shell(command: str, timeout: float, cwd: Path, args: tuple[str, ...] = ()) -> tuple[int, str, str]:
    """Run `sh -c COMMAND` (with `args` as "$@") in `cwd`: (exit code, stdout, stderr).

    stdin from /dev/null, the environment inherited, in a session of its own
    so that on timeout the whole process group (children included) is killed.
    Raises CommandFailed when it cannot start or does not finish within `timeout`.
    """
    shown = _show(command)
    try:
        with subprocess.Popen(
            ["sh", "-c", command, "sh", *args], cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        ) as proc:
            try:
                out, err = proc.communicate(timeout=timeout)
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                raise CommandFailed(
                    f"command {shown} did not finish within {timeout:g} s (killed)",
                ) from None
    except OSError as e:
        raise CommandFailed(f"cannot run command {shown} in {cwd}: {e.strerror or e}") from None
    return proc.returncode, out.decode("utf-8", errors="replace"), err.decode("utf-8", errors="replace")


def _run(command: str, timeout: float, root: Path) -> float:
    try:
        code, out, err = run_shell(command, timeout, root)
    except CommandFailed as e:
        raise _Problem(str(e)) from None
    shown = _show(command)
    if code != 0:
        if code < 0:
            how = f"was killed by signal {-code}"
        elif code == 127:
            how = "exited with 127 (command not found?)"
        else:
            how = f"exited with {code}"
        last = _last_line(err)
        detail = f": {_show(last, quote=False)}" if last else " (no stderr)"
        raise _Problem(f"command {shown} {how}{detail}")
    return _number(out, f"command {shown} printed")


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # pragma: no cover - already gone
        pass
    try:
        proc.communicate(timeout=_REAP_SECONDS)
    except subprocess.TimeoutExpired:  # pragma: no cover - a child left the group
        proc.kill()
        proc.wait()


# --- numbers ------------------------------------------------------------------


def _number(text: str, what: str) -> float:
    """The one number on the last non-empty line of `text` (see `measure`)."""
    line = _last_line(text)
    if not line:
        raise _Problem(f"{what} nothing" if text == "" else f"{what} only whitespace")
    if _NON_FINITE.fullmatch(line):
        raise _Problem(f"{what} {_show(line)}, which is not a finite number")
    if not _NUMBER.fullmatch(line):
        raise _Problem(f"{what} {_show(line)} on its last line, not one number")
    return _finite(float(line), what)


def _finite(value: float, where: str) -> float:
    if not math.isfinite(value):
        raise _Problem(f"{where} {value}, which is not a finite number")
    return value


def _last_line(text: str) -> str:
    for line in reversed(text.splitlines()):
        if line.strip():
            return line.strip()
    return ""


def _show(text: str, *, quote: bool = True) -> str:
    """Foreign text for a one-line message: shortened, newlines escaped."""
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "..."
    shown = repr(text)
    return shown if quote else shown[1:-1]


# --- files --------------------------------------------------------------------


def _read_file(metric: MetricConfig, root: Path) -> float:
    assert metric.file is not None and metric.format is not None
    path = root / metric.file
    where = f"file {metric.file}"
    if not path.exists():
        raise _Problem(f"{where} does not exist (in {root})")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _Problem(f"cannot read {where}: {e.strerror or e}") from None
    fmt = metric.format
    if not data.strip():
        if fmt == "mypy-json":
            return 0.0
        raise _Problem(f"{where} is empty")
    if fmt == "junit":
        return _junit(data, metric.field or "tests", where)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _Problem(f"{where} is not UTF-8 text (byte {e.start})") from None
    if fmt == "number":
        return _number(text, f"{where} holds")
    if fmt == "mypy-json":
        return _mypy(text, where)
    doc = _json(text, where)
    if fmt == "coverage-json":
        totals = doc.get("totals") if isinstance(doc, dict) else None
        value = totals.get("percent_covered") if isinstance(totals, dict) else None
        if value is None:
            raise _Problem(
                f"{where} has no totals.percent_covered (is it `coverage json` output?)",
            )
        return _json_number(value, f"{where}: totals.percent_covered is")
    if fmt == "json-pointer":
        assert metric.pointer is not None
        value = _resolve(doc, metric.pointer, where)
        return _json_number(value, f"{where}: {metric.pointer} is")
    if fmt == "ruff-json":
        if not isinstance(doc, list):
            raise _Problem(
                f"{where} is not a JSON array (is it `ruff check --output-format json`?)",
            )
        return float(len(doc))
    if fmt == "pylint-json":
        if isinstance(doc, list):
            return float(len(doc))
        messages = doc.get("messages") if isinstance(doc, dict) else None
        if not isinstance(messages, list):
            raise _Problem(
                f"{where} is neither a JSON array nor an object with a \"messages\" array "
                "(is it pylint --output-format=json or json2?)",
            )
        return float(len(messages))
    raise _Problem(f"unknown format {fmt!r}")  # pragma: no cover - config refuses it


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise _Problem(f"{where} is not valid JSON: {e}") from None
    except RecursionError:
        raise _Problem(f"{where} is not usable JSON: nested too deeply") from None


def _json_number(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _Problem(f"{where} {_show(json.dumps(value), quote=False)}, not a number")
    try:
        number = float(value)
    except OverflowError:
        raise _Problem(f"{where} a number too large for a float") from None
    return _finite(number, where)


def _resolve(doc: Any, pointer: str, where: str) -> Any:
    """The value at RFC 6901 `pointer` in `doc`."""
    if pointer == "":
        return doc
    if not pointer.startswith("/"):
        raise _Problem(f"{where}: pointer {pointer!r} does not start with \"/\"")
    at = ""
    for raw in pointer[1:].split("/"):
        if re.search(r"~(?![01])", raw):
            raise _Problem(
                f"{where}: pointer {pointer!r} has a bad escape in {raw!r} (only ~0 and ~1)",
            )
        token = raw.replace("~1", "/").replace("~0", "~")
        here = at or "the top"
        if isinstance(doc, dict):
            if token not in doc:
                raise _Problem(f"{where} has no key {token!r} at {here} (pointer {pointer})")
            doc = doc[token]
        elif isinstance(doc, list):
            if not re.fullmatch(r"0|[1-9][0-9]*", token):
                raise _Problem(
                    f"{where}: {here} is an array and {token!r} is not an index "
                    f"(pointer {pointer})",
                )
            index = int(token)
            if index >= len(doc):
                raise _Problem(
                    f"{where}: {here} has {len(doc)} items, no index {index} (pointer {pointer})",
                )
            doc = doc[index]
        else:
            raise _Problem(
                f"{where}: {here} is {_show(json.dumps(doc), quote=False)}, "
                f"nothing to look {token!r} up in (pointer {pointer})",
            )
        at = f"{at}/{raw}"
    return doc


def _mypy(text: str, where: str) -> float:
    errors = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise _Problem(
                f"{where} line {number} is not valid JSON: {e} "
                "(is it mypy --output json, one object per line?)",
            ) from None
        if not isinstance(item, dict):
            raise _Problem(f"{where} line {number} is not a JSON object")
        if item.get("severity") == "error":
            errors += 1
    return float(errors)


def _junit(data: bytes, field: str, where: str) -> float:
    try:
        top = ET.fromstring(data)
    except ET.ParseError as e:
        raise _Problem(f"{where} is not valid XML: {e}") from None
    if top.tag not in ("testsuites", "testsuite"):
        raise _Problem(f"{where} is not JUnit XML (root element <{top.tag}>)")
    suites = list(_outermost_suites(top))
    if not suites:
        raise _Problem(f"{where} has no <testsuite> with a tests attribute")
    totals = dict.fromkeys(_JUNIT_FIELDS, 0.0)
    for suite in suites:
        label = f"<testsuite name={suite.get('name', '?')!r}>"
        for key in _JUNIT_FIELDS:
            raw = suite.get(key)
            if raw is None:
                continue  # tools omit failures/errors/skipped when there are none
            if not _NUMBER.fullmatch(raw.strip()) or float(raw) < 0:
                raise _Problem(f"{where}: {label} has {key}={raw!r}, not a count")
            totals[key] += float(raw)
    if field == "passed":
        return totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    return totals[field]


def _outermost_suites(element: ET.Element) -> Iterator[ET.Element]:
    """The <testsuite> elements that carry counts, without counting a suite's
    nested suites again: a suite with a `tests` attribute stands for all of its
    descendants; one without it is looked through."""
    if element.tag == "testsuite" and element.get("tests") is not None:
        yield element
        return
    for child in element:
        yield from _outermost_suites(child)
