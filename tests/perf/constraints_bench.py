"""What 100 promoted pattern constraints cost, measured side by side in one run.

    python tests/perf/constraints_bench.py     # 8,000 commits; into docs/performance.md

Two repositories from the same generator (tests/perf/generate.py
`generate_history`, history shaped like a real project's), the second with
100 forbid constraints (and their learning) in its first commit, so that every
commit of the range is judged by them: the range check with the default gates,
with gate X added, and with gate X and the constraints. Then the commit-msg
check (`agentops-hook`, the entry pre-commit runs) on one agent commit, in two
small repositories alike but for the constraints. Runs are taken in turn and
their medians compared. These are measurements, not tests.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import CONSTRAINTS_TITLE  # noqa: E402
from bench import ROOT  # noqa: E402
from bench import _env  # noqa: E402
from bench import side_by_side  # noqa: E402
from bench import tool  # noqa: E402
from generate import generate_history  # noqa: E402

LEARNING = "Old APIs stay out of src"
LEARNINGS = f"# Learnings\n\n## {LEARNING} (2026-12-01)\n\n- Each of these calls was removed once and came back.\n"
REAL = [  # (pattern, witness): what teams forbid in Python
    (r"requests\.(get|post|put|delete)\((?![^)]*timeout)", "requests.get(url)"),
    (r"\beval\(", "eval(text)"), (r"\bexec\(", "exec(code)"), (r"os\.system\(", "os.system(cmd)"),
    (r"pickle\.loads\(", "pickle.loads(b)"), (r"yaml\.load\((?![^)]*Loader)", "yaml.load(f)"),
    (r"subprocess\.\w+\([^)]*shell=True", "subprocess.run(c, shell=True)"),
    (r"\bbreakpoint\(\)", "breakpoint()"), (r"import pdb", "import pdb"),
    (r"datetime\.utcnow\(\)", "datetime.utcnow()"), (r"time\.sleep\(\d{2,}", "time.sleep(30)"),
    (r"except\s*:\s*pass", "except: pass"), (r"assert\s+\w+\s*,\s*\"", 'assert x, "y"'),
    (r"token = os\.environ\[", 'token = os.environ["T"]'),
]
COMMON = [  # the worst case: literals in about two fifths of the generated lines
    (r"ITEMS_\d+ = \[\]", "ITEMS_3 = []"), (r"def step_\d+\(\):", "def step_4():"),
]
GATES = ("verdict", "learnings", "privilege", "supervise")


def constraints(count: int = 100, common: bool = False) -> str:
    """`count` forbid constraints: the real ones (with `common`, two whose literals most
    patches hold), then calls into retired modules."""
    tables = []
    real = [*COMMON, *REAL] if common else REAL
    for i in range(count):
        if i < len(real):
            pattern, witness = real[i]
        else:
            pattern, witness = rf"legacy_{i}\.(fetch|store)\(", f"legacy_{i}.fetch(x)"
        tables.append(f'[[constraint]]\nid = "c{i}"\nlearning = "{LEARNING}"\nreason = "it came back"\n'
                      f'paths = ["src/**/*.py"]\nforbid = \'{pattern}\'\nwitness = \'{witness}\'\n')
    return "\n".join(tables)


def _git(root: Path, *args: str, input: bytes | None = None) -> str:
    return subprocess.run(("git", *args), cwd=root, env=_env(), input=input, capture_output=True,
                          check=True).stdout.decode().strip()


def gate_args(knowledge: bool) -> list[str]:
    return [a for g in (*GATES, *(("knowledge",) if knowledge else ())) for a in ("--gate", g)]


def _runs_as_asked(commands: list[str]) -> None:
    """Each command judges (exit 0 or 1) rather than failing to run: else its time means nothing."""
    for command in commands:
        proc = subprocess.run(command, shell=True, env=_env(), capture_output=True, text=True)
        if proc.returncode not in (0, 1):
            raise SystemExit(f"{command} could not run (exit {proc.returncode}):\n{proc.stderr}")


def bench_range(work: Path, commits: int, runs: int) -> list[tuple[str, str]]:
    repos = {"plain": work / "plain", "held": work / "held", "common": work / "common"}
    generate_history(repos["plain"], commits)
    for name, common in (("held", False), ("common", True)):
        generate_history(repos[name], commits, root_files={
            ".agents/constraints/bench.toml": constraints(common=common), "learnings.md": LEARNINGS})
        _runs_as_asked([f"cd {repos[name]} && {tool('agentops')} knowledge verify"])
    rng = {k: f"{_git(r, 'rev-list', '--max-parents=0', 'HEAD').split()[0]}..HEAD" for k, r in repos.items()}
    check = f"{tool('agentops')} check --range"
    commands = [f"cd {repos['plain']} && {check} {rng['plain']} {' '.join(gate_args(False))}",
                f"cd {repos['plain']} && {check} {rng['plain']} {' '.join(gate_args(True))}",
                f"cd {repos['held']} && {check} {rng['held']} {' '.join(gate_args(True))}",
                f"cd {repos['common']} && {check} {rng['common']} {' '.join(gate_args(True))}"]
    _runs_as_asked(commands)
    (base, _), (with_x, _), (held, _), (common, _) = side_by_side(runs, [(c, True) for c in commands], work)
    count = int(_git(repos["held"], "rev-list", "--count", rng["held"]))
    mb = len(subprocess.run(["git", "log", "-p", rng["held"]], cwd=repos["held"], env=_env(),
                            capture_output=True, check=True).stdout) / 1e6
    return [
        ("commits in the range", f"{count:,} ({mb:.0f} MB of `git log -p`)"),
        ("`agentops check --range` with the default gates (median)", f"{base:.2f} s"),
        ("the same with gate X, no constraints", f"{with_x:.2f} s ({with_x / base:.2f}×)"),
        ("gate X and 100 promoted forbid constraints (target: at most 1.10× gate X alone)",
         f"{held:.2f} s ({held / with_x:.2f}× gate X alone, {held / base:.2f}× the default gates)"),
        ("the same, two of them with literals in two fifths of all lines (the worst case)",
         f"{common:.2f} s ({common / with_x:.2f}× gate X alone, {common / base:.2f}× the default gates)"),
    ]


def _small_repo(root: Path, with_constraints: bool) -> Path:
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    _git(root, "config", "user.name", "Ada")
    _git(root, "config", "user.email", "ada@example.com")
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("x = 1\n")
    (root / "learnings.md").write_text(LEARNINGS)
    if with_constraints:
        (root / ".agents" / "constraints").mkdir(parents=True)
        (root / ".agents" / "constraints" / "bench.toml").write_text(constraints())
    _git(root, "add", "-A")
    _git(root, "commit", "-qm", "base")
    (root / "src" / "app.py").write_text("x = 2\nvalue = compute(x)\n")
    _git(root, "add", "-A")
    msg = root / ".git" / "MSG"
    msg.write_text("Bump x to two\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")
    return msg


def bench_commit_msg(work: Path, runs: int) -> list[tuple[str, str]]:
    plain, held = work / "msg-plain", work / "msg-held"
    msg_plain, msg_held = _small_repo(plain, False), _small_repo(held, True)
    hook = tool("agentops-hook")
    commands = [f"cd {plain} && {hook} {' '.join(gate_args(False))} {msg_plain}",
                f"cd {plain} && {hook} {' '.join(gate_args(True))} {msg_plain}",
                f"cd {held} && {hook} {' '.join(gate_args(True))} {msg_held}"]
    _runs_as_asked(commands)
    (base, _), (with_x, _), (held_s, _) = side_by_side(runs, [(c, True) for c in commands], work)
    counted = [instructions(d, [*gate_args(x), str(m)])
               for d, x, m in ((plain, False, msg_plain), (plain, True, msg_plain), (held, True, msg_held))]
    rows = []
    if None not in counted:
        a, b, c = (n or 0 for n in counted)
        rows = [("instructions of the commit-msg check's process (valgrind --tool=callgrind): default "
                 "gates / gate X / gate X and the 100 constraints",
                 f"{a / 1e6:.0f} M / {b / 1e6:.0f} M / {c / 1e6:.0f} M (the constraints: "
                 f"+{(c - b) / 1e6:.1f} M, {c / b - 1:+.1%})")]
    return rows + [
        ("`agentops-hook MSG` with the default gates (median)", f"{base * 1000:.0f} ms"),
        ("the same with gate X, no constraints", f"{with_x * 1000:.0f} ms (+{(with_x - base) * 1000:.0f} ms)"),
        ("gate X and 100 promoted forbid constraints (target at most +15 ms)",
         f"{held_s * 1000:.0f} ms (+{(held_s - base) * 1000:.0f} ms over the default gates, "
         f"+{(held_s - with_x) * 1000:.0f} ms over gate X alone)"),
    ]


def instructions(cwd: Path, args: list[str]) -> int | None:
    """Instructions the commit-msg check's own process runs (not the git processes it
    starts), counted by callgrind: the machine's load does not change them. None
    without valgrind. Run twice: the first run checks and keeps the constraints."""
    if shutil.which("valgrind") is None:
        return None
    argv = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
            "-m", "agentops_hooks.places.commit", *args]
    for _ in range(2):
        err = subprocess.run(argv, cwd=cwd, env=_env(), capture_output=True, text=True).stderr
    found = re.search(r"Collected : (\d+)", err)
    return int(found.group(1)) if found else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--commits", type=int, default=8000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--msg-runs", type=int, default=21)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "performance.md",
                        help="the report whose Constraints section is replaced")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="agentops-bench-constraints-") as tmp:
        work = Path(tmp)
        rows = bench_range(work, args.commits, args.runs) + bench_commit_msg(work, args.msg_runs)
    rows.insert(0, ("measured by", f"`python tests/perf/constraints_bench.py --commits {args.commits} "
                                   f"--runs {args.runs} --msg-runs {args.msg_runs}`, side by side in one run"))
    table = [f"## {CONSTRAINTS_TITLE}", "", "| what | result |", "|---|---|",
             *(f"| {what} | {value} |" for what, value in rows), ""]
    print("\n".join(table))
    write_section(args.out, table)
    return 0


def write_section(path: Path, table: list[str]) -> None:
    """Put the section in the report, in place of the last one, or before `## How`."""
    lines = path.read_text().splitlines()
    title = table[0]
    if title in lines:
        start = lines.index(title)
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = table
    else:
        at = lines.index("## How") if "## How" in lines else len(lines)
        lines[at:at] = table
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
