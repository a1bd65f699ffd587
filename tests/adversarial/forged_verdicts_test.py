"""A standing adversarial suite: every known way to forge an admission is refused.

Each test plays one trick an agent could use to get its change admitted
without an independent judge's PASS, in a real git repository, and asserts
the trick is refused by the rule whose id names it. If the protection were
removed, the test would fail. Many tricks are also covered where their
feature is tested; this file keeps them together, as a list of attacks.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from agentops_hooks import gates
from agentops_hooks.evidence import signatures
from agentops_hooks.authorship import Identity
from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.commands import cli
from agentops_hooks.config import Config
from agentops_hooks.git import Repo
from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import bare_server
from conftest import run_hook
from conftest import signer_line

SIGNERS = ".agentops/allowed_signers"
SIGNED_POLICY = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'
SCISSORS = "# ------------------------ >8 ------------------------"


# --- helpers --------------------------------------------------------------------

def staged_patch_id() -> str:
    return StagedChange.from_message_file(Repo(), None).patch_id


def verdict(status: str = "PASS", judge: str = JUDGE, patch: str | None = None) -> str:
    return f'Verdict: {status} judge="{judge}" patch={patch or staged_patch_id()}'


def gate(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str], name: str = "verdict",
         ) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", name)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def committed_rules(rev: str = "HEAD", config: Config | None = None, names: tuple[str, ...] = ("verdict",),
                    ) -> list[str]:
    """The rule ids of the committed change's findings (the `agentops check --range` view)."""
    change = CommitChange.load(Repo(), rev)
    return [f.rule for f in gates.run(gates.Context(change, config or Config()), list(names))]


def git_trailer_keys(repo: GitRepo, message: str) -> list[str]:
    """The trailer keys git itself reads from a message (`git interpret-trailers --parse`)."""
    out = repo.git("interpret-trailers", "--parse", input=message.encode()).stdout.decode()
    return [line.split(":", 1)[0] for line in out.splitlines() if line.strip()]


@pytest.fixture
def change(repo: GitRepo) -> GitRepo:
    """A base commit by a human, and a staged agent change on top of it."""
    repo.stage("app.py", "print('v1')\n")
    repo.commit("base")
    repo.stage("app.py", "print('v2')\n")
    return repo


# --- who judges ----------------------------------------------------------------------

@pytest.mark.parametrize("judge", [
    pytest.param("Hana Human <hana@example.com>", id="author-judges-own-change"),
    pytest.param("Claude <noreply@anthropic.com>", id="co-author-judges"),
    pytest.param("A Friend <friend@example.com>", id="human-co-author-judges"),
    pytest.param("Hana <HANA@Example.COM>", id="author-email-other-case"),
    pytest.param("Hana <hana+review@example.com>", id="author-email-plus-tag"),
    pytest.param("Hana <Hana+Judge@EXAMPLE.com>", id="author-email-case-and-plus-tag"),
])
def test_self_judged_verdict_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str], judge: str) -> None:
    message = agent_message("Add", "Co-authored-by: A Friend <friend@example.com>", verdict(judge=judge))
    code, out = gate(change, message, capsys)
    assert code == 1, out
    assert "[VII Validate Externally] verdict: verdict-self-judged" in out
    # The committed form is refused the same way.
    change.commit(message, "--no-verify")
    assert committed_rules() == ["verdict-self-judged"]


