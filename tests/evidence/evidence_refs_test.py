"""Verdicts that say what they rest on: evidence references and the judge's session,
in the notes record and in trailers, covered by the signature."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_commit
from conftest import agent_message
from conftest import run_agentops
from conftest import signer_line

SIGNERS = ".agentops/allowed_signers"
POLICY = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'
NOTES = "refs/notes/agentops/verdicts"
SCHEMA = json.loads((Path(__file__).parents[2] / "schemas" / "verdict.schema.json").read_text())


@pytest.fixture
def judged(repo: GitRepo, keys: dict[str, Path]) -> tuple[GitRepo, str]:
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", POLICY)
    repo.commit("Signed verdicts")
    commit = agent_commit(repo, "b.py", "b = 1\n", "Agent work", "Learning: b holds the one")
    repo.write("build/pytest.log", "3 passed\n")
    return repo, commit


def verdict_with_evidence(repo: GitRepo, keys: dict[str, Path], *where: str) -> tuple[int, str]:
    return run_agentops(repo, "verdict", "pass", "--judge", JUDGE, *where, "--sign-key", str(keys["riley"]),
                        "--evidence", "pytest: 3 passed", "--evidence-ref", "test-log=build/pytest.log",
                        "--evidence-ref", "ci-run=https://ci.example.com/run/7", "--session", "judge-run-42")


def check(repo: GitRepo, commit: str) -> tuple[int, str]:
    return run_agentops(repo, "check", "--range", f"{commit}~1..{commit}", "--gate", "verdict")


def test_the_notes_record_carries_the_references_and_session(judged: tuple, keys: dict[str, Path]) -> None:
    repo, commit = judged
    code, out = verdict_with_evidence(repo, keys, "--commit", commit)
    assert code == 0, out
    record = json.loads(repo.out("notes", "--ref", NOTES, "show", commit))
    jsonschema.validate(record, SCHEMA)
    assert record["evidence"] == "pytest: 3 passed" and record["session"] == "judge-run-42"
    assert record["evidence_refs"] == [
        {"kind": "test-log", "ref": "build/pytest.log",
         "sha256": hashlib.sha256(b"3 passed\n").hexdigest()},
        {"kind": "ci-run", "ref": "https://ci.example.com/run/7", "sha256": None},
    ]
    assert check(repo, commit)[0] == 0


@pytest.mark.parametrize("tamper", ["sha256", "ref", "evidence", "session", "drop-refs"])
def test_the_signature_covers_what_the_verdict_rests_on(
    judged: tuple, keys: dict[str, Path], tamper: str,
) -> None:
    repo, commit = judged
    assert verdict_with_evidence(repo, keys, "--commit", commit)[0] == 0
    record = json.loads(repo.out("notes", "--ref", NOTES, "show", commit))
    if tamper == "sha256":
        record["evidence_refs"][0]["sha256"] = "0" * 64
    elif tamper == "ref":
        record["evidence_refs"][1]["ref"] = "https://ci.example.com/run/8"
    elif tamper == "evidence":
        record["evidence"] = "pytest: 300 passed"
    elif tamper == "session":
        record["session"] = "another-run"
    else:
        del record["evidence_refs"]
    repo.git("notes", "--ref", NOTES, "add", "-f", "-m", json.dumps(record), commit)
    code, out = check(repo, commit)
    assert code == 1 and "verdict-signature-invalid" in out, out


def test_trailers_carry_them_too_as_git_reads_them(judged: tuple, keys: dict[str, Path]) -> None:
    repo, _ = judged
    repo.stage("c.py", "c = 2\n")
    message = agent_message("More work", "Learning: c holds the two")
    path = repo.message_file(message)
    code, out = verdict_with_evidence(repo, keys, "--message-file", str(path), "--no-record")
    assert code == 0, out
    parsed = repo.git("interpret-trailers", "--parse", str(path)).stdout.decode().splitlines()
    assert any(line.startswith("Verdict: PASS") and line.endswith(" session=judge-run-42") for line in parsed)
    assert "Verdict-Evidence: pytest: 3 passed" in parsed
    assert any(line.startswith("Verdict-Evidence: kind=test-log ref=build/pytest.log sha256=")
               for line in parsed)
    assert "Verdict-Evidence: kind=ci-run ref=https://ci.example.com/run/7" in parsed
    repo.git("commit", "-q", "--no-verify", "--cleanup=strip", "-F", str(path))
    assert check(repo, repo.head())[0] == 0
    edited = path.read_text().replace("run/7", "run/8")
    repo.git("commit", "-q", "--amend", "--no-verify", "--cleanup=strip", "-m", edited)
    code, out = check(repo, repo.head())
    assert code == 1 and "verdict-signature-invalid" in out, out


@pytest.mark.parametrize(("ref", "says"), [
    ("no-equals-sign", "is not KIND=REF"),
    ("test-log=build/missing.log", "neither a file here nor a URL"),
    ("Test Log=build/pytest.log", "evidence kind"),
])
def test_a_bad_reference_is_one_line_exit_2_and_writes_nothing(
    judged: tuple, keys: dict[str, Path], ref: str, says: str,
) -> None:
    repo, commit = judged
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", commit,
                             "--evidence-ref", ref)
    assert code == 2, out
    assert says in out and "Traceback" not in out
    assert repo.git("rev-parse", "-q", "--verify", NOTES, check=False).returncode != 0
