"""Factor VIII end to end: real tools measure a fixture package, baselines live in notes."""
from __future__ import annotations

import re
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.commands import cli
from agentops_hooks.ratchet.baselines import RatchetRecord
from agentops_hooks.ratchet.baselines import json_schema
from conftest import json_output
from conftest import run_agentops
from conftest import GitRepo
from conftest import run_hook

SCHEMA_FILE = Path(__file__).parents[2] / "schemas" / "ratchet.schema.json"

CALC = '''def add(a, b):
    return a + b


def sub(a, b):
    return a - b


def mul(a, b):
    return a * b
'''
TESTS = {
    "add": "def test_add():\n    assert add(2, 3) == 5\n",
    "sub": "def test_sub():\n    assert sub(5, 3) == 2\n",
    "mul": "def test_mul():\n    assert mul(2, 4) == 8\n",
}
CONFIG = """
[ratchet.metrics.tests]
file = "build/junit.xml"
format = "junit"
field = "passed"
direction = "higher"

[ratchet.metrics.coverage]
file = "build/coverage.json"
format = "coverage-json"
direction = "higher"
tolerance = "0.5%"

[ratchet.metrics.lint]
file = "build/ruff.json"
format = "ruff-json"
direction = "lower"
"""


def ruff() -> list[str]:
    found = shutil.which("ruff", path=str(Path(sys.executable).parent))
    return [found] if found else [sys.executable, "-m", "ruff"]


def write_tests(repo: GitRepo, names: list[str]) -> None:
    body = "from calc import add, sub, mul\n\n\n" + "\n\n".join(TESTS[n] for n in names)
    repo.write("tests/test_calc.py", body)


def measure_with_real_tools(repo: GitRepo) -> None:
    """What CI does before the ratchet: run the tests under coverage, and the linter."""
    build = repo.root / "build"
    build.mkdir(exist_ok=True)
    env = {**repo.env, "PYTHONPATH": str(repo.root / "src"), "COVERAGE_FILE": str(build / ".coverage")}
    subprocess.run([sys.executable, "-m", "coverage", "run", "--source=src", "-m", "pytest", "-q",
                    "-p", "no:cacheprovider", f"--junitxml={build / 'junit.xml'}", "tests"],
                   cwd=repo.root, env=env, capture_output=True, check=False)
    subprocess.run([sys.executable, "-m", "coverage", "json", "-q", "-o", str(build / "coverage.json")],
                   cwd=repo.root, env=env, capture_output=True, check=True)
    with (build / "ruff.json").open("w") as out:
        subprocess.run([*ruff(), "check", "--no-cache", "--exit-zero", "--output-format", "json",
                        "--select", "F", "src"], cwd=repo.root, env=env, stdout=out, check=True)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def project(repo: GitRepo) -> GitRepo:
    repo.write("src/calc.py", CALC)
    write_tests(repo, ["add", "sub", "mul"])
    repo.write(".agentops.toml", CONFIG)
    repo.write(".gitignore", "build/\n__pycache__/\n")
    repo.git("add", "-A")
    repo.commit("A calculator with tests")
    measure_with_real_tools(repo)
    code, out = invoke("ratchet", "record")
    assert code == 0, out
    return repo


def test_schema_file_is_generated_from_the_record_model() -> None:
    """Regenerate with: agentops schema ratchet > schemas/ratchet.schema.json"""
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


def test_baseline_is_recorded_from_real_tools(project: GitRepo) -> None:
    note = project.out("notes", "--ref=agentops/ratchet", "show", "HEAD")
    record = RatchetRecord.from_line(note.splitlines()[0])
    assert record.metrics["tests"] == 3
    assert record.metrics["coverage"] == 100.0
    assert record.metrics["lint"] == 0
    code, out = invoke("ratchet", "check")
    assert code == 0, out
    assert out.splitlines()[0].split() == ["metric", "baseline", "now", "allowed", "verdict"]


def test_deleted_test_is_refused_and_a_reversal_lets_it_through(project: GitRepo) -> None:
    write_tests(project, ["add", "sub"])
    measure_with_real_tools(project)
    code, out = invoke("ratchet", "check")
    assert code == 1
    assert any(line.split()[:5] == ["tests", "3", "2", "3", "REGRESSED"] for line in out.splitlines())
    project.git("add", "-A")
    project.commit("Drop the mul test\n\nRatchet-Reversal: tests: mul moved to the integration suite\n"
                   "Ratchet-Reversal: coverage: mul is covered by the integration suite now\n")
    code, out = invoke("ratchet", "check")
    assert code == 0, out
    assert "reversed: mul moved to the integration suite" in out
    code, out = invoke("ratchet", "record")
    assert code == 0, out
    code, out = invoke("ratchet", "history", "--metric", "tests")
    assert "reversal on" in out and "tests: mul moved to the integration suite" in out
    assert [line.split()[-1] for line in out.splitlines()[1:3]] == ["3", "2"]