def test_committer_judging_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The author is someone else; Hana commits, and judges what she commits."""
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Ada Agent")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "ada@example.com")
    message = agent_message("Add", verdict(judge="Hana Human <hana@example.com>"))
    code, out = gate(change, message, capsys)
    assert code == 1, out
    assert "verdict: verdict-self-judged" in out
    change.commit(message, "--no-verify", env={"GIT_AUTHOR_NAME": "Ada Agent",
                                               "GIT_AUTHOR_EMAIL": "ada@example.com"})
    assert CommitChange.load(Repo(), "HEAD").author.email == "ada@example.com"  # type: ignore[union-attr]
    assert committed_rules() == ["verdict-self-judged"]


LOOKALIKE = "h\u0430na@example.com"  # Cyrillic small a (U+0430) in place of the Latin a


@pytest.mark.parametrize("lookalike", [
    LOOKALIKE,
    "hana@ex\u0430mple.com",            # Cyrillic a in the domain
    "h\u00e1na@example.com",            # an accented a
    "HANA@EXAMPLE.COM",
])
def test_lookalike_judge_email_is_refused(
    change: GitRepo, capsys: pytest.CaptureFixture[str], lookalike: str,
) -> None:
    code, out = gate(change, agent_message("Add", verdict(judge=f"Hana <{lookalike}>")), capsys)
    assert code == 1, out
    assert "verdict-self-judged" in out


# --- which change the verdict is bound to ------------------------------------------

def test_verdict_for_another_patch_is_refused(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    judged = staged_patch_id()
    change.stage("app.py", "print('v2, and something the judge never saw')\n")
    assert staged_patch_id() != judged
    code, out = gate(change, agent_message("Add", verdict(patch=judged)), capsys)
    assert code == 1, out
    assert "verdict: verdict-wrong-patch" in out
    assert judged in out and staged_patch_id() in out


def test_verdict_trailer_copied_from_an_earlier_commit_is_refused(
    change: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    line = verdict()
    change.commit(agent_message("First, judged", line))
    assert committed_rules() == []  # the verdict is good where it was given
    change.stage("other.py", "evil = True\n")
    message = agent_message("Second, not judged", line)  # the same trailer, pasted
    code, out = gate(change, message, capsys)
    assert code == 1, out
    assert "verdict: verdict-wrong-patch" in out
    change.commit(message, "--no-verify")
    assert committed_rules() == ["verdict-wrong-patch"]


def test_verdict_note_copied_from_an_earlier_commit_is_refused(change: GitRepo) -> None:
    change.commit(agent_message("First"), "--no-verify")
    code, out = invoke("verdict", "pass", "--judge", JUDGE, "--commit", "HEAD")
    assert code == 0, out
    first = change.head()
    change.stage("other.py", "evil = True\n")
    change.commit(agent_message("Second"), "--no-verify")
    change.git("notes", "--ref=agentops/verdicts", "copy", first, "HEAD")
    assert "PASS" in change.out("notes", "--ref=agentops/verdicts", "show", "HEAD")
    assert committed_rules() == ["verdict-wrong-patch"]
    code, out = invoke("check")
    assert code == 1
    assert "verdict-wrong-patch" in out


def test_verdict_made_before_an_amend_that_changed_the_content_is_refused(change: GitRepo) -> None:
    judged = staged_patch_id()
    change.commit(agent_message("Add", verdict()))
    assert committed_rules() == []
    change.stage("app.py", "print('v2, amended after judging')\n")
    change.git("commit", "-q", "--amend", "--no-edit", "--no-verify")
    assert f"patch={judged}" in change.out("log", "-1", "--format=%B")  # the old verdict rode along
    assert CommitChange.load(Repo(), "HEAD").patch_id != judged
    assert committed_rules() == ["verdict-wrong-patch"]
    code, out = invoke("check")
    assert code == 1
    assert "verdict: verdict-wrong-patch" in out


# --- where the Verdict line sits --------------------------------------------------

@pytest.mark.parametrize("template", [
    pytest.param("Add\n\n{v}\n\nSome more prose.\n\n" + CLAUDE_TRAILER + "\n", id="in-the-body"),
    pytest.param("Add\n\n" + CLAUDE_TRAILER + "\n---\n{v}\n", id="after-divider"),
    pytest.param("Add\n\n" + CLAUDE_TRAILER + "\n# {v}\n", id="in-a-comment"),
    pytest.param("Add\n\n" + CLAUDE_TRAILER + "\n" + SCISSORS + "\n{v}\n", id="under-scissors"),
])
def test_verdict_outside_the_trailer_block_is_refused(
    change: GitRepo, capsys: pytest.CaptureFixture[str], template: str,
) -> None:
    message = template.format(v=verdict())
    assert "Verdict" not in git_trailer_keys(change, message)  # git does not read it as a trailer either
    code, out = gate(change, message, capsys)
    assert code == 1, out
    assert "verdict: verdict-missing" in out


def test_pass_and_fail_trailers_together_are_refused(change: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    message = agent_message("Add", verdict("PASS"), verdict("FAIL", "Other Judge <other@example.com>"))
    code, out = gate(change, message, capsys)
    assert code == 1, out
    assert "verdict: verdict-conflict" in out
    assert "verdict-not-pass" in out


def test_lower_case_verdict_trailer_is_a_trailer_as_git_reads_it(
    change: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    """Not a refusal: git reads `verdict: pass` as a trailer, and so does the gate."""
    line = verdict("pass").replace("Verdict:", "verdict:")
    message = agent_message("Add", line)
    assert "verdict" in git_trailer_keys(change, message)
    code, out = gate(change, message, capsys)
    assert code == 0, out
    # ...and it is read, not ignored: the same line by the author is refused.
    self_judged = agent_message("Add", line.replace(JUDGE, "Hana <hana@example.com>"))
    code, out = gate(change, self_judged, capsys)
    assert code == 1
    assert "verdict-self-judged" in out


# --- signatures ----------------------------------------------------------------------

@pytest.fixture
def signed(repo: GitRepo, keys: dict[str, Path]) -> GitRepo:
    """Policy: verdicts must be signed by a key in the allowed-signers file (Riley's only)."""
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", SIGNED_POLICY)
    repo.commit("policy: signed verdicts")
    repo.stage("app.py", "x = 1\n")
    return repo


def sign(key: Path, status: str = "PASS", patch: str | None = None, namespace: str | None = None,
         tmp: Path | None = None) -> str:
    judge = Identity.parse(JUDGE)
    assert judge is not None
    data = signatures.payload(status, judge, patch or staged_patch_id())
    if namespace is None:
        return signatures.sign(data, key)
    assert tmp is not None
    (tmp / "payload").write_bytes(data)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-n", namespace, "-f", str(key), str(tmp / "payload")],
                   check=True, capture_output=True)
    armored = (tmp / "payload.sig").read_text().splitlines()
    return "".join(line for line in armored if not line.startswith("-----"))


