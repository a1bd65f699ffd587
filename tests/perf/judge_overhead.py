"""`agentops judge` against running the same judge commands directly in a fresh worktree.

    python tests/perf/judge_overhead.py                  # 7 runs each, taken in turn
    python tests/perf/judge_overhead.py --runs 11 --tests 400

A generated project (tests/perf: a package of --modules modules and a pytest
suite of --tests tests, and --commits commits of history) is judged at HEAD:
- `agentops judge --commit HEAD` with one check judge, pytest: the worktree,
  the clean environment, the judge, the signature (twice: the key is tried
  before the judges run) and the record in the notes;
- the floor: `git worktree add --detach` of the same commit in a new
  temporary directory, the same pytest command run there, `git worktree
  remove`; what any judge runner must do at the least.
The same pair with a judge that does nothing (`true`) gives the fixed cost in
seconds. The runs are taken in turn and their medians compared. Measurements,
not tests: nothing here fails a build.
"""
from __future__ import annotations

import argparse
import os
import platform
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench import _env  # noqa: E402
from bench import side_by_side  # noqa: E402

IDENTITY = "Perf Judge <perf-judge@example.com>"


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=_env(), check=True, capture_output=True)


def generate(repo: Path, modules: int, tests: int, commits: int, key: Path) -> None:
    """A project with a package, its pytest suite, its history and a judge policy."""
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    for key_name, value in (("user.name", "Hana Human"), ("user.email", "hana@example.com")):
        git(repo, "config", key_name, value)
    pkg = repo / "shop"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    for i in range(modules):
        (pkg / f"m{i}.py").write_text(
            f"def f{i}(n):\n    return sum(k * {i + 1} for k in range(n))\n")
    suite = repo / "tests"
    suite.mkdir()
    per_file = 20
    for start in range(0, tests, per_file):
        body = [f"from shop.m{start % modules} import f{start % modules}\n"]
        for t in range(start, min(start + per_file, tests)):
            body.append(f"\n\ndef test_{t}():\n    assert f{start % modules}(200) == "
                        f"{sum(k * (start % modules + 1) for k in range(200))}\n")
        (suite / f"test_{start // per_file}.py").write_text("".join(body))
    public = Path(f"{key}.pub").read_text().split()
    (repo / ".agentops").mkdir()
    (repo / ".agentops" / "allowed_signers").write_text(
        f"perf-judge@example.com {public[0]} {public[1]}\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the shop and its tests")
    for c in range(commits):
        target = pkg / f"m{c % modules}.py"
        target.write_text(target.read_text() + f"# revision {c}\n")
        git(repo, "commit", "-q", "-am", f"revision {c}")


def policy(repo: Path, command: str) -> None:
    (repo / ".agentops.toml").write_text(
        '[verdict]\nrequire_signature = true\nallowed_signers = ".agentops/allowed_signers"\n\n'
        f'[judge]\nidentity = "{IDENTITY}"\n\n[[judge.judges]]\nname = "tests"\n'
        f"command = {command!r}\ntimeout = 600\n".replace("'", '"'))
    git(repo, "add", ".agentops.toml")
    git(repo, "commit", "-q", "-m", f"judge: {command}")
    (repo / "README.md").write_text(command + "\n")  # the change judged: on top of the policy
    git(repo, "add", "README.md")
    git(repo, "commit", "-q", "-m", "the change to judge")


def floor(command: str) -> str:
    """The same judge command in a fresh `git worktree` of HEAD, removed afterwards."""
    return ('d=$(mktemp -d) && git worktree add -q --detach "$d/wt" HEAD && '
            f'(cd "$d/wt" && sh -c {shlex.quote(command)}); '
            'git worktree remove --force "$d/wt"; rm -rf "$d"')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="runs per command, taken in turn")
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--tests", type=int, default=600)
    parser.add_argument("--commits", type=int, default=300)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="agentops-judge-perf-"))
    key = work / "judge_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    os.environ["AGENTOPS_JUDGE_KEY"] = str(key)
    pytest = f"{shlex.quote(sys.executable)} -m pytest -q -p no:cacheprovider tests"
    judge = f"{shlex.quote(sys.executable)} -m agentops_hooks.commands judge --commit HEAD"
    rows = []
    for name, command in (("pytest suite", pytest), ("a judge that does nothing", "true")):
        repo = work / name.replace(" ", "-")
        generate(repo, args.modules, args.tests, args.commits, key)
        policy(repo, command)
        check = subprocess.run(judge, shell=True, cwd=repo, env=_env(), capture_output=True,
                               text=True)
        if check.returncode != 0:
            raise SystemExit(f"agentops judge did not PASS (exit {check.returncode}):\n"
                             f"{check.stderr}")
        (ours, _), (base, _) = side_by_side(args.runs, [(judge, True), (floor(command), True)],
                                            repo)
        rows.append((name, base, ours))
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout
    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{platform.python_version()}, {git_version.strip()}. Project: {args.modules} "
          f"modules, {args.tests} tests, {args.commits + 3} commits; {args.runs} runs each, "
          "medians.\n")
    print("| judge | fresh `git worktree` + the command | `agentops judge --commit HEAD` | "
          "ratio | overhead |")
    print("|---|---|---|---|---|")
    for name, base, ours in rows:
        print(f"| {name} | {base:.2f} s | {ours:.2f} s | {ours / base:.2f}× | "
              f"{ours - base:+.2f} s |")
    subprocess.run(["rm", "-rf", str(work)], check=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
