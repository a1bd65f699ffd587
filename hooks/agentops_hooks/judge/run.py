"""One judge run in the fresh worktree: a clean environment, a timeout, its verdict.

A check judge's exit code is its verdict (0 PASS, else FAIL). A reviewer judge
prints a JSON verdict, checked against schemas/judge-output.schema.json; what
is not one (garbage, nothing, a crash, a timeout) is NOT_PROVEN, with the
reason. A judge that cannot be run is NOT_PROVEN, never PASS.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping
from typing import Any

from agentops_hooks.config import JudgeSpec
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence.verdicts import JudgeRun
from agentops_hooks.judge.worktree import Workspace

_SHELL_WORDS = frozenset((
    "cd", "exec", "export", "set", "test", "[", "if", "for", "while", "case", "true", "false",
    ".", "command", "env", "!", "{", "(", "echo", "printf", "exit", "eval", "ulimit", "umask",
    "trap", "unset",
))
"""Words a `sh -c` command may begin with that are not programs on PATH."""
_FENCED = re.compile(r"```(?:json)?\s*\n(.*?)\n```", re.S)
_NOT_RUN = (126, 127)  # sh: found but not executable, not found
_GRACE = 2.0
"""Seconds a stopped judge's output is still read for."""


def environment(spec: JudgeSpec, space: Workspace, given: Mapping[str, str],
                variables: Mapping[str, str]) -> dict[str, str]:
    """What the judge's process sees: PATH, a home and temporary directory of its own,
    the AGENTOPS_* variables and the ones its policy passes on; nothing of the session
    `agentops judge` was started from (no agent-session or GIT_* variable)."""
    env = {
        "PATH": given.get("PATH", os.defpath),
        "HOME": str(space.home), "TMPDIR": str(space.tmp), "TMP": str(space.tmp),
        "TEMP": str(space.tmp), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "AGENTOPS_JUDGE": spec.name,
    }
    env.update(variables)
    env.update({name: given[name] for name in spec.env if name in given})
    return env


def require_runnable(spec: JudgeSpec, space: Workspace, path: str) -> None:
    """FatalError, one line, when the judge's program is nowhere to be found: a policy
    mistake to fix, not a verdict on the change."""
    try:
        words = shlex.split(spec.command)
    except ValueError as e:
        raise FatalError(f"judge {spec.name}: cannot read its command {spec.command!r}: {e}") \
            from None
    while words and "=" in words[0] and not words[0].startswith("="):
        words = words[1:]  # VAR=value before the program
    if not words or words[0] in _SHELL_WORDS:
        return
    program = words[0]
    if "/" in program:
        found = (space.worktree / program).exists() or os.path.exists(program)
    else:
        found = shutil.which(program, path=path) is not None
    if not found:
        raise FatalError(f"judge {spec.name}: its command {program!r} does not exist (not on "
                         f"PATH, nor in the worktree): fix [[judge.judges]] command; nothing "
                         "was recorded")


def run_judge(spec: JudgeSpec, space: Workspace, env: Mapping[str, str], tree: str,
              output_limit: int) -> JudgeRun:
    """Run the judge in the worktree and read its verdict."""
    started = time.monotonic()
    try:
        proc = subprocess.Popen(
            ["sh", "-c", spec.command], cwd=space.worktree, env=dict(env),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group: stopped whole at its timeout
        )
    except OSError as e:
        return _run(spec, tree, None, time.monotonic() - started, b"", b"", output_limit,
                    "NOT_PROVEN", f"it could not be started: {e.strerror or e}")
    timed_out = False
    try:
        out, err = proc.communicate(timeout=spec.timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        _stop(proc)
        out, err = _rest(proc)
    finally:
        _stop(proc)  # what it left running in the background goes too
    duration = time.monotonic() - started
    if timed_out:
        return _run(spec, tree, None, duration, out, err, output_limit, "NOT_PROVEN",
                    f"it was stopped at its timeout of {spec.timeout:g}s")
    status, reason = _verdict(spec, proc.returncode, out)
    return _run(spec, tree, proc.returncode, duration, out, err, output_limit, status, reason)


def _rest(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """What a stopped judge printed; nothing more once _GRACE has passed, when a process
    that left its group (setsid) still holds its output open."""
    try:
        return proc.communicate(timeout=_GRACE)
    except subprocess.TimeoutExpired as e:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()
        return _bytes(e.output), _bytes(e.stderr)


def _bytes(data: object) -> bytes:
    return data if isinstance(data, bytes) else b""


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _run(spec: JudgeSpec, tree: str, code: int | None, duration: float, out: bytes, err: bytes,
         limit: int, status: str, reason: str | None) -> JudgeRun:
    whole = out + err
    text = whole.decode("utf-8", "replace")
    return JudgeRun(spec.name, spec.kind, status, spec.command, code, round(duration, 3), tree,
                    hashlib.sha256(whole).hexdigest(), text[-limit:] if limit else "", reason)


def _verdict(spec: JudgeSpec, code: int, out: bytes) -> tuple[str, str | None]:
    """(status, reason) from how the judge ended and what it printed."""
    if code in _NOT_RUN:
        return "NOT_PROVEN", f"its command could not be run (exit {code})"
    if code < 0:
        return "NOT_PROVEN", f"it was killed by signal {-code}"
    if spec.kind == "check":
        return ("PASS", None) if code == 0 else ("FAIL", f"it exited with {code}")
    said, problem = reviewer_verdict(out)
    if said is None:
        return "NOT_PROVEN", problem + (f"; it exited with {code}" if code else "")
    status, summary = said["status"], said["summary"]
    if code != 0 and status != "FAIL":
        return "NOT_PROVEN", f"it exited with {code} after printing {status}"
    findings = said.get("findings") or []
    more = f" ({len(findings)} finding(s))" if findings else ""
    return status, f"{summary}{more}"


def reviewer_verdict(out: bytes) -> tuple[dict[str, Any] | None, str]:
    """A reviewer's JSON verdict from its output: the whole output, a fenced ```json
    block, or its last line that is a JSON object; checked against the schema.
    (None, why) when it printed none."""
    import jsonschema

    from agentops_hooks.schemafiles import load_schema

    text = out.decode("utf-8", "replace").strip()
    if not text:
        return None, "it printed nothing (a reviewer prints a JSON verdict)"
    tries = [text, *(m.group(1) for m in _FENCED.finditer(text)),
             *(line for line in reversed(text.splitlines()) if line.strip().startswith("{"))]
    found: object = None
    for attempt in tries:
        try:
            found = json.loads(attempt)
        except ValueError:
            continue
        if isinstance(found, dict):
            break
    if not isinstance(found, dict):
        return None, f"its output is not a JSON verdict: {_start(text)}"
    validator = jsonschema.Draft202012Validator(load_schema("judge-output.schema.json"))
    error = jsonschema.exceptions.best_match(validator.iter_errors(found))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path) or "the verdict"
        return None, (f"its JSON verdict does not match schemas/judge-output.schema.json "
                      f"({where}: {error.message})")
    return found, ""


def _start(text: str, width: int = 80) -> str:
    first = " ".join(text.split())
    return repr(first if len(first) <= width else first[:width - 1] + "…")
