"""The range check of another revision against this checkout's, side by side in one run.

    python tests/perf/compare.py 230fc45                 # 10,000 generated commits
    python tests/perf/compare.py 230fc45 --commits 2000  # quicker
    python tests/perf/compare.py 230fc45 --shape history --commits 8000 --format json

For a change that must not slow range checks down: both versions check the
same generated repository (tests/perf/generate.py), their runs taken in turn
with the floor's (`git log -p RANGE | git patch-id --verbatim`), and the
medians compared. The other revision runs from a temporary worktree.
Measurements, not a test: nothing here fails a build.
"""
from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import ROOT  # noqa: E402
from bench import own_peak  # noqa: E402
from bench import side_by_side  # noqa: E402
from generate import generate_in_child  # noqa: E402


def check_command(source: Path, rng: str, fmt: str = "text") -> str:
    """`agentops check --range` run from the package under `source`/hooks, through
    the console script's entry point (which every revision has)."""
    entry = "from agentops_hooks.entry import main; main()"
    return (f"PYTHONPATH={shlex.quote(str(source / 'hooks'))} {shlex.quote(sys.executable)} "
            f"-c {shlex.quote(entry)} check --range {rng} --format {fmt}")


def require_a_verdict(command: str, cwd: Path) -> None:
    """A command that could not run (exit 2) would be timed as fast as it failed."""
    proc = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{command!r} could not run (exit {proc.returncode}):\n{proc.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("rev", help="the revision to compare against (e.g. the last release)")
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7, help="runs per command, taken in turn (median)")
    parser.add_argument("--shape", choices=("line", "history"), default="line",
                        help="the generated repository: one line a commit, or shaped like real history")
    parser.add_argument("--format", dest="fmt", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="agentops-compare-"))
    other = work / "other"
    try:
        subprocess.run(["git", "worktree", "add", "-q", "--detach", str(other), args.rev],
                       cwd=ROOT, check=True)
        repo = work / "repo"
        generate_in_child(repo, args.commits, args.shape)
        root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=repo,
                              capture_output=True, text=True, check=True).stdout.split()[0]
        rng = f"{root}..HEAD"
        for source in (other, ROOT):
            require_a_verdict(check_command(source, rng, args.fmt), repo)
        (floor, _), (theirs, their_memory), (ours, memory) = side_by_side(args.runs, [
            (f"git log -p {rng} | git patch-id --verbatim", True),
            (check_command(other, rng, args.fmt), True),
            (check_command(ROOT, rng, args.fmt), True),
        ], repo)
        check = ["check", "--range", rng, "--format", args.fmt]
        their_own, own = own_peak(check, repo, other), own_peak(check, repo, ROOT)
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(other)], cwd=ROOT, check=False)
        shutil.rmtree(work, ignore_errors=True)
    print(f"| what | {args.rev} | this checkout |")
    print("|---|---|---|")
    print(f"| `agentops check --range --format {args.fmt}` over {args.commits:,} commits "
          f"({args.shape}, median of {args.runs}) "
          f"| {theirs:.2f} s | {ours:.2f} s |")
    print(f"| / floor ({floor:.2f} s) | {theirs / floor:.2f}× | {ours / floor:.2f}× |")
    print(f"| peak memory of the agentops process | {their_own / 1024:.0f} MB | {own / 1024:.0f} MB |")
    print(f"| peak memory of its largest process, git's included | {their_memory / 1024:.0f} MB "
          f"| {memory / 1024:.0f} MB |")
    print(f"\nthis checkout / {args.rev}: {ours / theirs:.2f}×")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
