"""Mutation testing of the modules that decide admission, with mutmut (docs/testing.md).

    pip install -e '.[test,mutation]'
    python tests/mutation/run.py [MODULE ...] [--work DIR] [--max-children N] [--resume]
                                 [--sample K] [--survivors] [--tests TEST ...]

MODULE is a path under hooks/agentops_hooks/ as tests/mutation/modules.toml names
it (default: every module there). For each one, the checkout's tracked files are
copied to WORK/<module>/ with hooks/ renamed src/ (the layout mutmut names modules
by); mutmut mutates that module alone and runs only the module's tests against
each mutant. PYTHONPATH points at mutmut's mutated copy, so the CLI that tests
start as a subprocess, and the git hooks they install, run the mutant too.
Prints one line per module (killed, survived, no tests, timeouts) and writes the
survivors to WORK/<module>/survivors.txt.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
MODULES = Path(__file__).with_name("modules.toml")
DOCS = ROOT / "docs" / "testing.md"
# mutmut's stats run records which tests reach which function, in its own process
# only. Many tests reach the module through a subprocess (the CLI, a git hook), so
# there the recording is redirected: `_agentops_hits`, a pytest plugin, names a file
# per test in HITS_VAR; a process started with it set (a test's subprocess) appends
# the functions it reached to that file as it exits, and the plugin hands them to
# mutmut before mutmut files the test's hits. A process outside any test (none is
# expected) runs the plain code.
HITS_VAR = "AGENTOPS_MUTMUT_HITS"
SELECTION = "tests.txt"
# --sample K: the mutants whose number ends in one of these digits
SAMPLES = {2: "[02468]", 5: "[05]", 10: "0"}
SITE = '''import os
if os.environ.get("MUTANT_UNDER_TEST") == "stats":
    _hits_file = os.environ.get({var!r})
    if _hits_file is None:
        if not os.getcwd().startswith({work!r}):
            del os.environ["MUTANT_UNDER_TEST"]
    else:
        import atexit
        import mutmut.mutation.trampoline as _trampoline

        _hits = set()
        _trampoline.record_trampoline_hit = lambda name, caller=None: _hits.add(name)

        @atexit.register
        def _write_hits():
            if _hits:
                with open(_hits_file, "a", encoding="utf-8") as f:
                    f.write("".join(name + "\\n" for name in _hits))
'''
PLUGIN = '''"""Hands mutmut the functions a test reached in its subprocesses, and runs a
mutant's fastest tests first, so a killed mutant is killed soon (tests/mutation/run.py)."""
import json
import os

import pytest

_FILE = {hits!r}
_STATS = {stats!r}
_SELECTION = {selection!r}


def _stats_run():
    return os.environ.get("MUTANT_UNDER_TEST") == "stats"


def pytest_collection_modifyitems(config, items):
    with open(_SELECTION, encoding="utf-8") as f:
        selected = tuple(f.read().split())
    dropped = [item for item in items if not item.nodeid.startswith(selected)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.nodeid.startswith(selected)]
    if "." not in os.environ.get("MUTANT_UNDER_TEST", ""):
        return
    try:
        with open(_STATS, encoding="utf-8") as f:
            duration = json.load(f)["duration_by_test"]
    except (OSError, ValueError, KeyError):
        return
    items.sort(key=lambda item: duration.get(item.nodeid, 0.0))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if _stats_run():
        open(_FILE, "w").close()
        os.environ[{var!r}] = _FILE


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item, nextitem):
    if not _stats_run():
        return
    from mutmut.state import state

    with open(_FILE, encoding="utf-8") as f:
        state()._stats.update(line for line in f.read().splitlines() if line)
    open(_FILE, "w").close()