def test_dropped_coverage_is_refused(project: GitRepo) -> None:
    project.write("src/calc.py", CALC + "\n\ndef div(a, b):\n    if b == 0:\n        raise ZeroDivisionError\n    return a / b\n")
    measure_with_real_tools(project)
    code, out = invoke("ratchet", "check")
    assert code == 1
    assert "coverage" in out and "REGRESSED" in out


def test_new_lint_warning_is_refused(project: GitRepo) -> None:
    project.write("src/calc.py", "import os\n" + CALC)
    measure_with_real_tools(project)
    code, out = invoke("ratchet", "check", "--format", "json")
    assert code == 1
    lint = next(r for r in json_output(out, "ratchet-check")["results"] if r["name"] == "lint")
    assert (lint["baseline"], lint["now"], lint["verdict"]) == (0, 1, "regressed")


def test_record_refuses_a_regression_without_reversal(project: GitRepo) -> None:
    before = project.out("notes", "--ref=agentops/ratchet", "show", "HEAD")
    write_tests(project, ["add"])
    project.git("add", "-A")
    project.commit("Lose two tests")
    measure_with_real_tools(project)
    code, out = invoke("ratchet", "record")
    assert code == 1
    assert "not recorded: tests, coverage regressed with no Ratchet-Reversal" in out
    assert project.git("notes", "--ref=agentops/ratchet", "show", "HEAD", check=False).returncode != 0
    assert project.out("notes", "--ref=agentops/ratchet", "show", "HEAD~1") == before


def test_reversal_needs_a_reason_and_a_regression(project: GitRepo) -> None:
    msg = project.write("MSG", "Tidy\n\nRatchet-Reversal: tests\n")
    code, out = invoke("ratchet", "check", "--message-file", str(msg))
    assert code == 1 and "is not `METRIC: reason`" in out
    msg.write_text("Tidy\n\nRatchet-Reversal: tests:\n")
    code, out = invoke("ratchet", "check", "--message-file", str(msg))
    assert code == 1 and "gives no reason" in out
    msg.write_text("Tidy\n\nRatchet-Reversal: tests: because\n")
    code, out = invoke("ratchet", "check", "--message-file", str(msg))
    assert code == 1 and "did not regress" in out
    msg.write_text("Tidy\n\nRatchet-Reversal: speed: because\n")
    code, out = invoke("ratchet", "check", "--message-file", str(msg))
    assert code == 1 and "names no configured metric" in out


