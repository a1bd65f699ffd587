"""Benchmarks, measured side by side in one run; results go to docs/performance.md.

    pip install -e '.[test,perf]'
    python tests/perf/bench.py                    # 10,000 commits, gitlint on all of them
    python tests/perf/bench.py --commits 2000     # quicker
    python tests/perf/bench.py --real ../aider --real-exclude '**/*.mp4' \
        --real-range 92d29805f1e79acbd15728a8ee06acfe9c71cecf..HEAD   # and a real clone's history
    python tests/perf/bench.py --report-real ../aider 92d29805f1e79acbd15728a8ee06acfe9c71cecf..HEAD
                                                  # and the report on a real clone

Compares, on a generated repository shaped like real history (8,000 commits:
merges every few commits, changes from a line to thousands over nested paths,
renames, binary files, about 30 % of commits adding lines with words a secret
would hold; tests/perf/generate.py `generate_history`):
- `agentops check --range` against the floor at 2,000 and 8,000 commits, in
  text and JSON, and how each grows from one to the other; peak memory;
and, on a plain generated repository (one line a commit, half agent commits,
verdicts in trailers and in notes):
- `agentops check --range` against the floor `git log -p RANGE | git patch-id --verbatim`
  (no verdict can be checked without reading every patch once), and against
  `gitlint --commits RANGE`;
- the commit-msg check (`agentops check --staged`, and the `agentops-hook`
  entry pre-commit runs) against gitlint's commit-msg check on the same message;
- peak memory of the range check;
- `agentops report` against `agentops check --range` on the same range;
and, with `--real PATH`, the whole history of a real clone (kept from the last
run that had one when not given), with `--report-real REPO RANGE` the report
against the range check on a real clone.
The runs of the commands compared are taken in turn and their medians
compared, so a machine that slows down for a while slows them alike.
These are measurements, not tests: nothing here fails a build.
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from generate import generate_in_child  # noqa: E402

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


# VmHWM, not ru_maxrss: a child's ru_maxrss starts from its parent's peak (it
# starts as a copy), while VmHWM is the peak of this program's own memory.
_OWN_PEAK = ("import atexit, sys\n"
             "def peak():\n"
             "    with open('/proc/self/status') as f:\n"
             "        kb = [line.split()[1] for line in f if line.startswith('VmHWM:')]\n"
             "    sys.stderr.write('peak-kb %s\\n' % kb[0])\n"
             "atexit.register(peak)\n"
             "sys.argv[0] = 'agentops'\n"
             "from agentops_hooks.entry import main\n"
             "main()\n")


def own_peak(args: list[str], cwd: Path, source: Path | None = None) -> int:
    """Peak resident KB of the agentops process itself (not of the git processes it
    starts, which `timed` counts too): `agentops ARGS` run once more to ask it."""
    env = _env()
    if source is not None:
        env["PYTHONPATH"] = str(source / "hooks")
    proc = subprocess.run([sys.executable, "-c", _OWN_PEAK, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, check=False)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("peak-kb ")]
    if proc.returncode not in (0, 1) or not lines:
        raise SystemExit(f"agentops {' '.join(args)} could not run (exit {proc.returncode}):\n{proc.stderr}")
    return int(lines[-1].split()[1])


def own_peaks(rng: str, repo: Path) -> str:
    """`own_peak` of the range check in text and in JSON, as a table cell."""
    text, as_json = (own_peak(["check", "--range", rng, "--format", fmt], repo) for fmt in ("text", "json"))
    return f"{text / 1024:.0f} MB / {as_json / 1024:.0f} MB"


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


def _git_out(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                          check=True, env=_env()).stdout


def _patch_megabytes(repo: Path, rng: str) -> float:
    """The size of `git log -p RANGE`, counted by `wc` (never held here: a child's peak
    memory counts its parent's, as it starts as a copy of it)."""
    return int(subprocess.run(f"git log -p {rng} | wc -c", shell=True, cwd=repo, env=_env(),
                              capture_output=True, text=True, check=True).stdout) / 1e6


def bench_history(work: Path, runs: int, commits: int = 8000, small: int = 2000) -> list[tuple[str, str]]:
    """The default-policy range check on history shaped like a real project's, at
    `small` and `commits` commits, beside the floor: how far above it, and how each grows."""
    repo = work / "history"
    generate_in_child(repo, commits, "history")
    root = _git_out(repo, "rev-list", "--max-parents=0", "HEAD").split()[0]
    cut = _git_out(repo, "rev-list", "--reverse", "HEAD").split()[small - 1]
    ranges = {"small": f"{root}..{cut}", "all": f"{root}..HEAD"}
    count = {k: int(_git_out(repo, "rev-list", "--count", r)) for k, r in ranges.items()}
    agentops = tool("agentops")
    (floor_s, _), (ours_s, _), (floor_a, _), (ours_a, mem_a), (json_a, mem_j) = side_by_side(runs, [
        (f"git log -p {ranges['small']} | git patch-id --verbatim", True),
        ([agentops, "check", "--range", ranges["small"]], False),
        (f"git log -p {ranges['all']} | git patch-id --verbatim", True),
        ([agentops, "check", "--range", ranges["all"]], False),
        ([agentops, "check", "--range", ranges["all"], "--format", "json"], False),
    ], repo)
    patch_mb = _patch_megabytes(repo, ranges["all"])
    growth = (ours_a / ours_s) / (floor_a / floor_s)
    merges = int(_git_out(repo, "rev-list", "--count", "--merges", ranges["all"]))
    return [
        ("commits in the range", f"{count['all']:,} ({merges:,} merges; {patch_mb:.0f} MB of `git log -p`)"),
        (f"floor at {count['small']:,} / {count['all']:,} commits", f"{floor_s:.2f} s / {floor_a:.2f} s"),
        (f"`agentops check --range RANGE` at {count['small']:,} / {count['all']:,} commits",
         f"{ours_s:.2f} s / {ours_a:.2f} s"),
        (f"agentops / floor at {count['all']:,} commits (target at most 1.5×)", f"{ours_a / floor_a:.2f}×"),
        (f"its growth from {count['small']:,} to {count['all']:,} commits over the floor's (target at most 1.25×)",
         f"{growth:.2f}× ({ours_a / ours_s:.2f}× against {floor_a / floor_s:.2f}×)"),
        ("`--format json` at all commits", f"{json_a:.2f} s ({json_a / floor_a:.2f}×)"),
        ("peak memory of the agentops process, text / json (target under 200 MB)",
         own_peaks(ranges['all'], repo)),
        ("peak memory of its largest process, git's included, text / json",
         f"{mem_a / 1024:.0f} MB / {mem_j / 1024:.0f} MB"),
    ]


def bench_real(repo: Path, runs: int, exclude: list[str], name: str,
               clean_range: str | None = None) -> list[tuple[str, str]]:
    """The whole history of a real clone: `agentops check --range HEAD` beside the floor.
    `exclude`: pathspecs the floor leaves out (objects the clone lacks, on which
    `git log -p` stops; the check names those commits and reads on). `clean_range`:
    a range without such objects, where the floor runs as it is."""
    count = int(_git_out(repo, "rev-list", "--count", "HEAD"))
    spec = " ".join(shlex.quote(f":(exclude,glob){e}") for e in exclude)
    path_limit = f" -- . {spec}" if exclude else ""
    agentops = tool("agentops")
    commands: list[tuple[list[str] | str, bool]] = [
        (f"git log -p HEAD{path_limit} | git patch-id --verbatim", True),
        ([agentops, "check", "--range", "HEAD"], False),
        ([agentops, "check", "--range", "HEAD", "--format", "json"], False),
    ]
    if clean_range:
        commands += [(f"git log -p {clean_range} | git patch-id --verbatim", True),
                     ([agentops, "check", "--range", clean_range], False)]
    measured = side_by_side(runs, commands, repo)
    (floor, _), (ours, memory), (as_json, json_memory) = measured[:3]
    left_out = f" (leaving out {', '.join(exclude)}, which this clone lacks)" if exclude else ""
    rows = [
        ("repository", f"{name} at {_git_out(repo, 'rev-parse', '--short=12', 'HEAD').strip()}, {count:,} commits"),
        (f"floor: `git log -p HEAD \\| git patch-id --verbatim`{left_out}", f"{floor:.2f} s"),
        ("`agentops check --range HEAD`", f"{ours:.2f} s ({ours / floor:.2f}×)"),
        ("`agentops check --range HEAD --format json`", f"{as_json:.2f} s ({as_json / floor:.2f}×)"),
        ("peak memory of the agentops process, text / json",
         own_peaks('HEAD', repo)),
        ("peak memory of its largest process, git's included, text / json",
         f"{memory / 1024:.0f} MB / {json_memory / 1024:.0f} MB"),
    ]
    if clean_range:
        (clean_floor, _), (clean, _) = measured[3:]
        clean_count = int(_git_out(repo, "rev-list", "--count", clean_range))
        short = "..".join(end[:12] for end in clean_range.split(".."))
        rows.append((f"`{short}`, {clean_count:,} commits whose objects are all here: floor / agentops",
                     f"{clean_floor:.2f} s / {clean:.2f} s ({clean / clean_floor:.2f}×)"))
    return rows


REAL_TITLE = "Real history (a clone's whole history)"


CONSTRAINTS_TITLE = "Constraints"


def kept_section(path: Path, title: str) -> list[tuple[str, str]] | None:
    """The rows of a section of the last report, to keep when this run does not measure it."""
    if not path.exists():
        return None
    lines = path.read_text().splitlines()
    if f"## {title}" not in lines:
        return None
    rows = []
    for line in lines[lines.index(f"## {title}") + 1:]:
        if line.startswith("## "):
            break
        if line.startswith("| ") and not line.startswith(("| what |", "|---")):
            what, _, value = line[2:-2].rpartition(" | ")
            rows.append((what, value))
    return rows


def bench_patch_volume(work: Path, megabytes: int = 200, commits: int = 2000) -> list[tuple[str, str]]:
    """A range of `megabytes` of patch text where every commit adds a line with a
    hint word, so gate IV reads every agent's patch: memory must not follow the volume."""
    repo = work / "volume"
    subprocess.run(["git", "init", "-q", "-b", "main", str(repo)], env=_env(), check=True)
    lines = megabytes * 1_000_000 // commits // 40
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE, env=_env())
    assert importer.stdin is not None
    for i in range(commits):  # written as made: this process stays small, as its children's peaks count
        who = "Ada Agent <ada@example.com>" if i % 2 else "Hana Human <hana@example.com>"
        body = (f"api_token = lookup('service-{i}')\n"
                + "".join(f"row_{i}_{n:06d} = compute({n}, {i})      # x\n" for n in range(lines))).encode()
        message = f"Change {i}\n\n" + ("Co-authored-by: Claude <noreply@anthropic.com>\n" if i % 2 else "")
        importer.stdin.write(
            f"commit refs/heads/main\nmark :{i + 1}\nauthor {who} {1_700_000_000 + i} +0000\n"
            f"committer {who} {1_700_000_000 + i} +0000\ndata {len(message)}\n{message}\n".encode()
            + (f"from :{i}\n".encode() if i else b"")
            + f"M 100644 inline conf/c{i}.py\ndata {len(body)}\n".encode() + body + b"\n")
    importer.stdin.close()
    importer.wait()
    rng = f"{_git_out(repo, 'rev-list', '--max-parents=0', 'HEAD').split()[0]}..main"
    patch_mb = _patch_megabytes(repo, rng)
    agentops = tool("agentops")
    (floor, floor_memory), (text, memory), (as_json, json_memory) = side_by_side(1, [
        (f"git log -p {rng} | git patch-id --verbatim", True),
        ([agentops, "check", "--range", rng], False),
        ([agentops, "check", "--range", rng, "--format", "json"], False),
    ], repo)
    return [
        ("patch text", (f"{patch_mb:.0f} MB of `git log -p` over {commits:,} commits, each adding a line "
                        "with a hint word (half of them agents')")),
        ("floor: time, peak memory", f"{floor:.2f} s, {floor_memory / 1024:.0f} MB"),
        ("`agentops check --range RANGE`: time, peak memory (largest process, git's included)",
         f"{text:.2f} s, {memory / 1024:.0f} MB"),
        ("`agentops check --range RANGE --format json`: the same", f"{as_json:.2f} s, {json_memory / 1024:.0f} MB"),
        ("peak memory of the agentops process, text / json",
         own_peaks(rng, repo)),
    ]


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
    importer = subprocess.Popen(["git", "fast-import", "--quiet"], cwd=repo, stdin=subprocess.PIPE, env=env)
    importer.communicate(stream)
    size = len(body)
    del stream, body  # the commands measured start as copies of this process: keep it small
    (floor, floor_memory), (ours, memory) = side_by_side(runs, [
        ("git log -p HEAD~1..HEAD | git patch-id --verbatim", True),
        ([tool("agentops"), "check", "--range", "HEAD~1..HEAD"], False),
    ], repo)
    return [
        ("patch size", f"{size / 1e6:.0f} MB ({lines:,} added lines)"),
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

Its time grows with the range, and its memory does not grow with the patch
text. Each commit is written out (text, JSON, annotations) as soon as it is
judged and then forgotten; markdown, whose headline needs the outcome, waits
in a temporary file. A patch kept for gate IV is handed over once and let go
when its commit is judged, and git's stream waits while the kept patches hold
more than 32 MB. The learnings files' patches of the whole range come from one
`diff-tree` on the first commit that asks, each commit taking its own. A
commit git cannot diff (an object missing from a partial or damaged clone) is
refused by name and the stream starts again after it.

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
    parser.add_argument("--real", type=Path, help="a clone whose whole history to check too")
    parser.add_argument("--real-name", help="what to call --real in the report (default: its directory)")
    parser.add_argument("--real-range", help="a range of --real that lacks no object, for the plain floor")
    parser.add_argument("--real-exclude", action="append", default=[], metavar="GLOB",
                        help="paths the floor leaves out on --real (objects the clone lacks)")
    parser.add_argument("--history-runs", type=int, default=5,
                        help="runs on the history-shaped repository (median)")
    parser.add_argument("--report-real", nargs=2, metavar=("REPO", "RANGE"),
                        help="also measure the report against the range check on a real clone")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="agentops-bench-"))
    try:
        started = time.perf_counter()
        info = generate_in_child(work / "repo", args.commits, "line")
        made = time.perf_counter() - started
        report_rows = bench_report(work / "repo", args.runs)
        range_rows = bench_range(work / "repo", args.runs, args.gitlint_commits)
        history_rows = bench_history(work, args.history_runs)
        volume_rows = bench_patch_volume(work)
        real_rows = (bench_real(args.real, 3, args.real_exclude, args.real_name or args.real.name,
                                args.real_range) if args.real
                     else kept_section(args.out, REAL_TITLE))
        # Last: making its patch swells this process, and a child's peak memory
        # starts from its parent's (the commands measured start as copies of it).
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
    sections = [("Range check on history shaped like a real project's", history_rows)]
    if real_rows:
        sections.append((REAL_TITLE, real_rows))
    sections += [("Much patch text, all of it read by gate IV", volume_rows),
                 ("Range check (CI, pre-push, server)", range_rows),
                 ("Fitness report (`agentops report`)", report_rows),
                 *([(f"Fitness report on a real history ({Path(args.report_real[0]).name}, "
                     f"{args.report_real[1]})",
                     bench_report(Path(args.report_real[0]), args.runs, args.report_real[1]))]
                   if args.report_real else []),
                ("One huge commit", huge_rows),
                ("Commit-time check (commit-msg)", msg_rows)]
    constraint_rows = kept_section(args.out, CONSTRAINTS_TITLE)  # constraints_bench.py measures it
    if constraint_rows:
        sections.append((CONSTRAINTS_TITLE, constraint_rows))
    for title, rows in sections:
        print(f"\n{title}")
        for what, value in rows:
            print(f"  {what:70s} {value}")
    write_report(args.out, sections, note)
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
