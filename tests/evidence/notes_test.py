"""Verdicts as evidence in git notes: record, accept, review, verify, sign, supervise."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from agentops_hooks.places import commit as hook
from agentops_hooks.change import CommitChange
from agentops_hooks.commands import cli
from agentops_hooks.git import Repo
from agentops_hooks.evidence.notes import VERDICTS_REF
from agentops_hooks.evidence.notes import VerdictRecord
from agentops_hooks.evidence.notes import json_schema
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message

SCHEMA_FILE = Path(__file__).parents[2] / "schemas" / "verdict.schema.json"
PATCH = "0123456789abcdef0123456789abcdef01234567"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def note(repo: GitRepo, rev: str = "HEAD") -> list[dict]:  # type: ignore[type-arg]
    text = repo.git("notes", "--ref=agentops/verdicts", "show", rev, check=False).stdout.decode()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def history(repo: GitRepo) -> GitRepo:
    repo.stage("app.py", "x = 1\n")
    repo.commit("base")
    repo.stage("app.py", "x = 2\n")
    repo.commit(agent_message("Agent work"))
    return repo


# --- the record format --------------------------------------------------------

def test_schema_file_is_generated_from_the_record_model() -> None:
    """Regenerate with: agentops schema verdict > schemas/verdict.schema.json"""
    assert json.loads(SCHEMA_FILE.read_text()) == json_schema()


GOOD = {"v": 1, "status": "PASS", "judge": "R <r@example.com>", "patch_id": PATCH,
        "recorded_at": "2026-11-21T10:00:00Z", "source": "note"}


@pytest.mark.parametrize("record", [
    GOOD,
    {**GOOD, "evidence": "pytest ok", "signature": "U1NIU0lH", "author": "A <a@x>",
     "task": "T-1", "worker": "session 9"},
    {**GOOD, "status": "FAIL", "source": "trailer"},
    {**GOOD, "status": "MAYBE"},
    {**GOOD, "v": 2},
    {**GOOD, "v": True},
    {**GOOD, "patch_id": "xyz"},
    {**GOOD, "patch_id": PATCH.upper()},
    {**GOOD, "extra": 1},
    {**GOOD, "evidence": 5},
    {**GOOD, "judge": ""},
    {k: v for k, v in GOOD.items() if k != "judge"},
    {k: v for k, v in GOOD.items() if k != "recorded_at"},
])
def test_reader_agrees_with_the_schema(record: dict) -> None:  # type: ignore[type-arg]
    schema = json.loads(SCHEMA_FILE.read_text())
    try:
        jsonschema.validate(record, schema)
        schema_ok = True
    except jsonschema.ValidationError:
        schema_ok = False
    try:
        VerdictRecord.from_line(json.dumps(record))
        reader_ok = True
    except ValueError:
        reader_ok = False
    assert reader_ok == schema_ok


def test_record_line_round_trips() -> None:
    record = VerdictRecord.from_line(json.dumps(GOOD))
    assert VerdictRecord.from_line(record.to_line()) == record
    assert record.to_line().startswith('{"v": 1, "status": "PASS", "judge": "R <r@example.com>"')


# --- recording ----------------------------------------------------------------

def test_post_commit_records_the_trailer_verdicts(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    from agentops_hooks.change import StagedChange

    repo.stage("a.py", "a = 1\n")
    patch = StagedChange.from_message_file(Repo(), None).patch_id
    repo.commit(agent_message(
        "Work", "Task: T-7", "Agent: claude-code session=s1",
        f'Verdict: PASS judge="{JUDGE}" patch={patch}', "Verdict-Evidence: tests green",
    ))
    assert hook.main(["--record"]) == 0
    assert "recorded 1 verdict(s)" in capsys.readouterr().out
    [record] = note(repo)
    assert record["status"] == "PASS" and record["judge"] == JUDGE and record["patch_id"] == patch
    assert record["source"] == "trailer" and record["evidence"] == "tests green"
    assert record["task"] == "T-7" and record["worker"] == "session s1"
    assert record["author"] == "Hana Human <hana@example.com>"
    assert record["recorded_at"].endswith("Z")
    assert hook.main(["--record"]) == 0  # idempotent
    assert len(note(repo)) == 1
    log = repo.out("log", "-1", "--notes=agentops/verdicts")
    assert "Notes (agentops/verdicts):" in log and '"status": "PASS"' in log and JUDGE in log


def test_commit_without_verdict_records_nothing(history: GitRepo) -> None:
    assert hook.main(["--record", "--quiet"]) == 0
    assert history.git("rev-parse", "--verify", "-q", VERDICTS_REF, check=False).returncode != 0


def test_verdict_on_a_commit_is_recorded_and_accepted_by_the_gate(history: GitRepo) -> None:
    code, out = invoke("check")
    assert code == 1 and "verdict-missing" in out
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD", "--evidence", "read it")
    assert code == 0, out
    [record] = note(history)
    assert record["source"] == "note"
    assert record["patch_id"] == CommitChange.load(Repo(), "HEAD").patch_id
    code, out = invoke("check")
    assert code == 0, out


def test_staged_verdict_is_recorded_on_the_staged_tree(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 1\n")
    code, out = invoke("verdict", "fail", "--judge", JUDGE, "--staged")
    assert code == 0, out
    tree = repo.out("write-tree")
    [record] = note(repo, tree)
    assert record["status"] == "FAIL"
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--staged", "--no-record")
    assert len(note(repo, tree)) == 1


@pytest.mark.parametrize("args", [
    ("verdict", "pass", "--judge", "nobody", "--commit", "HEAD"),
    ("verdict", "maybe", "--judge", JUDGE, "--commit", "HEAD"),
    ("verdict", "pass", "--judge", JUDGE, "--commit", "no-such-commit"),
])
def test_bad_verdict_input_writes_nothing(history: GitRepo, args: tuple[str, ...]) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert "Traceback" not in out
    assert history.git("rev-parse", "--verify", "-q", VERDICTS_REF, check=False).returncode != 0


def test_fail_note_on_this_patch_refuses_even_with_a_pass_trailer(history: GitRepo) -> None:
    invoke("verdict", "fail", "--judge", "Other <other@example.com>", "--commit", "HEAD")
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    code, out = invoke("check")
    assert code == 1
    assert "verdict-conflict" in out and "verdict-not-pass" in out


def test_corrupt_note_lines_never_count_and_never_crash(history: GitRepo) -> None:
    patch = CommitChange.load(Repo(), "HEAD").patch_id
    garbage = "\n".join([
        "not json at all",
        json.dumps({"status": "PASS", "judge": JUDGE, "patch_id": patch}),  # no v, no source
        json.dumps({**GOOD, "patch_id": patch, "judge": "no email here"}),
        "[1, 2, 3]",
    ])
    history.git("notes", "--ref=agentops/verdicts", "add", "-m", garbage, "HEAD")
    code, out = invoke("check")
    assert code == 1
    assert "verdict-missing" in out
    code, out = invoke("review", "--format", "json")
    assert code == 0
    code, out = invoke("notes", "verify")
    assert code == 0
    assert "unreadable line" in out


def test_verdict_from_a_cherry_pick_still_binds(history: GitRepo) -> None:
    """Bound to the patch-id, a verdict follows the change to a cherry-picked copy."""
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    history.git("checkout", "-q", "-b", "other", "HEAD~1")
    history.git("cherry-pick", "main")
    code, out = invoke("check")
    assert code == 0, out


# --- review -----------------------------------------------------------------------

def test_review_table_and_json(history: GitRepo) -> None:
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    history.stage("app.py", "x = 3\n")
    history.commit(agent_message("Stale verdict", f'Verdict: PASS judge="{JUDGE}" patch={PATCH}'))
    code, out = invoke("review")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["commit", "subject", "author", "verdict", "judge", "bound", "signed", "gate",
                                "admitted", "by"]
    stale = next(line for line in lines if "Stale verdict" in line)
    assert "agent" in stale and "no" in stale.split() and "refused: verdict-wrong-patch" in stale
    good = next(line for line in lines if "Agent work" in line)
    assert "PASS" in good and "yes" in good.split() and "unsigned" in good
    assert good.endswith(f"{JUDGE} (trailer)") or f"{JUDGE} (note on" in good  # admitted by
    base = next(line for line in lines if "base" in line.split())
    assert "human" in base and "not required" in base
    assert "Claude Code" in out
    code, out = invoke("review", "HEAD~1..HEAD", "--format", "json")
    rows = json.loads(out)
    assert [r["subject"] for r in rows] == ["Stale verdict"]
    assert rows[0]["verdicts"][0]["bound"] is False
    assert rows[0]["agent"] is True and "Claude Code" in rows[0]["why"]


def test_review_bad_range(history: GitRepo) -> None:
    code, out = invoke("review", "nope..HEAD")
    assert code == 2
    assert "cannot read nope..HEAD" in out


# --- ledger -----------------------------------------------------------------------

def test_verify_passes_an_append_only_history_and_names_a_rewrite(history: GitRepo) -> None:
    invoke("verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    invoke("verdict", "pass", "--judge", "Other <o@example.com>", "--commit", "HEAD~1")
    code, out = invoke("notes", "verify")
    assert code == 0, out
    assert "is append-only (2 commits checked" in out
    # An agent rewrites the note to hide the FAIL.
    kept = [line for line in history.git("notes", "--ref=agentops/verdicts", "show", "HEAD").stdout.decode().splitlines()
            if "FAIL" not in line]
    history.git("notes", "--ref=agentops/verdicts", "add", "-f", "-m", "\n".join(kept) or "{}", "HEAD")
    bad = history.out("rev-parse", VERDICTS_REF)
    code, out = invoke("notes", "verify")
    assert code == 1
    assert f"notes commit {bad[:12]} removed or changed 1 line(s)" in out
    assert "FAIL" in out


def test_verify_catches_a_deleted_note(history: GitRepo) -> None:
    invoke("verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")
    history.git("notes", "--ref=agentops/verdicts", "remove", "HEAD")
    code, out = invoke("notes", "verify", "agentops/verdicts")
    assert code == 1
    assert "deleted the note on" in out


def test_verify_missing_ref(history: GitRepo) -> None:
    code, out = invoke("notes", "verify")
    assert code == 2
    assert "no notes ref refs/notes/agentops/verdicts" in out


# --- init ---------------------------------------------------------------------------

def test_init_makes_notes_follow_amend_and_shows_them_in_log(history: GitRepo, tmp_path: Path) -> None:
    bare = tmp_path / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    history.git("remote", "add", "origin", str(bare))
    code, out = invoke("init", "--remote", "origin", "--no-signing", "--no-hooks")
    assert code == 0, out
    assert history.out("config", "--get-all", "notes.rewriteRef") == "refs/notes/agentops/*"
    assert "+refs/notes/agentops/*:refs/notes/remotes/origin/agentops/*" in history.out(
        "config", "--get-all", "remote.origin.fetch")
    code, again = invoke("init", "--remote", "origin", "--no-signing", "--no-hooks")
    assert "already" in again
    assert history.out("config", "--get-all", "notes.rewriteRef").count("\n") == 0
    invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    assert "Notes (agentops/verdicts)" in history.out("log", "-1")
    history.git("commit", "-q", "--amend", "-m", agent_message("Agent work, reworded"))
    assert note(history)[0]["judge"] == JUDGE  # the note followed the amend
    assert invoke("check")[0] == 0  # same patch: the verdict still binds
    history.stage("app.py", "x = 99\n")
    history.git("commit", "-q", "--amend", "--no-edit")
    assert note(history)  # copied again, but bound to the old patch
    code, out = invoke("check")
    assert code == 1 and "verdict-wrong-patch" in out


def test_init_unknown_remote(history: GitRepo) -> None:
    code, out = invoke("init", "--remote", "nowhere")
    assert code == 2
    assert "no remote named 'nowhere'" in out


def test_a_verdict_in_trailer_and_note_is_one_candidate(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    from conftest import run_hook

    repo.stage("a.py", "a = 1\n")
    msg = repo.message_file(agent_message("Work"))
    code, out = invoke("verdict", "pass", "--judge", "Hana Human <hana@example.com>", "--message-file", str(msg))
    assert code == 0
    code, out = run_hook(repo, msg.read_text(), capsys, "--gate", "verdict")
    assert code == 1
    assert out.count("verdict: verdict-self-judged\n") == 1  # one finding


def test_review_says_why_a_signature_is_invalid(repo: GitRepo) -> None:
    repo.write(".agentops.toml", '[verdict]\nallowed_signers = "signers"\n')
    repo.stage("signers", "riley@example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHk0\n")
    repo.commit("policy")
    repo.stage("a.py", "a = 2\n")
    repo.commit(agent_message("Work", f'Verdict: PASS judge="{JUDGE}" patch={PATCH}',
                              "Verdict-Signature: U1NIU0lHbm90cmVhbGx5"))
    code, out = invoke("review", "-n", "1", "--format", "json")
    [row] = json.loads(out)
    assert row["verdicts"][0]["signed"].startswith("invalid: its signature does not verify")
