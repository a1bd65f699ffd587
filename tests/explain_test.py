"""`agentops explain`: every rule the gates can report is explained, from the factors'
pages shipped inside the package."""
from __future__ import annotations

import ast
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agentops_hooks import rules as explained
from conftest import GitRepo
from conftest import agent_message
from conftest import run_hook

ROOT = Path(__file__).parents[1]
PACKAGE = ROOT / "hooks" / "agentops_hooks"


def _constants(node: ast.AST) -> set[str]:
    """The string constants an expression can be (`"a"`, `"a" if x else "b"`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _constants(node.body) | _constants(node.orelse)
    return set()


def _returned_firsts(function: ast.FunctionDef) -> set[str]:
    """The first items of the tuples a function returns: `return ("rule", what, fix)`."""
    out: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple) and node.value.elts:
            out |= _constants(node.value.elts[0])
    return out


def emitted_rules() -> dict[str, str]:
    """Every rule id the code can put in a Finding, read from the source: the `rule`
    argument of each `Finding(...)` or `_finding(...)` call, followed through a local
    variable to what is assigned to it (a constant, a conditional, or the first item
    of the tuples a function of the module returns). Rule id -> the module."""
    found: dict[str, str] = {}
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
        for function in functions.values():
            for call in ast.walk(function):
                if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Name):
                    continue
                index = {"Finding": 2, "_finding": 1}.get(call.func.id)
                if index is None or function.name == "_finding":
                    continue
                arg = call.args[index] if len(call.args) > index else None
                values = _constants(arg) if arg is not None else set()
                if isinstance(arg, ast.Name):
                    for node in ast.walk(function):
                        if isinstance(node, ast.Assign):
                            for target in node.targets:
                                if isinstance(target, ast.Name) and target.id == arg.id:
                                    values |= _constants(node.value)
                                elif (isinstance(target, ast.Tuple) and target.elts
                                      and isinstance(target.elts[0], ast.Name)
                                      and target.elts[0].id == arg.id):
                                    source = node.value
                                    if isinstance(source, ast.Name):  # `rule, what, fix = problem`
                                        source = next(
                                            (n.value for n in ast.walk(function) if isinstance(n, ast.Assign)
                                             and any(isinstance(t, ast.Name) and t.id == source.id
                                                     for t in n.targets)), source)
                                    if isinstance(source, ast.Call) and isinstance(source.func, ast.Name):
                                        values |= _returned_firsts(functions[source.func.id])
                assert values, f"{path.name}:{call.lineno}: a rule id this test cannot read"
                for value in values:
                    found[value] = str(path.relative_to(PACKAGE))
    return found


def test_the_source_reading_finds_the_rules_of_every_kind_of_call() -> None:
    emitted = emitted_rules()
    assert emitted["verdict-missing"] == "gates/verdict.py"             # _finding(change, "…")
    assert emitted["learning-placeholder"] == "gates/learnings.py"      # rule = "…" if … else "…"
    assert emitted["research-empty"] == "gates/research.py"             # rule, … = _problem(…)
    assert emitted["commit-unreadable"] == "places/range_check.py"      # Finding("VII", …, "…")
    assert emitted["ratchet-regressed"] == "gates/ratchet.py"
    gates = {p.stem for p in (PACKAGE / "gates").glob("[a-z]*.py")}
    assert {m.split("/")[1][:-3] for m in emitted.values() if m.startswith("gates/")} == gates


def test_every_rule_the_code_can_report_is_explained_and_no_other() -> None:
    emitted = set(emitted_rules())
    documented = set(explained.rules())
    assert emitted - documented == set(), "rules with no row in a factor's page"
    assert documented - emitted == set(), "rows for rules no code reports"


def test_every_rule_of_a_gate_is_explained_on_that_gates_page() -> None:
    for rule, module in emitted_rules().items():
        if module.startswith("gates/"):
            assert explained.rules()[rule].page.gate == module[len("gates/"):-3], rule


def agentops(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentops_hooks.commands", "explain", *args],
                          capture_output=True, text=True, cwd=cwd, check=False)


def test_explain_prints_what_why_and_how() -> None:
    proc = agentops("verdict-wrong-patch")
    assert proc.returncode == 0, proc.stderr
    page = (ROOT / "docs" / "factors" / "07-verdict.md").read_text(encoding="utf-8")
    row = next(line for line in page.splitlines() if line.startswith("| `verdict-wrong-patch` |"))
    out = " ".join(proc.stdout.split())
    assert out.startswith("verdict-wrong-patch: factor VII Validate Externally")
    assert " ".join(row.split("|")[2].split()) in out                         # what it checks
    assert "Why: an agent's change lands only with a PASS verdict" in out      # the factor's rule
    assert "How to satisfy it: Before asking for a verdict, get the change into its final state" in out
    assert "agentops explain verdict" in proc.stdout.splitlines()[-1]


def test_explain_of_a_gate_prints_its_page_and_several_rules_each() -> None:
    proc = agentops("verdict")
    page = (ROOT / "docs" / "factors" / "07-verdict.md").read_text(encoding="utf-8")
    assert "<!-- sample-setup" in page  # the scene of the page's samples, not for readers
    assert proc.stdout == re.sub(r"\n?<!--.*?-->\n", "", page, flags=re.S)
    assert "sample-setup" not in agentops("verdict-missing").stdout
    proc = agentops("scope-no-task", "privilege-secret")
    assert proc.returncode == 0
    assert proc.stdout.startswith("scope-no-task: factor III")
    assert "\n\nprivilege-secret: factor IV" in proc.stdout


def test_explain_lists_every_rule() -> None:
    proc = agentops()
    assert proc.returncode == 0
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")}
    assert listed == set(explained.rules())
    assert "XII" not in proc.stdout  # the report has no rules
    assert max(len(line) for line in proc.stdout.splitlines()) <= 79


@pytest.mark.parametrize(("name", "line"), [
    ("verdict-mising", "agentops: error: no rule or gate 'verdict-mising': did you mean "
                       "verdict-missing, verdict-notes-missing, verdict-unsigned?"),
    ("learnings-missing", "agentops: error: no rule or gate 'learnings-missing': did you mean "
                          "learning-missing, learnings, verdict-missing?"),
    ("zzz", "agentops: error: no rule or gate 'zzz': agentops explain lists them"),
])
def test_an_unknown_rule_is_one_line_and_exit_2(name: str, line: str) -> None:
    proc = agentops(name)
    assert (proc.returncode, proc.stdout, proc.stderr) == (2, "", line + "\n")


def test_the_pages_are_in_the_wheel_and_read_from_it(tmp_path: Path) -> None:
    """A pip install without the source tree explains the rules: the built wheel holds
    the pages, and the package imported from it reads them as package data."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("agentops_hooks-*.whl"))
    with zipfile.ZipFile(wheel) as z:
        z.extractall(tmp_path / "site")
    names = {p.name for p in (tmp_path / "site" / "agentops_hooks" / "factors").iterdir()}
    assert {"07-verdict.md", "README.md"} <= names
    probe = ("import agentops_hooks, importlib.resources as r; from agentops_hooks import rules; "
             "print(agentops_hooks.__file__); print(r.files('agentops_hooks.factors')); "
             "print(len(rules.pages()), len(rules.rules()))")
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                          cwd=tmp_path, env={"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"})
    where, data, counts = proc.stdout.splitlines()
    assert where.startswith(str(tmp_path / "site"))
    assert str(tmp_path / "site" / "agentops_hooks" / "factors") in data
    assert counts == f"12 {len(explained.rules())}"


def test_a_refusal_ends_with_the_explain_command_that_explains_it(
    repo: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    repo.stage("limits.py", "".join(f"limit_{i} = {i}\n" for i in range(20)))
    code, out = run_hook(repo, agent_message("Add limits"), capsys)
    assert code == 1
    last = out.strip().splitlines()[-1]
    assert last == "2 findings. Why, and how to satisfy each: agentops explain learning-missing verdict-missing"
    proc = agentops(*last.split("agentops explain ")[1].split())
    assert proc.returncode == 0
    assert proc.stdout.startswith("learning-missing: ") and "\n\nverdict-missing: " in proc.stdout