def test_gate_at_commit_time_reads_the_message(project: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    write_tests(project, ["add", "sub"])
    project.git("add", "-A")
    measure_with_real_tools(project)
    code, out = run_hook(project, "Drop a test\n", capsys, "--gate", "ratchet")
    assert code == 1
    assert "[VIII Lock Progress Forward] ratchet: ratchet-regressed" in out
    fix = next(line for line in out.splitlines() if "Ratchet-Reversal: tests: <why>" in line)
    assert fix.strip() == ("fix: bring tests back, or if the regression is intended add the trailer "
                           "`Ratchet-Reversal: tests: <why>` to the commit message")
    assert re.search(r"tests is \d+, worse than the baseline \d+ recorded on [0-9a-f]{12} \(allowed", out)
    code, out = run_hook(project, "Drop a test\n\nRatchet-Reversal: tests: flaky, rewritten later\n"
                         "Ratchet-Reversal: coverage: mul goes untested until then\n",
                         capsys, "--gate", "ratchet")
    assert code == 0, out


def test_ratchet_joins_the_default_gates_when_metrics_exist(project: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    write_tests(project, ["add"])
    measure_with_real_tools(project)
    project.git("add", "-A")
    code, out = run_hook(project, "Human drops tests\n", capsys)
    assert code == 1
    assert "ratchet-regressed" in out


def test_concurrent_records_fold_to_the_better_value(project: GitRepo) -> None:
    worse = RatchetRecord(v=1, metrics={"tests": 1.0, "coverage": 50.0, "lint": 9.0},
                          recorded_at="2026-01-01T00:00:00Z")
    existing = project.out("notes", "--ref=agentops/ratchet", "show", "HEAD")
    project.git("notes", "--ref=agentops/ratchet", "add", "-f", "-m",
                existing + "\n" + worse.to_line(), "HEAD")
    code, out = invoke("ratchet", "show", "--format", "json")
    values = json_output(out, "ratchet-show")["values"]
    assert values == {"tests": 3.0, "coverage": 100.0, "lint": 0.0}


def test_baseline_comes_from_the_nearest_first_parent_record(project: GitRepo) -> None:
    recorded = project.head()
    project.write("README.md", "docs\n")
    project.git("add", "-A")
    project.commit("Docs")
    code, out = invoke("ratchet", "show")
    assert f"recorded on {recorded[:12]}" in out


def test_history_json_and_svg(project: GitRepo, tmp_path: Path) -> None:
    svg = tmp_path / "trend.svg"
    code, out = invoke("ratchet", "history", "--format", "json", "--svg", str(svg))
    assert code == 0
    rows = json_output(out, "ratchet-history")
    assert rows[0]["metrics"]["tests"] == 3
    text = svg.read_text()
    assert text.startswith("<svg") and "<polyline" in text or "<circle" in text
    assert "coverage" in text and "lint" in text and "tests" in text


def test_history_svg_to_a_missing_directory_is_one_line_exit_2(project: GitRepo, tmp_path: Path) -> None:
    target = tmp_path / "nonexistent" / "x.svg"
    code, out = run_agentops(project, "ratchet", "history", "--svg", str(target))
    assert code == 2
    assert out.strip() == f"agentops: error: cannot write {target}: No such file or directory"
    assert not target.parent.exists()


@pytest.mark.parametrize(("setup", "says"), [
    ({"file": "build/missing.json", "format": "coverage-json"}, "m:"),
    ({"command": "exit 3"}, "m:"),
    ({"command": "echo not-a-number"}, "m:"),
    ({"command": "true"}, "m:"),
])
def test_bad_metric_input_is_exit_2_and_writes_nothing(project: GitRepo, setup: dict, says: str) -> None:  # type: ignore[type-arg]
    lines = ["[ratchet.metrics.m]", 'direction = "higher"']
    lines += [f"{k} = {json.dumps(v)}" for k, v in setup.items()]
    project.write(".agentops.toml", "\n".join(lines) + "\n")
    before = project.out("rev-parse", "refs/notes/agentops/ratchet")
    for verb in ("check", "record"):
        code, out = invoke("ratchet", verb)
        assert code == 2, out
        assert out.startswith("agentops: error: m") or says in out
        assert "Traceback" not in out
    assert project.out("rev-parse", "refs/notes/agentops/ratchet") == before


def test_corrupt_baseline_note_is_exit_2_never_a_pass(project: GitRepo) -> None:
    project.git("notes", "--ref=agentops/ratchet", "add", "-f", "-m", '{"v": 1, "metrics": {"tests": "many"}}', "HEAD")
    code, out = invoke("ratchet", "check")
    assert code == 2
    assert "corrupt line" in out and "tests" in out


def test_no_metrics_configured(repo: GitRepo) -> None:
    repo.stage("a", "a\n")
    repo.commit("a")
    code, out = invoke("ratchet", "check")
    assert code == 2
    assert "no metrics configured" in out


def test_tolerance_does_not_let_the_baseline_slide(repo: GitRepo) -> None:
    repo.stage(".agentops.toml", '[ratchet.metrics.cov]\nfile = "cov.txt"\nformat = "number"\n'
                                 'direction = "higher"\ntolerance = 0.5\n')
    repo.write("cov.txt", "90\n")
    repo.commit("base")
    assert invoke("ratchet", "record")[0] == 0
    for value in ("89.6", "89.2"):
        repo.write("cov.txt", value + "\n")
        repo.stage("x.txt", value)
        repo.commit(f"at {value}")
        code, out = invoke("ratchet", "record")
        if value == "89.6":
            assert code == 0, out
    assert code == 1  # 89.2 is more than 0.5 below the kept level of 90
    code, out = invoke("ratchet", "show", "--format", "json")
    assert json_output(out, "ratchet-show")["values"]["cov"] == 90.0


def test_a_reversal_on_a_merged_branch_counts_after_the_merge(repo: GitRepo) -> None:
    repo.stage(".agentops.toml", '[ratchet.metrics.n]\nfile = "n.txt"\nformat = "number"\ndirection = "higher"\n')
    repo.stage("n.txt", "5\n")
    repo.commit("base")
    assert invoke("ratchet", "record")[0] == 0
    repo.git("checkout", "-q", "-b", "topic")
    repo.stage("n.txt", "4\n")
    repo.commit("Lower n\n\nRatchet-Reversal: n: one case moved elsewhere\n")
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge topic", "topic")
    code, out = invoke("ratchet", "record")
    assert code == 0, out
    assert "reversed: n" in out


def test_metric_names_must_be_writable_in_a_trailer(repo: GitRepo) -> None:
    repo.write(".agentops.toml", '[ratchet.metrics."py:lint"]\ncommand = "echo 1"\ndirection = "lower"\n')
    code, out = invoke("ratchet", "check")
    assert code == 2
    assert "a metric name is letters, digits" in out


def test_verify_reads_ratchet_records_as_ratchet_records(project: GitRepo) -> None:
    code, out = invoke("notes", "verify", "ratchet")
    assert code == 0
    assert "0 unreadable line(s)" in out
