"""Measuring ratchet metrics: real tools (coverage, pytest, ruff, mypy) on a tiny package."""
from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentops_hooks.ratchet.metrics import MetricConfig
from agentops_hooks.errors import FatalError
from agentops_hooks.ratchet.metrics import MetricError
from agentops_hooks.ratchet.metrics import better
from agentops_hooks.ratchet.metrics import limit
from agentops_hooks.ratchet.metrics import measure
from agentops_hooks.ratchet.metrics import regressed

PY = shlex.quote(sys.executable)
FIXTURES = Path(__file__).parent / "fixtures" / "metrics"

CALC = '''\
def add(a, b):
    return a + b


def sign(x):
    if x < 0:
        return -1
    return 1
'''

TESTS = '''\
import pytest

from calc import add, sign


def test_add():
    assert add(2, 3) == 5


def test_sign():
    assert sign(4) == 1


@pytest.mark.skip(reason="not today")
def test_skipped():
    assert sign(-4) == -1
'''


def tool_env() -> dict[str, str]:
    """The environment the fixture package's tools run in: no outside pytest/coverage settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "COVERAGE_", "PYTHON"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(root: Path, *args: str, ok: tuple[int, ...] = (0,)) -> str:
    proc = subprocess.run(args, cwd=root, capture_output=True, text=True, env=tool_env(),
                          check=False)
    assert proc.returncode in ok, f"{args} -> {proc.returncode}\n{proc.stdout}{proc.stderr}"
    return proc.stdout


def make_package(root: Path) -> Path:
    root.mkdir()
    (root / "calc.py").write_text(CALC)
    (root / "test_calc.py").write_text(TESTS)
    return root


def pytest_args(junit: str) -> tuple[str, ...]:
    return ("-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
            f"--junitxml={junit}", "test_calc.py")


@dataclass(frozen=True)
class Measured:
    root: Path
    total: float  # what `coverage report --format=total --precision=2` says


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measured:
    """The fixture package after one `coverage run -m pytest --junitxml` and `coverage json`."""
    root = make_package(tmp_path_factory.mktemp("measured") / "pkg")
    run(root, sys.executable, "-m", "coverage", "run", *pytest_args("junit.xml"))
    run(root, sys.executable, "-m", "coverage", "json", "-o", "coverage.json")
    total = run(root, sys.executable, "-m", "coverage", "report", "--format=total",
                "--precision=2")
    return Measured(root, float(total))


def cmd(command: str, direction: str = "higher", timeout: float = 300) -> MetricConfig:
    return MetricConfig(direction=direction, command=command, timeout=timeout)  # type: ignore[arg-type]


def from_file(file: str, fmt: str, **kw: str) -> MetricConfig:
    return MetricConfig(direction="higher", file=file, format=fmt, **kw)  # type: ignore[arg-type]


def failure(name: str, metric: MetricConfig, root: Path) -> str:
    """The message of the MetricError measuring must raise; one line, naming the metric."""
    with pytest.raises(MetricError) as info:
        measure(name, metric, root)
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    assert "\n" not in message, message
    assert isinstance(info.value, FatalError)
    return message


# --- real tools -------------------------------------------------------------------


def test_coverage_json_matches_coverage_report(measured: Measured) -> None:
    value = measure("coverage", from_file("coverage.json", "coverage-json"), measured.root)
    assert 0 < value < 100  # the skipped test leaves sign's negative branch uncovered
    assert value == pytest.approx(measured.total, abs=0.006)


def test_command_metric_runs_a_real_tool(measured: Measured) -> None:
    metric = cmd(f"{PY} -m coverage report --format=total --precision=2")
    assert measure("coverage", metric, measured.root) == measured.total


def test_junit_counts_from_a_real_pytest_run(measured: Measured) -> None:
    def count(field: str) -> float:
        return measure("tests", from_file("junit.xml", "junit", field=field), measured.root)

    assert count("tests") == 3
    assert count("skipped") == 1
    assert count("passed") == 2
    assert count("failures") == 0
    assert count("errors") == 0


def test_junit_counts_a_failing_test(tmp_path: Path) -> None:
    root = make_package(tmp_path / "pkg")
    (root / "calc.py").write_text(CALC.replace("return a + b", "return a - b"))
    run(root, sys.executable, *pytest_args("out/junit.xml"), ok=(1,))

    def count(field: str) -> float:
        return measure("tests", from_file("out/junit.xml", "junit", field=field), root)

    assert count("failures") == 1
    assert count("passed") == 1
    assert count("tests") == 3


def test_ruff_json_counts_real_lint_errors(tmp_path: Path) -> None:
    (tmp_path / "dirty.py").write_text("import os\n\n\ndef f():\n    x = 1\n")
    (tmp_path / "clean.py").write_text("def f():\n    return 1\n")
    for name in ("dirty", "clean"):
        out = run(tmp_path, sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache",
                  "--select", "F", "--output-format", "json", f"{name}.py", ok=(0, 1))
        (tmp_path / f"{name}.json").write_text(out)
    assert measure("lint", from_file("dirty.json", "ruff-json"), tmp_path) == 2  # F401, F841
    assert measure("lint", from_file("clean.json", "ruff-json"), tmp_path) == 0


def test_mypy_json_counts_real_errors_not_notes(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(
        'def f(x: int) -> str:\n    return x\n\n\ny: int = "a"\nreveal_type(y)\n',
    )
    (tmp_path / "good.py").write_text("x: int = 1\n")
    for name in ("bad", "good"):
        out = run(tmp_path, sys.executable, "-m", "mypy", "--output", "json", "--no-incremental",
                  "--cache-dir", os.devnull, f"{name}.py", ok=(0, 1))
        (tmp_path / f"{name}.json").write_text(out)
    assert '"note"' in (tmp_path / "bad.json").read_text()  # reveal_type: not counted
    assert measure("types", from_file("bad.json", "mypy-json"), tmp_path) == 2
    assert measure("types", from_file("good.json", "mypy-json"), tmp_path) == 0
    (tmp_path / "empty.json").write_text("")
    assert measure("types", from_file("empty.json", "mypy-json"), tmp_path) == 0


# --- command metrics --------------------------------------------------------------


@pytest.mark.parametrize(("command", "expected"), [
    ("echo 42", 42.0),
    ("echo '  17  '", 17.0),
    ("printf 'Coverage report\\n\\n 87.5 \\n\\n'", 87.5),
    ("echo -3", -3.0),
    ("echo -0.25", -0.25),
    ("echo 1e3", 1000.0),
    ("echo progress >&2; echo 5", 5.0),
])
def test_command_prints_one_number(tmp_path: Path, command: str, expected: float) -> None:
    value = measure("m", cmd(command), tmp_path)
    assert value == expected
    assert isinstance(value, float)


def test_command_runs_at_root(tmp_path: Path) -> None:
    (tmp_path / "n.txt").write_text("7\n")
    assert measure("m", cmd("cat n.txt"), tmp_path) == 7


def test_command_stdin_is_dev_null(tmp_path: Path) -> None:
    """Even when our own stdin has data (a hook fed by git), the command reads nothing."""
    script = (
        "import sys; from pathlib import Path; from agentops_hooks.ratchet.metrics import MetricConfig;"
        "from agentops_hooks.ratchet.metrics import measure;"
        "print(measure('m', MetricConfig(direction='lower', command='wc -c'), Path(sys.argv[1])))"
    )
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], input=b"12345\n",
                          capture_output=True, check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    assert proc.stdout.decode().strip() == "0.0"


def test_command_inherits_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTOPS_TEST_METRIC", "12.5")
    assert measure("m", cmd('echo "$AGENTOPS_TEST_METRIC"'), tmp_path) == 12.5


def test_command_exit_code_and_last_stderr_line(tmp_path: Path) -> None:
    message = failure("lint", cmd("echo 5; echo first >&2; echo 'it broke' >&2; exit 3"), tmp_path)
    assert "exited with 3" in message
    assert message.endswith(": it broke")  # the last stderr line, not the first
    assert "exit 3" in message  # the command itself is named


def test_command_exit_one(tmp_path: Path) -> None:
    assert "exited with 1" in failure("lint", cmd("false"), tmp_path)


def test_command_not_found(tmp_path: Path) -> None:
    message = failure("lint", cmd("agentops-no-such-tool-xyz --count"), tmp_path)
    assert "127" in message
    assert "agentops-no-such-tool-xyz" in message


def test_command_prints_nothing(tmp_path: Path) -> None:
    assert "printed nothing" in failure("cov", cmd("true"), tmp_path)
    assert "whitespace" in failure("cov", cmd("printf '\\n  \\n'"), tmp_path)


@pytest.mark.parametrize("output", ["abc", "42%", "1 2", "12abc", "0x10", "1_000", "--1"])
def test_command_prints_not_one_number(tmp_path: Path, output: str) -> None:
    message = failure("cov", cmd(f"echo {shlex.quote(output)}"), tmp_path)
    assert repr(output) in message
    assert "not one number" in message


def test_only_the_last_line_counts(tmp_path: Path) -> None:
    assert "not one number" in failure("cov", cmd("echo 5; echo done"), tmp_path)
    assert "'3 4'" in failure("cov", cmd("echo 1; echo 3 4"), tmp_path)


@pytest.mark.parametrize("output", ["nan", "NaN", "inf", "-Infinity", "1e999"])
def test_command_prints_non_finite(tmp_path: Path, output: str) -> None:
    assert "not a finite number" in failure("cov", cmd(f"echo {output}"), tmp_path)


def test_command_timeout_kills_the_whole_group(tmp_path: Path) -> None:
    pid_file = tmp_path / "sleep.pid"
    metric = cmd("sleep 30 & echo $! > sleep.pid; wait", timeout=1)
    started = time.monotonic()
    message = failure("slow", metric, tmp_path)
    assert time.monotonic() - started < 5
    assert "within 1 s" in message
    assert "sleep 30" in message
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 3
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(pid), "the command's child survived the timeout"


def test_command_timeout_nested_shell(tmp_path: Path) -> None:
    started = time.monotonic()
    failure("slow", cmd("sh -c 'sleep 100'; echo 1", timeout=0.5), tmp_path)
    assert time.monotonic() - started < 5


def alive(pid: int) -> bool:
    """Whether `pid` is running (a zombie waiting for an absent reaper counts as dead)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def test_root_that_does_not_exist(tmp_path: Path) -> None:
    assert "cannot run" in failure("m", cmd("echo 1"), tmp_path / "nowhere")


