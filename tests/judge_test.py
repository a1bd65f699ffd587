"""`agentops judge`: real judges in a fresh worktree, the signed verdict in the notes."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from agentops_hooks.config import JudgeSpec
from agentops_hooks.evidence.verdicts import JudgeRun
from agentops_hooks.judge.council import combine
from conftest import GitRepo
from conftest import agent_commit
from conftest import bare_server
from conftest import push
from conftest import remote
from conftest import run_agentops
from conftest import signer_line
from conftest import text

IDENTITY = "CI Judge <judge@ci.example.com>"
NOTES = "refs/notes/agentops/verdicts"
CALC = "def add(a, b):\n    return a + b\n"
TEST = "from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n"
PYTEST = f'''
[[judge.judges]]
name = "tests"
command = "{sys.executable} -m pytest -q -p no:cacheprovider tests"
timeout = 120
'''


def start(repo: GitRepo, keys: dict[str, Path], judges: str, extra: str = "") -> None:
    """A human's base commit: a pytest suite, a trust root naming the judge identity's key,
    and the judges."""
    repo.write(".agentops/allowed_signers", signer_line("judge@ci.example.com", keys["riley"]))
    repo.write(".agentops.toml", (
        'gates = ["verdict", "supervise"]\n'
        '[verdict]\nrequire_signature = true\nallowed_signers = ".agentops/allowed_signers"\n'
        f'{extra}\n[judge]\nidentity = "{IDENTITY}"\n{judges}'))
    repo.write("calc.py", CALC)
    repo.write("tests/test_calc.py", TEST)
    repo.git("add", "-A")
    repo.commit("Start: the calculator, its tests and its judges")


def judge(repo: GitRepo, keys: dict[str, Path], *args: str, **env: str) -> tuple[int, str]:
    return run_agentops(repo, "judge", *args, env={"AGENTOPS_JUDGE_KEY": str(keys["riley"]), **env})


def records(repo: GitRepo, commit: str = "HEAD") -> list[dict[str, object]]:
    note = repo.git("notes", "--ref", NOTES, "show", commit, check=False).stdout.decode()
    return [json.loads(line) for line in note.splitlines() if line.strip()]


def notes_tip(repo: GitRepo) -> str:
    return repo.git("rev-parse", "-q", "--verify", NOTES, check=False).stdout.decode().strip()


def test_a_real_pytest_suite_passes_then_fails_and_the_fails_escalate(
        repo: GitRepo, keys: dict[str, Path]) -> None:
    start(repo, keys, PYTEST, extra="[supervise]\nmax_failures = 1\n")
    base = repo.head()
    good = agent_commit(repo, "calc.py", CALC + "\n\ndef sub(a, b):\n    return a - b\n",
                        "Add sub", "Task: CALC-1")
    code, out = judge(repo, keys, "--commit", good)
    assert code == 0, out
    assert "agentops: judge tests (check):" in out and "agentops: judge tests: PASS in " in out
    [record] = records(repo, good)
    assert record["status"] == "PASS" and record["judge"] == IDENTITY and record["signature"]
    [run] = record["judges"]  # type: ignore[misc]
    assert run["exit_code"] == 0 and "1 passed" in run["output"]
    assert run["tree"] == repo.out("rev-parse", f"{good}^{{tree}}")
    code, out = run_agentops(repo, "check", "--range", f"{base}..{good}")
    assert code == 0, out

    bad = agent_commit(repo, "calc.py", "def add(a, b):\n    return a - b\n", "Break add",
                       "Task: CALC-2")
    code, out = judge(repo, keys, "--commit", bad)
    assert code == 1, out
    assert "agentops: judge tests: FAIL in " in out and "it exited with 1" in out
    [record] = records(repo, bad)
    assert record["status"] == "FAIL" and "1 failed" in record["judges"][0]["output"]  # type: ignore[index]
    code, out = run_agentops(repo, "check", "--range", f"{good}..{bad}")
    assert code == 1 and "verdict-not-pass" in out
    # The FAIL counts for gate XI: the same worker's next try at CALC-2 must hand over.
    again = agent_commit(repo, "calc.py", "def add(a, b):\n    return b - a\n", "Retry add",
                         "Task: CALC-2")
    code, out = run_agentops(repo, "check", "--range", f"{bad}..{again}", "--gate", "supervise")
    assert code == 1 and "supervise-escalate" in out
    code, out = run_agentops(repo, "judge", "--explain", bad)
    assert code == 0 and "judge tests (check): FAIL, exit 1" in out and "| " in out


REVIEWERS = {
    "pass": 'print(json.dumps({"status": "PASS", "summary": "reads right"}))',
    "fail": 'print("thinking..."); print(json.dumps({"status": "FAIL", "summary": "off by one", '
            '"findings": [{"message": "wrong sign", "path": "calc.py", "line": 2}]}))',
    "malformed": 'print(json.dumps({"status": "MAYBE", "summary": "hm"}))',
    "silent": "pass",
    "crash": 'raise RuntimeError("model quota exceeded")',
    "hang": "import time; time.sleep(60)",
    # leaves its process group, holding the output open: stopped all the same
    "escape": 'import subprocess; subprocess.Popen(["setsid", "sleep", "20"]); print("{")',
}


def test_reviewer_judges_json_verdicts_and_everything_else(
        repo: GitRepo, keys: dict[str, Path], tmp_path: Path) -> None:
    judges = ('at_least = 1\n[[judge.judges]]\nname = "unrunnable"\nrequired = false\n'
              'command = "sh -c no-such-program-xyz"\n')
    for name, body in REVIEWERS.items():
        script = tmp_path / f"{name}.py"
        script.write_text(f"import json\n{body}\n")
        judges += (f'[[judge.judges]]\nname = "{name}"\nkind = "reviewer"\n'
                   f'command = "{sys.executable} {script}"\ntimeout = 2\nrequired = false\n')
    start(repo, keys, judges)
    change = agent_commit(repo, "calc.py", CALC + "# reviewed\n", "Comment")
    code, out = judge(repo, keys)
    assert code == 0, out
    [record] = records(repo, change)
    got = {r["name"]: (r["status"], r["reason"] or "") for r in record["judges"]}  # type: ignore[union-attr]
    assert got["pass"] == ("PASS", "reads right")
    assert got["fail"] == ("FAIL", "off by one (1 finding(s))")
    assert got["malformed"][0] == "NOT_PROVEN" and "judge-output.schema.json" in got["malformed"][1]
    assert got["silent"] == ("NOT_PROVEN", "it printed nothing (a reviewer prints a JSON verdict)")
    assert got["crash"] == ("NOT_PROVEN", "it printed nothing (a reviewer prints a JSON "
                                          "verdict); it exited with 1")
    assert got["hang"] == ("NOT_PROVEN", "it was stopped at its timeout of 2s")
    assert got["escape"] == ("NOT_PROVEN", "it was stopped at its timeout of 2s")
    assert got["unrunnable"] == ("NOT_PROVEN", "its command could not be run (exit 127)")
    for name in ("hang", "escape"):
        run = next(r for r in record["judges"] if r["name"] == name)  # type: ignore[union-attr]
        assert run["exit_code"] is None and run["duration"] < 10, run


@pytest.mark.parametrize(("at_least", "statuses", "required", "expected"), [
    (0, ("PASS", "PASS"), (True, True), "PASS"),
    (0, ("PASS", "FAIL"), (True, True), "FAIL"),
    (0, ("PASS", "NOT_PROVEN"), (True, True), "NOT_PROVEN"),
    (1, ("PASS", "FAIL"), (False, False), "PASS"),
    (1, ("PASS", "FAIL"), (False, True), "FAIL"),      # a required judge's FAIL fails it
    (2, ("PASS", "NOT_PROVEN"), (False, False), "NOT_PROVEN"),
    (2, ("PASS", "FAIL"), (False, False), "FAIL"),
])
def test_the_council_rule(at_least: int, statuses: tuple[str, str], required: tuple[bool, bool],
                          expected: str) -> None:
    specs = [JudgeSpec(f"j{i}", "true", required=r) for i, r in enumerate(required)]
    runs = [JudgeRun(f"j{i}", "check", s, "true", 0, 0.0, "t", "0" * 64)
            for i, s in enumerate(statuses)]
    assert combine(specs, runs, at_least)[0] == expected


def test_a_council_of_two_a_check_and_a_reviewer(repo: GitRepo, keys: dict[str, Path],
                                                 tmp_path: Path) -> None:
    reviewer = tmp_path / "review.py"
    reviewer.write_text(
        "import json, pathlib, os\n"
        "diff = pathlib.Path(os.environ['AGENTOPS_DIFF']).read_text()\n"
        "bad = 'a - b' in diff\n"
        "print(json.dumps({'status': 'FAIL' if bad else 'PASS', 'summary': 'sign checked'}))\n")
    start(repo, keys, PYTEST + f'[[judge.judges]]\nname = "review"\nkind = "reviewer"\n'
                               f'command = "{sys.executable} {reviewer}"\n')
    # the tests still pass (a second test file is not added), but the reviewer sees the bug
    change = agent_commit(repo, "calc.py", CALC + "\n\ndef neg(a, b):\n    return a - b\n",
                          "Add neg")
    code, out = judge(repo, keys)
    assert code == 1, out
    [record] = records(repo, change)
    assert [(r["name"], r["status"]) for r in record["judges"]] == [  # type: ignore[union-attr]
        ("tests", "PASS"), ("review", "FAIL")]
    assert record["status"] == "FAIL" and "review failed" in str(record["evidence"])


ISOLATION = r'''
import os, pathlib, subprocess, sys
seen = []
if pathlib.Path("notes-to-self.txt").exists(): seen.append("the uncommitted file")
if "CLAUDECODE" in os.environ: seen.append("CLAUDECODE")
if any(k.startswith("GIT_") for k in os.environ): seen.append("a GIT_ variable")
if os.environ.get("HOME") == sys.argv[1]: seen.append("the caller's HOME")
print("cwd", os.getcwd())
print("task", os.environ["AGENTOPS_TASK"])
print("diff", pathlib.Path(os.environ["AGENTOPS_DIFF"]).read_text().splitlines()[-1])
print("message", pathlib.Path(os.environ["AGENTOPS_MESSAGE"]).read_text().splitlines()[0])
print("evidence", pathlib.Path(os.environ["AGENTOPS_EVIDENCE"]).read_text().count("pytest 3 passed"))
# now try to change the repository it was given
pathlib.Path("calc.py").write_text("broken = True\n")
pathlib.Path("dropped.txt").write_text("x\n")
pathlib.Path(os.environ["AGENTOPS_DIFF"]).write_text("")  # what the next judge reads
for argv in (["git", "add", "-A"], ["git", "-c", "user.name=j", "-c", "user.email=j@x",
             "commit", "-qm", "judge was here"], ["git", "update-ref", "refs/heads/main", "HEAD"],
             ["git", "update-ref", "refs/notes/agentops/verdicts", "HEAD"]):
    subprocess.run(argv, check=False)
print("saw:", ", ".join(seen) or "nothing")
sys.exit(1 if seen else 0)
'''


def test_the_judge_sees_only_the_change_and_cannot_touch_the_repository(
        repo: GitRepo, keys: dict[str, Path], tmp_path: Path) -> None:
    script = tmp_path / "isolation.py"
    script.write_text(ISOLATION)
    start(repo, keys, f'[[judge.judges]]\nname = "isolation"\n'
                      f'command = "{sys.executable} {script} {repo.env["HOME"]}"\n'
                      '[[judge.judges]]\nname = "next"\ncommand = \'grep -q "one more" calc.py '
                      '&& test ! -e dropped.txt && grep -q "one more" "$AGENTOPS_DIFF"\'\n')
    change = agent_commit(repo, "calc.py", CALC + "# one more line\n", "One more line",
                          "Task: CALC-9", "Verdict-Evidence: pytest 3 passed")
    repo.write("notes-to-self.txt", "uncommitted\n")
    before = {ref: repo.out("rev-parse", ref) for ref in ("HEAD", "main")}
    status = repo.out("status", "--porcelain")
    code, out = judge(repo, keys, CLAUDECODE="1")
    assert code == 0, out
    [record] = records(repo, change)
    output = record["judges"][0]["output"]  # type: ignore[index]
    assert "saw: nothing" in output
    assert record["judges"][1]["status"] == "PASS"  # type: ignore[index]  # untouched by the first
    assert "task CALC-9" in output and "diff +# one more line" in output
    assert "message One more line" in output and "evidence 1" in output
    assert {ref: repo.out("rev-parse", ref) for ref in before} == before
    assert repo.out("status", "--porcelain") == status and (repo.root / "calc.py").read_text() \
        == CALC + "# one more line\n"
    assert repo.out("rev-parse", f"{NOTES}^{{tree}}") and len(records(repo, change)) == 1
    worktree = Path(output.split("cwd ", 1)[1].split("\n", 1)[0])
    assert worktree.name == "worktree" and not worktree.parent.exists()  # removed afterwards


def test_signed_verdict_admits_at_ci_and_pre_receive_and_a_typed_one_does_not(
        repo: GitRepo, keys: dict[str, Path], tmp_path: Path) -> None:
    start(repo, keys, '[[judge.judges]]\nname = "files"\ncommand = "test -f calc.py"\n')
    bare = bare_server(repo, tmp_path)
    trust = tmp_path / "allowed_signers"
    trust.write_text(signer_line("judge@ci.example.com", keys["riley"]))
    for key, value in (("agentops.allowedSigners", str(trust)), ("agentops.requireSignature", "true")):
        subprocess.run(["git", "config", key, value], cwd=bare, check=True)
    assert push(repo, "main").returncode == 0
    base = repo.head()
    # the agent types the automated judge's verdict itself: unsigned, it admits nothing
    agent_commit(repo, "calc.py", CALC + "# typed\n", "Typed verdict")
    code, out = run_agentops(repo, "verdict", "pass", "--judge", IDENTITY, "--commit", "HEAD")
    assert code == 0, out
    proc = push(repo, "main", NOTES)
    assert proc.returncode != 0 and "verdict-unsigned" in text(proc)
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--trust", str(trust))
    assert code == 1 and "verdict-unsigned" in out

    # the key itself in the variable, as a CI secret holds it
    code, out = judge(repo, keys, "--range", f"{base}..HEAD",
                      AGENTOPS_JUDGE_KEY=keys["riley"].read_text())
    assert code == 0, out
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--trust", str(trust))
    assert code == 0, out
    proc = push(repo, "main", NOTES)
    assert proc.returncode == 0, text(proc)
    assert remote(bare, "main") == repo.head()


def test_the_automated_judge_counts_only_at_the_gates_policy_names(
        repo: GitRepo, keys: dict[str, Path]) -> None:
    start(repo, keys, '[[judge.judges]]\nname = "files"\ncommand = "test -f calc.py"\n',
          extra='[privilege]\nprotected_paths = ["ci/**"]\nhuman_judges = ["judge@ci.example.com"]\n')
    base = repo.head()
    agent_commit(repo, "ci/run.sh", "echo ok\n", "Touch CI")
    code, out = judge(repo, keys)
    assert code == 0, out
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "verdict",
                             "--gate", "privilege")
    assert code == 1 and "judge.admits does not name gate privilege" in out
    assert "verdict-automated" not in out  # gate VII accepts it: judge.admits names it


def test_the_staged_change_is_judged_on_the_index_tree(repo: GitRepo, keys: dict[str, Path]) -> None:
    start(repo, keys, '[[judge.judges]]\nname = "staged"\ncommand = "grep -q staged calc.py"\n')
    base = repo.head()
    repo.stage("calc.py", CALC + "# staged\n")
    repo.write("calc.py", CALC + "# unstaged edit\n")  # the work tree differs from the index
    code, out = judge(repo, keys, "--staged")
    assert code == 0, out
    assert "on staged tree" in out
    repo.commit("Staged work\n\nCo-authored-by: Claude <noreply@anthropic.com>\n", "--no-verify")
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "verdict")
    assert code == 0, out


@pytest.mark.parametrize(("case", "says"), [
    ("no-judges", "no judges are configured"),
    ("no-such-command", "its command 'no-such-judge-xyz' does not exist"),
    ("timeout-0", "judge.judges[0].timeout: must be more than 0 seconds"),
    ("timeout-negative", "judge.judges[0].timeout: must be more than 0 seconds"),
    ("bad-key", "cannot sign"),
    ("missing-objects", "an object it needs is missing"),
])
def test_bad_input_is_one_line_exit_2_and_nothing_is_recorded(
        repo: GitRepo, keys: dict[str, Path], tmp_path: Path, case: str, says: str) -> None:
    judges = {"no-judges": "", "no-such-command": 'command = "no-such-judge-xyz --all"',
              "timeout-0": 'command = "true"\ntimeout = 0',
              "timeout-negative": 'command = "true"\ntimeout = -5'}.get(case, 'command = "true"')
    start(repo, keys, f'[[judge.judges]]\nname = "j"\n{judges}\n' if judges else "")
    agent_commit(repo, "calc.py", CALC + "# more\n", "More")
    env = {}
    if case == "bad-key":
        garbage = tmp_path / "garbage_key"
        garbage.write_text("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n"
                           "-----END OPENSSH PRIVATE KEY-----\n")
        garbage.chmod(0o600)
        env["AGENTOPS_JUDGE_KEY"] = str(garbage)
    if case == "missing-objects":
        blob = repo.out("rev-parse", "HEAD:calc.py")
        (repo.root / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    before = notes_tip(repo)
    code, out = judge(repo, keys, **env)
    assert code == 2, out
    assert says in out, out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1, out
    assert notes_tip(repo) == before == ""


@pytest.mark.parametrize("admits", ['["verdict"]', "[]"])
def test_the_automated_judges_name_alone_admits_nothing(repo: GitRepo, keys: dict[str, Path],
                                                       admits: str) -> None:
    """Signatures not required, yet a verdict in the judge identity's name counts only
    signed, and only at a gate judge.admits names."""
    repo.write(".agentops/allowed_signers", signer_line("judge@ci.example.com", keys["riley"]))
    repo.write(".agentops.toml", (
        '[verdict]\nallowed_signers = ".agentops/allowed_signers"\n'
        f'[judge]\nidentity = "{IDENTITY}"\nadmits = {admits}\n'
        '[[judge.judges]]\nname = "files"\ncommand = "test -f a.txt"\n'))
    repo.write("a.txt", "a\n")
    repo.git("add", "-A")
    repo.commit("base")
    base = repo.head()
    agent_commit(repo, "a.txt", "b\n", "Typed")
    assert run_agentops(repo, "verdict", "pass", "--judge", IDENTITY, "--commit", "HEAD")[0] == 0
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "verdict")
    assert code == 1 and "verdict-automated-not-accepted" in out
    code, out = judge(repo, keys)
    assert code == 0, out
    code, out = run_agentops(repo, "check", "--range", f"{base}..HEAD", "--gate", "verdict")
    if admits == "[]":
        assert code == 1 and "judge.admits does not name gate verdict" in out
    else:
        assert code == 0, out


def test_a_change_cannot_pick_its_own_judges(repo: GitRepo, keys: dict[str, Path]) -> None:
    start(repo, keys, '[[judge.judges]]\nname = "strict"\ncommand = "false"\n')
    policy = (repo.root / ".agentops.toml").read_text()
    change = agent_commit(repo, ".agentops.toml", policy.replace('"false"', '"true"'),
                          "Relax the judge")
    code, out = judge(repo, keys)
    assert code == 1 and "judge strict: FAIL" in out  # the base's judge ran, not the change's
    assert records(repo, change)[0]["judges"][0]["command"] == "false"  # type: ignore[index]
    code, out = judge(repo, keys, "--commit", repo.out("rev-list", "--max-parents=0", "HEAD"))
    assert code == 2 and "give --policy-from REV" in out
