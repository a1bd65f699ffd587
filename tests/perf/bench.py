"""Benchmarks, measured side by side in one run; results go to docs/performance.md.

    pip install -e '.[test,perf]'
    python tests/perf/bench.py                    # 10,000 commits, gitlint on all of them
    python tests/perf/bench.py --commits 2000     # quicker
    python tests/perf/bench.py --real ../aider 92d29805f1e79acbd15728a8ee06acfe9c71cecf..HEAD
                                                  # and the report on a real clone

Compares, on the same generated repository (half agent commits, verdicts in
trailers and in notes):
- `agentops check --range` against the floor `git log -p RANGE | git patch-id --verbatim`
  (no verdict can be checked without reading every patch once), and against
  `gitlint --commits RANGE`;
- the commit-msg check (`agentops check --staged`, and the `agentops-hook`
  entry pre-commit runs) against gitlint's commit-msg check on the same message;
- peak memory of the range check;
- `agentops report` against `agentops check --range` on the same range.
The runs of the commands compared are taken in turn and their medians
compared, so a machine that slows down for a while slows them alike.
These are measurements, not tests: nothing here fails a build.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull})
    # As an installation runs: from bytecode caches, not compiling every module again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def timed(argv: list[str] | str, cwd: Path, shell: bool = False) -> tuple[float, int]:
    """(wall seconds, peak resident KB of the process tree's largest child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=cwd, env=_env(), shell=shell,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - start, usage.ru_maxrss


def side_by_side(runs: int, commands: list[tuple[list[str] | str, bool]], cwd: Path) -> list[tuple[float, int]]:
    """(median wall seconds, peak KB) of each command, their runs taken in turn,
    so that a machine that slows down for a while slows all of them alike."""
    results: list[list[tuple[float, int]]] = [[] for _ in commands]
    for _ in range(runs):
        for i, (argv, shell) in enumerate(commands):
            results[i].append(timed(argv, cwd, shell))
    return [(statistics.median(r[0] for r in rs), max(r[1] for r in rs)) for rs in results]


def tool(name: str) -> str:
    found = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if not found:
        raise SystemExit(f"{name} is not installed: pip install -e '.[test,perf]'")
    return found


def bench_range(repo: Path, runs: int, gitlint_commits: int | None) -> list[tuple[str, str]]:
    root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo,
                          capture_output=True, text=True, check=True).stdout.split()[0]
    rng = f"{root}..HEAD"
    count = int(subprocess.run(["git", "rev-list", "--count", rng], cwd=repo,
                               capture_output=True, text=True, check=True).stdout)
    # A second policy, read from the work tree: every commit needs a verdict,
    # so every commit is diffed (the default judges, and diffs, the agents').
    (repo / ".agentops.toml").write_text('[verdict]\nrequired_for = "everyone"\n')
    (floor, _), (ours, memory), (everyone, _) = side_by_side(runs, [
        (f"git log -p {rng} | git patch-id --verbatim", True),
        ([tool("agentops"), "check", "--range", rng], False),
        ([tool("agentops"), "check", "--range", rng, "--policy", "worktree"], False),
    ], repo)
    rows = [
        ("commits in the range", f"{count:,}"),
        ("floor: `git log -p RANGE \\| git patch-id --verbatim`", f"{floor:.2f} s"),
        ("`agentops check --range RANGE` (default policy: agent commits judged)", f"{ours:.2f} s"),
        ("agentops / floor (target at most 2×)", f"{ours / floor:.2f}×"),
        ("peak memory of the range check (target under 200 MB)", f"{memory / 1024:.0f} MB"),
        ("same, every commit judged (`verdict.required_for = \"everyone\"`)",
         f"{everyone:.2f} s ({everyone / floor:.2f}×)"),
    ]
    if gitlint_commits != 0:
        gl_count = min(gitlint_commits or count, count)
        gl_range = rng if gl_count == count else f"HEAD~{gl_count}..HEAD"
        gl, _ = timed([tool("gitlint"), "--commits", gl_range], repo)
        per_commit = gl / gl_count
        scaled = per_commit * count
        label = "gitlint --commits RANGE" + ("" if gl_count == count
                                              else f" (measured on {gl_count:,}, scaled)")
        rows += [
            (f"`{label}`", f"{scaled:.1f} s ({1 / per_commit:.0f} commits/s)"),
            ("gitlint / agentops (target at least 40×)", f"{scaled / ours:.0f}×"),
        ]
    return rows