# --- file formats ------------------------------------------------------------------


def write(root: Path, name: str, content: str | bytes) -> str:
    path = root / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return name


def test_number_file(tmp_path: Path) -> None:
    write(tmp_path, "n.txt", "header\n 93.75 \n\n")
    assert measure("m", from_file("n.txt", "number"), tmp_path) == 93.75
    write(tmp_path, "bad.txt", "93.75 94\n")
    assert "not one number" in failure("m", from_file("bad.txt", "number"), tmp_path)
    write(tmp_path, "nan.txt", "nan\n")
    assert "not a finite number" in failure("m", from_file("nan.txt", "number"), tmp_path)


DOC = {
    "totals": {"percent_covered": 81.5},
    "a/b": 1, "m~n": 2, "~1": 3, "": 4,
    "list": [10, {"x": [0, 20.5]}],
    "text": "12", "flag": True, "nothing": None, "nan": float("nan"), "big": 10**400,
}


@pytest.mark.parametrize(("pointer", "expected"), [
    ("/totals/percent_covered", 81.5),
    ("/a~1b", 1),
    ("/m~0n", 2),
    ("/~01", 3),  # ~0 first, then 1: "~1" the key, not "/"
    ("/", 4),
    ("/list/0", 10),
    ("/list/1/x/1", 20.5),
])
def test_json_pointer(tmp_path: Path, pointer: str, expected: float) -> None:
    write(tmp_path, "doc.json", json.dumps(DOC))
    metric = from_file("doc.json", "json-pointer", pointer=pointer)
    assert measure("m", metric, tmp_path) == expected