'''


def equivalents() -> dict[str, str]:
    """The mutants docs/testing.md lists as equivalent: mutmut's name, and why."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("### Equivalent mutants", 1)[1].split("\n### ", 1)[0]
    listed = {}
    for row in section.splitlines():
        cells = [cell.strip() for cell in row.strip().strip("|").split("|")]
        if row.startswith("| `") and len(cells) == 3:
            listed["agentops_hooks." + cells[0].strip("`")] = cells[2]
    return listed


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [p for p in out.decode().split("\0") if p]


def stage(work: Path, module: str, tests: list[str]) -> None:
    """The checkout at `work`, hooks/ as src/, with mutmut set to mutate `module`."""
    if work.exists():
        shutil.rmtree(work)
    for name in tracked_files():
        target = work / ("src/" + name[len("hooks/"):] if name.startswith("hooks/") else name)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)
    also = sorted({name.split("/")[0] for name in tracked_files()} - {"hooks", "tests", "pyproject.toml"})
    config = (
        "\n[tool.mutmut]\n"
        'source_paths = ["src/"]\n'
        f'only_mutate = ["src/agentops_hooks/{module}"]\n'
        f"also_copy = {json.dumps(also)}\n"
        'pytest_add_cli_args = ["-n0", "-p", "no:cacheprovider", "-p", "_agentops_hits"]\n'
        "timeout_multiplier = 5.0\n"  # a mutant that loops is stopped at 5 times the tests' time
        # Tests leave git processes behind in the process that ran them; forked from a
        # server, they are not the children mutmut waits for.
        'process_isolation = "forkserver"\n'
        # Every test is collected and the plugin keeps the module's (SELECTION): so the
        # list can grow between a run and --survivors without mutmut starting over.
        'pytest_add_cli_args_test_selection = ["tests"]\n'
    )
    with open(work / "pyproject.toml", "a", encoding="utf-8") as f:
        f.write(config)
    (work / "_site").mkdir()
    # On PYTHONPATH before mutmut writes it: a directory missing when Python starts is never searched.
    (work / "mutants" / "src").mkdir(parents=True)
    (work / SELECTION).write_text("".join(f"{name}\n" for name in tests))
    (work / "_site" / "sitecustomize.py").write_text(SITE.format(work=str(work), var=HITS_VAR))
    (work / "_site" / "_agentops_hits.py").write_text(PLUGIN.format(
        hits=str(work / "_hits"), var=HITS_VAR, stats=str(work / "mutants" / "mutmut-stats.json"),
        selection=str(work / SELECTION)))


def mutmut_env(work: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{work / 'mutants' / 'src'}{os.pathsep}{work / '_site'}",
            "PYTHONDONTWRITEBYTECODE": "1"}


def survivors(work: Path, timeouts: bool = False) -> list[str]:
    """The mutants of an earlier run that no test killed (and, with `timeouts`, those
    the tests stopped by timeout, which a busy machine can cause)."""
    from mutmut.stats import status_by_exit_code

    wanted = {"survived", "timeout"} if timeouts else {"survived"}
    names = []
    for meta in (work / "mutants").rglob("*.py.meta"):
        codes = json.loads(meta.read_text())["exit_code_by_key"]
        names += [name for name, code in codes.items() if status_by_exit_code[code] in wanted]
    return sorted(names)


def refresh_tests(work: Path, module: str, tests: list[str]) -> None:
    """The checkout's tests, copied over those of the run at `work`, for mutmut to run
    the survivors again; SystemExit if a full run is needed instead."""
    mutated = work / "src" / "agentops_hooks" / module
    if mutated.read_bytes() != (ROOT / "hooks" / "agentops_hooks" / module).read_bytes():
        raise SystemExit(f"{module} changed since the run in {work}: its mutants are not the same; "
                         "run it again without --survivors")
    if not (work / SELECTION).exists():
        raise SystemExit(f"the run in {work} was made by an older run.py; run it again without --survivors")
    (work / SELECTION).write_text("".join(f"{name}\n" for name in tests))
    for name in tracked_files():
        if name.startswith("tests/"):
            for target in (work / name, work / "mutants" / name):
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(ROOT / name, target)


def measure(work: Path, max_children: int, names: list[str] | None = None) -> dict[str, int]:
    env = mutmut_env(work)
    log = work / "mutmut.log"
    with open(log, "ab" if names else "wb") as out:
        subprocess.run([sys.executable, "-m", "mutmut", "run", "--max-children", str(max_children),
                        *(names or [])], cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, check=True)
    return counts(work)


def counts(work: Path) -> dict[str, int]:
    """The results of the run at `work`, counted; its survivors written to survivors.txt."""
    env = mutmut_env(work)
    mutmut = [sys.executable, "-m", "mutmut"]
    subprocess.run([*mutmut, "export-cicd-stats"], cwd=work, env=env, capture_output=True, check=True)
    results = subprocess.run([*mutmut, "results"], cwd=work, env=env, capture_output=True, text=True,
                             check=True).stdout
    (work / "survivors.txt").write_text(results)
    stats: dict[str, int] = json.loads((work / "mutants" / "mutmut-cicd-stats.json").read_text())
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE")
    parser.add_argument("--work", type=Path, default=ROOT / "build" / "mutation")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--resume", action="store_true",
                        help="keep WORK/<module> as an interrupted run left it: mutants already run are not run again")
    parser.add_argument("--sample", type=int, choices=SAMPLES, metavar="K",
                        help="run one mutant in K (K = 2, 5 or 10, by the last digit of mutmut's number "
                             "for it), for a first reading of a module; the score is then over the sample")
    parser.add_argument("--survivors", action="store_true",
                        help="run only the survivors (and timeouts) of the run in WORK/<module> again, against the "
                             "checkout's tests as they are now (the module itself must be unchanged)")
    parser.add_argument("--report", action="store_true",
                        help="run nothing: the score of the run in WORK/<module> (or <module>-only, with --tests), "
                             "with the equivalent mutants docs/testing.md lists as they are now")
    parser.add_argument("--tests", nargs="+", metavar="TEST",
                        help="run the mutants against these tests (files, or FILE::TEST prefixes) instead of the "
                             "module's list: a lower bound of its score, in a work directory ending in -only")
    args = parser.parse_args(argv)
    if args.tests and len(args.modules) != 1:
        parser.error("--tests takes exactly one MODULE")
    mapping = tomllib.loads(MODULES.read_text())["modules"]
    unknown = [m for m in args.modules if m not in mapping]
    if unknown:
        parser.error(f"not in {MODULES.name}: {', '.join(unknown)}")
    for module in args.modules or list(mapping):
        work = args.work.resolve() / (module.replace("/", "-").removesuffix(".py") + ("-only" if args.tests else ""))
        tests = args.tests or mapping[module]["tests"]
        names = None
        if args.report:
            if not work.exists():
                parser.error(f"no earlier run of {module} in {work}")
        elif args.survivors:
            if not work.exists():
                parser.error(f"no earlier run of {module} in {work}")
            refresh_tests(work, module, tests)
            names = survivors(work, timeouts=True)
            if not names:
                print(f"{module}: no survivors in {work}")
                continue
        elif not (args.resume and work.exists()):
            stage(work, module, tests)
        if args.sample and not args.survivors and not args.report:
            names = ["agentops_hooks." + module.removesuffix(".py").replace("/", ".") + ".*" + SAMPLES[args.sample]]
        s = counts(work) if args.report else measure(work, args.max_children, names)
        # a mutant the tests stop by timeout (it made them hang) is caught too
        caught = s["killed"] + s["timeout"]
        left = survivors(work)
        prefix = "agentops_hooks." + module.removesuffix(".py").replace("/", ".") + ".x"
        listed = {name for name in equivalents() if name.startswith(prefix)}
        equivalent = listed & set(left)
        checked = caught + s["survived"] + s["suspicious"] - len(equivalent)
        print(f"{module}: {s['total']} mutants, {s['killed']} killed, {s['timeout']} timeout, "
              f"{s['survived']} survived ({len(equivalent)} of them equivalent), {s['suspicious']} suspicious, "
              f"{s['no_tests']} no tests: score {caught / checked:.1%}; survivors: {work / 'survivors.txt'}",
              flush=True)
        for name in sorted(listed - set(left)):
            print(f"  {name} is listed as equivalent in {DOCS.name} but did not survive", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