def bench_report(repo: Path, runs: int, rng: str | None = None) -> list[tuple[str, str]]:
    """`agentops report` against the range check it must keep up with, on the same range
    (default: the whole history but its root) and the default policy (run before
    bench_range writes its .agentops.toml)."""
    if rng is None:
        root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo,
                              capture_output=True, text=True, check=True).stdout.split()[0]
        rng = f"{root}..HEAD"
    count = int(subprocess.run(["git", "rev-list", "--count", rng], cwd=repo,
                               capture_output=True, text=True, check=True).stdout)
    (check, _), (report, memory) = side_by_side(runs, [
        ([tool("agentops"), "check", "--range", rng], False),
        ([tool("agentops"), "report", rng], False),
    ], repo)
    return [
        ("commits in the range", f"{count:,}"),
        ("`agentops check --range RANGE` (default policy)", f"{check:.2f} s"),
        ("`agentops report RANGE` (markdown)", f"{report:.2f} s"),
        ("report / range check (target at most 1.5×)", f"{report / check:.2f}×"),
        ("peak memory of the report", f"{memory / 1024:.0f} MB"),
    ]


def bench_huge_commit(work: Path, runs: int, lines: int = 1_500_000) -> list[tuple[str, str]]:
    """One agent commit adding a file of `lines` lines: a patch of tens of MB read in one stream."""
    repo = work / "huge"
    env = _env()
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=env, check=True)
    body = "".join(f"line {i} {i * 7919 % 1000003}\n" for i in range(lines)).encode()
    def data(raw: bytes) -> bytes:
        return f"data {len(raw)}\n".encode() + raw + b"\n"

    stream = b"".join([
        b"commit refs/heads/main\nmark :1\n",
        b"author Hana <hana@example.com> 1700000000 +0000\n",
        b"committer Hana <hana@example.com> 1700000000 +0000\n", data(b"base\n"),
        b"M 100644 inline a.txt\n", data(b"a\n"),
        b"commit refs/heads/main\nmark :2\n",
        b"author Ada <ada@example.com> 1700000001 +0000\n",
        b"committer Ada <ada@example.com> 1700000001 +0000\n",
        data(b"Add a big file\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"),
        b"from :1\n", b"M 100644 inline big.txt\n", data(body),
    ])
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=stream, env=env, check=True)
    (floor, floor_memory), (ours, memory) = side_by_side(runs, [
        ("git log -p HEAD~1..HEAD | git patch-id --verbatim", True),
        ([tool("agentops"), "check", "--range", "HEAD~1..HEAD"], False),
    ], repo)
    return [
        ("patch size", f"{len(body) / 1e6:.0f} MB ({lines:,} added lines)"),
        ("floor: `git log -p RANGE \\| git patch-id --verbatim`", f"{floor:.2f} s"),
        ("`agentops check --range RANGE`", f"{ours:.2f} s ({ours / floor:.2f}×)"),
        ("peak memory of the largest process (git's diff, for both)",
         f"{memory / 1024:.0f} MB (floor: {floor_memory / 1024:.0f} MB)"),
    ]