@pytest.mark.parametrize(("pointer", "says"), [
    ("/totals/missing", "no key 'missing' at /totals"),
    ("/missing", "no key 'missing' at the top"),
    ("/text", "\"12\", not a number"),
    ("/flag", "true, not a number"),
    ("/nothing", "null, not a number"),
    ("/totals", "not a number"),
    ("/list/2", "2 items, no index 2"),
    ("/list/01", "not an index"),
    ("/list/-", "not an index"),
    ("/list/0/x", "nothing to look 'x' up in"),
    ("/nan", "not a finite number"),
    ("/big", "too large"),
    ("/a~2b", "bad escape"),
])
def test_json_pointer_problems(tmp_path: Path, pointer: str, says: str) -> None:
    write(tmp_path, "doc.json", json.dumps(DOC))
    message = failure("cov", from_file("doc.json", "json-pointer", pointer=pointer), tmp_path)
    assert says in message
    assert "doc.json" in message


def test_coverage_json_without_totals(tmp_path: Path) -> None:
    write(tmp_path, "c.json", '{"files": {}}')
    assert "totals.percent_covered" in failure("cov", from_file("c.json", "coverage-json"),
                                               tmp_path)
    write(tmp_path, "c.json", '{"totals": {"percent_covered": "80"}}')
    assert "not a number" in failure("cov", from_file("c.json", "coverage-json"), tmp_path)
    write(tmp_path, "c.json", "[1]")
    assert "totals.percent_covered" in failure("cov", from_file("c.json", "coverage-json"),
                                               tmp_path)


