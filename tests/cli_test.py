"""The `agentops` command: verdicts, trailers, learnings, checks, and its errors."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks.places import commit as hook
from agentops_hooks.change import StagedChange
from agentops_hooks.commands import cli
from agentops_hooks.git import Repo
from agentops_hooks.trailers import parse
from conftest import run_agentops
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message

BIG = "".join(f"n{i} = {i}\n" for i in range(20))


def invoke(*args: str, input: str | bytes | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)
    return result.exit_code, result.output


@pytest.fixture
def staged(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    repo.stage("app.py", "x = 2\n")
    return repo


def test_version_and_help_on_every_command() -> None:
    code, out = invoke("--version")
    assert code == 0 and "agentops, version" in out
    for command in (["check"], ["verdict"], ["trailer"], ["trailer", "add"], ["learn"],
                    ["demo"], ["schema"], ["report"], ["review"], ["notes"], ["ratchet"], ["init"],
                    ["pre-receive"]):
        code, out = invoke(*command, "--help")
        assert code == 0, command
        assert "Usage: agentops" in out


def test_verdict_prints_trailers_bound_to_the_staged_patch(staged: GitRepo) -> None:
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--evidence", "pytest 3 passed", "--staged")
    assert code == 0, out
    patch_id = StagedChange.from_message_file(Repo(), None).patch_id
    assert f'Verdict: PASS judge="{JUDGE}" patch={patch_id}' in out
    assert "Verdict-Evidence: pytest 3 passed" in out


def test_verdict_written_into_the_message_file_passes_the_hook(
    staged: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    msg = staged.message_file(agent_message("Bump x") + "# Please enter the commit message\n")
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--message-file", str(msg))
    assert code == 0, out
    text = msg.read_text()
    assert text.startswith("Bump x\n")
    assert "# Please enter the commit message" in text
    assert [k for k, _ in parse(text)] == ["Co-authored-by", "Verdict"]
    assert hook.main([str(msg)]) == 0


@pytest.mark.parametrize("status", ["fail", "not-proven"])
def test_verdict_statuses(staged: GitRepo, status: str) -> None:
    code, out = invoke("verdict", status, "--judge", JUDGE, "--staged")
    assert code == 0
    assert f"Verdict: {status.upper().replace('-', '_')} judge=" in out


def test_verdict_warns_a_self_judging_author(staged: GitRepo) -> None:
    code, out = invoke("verdict", "pass", "--judge", "Hana <hana@example.com>", "--staged")
    assert code == 0
    assert "warning" in out and "author" in out


def test_verdict_on_a_commit_and_amend(staged: GitRepo) -> None:
    staged.commit("second")
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    assert code == 0
    from agentops_hooks.change import CommitChange

    assert CommitChange.load(Repo(), "HEAD").patch_id in out
    assert "recorded in refs/notes/agentops/verdicts on commit" in out
    note = staged.out("notes", "--ref=agentops/verdicts", "show", "HEAD")
    assert '"status": "PASS"' in note and '"source": "note"' in note
    staged.stage("app.py", "x = 3\n")
    code, amended = invoke("verdict", "pass", "--judge", JUDGE, "--amend")
    assert code == 0
    staged.commit("second, amended", "--amend")
    assert CommitChange.load(Repo(), "HEAD").patch_id in amended


@pytest.mark.parametrize("judge", ["", "just a name", "<>", "riley@example.com", "Riley <riley>",
                                   "<riley@example.com>", "Riley <@example.com>"])
def test_verdict_needs_a_judge_identity(staged: GitRepo, judge: str) -> None:
    code, out = invoke("verdict", "pass", "--judge", judge, "--staged")
    assert code == 2
    assert 'give the judge as "Name <email>", a name and an email address' in out
    assert staged.git("show-ref", "--verify", "--quiet", "refs/notes/agentops/verdicts",
                      check=False).returncode != 0  # nothing recorded


def test_verdict_with_nothing_staged_is_refused_and_records_nothing(repo: GitRepo) -> None:
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--staged")
    assert code == 2
    assert "nothing is staged: a verdict binds the staged change, so stage the change to judge " \
           "first (git add)" in out
    assert "Verdict:" not in out
    assert repo.git("show-ref", "--verify", "--quiet", "refs/notes/agentops/verdicts",
                    check=False).returncode != 0


def test_trailer_add_to_file_and_stdin(repo: GitRepo) -> None:
    path = repo.write("MSG", "subject\n\nbody\n\nTask: A-1\n")
    code, out = invoke("trailer", "add", "Learning", "cache keys need the locale", "--message-file", str(path))
    assert code == 0, out
    assert path.read_text() == "subject\n\nbody\n\nTask: A-1\nLearning: cache keys need the locale\n"
    code, out = invoke("trailer", "add", "Task", "B-2", input="subject\n")
    assert code == 0
    assert out == "subject\n\nTask: B-2\n"


def test_trailer_add_to_missing_file(repo: GitRepo) -> None:
    code, out = invoke("trailer", "add", "Task", "X", "--message-file", "nope.txt")
    assert code == 2
    assert "not found" in out


def test_learn_appends_a_dated_section_and_stages_it(repo: GitRepo) -> None:
    code, out = invoke("learn", "Retry only idempotent requests", "--title", "Retries")
    assert code == 0, out
    today = dt.date.today().isoformat()
    text = (repo.root / "learnings.md").read_text()
    assert f"## Retries ({today})\n\n- Retry only idempotent requests\n" in text
    assert "learnings.md" in repo.out("diff", "--cached", "--name-only")
    code, out = invoke("learn", "Second lesson about caching layers and their keys here today")
    assert code == 0
    text = (repo.root / "learnings.md").read_text()
    assert text.count("## ") == 2
    assert "## Second lesson about caching layers and their keys..." in text


def test_learn_satisfies_gate_ix(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("app.py", BIG)
    msg = repo.message_file(agent_message())
    assert hook.main(["--gate", "learnings", str(msg)]) == 1
    invoke("learn", "Constants live in one module", "--title", "Constants")
    assert hook.main(["--gate", "learnings", str(msg)]) == 0


def test_learn_refuses_empty_text_and_bad_date(repo: GitRepo) -> None:
    assert invoke("learn", "   ")[0] == 2
    assert invoke("learn", "retry only idempotent requests", "--date", "21/11/2026")[0] == 2
    assert not (repo.root / "learnings.md").exists()


def agentops(repo: GitRepo, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[str]:
    """The real `agentops` process, so stdout and stderr are seen apart."""
    return subprocess.run([sys.executable, "-m", "agentops_hooks.commands", *args], cwd=repo.root, env=repo.env,
                          input=None if input is None else input.decode(), capture_output=True,
                          text=True, check=False)


REFUSED = [
    ("x", '"x" is a placeholder, not a lesson'),
    ("  N/A. ", '"N/A." is a placeholder, not a lesson'),
    ("<lesson>", '"<lesson>" is a placeholder, not a lesson'),
    ("<what this change taught>", '"<what this change taught>" is a placeholder, not a lesson'),
    ("...", '"..." has no words, only punctuation, digits or symbols'),
    ("cache bug", '"cache bug" is too short: 2 words, policy asks for at least 3 (learnings.min_words)'),
]


@pytest.mark.parametrize(("text", "says"), REFUSED)
def test_learn_refuses_a_placeholder_and_writes_nothing(repo: GitRepo, text: str, says: str) -> None:
    before = "# Learnings\n\n## Clocks (2026-01-02)\n\n- use time.monotonic for intervals\n"
    repo.stage("learnings.md", before)
    proc = agentops(repo, "learn", text)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (f"agentops: error: the learning {says}; say what this change taught, "
                           "in at least 3 words\n")
    assert (repo.root / "learnings.md").read_text() == before
    assert repo.out("diff", "--name-only") == ""  # nothing written past what was staged


@pytest.mark.parametrize(("text", "says"), REFUSED)
def test_trailer_add_refuses_a_placeholder_learning(repo: GitRepo, text: str, says: str) -> None:
    msg = repo.write("MSG", "subject\n\nTask: A-1\n")
    proc = agentops(repo, "trailer", "add", "Learning", text, "--message-file", str(msg))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and says in proc.stderr
    assert proc.stderr.startswith("agentops: error: the learning ")
    assert msg.read_text() == "subject\n\nTask: A-1\n"
    proc = agentops(repo, "trailer", "add", "learning", text, input=b"subject\n")
    assert proc.returncode == 2 and proc.stdout == "" and says in proc.stderr


def test_min_words_policy_reaches_the_commands(repo: GitRepo) -> None:
    repo.write(".agentops.toml", "[learnings]\nmin_words = 1\n")
    assert agentops(repo, "learn", "idempotency", "--title", "Retries").returncode == 0
    proc = agentops(repo, "trailer", "add", "Learning", "TODO", input=b"subject\n")
    assert proc.returncode == 2 and "in at least 1 word\n" in proc.stderr
    proc = agentops(repo, "trailer", "add", "Learning", "idempotency", input=b"subject\n")
    assert proc.returncode == 0 and proc.stdout == "subject\n\nLearning: idempotency\n"


def test_check_commit_and_json(staged: GitRepo) -> None:
    staged.commit(agent_message("Agent work"))
    code, out = invoke("check")
    assert code == 1
    assert "verdict-missing" in out
    code, out = invoke("check", "--commit", "HEAD~1", "--format", "json")
    assert code == 0
    assert '"findings": []' in out


def test_check_staged_with_message_file(staged: GitRepo) -> None:
    msg = staged.message_file(agent_message())
    code, out = invoke("check", "--message-file", str(msg), "--gate", "verdict")
    assert code == 1
    assert "verdict-missing" in out


def test_check_unknown_commit(staged: GitRepo) -> None:
    code, out = invoke("check", "--commit", "no-such-rev")
    assert code == 2
    assert "does not name a commit" in out


def test_check_refuses_conflicting_options(staged: GitRepo) -> None:
    code, out = invoke("check", "--commit", "HEAD", "--staged")
    assert code == 2


def test_schema_command_prints_the_shipped_config_schema() -> None:
    code, out = invoke("schema", "config")
    assert code == 0
    schema_file = Path(__file__).parents[1] / "schemas" / "config.schema.json"
    import json

    assert json.loads(out) == json.loads(schema_file.read_text())


# --- no traceback, ever: the hook's error cases ------------------------------

def hook_result(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = hook.main(args)
    out = capsys.readouterr()
    return code, out.out + out.err


def test_hook_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out = hook_result(["msg"], capsys)
    assert code == 2
    assert "not a git repository" in out


def test_hook_in_a_bare_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    subprocess.run(["git", "init", "-q", "--bare", str(tmp_path / "b.git")], check=True)
    monkeypatch.chdir(tmp_path / "b.git")
    code, out = hook_result(["msg"], capsys)
    assert code == 2
    assert "bare repository" in out


def test_hook_missing_message_file(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = hook_result(["/nonexistent/COMMIT_EDITMSG"], capsys)
    assert code == 2
    assert "commit message file not found" in out


def test_hook_unreadable_message_file(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = hook_result([str(staged.root)], capsys)
    assert code == 2
    assert "is a directory" in out


def test_hook_non_utf8_message(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    msg = staged.message_file(b"Caf\xe9 change\n\nCo-authored-by: Claude <noreply@anthropic.com>\n")
    code, out = hook_result([str(msg)], capsys)
    assert code == 1
    assert "verdict-missing" in out


def test_hook_empty_message(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    msg = staged.message_file("")
    code, out = hook_result([str(msg)], capsys)
    assert code == 0
    assert "human-authored" in out


def test_hook_detached_head(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    staged.git("checkout", "-q", "--detach")
    msg = staged.message_file(agent_message())
    code, out = hook_result([str(msg)], capsys)
    assert code == 1
    assert "verdict-missing" in out


def test_hook_during_a_conflicted_merge(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    staged.commit("main side")
    staged.git("checkout", "-q", "-b", "other", "HEAD~1")
    staged.stage("app.py", "x = 99\n")
    staged.commit("other side")
    staged.git("checkout", "-q", "main")
    assert staged.git("merge", "other", check=False).returncode != 0
    staged.stage("app.py", "x = 100\n")
    msg = staged.message_file("Merge other\n")
    code, out = hook_result([str(msg)], capsys)
    assert code == 0, out


def test_hook_bad_config(staged: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    staged.write(".agentops.toml", "[verdict\n")
    code, out = hook_result([str(staged.message_file("x\n"))], capsys)
    assert code == 2
    assert ".agentops.toml: not valid TOML" in out


def test_cli_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code, out = invoke("check")
    assert code == 2
    assert "agentops: error: not a git repository" in out


def test_console_scripts_run(staged: GitRepo) -> None:
    """The installed entry points work as processes, not only in-process."""
    for argv in ([sys.executable, "-m", "agentops_hooks.commands", "--version"],
                 [sys.executable, "-m", "agentops_hooks.places.commit", "--help"]):
        proc = subprocess.run(argv, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr


def test_learning_fix_offers_only_options_that_exist(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    repo.stage("app.py", BIG)
    monkeypatch.setenv("CLAUDECODE", "1")
    code, out = invoke("check", "--staged", "--gate", "learnings")
    assert code == 1
    assert "--staged" not in out.split("fix:", 1)[1]
    msg = repo.message_file("Add\n")
    code, out = invoke("check", "--message-file", str(msg), "--gate", "learnings")
    assert 'agentops trailer add Learning "<lesson>" --message-file .git/COMMIT_EDITMSG' in out