def bench_commit_msg(runs: int) -> list[tuple[str, str]]:
    work = Path(tempfile.mkdtemp(prefix="agentops-bench-msg-"))
    try:
        env = _env()
        for args in (["init", "-q"], ["config", "user.name", "Ada"], ["config", "user.email", "ada@example.com"]):
            subprocess.run(["git", *args], cwd=work, env=env, check=True)
        (work / "app.py").write_text("x = 1\n")
        subprocess.run(["git", "add", "app.py"], cwd=work, env=env, check=True)
        subprocess.run(["git", "commit", "-qm", "base"], cwd=work, env=env, check=True)
        (work / "app.py").write_text("x = 2\n")
        subprocess.run(["git", "add", "app.py"], cwd=work, env=env, check=True)
        msg = work / "MSG"
        msg.write_text("Bump x to two\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")
        (gitlint, _), (check, _), (hook, _), (python, _) = side_by_side(runs, [
            ([tool("gitlint"), "--msg-filename", str(msg)], False),
            ([tool("agentops"), "check", "--staged", "--message-file", str(msg)], False),
            ([tool("agentops-hook"), str(msg)], False),
            ([sys.executable, "-c", "pass"], False),
        ], work)
        # A configured repository: the first commit checks .agentops.toml, the next ones reuse it.
        (work / ".agentops.toml").write_text('[learnings]\nmin_changed_lines = 20\n')
        firsts = []
        for _ in range(3):  # each a first commit: the checked policy is not kept yet
            shutil.rmtree(work / ".git" / "agentops", ignore_errors=True)
            firsts.append(timed([tool("agentops-hook"), str(msg)], work)[0])
        first = statistics.median(firsts)
        (gitlint2, _), (configured, _) = side_by_side(runs, [
            ([tool("gitlint"), "--msg-filename", str(msg)], False),
            ([tool("agentops-hook"), str(msg)], False),
        ], work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return [
        ("`gitlint --msg-filename MSG` (median)", f"{gitlint * 1000:.0f} ms"),
        ("`agentops check --staged --message-file MSG` (median)", f"{check * 1000:.0f} ms"),
        ("agentops check / gitlint (target at most 0.6×)", f"{check / gitlint:.2f}×"),
        ("`agentops-hook MSG`, the entry pre-commit runs (median)", f"{hook * 1000:.0f} ms"),
        ("agentops-hook / gitlint", f"{hook / gitlint:.2f}×"),
        ("`agentops-hook MSG` with a .agentops.toml, first commit (pydantic checks it; median of 3)",
         f"{first * 1000:.0f} ms"),
        ("`agentops-hook MSG` with a .agentops.toml, later commits (median)",
         f"{configured * 1000:.0f} ms ({configured / gitlint2:.2f}× gitlint)"),
        ("for scale: `python -c pass`", f"{python * 1000:.0f} ms"),
    ]


def write_report(path: Path, sections: list[tuple[str, list[tuple[str, str]]]], note: str) -> None:
    lines = [
        "# Performance",
        "",
        "Measured by `python tests/perf/bench.py` (see its docstring), side by side in one run.",
        "Numbers below are from the last run; rerun it to measure your machine.",
        "",
        note,
        "",
    ]
    for title, rows in sections:
        lines += [f"## {title}", "", "| what | result |", "|---|---|"]
        lines += [f"| {what} | {value} |" for what, value in rows]
        lines.append("")
    lines += HOW.splitlines()
    path.write_text("\n".join(lines) + "\n")


HOW = """## How

A range check reads its commits in a constant number of git processes (a test
counts them for 10 and 1,000 commits): `rev-list --parents`, one `cat-file
--batch --buffer` for the messages, and one `diff-tree --stdin --raw --always |
patch-id --verbatim` pipeline. The pipeline starts before the messages are read
and is fed the commits some gate judges as soon as the messages say who wrote
them: with the default policy the agents' commits (half of the generated range),
with `required_for = "everyone"` all of them (the second range row). The patches
pass through Python on their way to patch-id, which reads each commit's changed
paths (from the `--raw` lines), changed lines (from the hunk headers) and, when
it holds a word a secret would, its patch for gate IV; a commit is judged as
soon as git has passed it. A commit no gate judges is diffed only if something
asks (a second pipeline, as `--format json` does for every commit's patch-id).

`agentops report` reads a range as the range check does (the same three git
processes, the agents' commits diffed and no others). Beside them: one `git
log` over the history for when the hooks were adopted and every committer
date, one over `.pre-commit-config.yaml`, one `rev-list --ancestry-path` for
the commits made after the adoption, and one `rev-list --no-walk` and one
`diff-tree --stdin` for the commits that change the learnings paths.

The commit-msg check imports only the standard library when no config file
exists: the value classes are NamedTuples (`import dataclasses` would bring in
`inspect`, `ast` and `dis`: see docs/architecture.md),
gate IV compiles its secret detectors and imports unidiff only for a patch that
holds a hint of a secret, and git starts on the staged diff as soon as a gate
is known to judge the change, while the gate modules are imported. In a
configured repository, pydantic checks `.agentops.toml` on the first commit
after it changes; later commits reuse the checked policy, kept in
`.git/agentops/` with the file's exact bytes (see docs/formats.md).
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7, help="range runs per tool, taken in turn (median)")
    parser.add_argument("--msg-runs", type=int, default=21,
                        help="commit-msg runs per tool, taken in turn (median)")
    parser.add_argument("--gitlint-commits", type=int, default=None,
                        help="run gitlint on this many commits and scale (0: skip gitlint)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--real", nargs=2, metavar=("REPO", "RANGE"),
                        help="also measure the report against the range check on a real clone")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="agentops-bench-"))
    try:
        started = time.perf_counter()
        info = generate(work / "repo", args.commits)
        made = time.perf_counter() - started
        report_rows = bench_report(work / "repo", args.runs)
        range_rows = bench_range(work / "repo", args.runs, args.gitlint_commits)
        huge_rows = bench_huge_commit(work, 3)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    msg_rows = bench_commit_msg(args.msg_runs)
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    from agentops_hooks.config import DEFAULT_GATES

    note = (f"The range check runs the default gates ({', '.join(DEFAULT_GATES)}). "
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
            f"{git_version}. Repository: {info['commits']:,} commits ({info['agent']:,} by agents, "
            f"{info['verdicts_in_notes']:,} judged in notes, the rest in trailers), generated in "
            f"{made:.1f} s by tests/perf/generate.py.")
    sections = [("Range check (CI, pre-push, server)", range_rows),
                ("Fitness report (`agentops report`)", report_rows),
                *([(f"Fitness report on a real history ({Path(args.real[0]).name}, {args.real[1]})",
                    bench_report(Path(args.real[0]), args.runs, args.real[1]))] if args.real else []),
                ("One huge commit", huge_rows),
                ("Commit-time check (commit-msg)", msg_rows)]
    for title, rows in sections:
        print(f"\n{title}")
        for what, value in rows:
            print(f"  {what:70s} {value}")
    write_report(args.out, sections, note)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