def test_junit_bare_testsuite_and_nesting(tmp_path: Path) -> None:
    write(tmp_path, "bare.xml",
          '<?xml version="1.0"?><testsuite name="s" tests="5" failures="1" errors="1" skipped="2">'
          "</testsuite>")
    write(tmp_path, "many.xml",
          '<testsuites><testsuite name="a" tests="4" failures="1">'
          '<testsuite name="a.inner" tests="4" failures="1"/></testsuite>'
          '<testsuite name="b" tests="6" errors="2" skipped="1"/></testsuites>')

    def count(file: str, field: str) -> float:
        return measure("t", from_file(file, "junit", field=field), tmp_path)

    assert [count("bare.xml", f) for f in ("tests", "failures", "errors", "skipped", "passed")] \
        == [5, 1, 1, 2, 1]
    assert [count("many.xml", f) for f in ("tests", "failures", "errors", "skipped", "passed")] \
        == [10, 1, 2, 1, 6]


@pytest.mark.parametrize(("content", "says"), [
    ("<testsuites><testsuite name='a'", "not valid XML"),
    ("not xml at all", "not valid XML"),
    ("<report tests='3'/>", "not JUnit XML (root element <report>)"),
    ("<testsuites/>", "no <testsuite>"),
    ("<testsuites><testsuite name='a' tests='x'/></testsuites>", "tests='x', not a count"),
])
def test_junit_problems(tmp_path: Path, content: str, says: str) -> None:
    write(tmp_path, "j.xml", content)
    assert says in failure("tests", from_file("j.xml", "junit", field="tests"), tmp_path)


def test_pylint_json_and_json2() -> None:
    assert measure("pylint", from_file("pylint.json", "pylint-json"), FIXTURES) == 3
    assert measure("pylint", from_file("pylint2.json", "pylint-json"), FIXTURES) == 2
    message = failure("pylint", from_file("not-pylint.json", "pylint-json"), FIXTURES)
    assert "messages" in message


def test_ruff_json_must_be_an_array(tmp_path: Path) -> None:
    write(tmp_path, "r.json", '{"count": 2}')
    assert "not a JSON array" in failure("lint", from_file("r.json", "ruff-json"), tmp_path)


def test_mypy_json_bad_line(tmp_path: Path) -> None:
    write(tmp_path, "m.json", '{"severity": "error"}\nFound 1 error in 1 file\n')
    assert "line 2 is not valid JSON" in failure("types", from_file("m.json", "mypy-json"),
                                                 tmp_path)


ALL_FORMATS = [
    ("number", {}), ("coverage-json", {}), ("junit", {"field": "tests"}),
    ("json-pointer", {"pointer": "/a"}), ("ruff-json", {}), ("pylint-json", {}),
]