def signed_message(signature: str) -> str:
    return agent_message("Add", verdict(), f"Verdict-Signature: {signature}")


def test_properly_signed_verdict_passes(signed: GitRepo, keys: dict[str, Path],
                                        capsys: pytest.CaptureFixture[str]) -> None:
    """The control: without it, every refusal below could be an accident."""
    code, out = gate(signed, signed_message(sign(keys["riley"])), capsys)
    assert code == 0, out


def test_valid_signature_over_another_payload_is_refused(
    signed: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    for signature in (sign(keys["riley"], status="FAIL"),        # the judge signed a FAIL
                      sign(keys["riley"], patch="ab" * 20)):     # ...or another patch
        code, out = gate(signed, signed_message(signature), capsys)
        assert code == 1, out
        assert "verdict: verdict-signature-invalid" in out


def test_signature_in_another_namespace_is_refused(
    signed: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str], tmp_path: Path,
) -> None:
    """A real signature by the listed key, made for git commits (namespace "git"), not verdicts."""
    code, out = gate(signed, signed_message(sign(keys["riley"], namespace="git", tmp=tmp_path)), capsys)
    assert code == 1, out
    assert "verdict: verdict-signature-invalid" in out


def test_signature_by_a_key_not_in_allowed_signers_is_refused(
    signed: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = gate(signed, signed_message(sign(keys["agent"])), capsys)
    assert code == 1, out
    assert "verdict: verdict-signature-invalid" in out


def test_signature_by_a_key_the_change_adds_to_allowed_signers_is_refused(
    signed: GitRepo, keys: dict[str, Path], capsys: pytest.CaptureFixture[str],
) -> None:
    signed.stage(SIGNERS, signer_line("riley@example.com", keys["riley"])
                 + signer_line("riley@example.com", keys["agent"]))
    message = signed_message(sign(keys["agent"]))
    code, out = gate(signed, message, capsys)
    assert code == 1, out
    assert "verdict: verdict-signature-invalid" in out
    # Gate IV refuses the edit to the signers file itself, too.
    code, out = gate(signed, message, capsys, "privilege")
    assert code == 1, out
    assert "privilege: privilege-protected-path" in out
    assert f"{SIGNERS} (modified)" in out


# --- the notes ledger -----------------------------------------------------------------

def hide_the_fail(repo: GitRepo) -> None:
    """Rewrite the verdict note on HEAD with its FAIL line dropped (a new notes commit)."""
    kept = [line for line in repo.out("notes", "--ref=agentops/verdicts", "show", "HEAD").splitlines()
            if '"FAIL"' not in line]
    repo.git("notes", "--ref=agentops/verdicts", "add", "-f", "-m", "\n".join(kept) or "{}", "HEAD")


def test_notes_rewritten_to_delete_a_fail_are_caught_by_verify(repo: GitRepo) -> None:
    repo.stage("a.py", "a = 1\n")
    repo.commit(agent_message("Agent work"), "--no-verify")
    assert invoke("verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")[0] == 0
    assert invoke("verdict", "pass", "--judge", "Other Judge <other@example.com>", "--commit", "HEAD")[0] == 0
    assert invoke("check")[1].count("verdict: verdict-conflict\n") == 1
    hide_the_fail(repo)
    assert invoke("check")[0] == 0  # the forgery works on the gate alone...
    code, out = invoke("notes", "verify")
    assert code == 1  # ...and the ledger check names it
    assert "removed or changed 1 line(s)" in out and "FAIL" in out


def test_notes_rewritten_to_delete_a_fail_are_refused_by_the_server(repo: GitRepo, tmp_path: Path) -> None:
    bare = bare_server(repo, tmp_path)
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    assert invoke("verdict", "fail", "--judge", JUDGE, "--commit", "HEAD")[0] == 0
    proc = repo.git("push", "origin", "main", "refs/notes/agentops/verdicts", check=False)
    assert proc.returncode == 0, proc.stderr.decode()
    ledger = repo.out("rev-parse", "refs/notes/agentops/verdicts")

    # A rewrite: the ledger's history replaced by one commit without the FAIL, force-pushed.
    hide_the_fail(repo)
    orphan = repo.out("commit-tree", "-m", "rewrite", repo.out("rev-parse", "refs/notes/agentops/verdicts^{tree}"))
    repo.git("update-ref", "refs/notes/agentops/verdicts", orphan)
    proc = repo.git("push", "--force", "origin", "refs/notes/agentops/verdicts", check=False)
    out = proc.stderr.decode()
    assert proc.returncode != 0, out
    assert "pre-receive hook declined" in out and "rewriting the ledger is refused" in out

    # An append that removes the line, pushed as a fast-forward.
    repo.git("update-ref", "refs/notes/agentops/verdicts", ledger)
    hide_the_fail(repo)
    proc = repo.git("push", "origin", "refs/notes/agentops/verdicts", check=False)
    out = proc.stderr.decode()
    assert proc.returncode != 0, out
    assert "removed or changed 1 line(s)" in out
    remote_tip = subprocess.run(["git", "rev-parse", "refs/notes/agentops/verdicts"], cwd=bare,
                                capture_output=True, text=True, check=True).stdout.strip()
    assert remote_tip == ledger


# --- the ratchet and its config --------------------------------------------------------

METRIC = '[ratchet.metrics.n]\nfile = "n.txt"\nformat = "number"\ndirection = "higher"\n'
HUMAN_JUDGES = '[privilege]\nhuman_judges = ["Hugo Human <hugo@example.com>"]\n'


@pytest.fixture
def ratcheted(repo: GitRepo) -> GitRepo:
    """A metric `n` = 5 with a recorded baseline, the policy committed by a human."""
    repo.stage(".agentops.toml", HUMAN_JUDGES + METRIC)
    repo.stage("n.txt", "5\n")
    repo.commit("base")
    code, out = invoke("ratchet", "record")
    assert code == 0, out
    return repo


def test_deleting_the_metric_config_to_escape_the_ratchet_is_refused(
    ratcheted: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    ratcheted.stage("n.txt", "3\n")
    code, out = gate(ratcheted, agent_message("Lower n"), capsys, "ratchet")
    assert code == 1 and "ratchet-regressed" in out  # the honest regression is caught...
    ratcheted.stage(".agentops.toml", HUMAN_JUDGES)  # ...so the agent drops the metric
    code, out = gate(ratcheted, agent_message("Lower n, tidy config"), capsys, "ratchet")
    assert code == 1 and "ratchet-regressed" in out, out  # HEAD's policy still has the metric...
    message = agent_message("Lower n, tidy config", verdict())
    code, out = gate(ratcheted, message, capsys, "privilege")
    assert code == 1, out  # ...but gate IV refuses the policy edit, even with a gate VII PASS
    assert "[IV Enforce Least Privilege] privilege: privilege-protected-path" in out
    assert ".agentops.toml (modified)" in out
    ratcheted.commit(message, "--no-verify")
    policy = Config()  # the protected paths are the default ones
    assert committed_rules(config=policy, names=("privilege",)) == ["privilege-protected-path"]


@pytest.mark.parametrize("trailer", [
    pytest.param("Ratchet-Reversal: n:", id="empty-reason"),
    pytest.param("Ratchet-Reversal: n:    ", id="blank-reason"),
    pytest.param("Ratchet-Reversal: n", id="no-reason-no-colon"),
])
def test_reversal_without_a_reason_is_refused(
    ratcheted: GitRepo, capsys: pytest.CaptureFixture[str], trailer: str,
) -> None:
    ratcheted.stage("n.txt", "3\n")
    code, out = gate(ratcheted, f"Lower n\n\n{trailer}\n", capsys, "ratchet")
    assert code == 1, out
    assert "[VIII Lock Progress Forward] ratchet: ratchet-reversal-refused" in out
    assert "ratchet-regressed" in out  # and the regression still stands
    code, out = gate(ratcheted, "Lower n\n\nRatchet-Reversal: n: one case moved to the slow suite\n",
                     capsys, "ratchet")
    assert code == 0, out  # the control: with a reason, the reversal counts