@pytest.mark.parametrize(("fmt", "kw"), ALL_FORMATS)
def test_file_missing(tmp_path: Path, fmt: str, kw: dict[str, str]) -> None:
    message = failure("m", from_file("reports/none.json", fmt, **kw), tmp_path)
    assert "reports/none.json does not exist" in message


@pytest.mark.parametrize(("fmt", "kw"), ALL_FORMATS)
def test_file_empty(tmp_path: Path, fmt: str, kw: dict[str, str]) -> None:
    write(tmp_path, "e.out", " \n\n")
    assert "e.out is empty" in failure("m", from_file("e.out", fmt, **kw), tmp_path)


@pytest.mark.parametrize(("fmt", "kw"), [f for f in ALL_FORMATS if f[0] not in ("number", "junit")])
def test_file_not_json(tmp_path: Path, fmt: str, kw: dict[str, str]) -> None:
    write(tmp_path, "x.json", "{not json")
    assert "x.json is not valid JSON" in failure("m", from_file("x.json", fmt, **kw), tmp_path)


def test_file_unreadable(tmp_path: Path) -> None:
    (tmp_path / "dir.json").mkdir()
    assert "cannot read file dir.json" in failure("m", from_file("dir.json", "ruff-json"), tmp_path)
    write(tmp_path, "latin.json", b'{"a": "\xe9"}')
    assert "not UTF-8" in failure("m", from_file("latin.json", "ruff-json"), tmp_path)


def test_inconsistent_config_is_a_metric_error(tmp_path: Path) -> None:
    assert "exactly one of command or file" in failure(
        "m", MetricConfig(direction="higher"), tmp_path)


# --- comparing with the baseline ------------------------------------------------------


def policy(direction: str, tolerance: float | str = 0) -> MetricConfig:
    return MetricConfig(direction=direction, command="true", tolerance=tolerance)  # type: ignore[arg-type]


def test_limit_absolute_and_percent() -> None:
    assert limit(80, policy("higher")) == 80
    assert limit(80, policy("higher", 2)) == 78
    assert limit(80, policy("higher", "10%")) == 72
    assert limit(80, policy("higher", " 2.5% ")) == 78
    assert limit(10, policy("lower", 3)) == 13
    assert limit(10, policy("lower", "50%")) == 15
    assert limit(-20, policy("lower", "10%")) == -18  # percent of the baseline's size
    assert limit(-20, policy("higher", "10%")) == -22
    assert limit(0, policy("lower", "10%")) == 0


@pytest.mark.parametrize(("direction", "tolerance", "baseline", "ok", "bad"), [
    ("higher", 0, 80, 80, 79.99),
    ("higher", 2, 80, 78, 77.99),
    ("higher", "10%", 80, 72, 71.99),
    ("lower", 0, 5, 5, 5.01),
    ("lower", 3, 5, 8, 8.01),
    ("lower", "20%", 5, 6, 6.01),
    ("higher", 0.3, 2.2, 1.9, 1.89),  # 2.2 - 0.3 is 1.9000000000000001 in floats
    ("lower", 0.1, 0.7, 0.8, 0.81),  # 0.7 + 0.1 is 0.7999999999999999
])
def test_regressed_boundary(direction: str, tolerance: float | str, baseline: float,
                            ok: float, bad: float) -> None:
    metric = policy(direction, tolerance)
    assert not regressed(baseline, ok, metric)  # exactly at the limit passes
    assert regressed(baseline, bad, metric)


def test_regressed_improvement_is_fine() -> None:
    assert not regressed(80, 95, policy("higher"))
    assert regressed(80, 95, policy("lower"))
    assert not regressed(5, 0, policy("lower"))
    assert regressed(5, 0, policy("higher"))


def test_better() -> None:
    assert better(3, 7, policy("higher")) == 7
    assert better(7, 3, policy("higher")) == 7
    assert better(3, 7, policy("lower")) == 3
    assert better(7, 3, policy("lower")) == 3
    assert better(-1.5, -2, policy("lower")) == -2
