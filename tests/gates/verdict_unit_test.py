"""Gate VII read directly: each function on small inputs built from the package's own
types (a Change whose patch-id is given, a Config, verdict notes as records), every
finding word for word. Signatures are real ones (ssh-keygen)."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from agentops_hooks.authorship import Identity
from agentops_hooks.change import Change
from agentops_hooks.config import Config
from agentops_hooks.config import JudgeConfig
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import signatures
from agentops_hooks.evidence import verdicts
from agentops_hooks.evidence.notes import StoredVerdict
from agentops_hooks.evidence.notes import VerdictIndex
from agentops_hooks.evidence.notes import VerdictRecord
from agentops_hooks.findings import Finding
from agentops_hooks.gates import Context
from agentops_hooks.gates import Evidence
from agentops_hooks.gates import MergeAdds
from agentops_hooks.gates import verdict as gate
from agentops_hooks.gates.verdict import Candidate
from agentops_hooks.gates.verdict import VerdictConfig
from agentops_hooks.git import Repo
from conftest import CLAUDE_TRAILER
from conftest import GitRepo
from conftest import signer_line

P1 = "1" * 40
P2 = "2" * 40
P3 = "3" * 40
C1 = "c" * 40
T1 = "a" * 40
T2 = "b" * 40
HANA = Identity("Hana Human", "hana@example.com")
CARL = Identity("Carl Committer", "carl@example.com")
RILEY = Identity("Riley Reviewer", "riley@example.com")
BOT = Identity("Judge Bot", "bot@judges.example.com")

STAGED_ASK = ("last, as the verdict binds the staged change and any later staging (git add, "
              "agentops learn) voids it: {} (no agent grades its own work); the judge runs: "
              "agentops verdict pass --sign --staged; then git commit again")
COMMIT_ASK = ("{} (no agent grades its own work); the judge runs: agentops verdict pass --sign "
              "--commit cccccccccccc; then agentops check --commit cccccccccccc")


class Made(Change):
    """A change whose patch-id is given, and what differs since a tree (None: the tree
    is not in this clone)."""

    def __init__(self, repo: Repo, message: str = "Add\n", *, commit: str | None = None,
                 patch_id: str = P1, author: Identity | None = HANA,
                 committer: Identity | None = HANA, base: str | None = None,
                 since: Mapping[str, list[str] | None] | None = None) -> None:
        super().__init__(repo, message.encode(), author, committer, base,
                         None if commit else {}, commit)
        self.__dict__["patch_id"] = patch_id
        self.since = dict(since or {})
        self.asked: list[str] = []

    def paths_since(self, tree: str) -> list[str]:
        self.asked.append(tree)
        found = self.since.get(tree)
        if found is None:
            raise FatalError(f"{tree} is not in this clone")
        return found


@pytest.fixture
def git(repo: GitRepo) -> Repo:
    return Repo(repo.root)


def agent(text: str = "Add", *trailers: str) -> str:
    return "\n".join([text, "", CLAUDE_TRAILER, *trailers]) + "\n"


def trailer(status: str = "PASS", judge: Identity = RILEY, patch: str = P1) -> str:
    return f'Verdict: {status} judge="{judge}" patch={patch}'


def record(status: str = "PASS", judge: str = str(RILEY), patch: str = P1, **more: Any) -> VerdictRecord:
    return VerdictRecord(v=1, status=status, judge=judge, patch_id=patch,  # type: ignore[arg-type]
                         recorded_at="2026-11-21T10:00:00Z", source="note", **more)


def context(change: Change, *sections: Any, notes: list[StoredVerdict] | None = None,
            judge: JudgeConfig = JudgeConfig(), range_changes: tuple[Change, ...] = (),
            merge_adds: MergeAdds | None = None, evidence: Evidence | None = None) -> Context:
    store = evidence or Evidence(change.repo)
    if notes is not None:
        store.verdicts_tip = T2
        store.__dict__["verdicts"] = VerdictIndex(notes, [])
    return Context(change, Config(sections=sections, judge=judge), store,
                   range_changes=range_changes, merge_adds=merge_adds)


def offered(verdict: verdicts.Verdict, signature: str | None = None, where: str = "trailer") -> Candidate:
    return Candidate(verdict, signature, where)


# --- the section ----------------------------------------------------------------------

def test_the_gate_names_itself() -> None:
    """Factor VII, gate verdict, run at select; its settings are VerdictConfig."""
    assert (gate.FACTOR, gate.GATE, gate.PHASE) == ("VII", "verdict", "select")
    assert gate.SETTINGS is VerdictConfig


def test_defaults() -> None:
    """By default agents' changes need a verdict, refusing, from anyone, unsigned."""
    assert tuple(VerdictConfig()) == ("agents", "error", (), (), False, None, False)


@pytest.mark.parametrize(("require", "signers", "problems"), [
    (True, None, [("require_signature", "needs verdict.allowed_signers (a tracked allowed-signers file)")]),
    (True, "", [("require_signature", "needs verdict.allowed_signers (a tracked allowed-signers file)")]),
    (True, "signers", []),
    (False, None, []),
])
def test_problems(require: bool, signers: str | None, problems: list[tuple[str, str]]) -> None:
    """Requiring signatures needs an allowed-signers file to check them against."""
    config = VerdictConfig(require_signature=require, allowed_signers=signers)
    assert list(config.problems()) == problems


# --- small pieces ------------------------------------------------------------------------

def test_finding_is_gate_seven_about_the_commit(git: Repo) -> None:
    assert gate._finding(Made(git, commit=C1), "r", "m", "f") == Finding("VII", "verdict", "r", "m", "f", C1)
    assert gate._finding(Made(git), "r", "m", "f").commit is None


def test_ask_a_staged_change(git: Repo) -> None:
    """A staged change is told to ask last: later staging voids the verdict."""
    change = Made(git)
    assert gate._ask(change) == STAGED_ASK.format("ask an independent judge to review it")
    assert gate._ask(change, "do this") == STAGED_ASK.format("do this")


def test_ask_a_commit(git: Repo) -> None:
    change = Made(git, commit=C1)
    assert gate._ask(change) == COMMIT_ASK.format("ask an independent judge to review it")
    assert gate._ask(change, "do that") == COMMIT_ASK.format("do that")


@pytest.mark.parametrize(("identities", "aliases", "keys"), [
    ([HANA], (), {"hana@example.com"}),
    ([Identity("H", "HANA+x@Example.COM"), None, Identity("No Mail", "")], (), {"hana@example.com"}),
    ([HANA, CARL], (), {"hana@example.com", "carl@example.com"}),
    ([HANA], (("Hana@Work.example", "hana@example.com"), ("x@example.com", "y@example.com")),
     {"hana@example.com", "hana@work.example"}),
    ([HANA], (("x@example.com", "y@example.com"),), {"hana@example.com"}),
    ([], (("x@example.com",),), set()),
])
def test_person_keys(identities: list[Identity | None], aliases: tuple[tuple[str, ...], ...],
                     keys: set[str]) -> None:
    """Everyone who made the change, as email keys, with each alias group of theirs."""
    assert gate._person_keys(identities, VerdictConfig(aliases=aliases)) == keys


def test_person_keys_follow_aliases_found_by_an_earlier_group() -> None:
    config = VerdictConfig(aliases=(("hana@example.com", "h2@example.com"), ("h2@example.com", "h3@example.com")))
    assert gate._person_keys([HANA], config) == {"hana@example.com", "h2@example.com", "h3@example.com"}


@pytest.mark.parametrize(("judges", "judge", "allowed"), [
    ((), RILEY, True),
    (("Riley Reviewer <riley@example.com>",), RILEY, True),
    (("Someone Else <RILEY@example.com>",), RILEY, True),
    (("riley@example.com",), Identity("R", "Riley+x@Example.com"), True),
    (("*@review.example.com",), Identity("A", "ann@review.example.com"), True),
    (("*@review.example.com",), RILEY, False),
    (("ann@example.com", "riley@example.com"), RILEY, True),
    (("ann@example.com", "bob@example.com"), RILEY, False),
    (("*",), RILEY, True),
    (("riley",), RILEY, False),
])
def test_judge_allowed(judges: tuple[str, ...], judge: Identity, allowed: bool) -> None:
    """A judge is allowed when `verdict.judges` is empty or one entry's email (a glob) matches."""
    assert gate.judge_allowed(judge, VerdictConfig(judges=judges)) is allowed


@pytest.mark.parametrize(("patch", "covers", "bound"), [
    (P1, (), True), (P2, (P3, P1), True), (P2, (P3,), False), (P2, (), False),
])
def test_binds(git: Repo, patch: str, covers: tuple[str, ...], bound: bool) -> None:
    v = verdicts.Verdict("PASS", RILEY, patch, covers)
    assert gate.binds(v, Made(git, patch_id=P1)) is bound


def test_same_verdict() -> None:
    """Status, judge (as one person), patch and signature say a verdict is the same one."""
    c = offered(verdicts.Verdict("PASS", Identity("R", "Riley+x@Example.com"), P1), "sig")
    assert gate._same_verdict(c) == ("PASS", "riley@example.com", P1, "sig")
    assert gate._same_verdict(offered(verdicts.Verdict("FAIL", RILEY, P2))) == ("FAIL", "riley@example.com", P2, None)


def test_outside_range(git: Repo) -> None:
    """A PR-level verdict lacks the covered patches not among the commits checked together."""
    change = Made(git, patch_id=P1)
    pr = verdicts.Verdict("PASS", RILEY, P3, (P1, P2))
    assert gate._outside_range(pr, change, context(change)) == [P2]
    others = (change, Made(git, patch_id=P2))
    assert gate._outside_range(pr, change, context(change, range_changes=others)) == []
    assert gate._outside_range(pr, change, context(change, range_changes=(Made(git, patch_id=P3),))) == [P1, P2]
    own = verdicts.Verdict("PASS", RILEY, P1, (P2, P3))
    assert gate._outside_range(own, change, context(change)) == []


# --- what the verdict was edited since -------------------------------------------------

def test_edited_since_names_the_paths(git: Repo) -> None:
    change = Made(git, since={T1: ["a.py", "b.py"]})
    v = verdicts.Verdict("PASS", RILEY, P2)
    ctx = context(change, notes=[StoredVerdict(record(patch=P2), T1)])
    assert gate._edited_since(v, change, ctx) == f"a.py, b.py changed since the judge saw it as {T1[:12]}"


@pytest.mark.parametrize(("count", "shown"), [
    (8, "p0, p1, p2, p3, p4, p5, p6, p7"),
    (9, "p0, p1, p2, p3, p4, p5, p6, p7 and 1 more"),
    (11, "p0, p1, p2, p3, p4, p5, p6, p7 and 3 more"),
])
def test_edited_since_shows_eight_paths(git: Repo, count: int, shown: str) -> None:
    change = Made(git, since={T1: [f"p{i}" for i in range(count)]})
    ctx = context(change, notes=[StoredVerdict(record(patch=P2), T1)])
    assert gate._edited_since(verdicts.Verdict("PASS", RILEY, P2), change, ctx) == \
        f"{shown} changed since the judge saw it as aaaaaaaaaaaa"


def test_edited_since_skips_trees_not_here_and_unchanged(git: Repo) -> None:
    """A judged tree missing from the clone, or one with no change since, says nothing;
    the next record's tree is asked."""
    t0 = "d" * 40
    change = Made(git, since={T1: [], T2: ["x.py"]})
    notes = [StoredVerdict(record(patch=P2), t0), StoredVerdict(record(patch=P2), T1),
             StoredVerdict(record(patch=P2), T2), StoredVerdict(record(patch=P3), "e" * 40)]
    ctx = context(change, notes=notes)
    assert gate._edited_since(verdicts.Verdict("PASS", RILEY, P2), change, ctx) == \
        "x.py changed since the judge saw it as bbbbbbbbbbbb"
    assert change.asked == [t0, T1, T2]


def test_edited_since_says_nothing(git: Repo) -> None:
    """Not for a commit, not without notes, not for a patch no note names."""
    v = verdicts.Verdict("PASS", RILEY, P2)
    notes = [StoredVerdict(record(patch=P2), T1)]
    commit = Made(git, commit=C1, since={T1: ["a.py"]})
    assert gate._edited_since(v, commit, context(commit, notes=notes)) == ""
    assert commit.asked == []
    staged = Made(git, since={T1: ["a.py"]})
    assert gate._edited_since(v, staged, context(staged)) == ""
    assert gate._edited_since(v._replace(patch_id=P3), staged, context(staged, notes=notes)) == ""
    assert staged.asked == []


# --- candidates ------------------------------------------------------------------------

def test_candidates_from_trailers(git: Repo) -> None:
    """Each Verdict trailer with its evidence, references and signature."""
    ref = "kind=log ref=ci/run.txt"
    change = Made(git, agent("Add", trailer(), "Verdict-Evidence: tests pass", f"Verdict-Evidence: {ref}",
                             "Verdict-Signature: c2ln", trailer("FAIL", CARL, P2)))
    found, malformed = gate.candidates(change, context(change))
    assert malformed == []
    assert found == [
        Candidate(verdicts.Verdict("PASS", RILEY, P1, evidence="tests pass",
                                   refs=(verdicts.evidence_ref(ref),)), "c2ln", "trailer"),  # type: ignore[arg-type]
        Candidate(verdicts.Verdict("FAIL", CARL, P2), None, "trailer"),
    ]


@pytest.mark.parametrize("commit", [None, C1])
def test_malformed_trailer(git: Repo, commit: str | None) -> None:
    change = Made(git, agent("Add", "Verdict: MAYBE judge=x", trailer()), commit=commit)
    found, malformed = gate.candidates(change, context(change))
    assert [c.verdict for c in found] == [verdicts.Verdict("PASS", RILEY, P1)]
    ask = (STAGED_ASK if commit is None else COMMIT_ASK).format(
        "drop the malformed Verdict trailer and ask an independent judge to review it")
    assert malformed == [Finding(
        "VII", "verdict", "verdict-malformed",
        "cannot read `Verdict: MAYBE judge=x`: status 'MAYBE' is not one of PASS, FAIL, NOT_PROVEN.",
        ask, commit)]


def test_candidates_from_notes(git: Repo) -> None:
    """A note's record becomes a verdict with all it holds; where names the note (and the
    range of a PR-level one); an untrusted judge is skipped."""
    ref = verdicts.evidence_ref("kind=log ref=ci/run.txt")
    full = record("FAIL", "Carl Committer <carl@example.com>", P1, covers=(P1, P2), range="x..y",
                  evidence="tried", evidence_refs=(ref,), session="s1", signature="c2ln")
    notes = [StoredVerdict(record(judge="nobody"), T2),
             StoredVerdict(record(judge="Name <>"), T2),
             StoredVerdict(record(), T1),
             StoredVerdict(full, T2)]
    change = Made(git)
    found, malformed = gate.candidates(change, context(change, notes=notes))
    assert malformed == []
    assert found == [
        Candidate(verdicts.Verdict("PASS", RILEY, P1), None, "note on aaaaaaaaaaaa"),
        Candidate(verdicts.Verdict("FAIL", CARL, P1, (P1, P2), "x..y", "tried", (ref,), "s1"),  # type: ignore[arg-type]
                  "c2ln", "note on bbbbbbbbbbbb, PR verdict for x..y"),
    ]
    assert type(found[0].verdict.covers) is tuple and type(found[0].verdict.refs) is tuple
    assert found[0].verdict.runs == ()


def test_candidates_keep_a_notes_judge_runs(git: Repo) -> None:
    """An automated verdict's judge runs come with it (its signature covers them)."""
    run = verdicts.JudgeRun("tests", "check", "PASS", "make test", 0, 1.5, T1, "f" * 64, "ok")
    change = Made(git)
    found, _ = gate.candidates(change, context(change, notes=[StoredVerdict(record(judges=(run,)), T1)]))
    assert [c.verdict.runs for c in found] == [(run,)]


def test_candidates_from_a_note_on_the_commit(git: Repo) -> None:
    """A note on the commit itself is offered even bound to another patch."""
    change = Made(git, commit=C1)
    found, _ = gate.candidates(change, context(change, notes=[StoredVerdict(record(patch=P3), C1)]))
    assert found == [Candidate(verdicts.Verdict("PASS", RILEY, P3), None, "note on cccccccccccc")]


def test_a_verdict_recorded_twice_is_offered_once(git: Repo) -> None:
    """The note copy of a trailer, or the same note on two objects, is one verdict;
    one signed differently, or by another judge, is another."""
    change = Made(git, agent("Add", trailer()))
    notes = [StoredVerdict(record(judge="R <Riley@Example.com>"), T1),
             StoredVerdict(record(signature="c2ln"), T1),
             StoredVerdict(record(signature="c2ln"), T2),
             StoredVerdict(record(judge=str(CARL)), T2)]
    found, _ = gate.candidates(change, context(change, notes=notes))
    assert [(c.verdict.judge, c.signature, c.where) for c in found] == [
        (RILEY, None, "trailer"), (RILEY, "c2ln", "note on aaaaaaaaaaaa"),
        (CARL, None, "note on bbbbbbbbbbbb")]


def test_no_notes_no_note_candidates(git: Repo) -> None:
    """Without the notes ref, the notes are not read."""
    change = Made(git)
    ctx = context(change)
    ctx.store.__dict__["verdicts"] = VerdictIndex([StoredVerdict(record(), T1)], [])
    assert gate.candidates(change, ctx) == ([], [])


# --- signatures ------------------------------------------------------------------------

def test_signs_required(git: Repo) -> None:
    change = Made(git)
    assert gate.signs_required(context(change)) is False
    assert gate.signs_required(context(change, VerdictConfig(require_signature=True))) is True
    ctx = context(change)
    ctx.store.require_signature = True
    assert gate.signs_required(ctx) is True


def test_trusted_signers(repo: GitRepo, git: Repo) -> None:
    """The enforcement point's signers win; else the configured file at the trust base."""
    repo.stage("signers", "riley@example.com ssh-ed25519 AAAA\n")
    repo.commit("base")
    base = repo.head()
    change = Made(git, base=base)
    assert gate.trusted_signers(context(change)) is None
    assert gate.trusted_signers(context(change, VerdictConfig(allowed_signers=""))) is None
    named = VerdictConfig(allowed_signers="signers")
    assert gate.trusted_signers(context(change, named)) == (
        b"riley@example.com ssh-ed25519 AAAA\n", f"signers at {base[:12]}")
    assert gate.trusted_signers(context(Made(git), named)) == (None, "no base commit")
    ctx = context(Made(git), named)
    ctx.store.trust_commit = base
    assert gate.trusted_signers(ctx) == (b"riley@example.com ssh-ed25519 AAAA\n", f"signers at {base[:12]}")
    ctx = context(change, named)
    ctx.store.outside_signers = (b"outside", "--trust file")
    assert gate.trusted_signers(ctx) == (b"outside", "--trust file")


def sign(v: verdicts.Verdict, key: Path) -> str:
    return signatures.sign(signatures.payload(v.status, v.judge, v.patch_id, v.signed_fields()), key)


@pytest.fixture
def signed(keys: dict[str, Path]) -> tuple[verdicts.Verdict, str, bytes]:
    """A PR-level verdict with evidence, signed by riley, and riley's allowed-signers line."""
    v = verdicts.Verdict("PASS", RILEY, P1, (P1, P2), "x..y", "tests pass", session="s1")
    return v, sign(v, keys["riley"]), signer_line("riley@example.com", keys["riley"]).encode()


def outside(change: Change, signers: bytes | None, *sections: Any, **more: Any) -> Context:
    ctx = context(change, *sections, **more)
    if signers is not None:
        ctx.store.outside_signers = (signers, "--trust file")
    return ctx


def test_signature_problem_unsigned(git: Repo) -> None:
    change = Made(git)
    c = offered(verdicts.Verdict("PASS", RILEY, P1))
    assert gate.signature_problem(c, context(change)) is None
    assert gate.signature_problem(c, outside(change, b"x")) is None
    assert gate.signature_problem(c, context(change, VerdictConfig(require_signature=True))) == \
        "it is not signed, and signed verdicts are required here"


def test_signature_problem_without_signers(git: Repo) -> None:
    """A signature with nothing to check it against counts only where none is required."""
    change = Made(git)
    c = offered(verdicts.Verdict("PASS", RILEY, P1), "c2ln")
    assert gate.signature_problem(c, context(change)) is None
    assert gate.signature_problem(c, context(change, VerdictConfig(require_signature=True))) == \
        "no allowed signers are configured to check it against"


def test_signature_problem_good_and_bad(git: Repo, signed: tuple[verdicts.Verdict, str, bytes],
                                        keys: dict[str, Path]) -> None:
    v, signature, signers = signed
    change = Made(git)
    assert gate.signature_problem(offered(v, signature), outside(change, signers)) is None
    ctx = outside(change, signers, VerdictConfig(require_signature=True))
    assert gate.signature_problem(offered(v, signature), ctx) is None
    other = signer_line("riley@example.com", keys["agent"]).encode()
    assert gate.signature_problem(offered(v, signature), outside(change, other)) == (
        "its signature does not verify (signature does not verify for riley@example.com in namespace agentops-verdict;"
        " allowed signers: --trust file)")
    for changed in (v._replace(status="FAIL"), v._replace(judge=Identity("Riley", RILEY.email)),
                    v._replace(patch_id=P3), v._replace(session="s2")):
        assert gate.signature_problem(offered(changed, signature), outside(change, signers)) == (
            "its signature does not verify (signature does not verify for riley@example.com in namespace agentops-verdict (ssh-keygen: Signature verification failed: incorrect signature);"
            " allowed signers: --trust file)")


def test_signature_problem_plain_email(git: Repo, keys: dict[str, Path]) -> None:
    """Only * ? ! and , are pattern characters: a judge named Xena signs like any other."""
    v = verdicts.Verdict("PASS", Identity("Xena X", "XenaX@example.com"), P1)
    signers = signer_line("XenaX@example.com", keys["riley"]).encode()
    assert gate.signature_problem(offered(v, sign(v, keys["riley"])), outside(Made(git), signers)) is None


@pytest.mark.parametrize("ch", "*?!,")
def test_signature_problem_pattern_email(git: Repo, ch: str) -> None:
    """ssh-keygen would read a judge email with a pattern character as a pattern."""
    c = offered(verdicts.Verdict("PASS", Identity("R", f"ri{ch}ley@example.com"), P1), "c2ln")
    assert gate.signature_problem(c, outside(Made(git), b"x")) == "the judge's email holds a pattern character"


# --- the automated judge --------------------------------------------------------------------

AUTOMATED_UNSIGNED = ("it is the automated judge's, which counts only signed and checked against "
                      "verdict.allowed_signers (or the enforcement point's trust root)")


def test_automated_problem_not_the_automated_judge(git: Repo) -> None:
    change = Made(git)
    c = offered(verdicts.Verdict("PASS", RILEY, P1))
    assert gate.automated_problem(c, context(change), "verdict") is None
    assert gate.automated_problem(c, context(change, judge=JudgeConfig(identity=str(BOT))), "verdict") is None
    assert gate.automated_problem(c, context(change, judge=JudgeConfig(identity="nobody")), "verdict") is None


def test_automated_problem(git: Repo, keys: dict[str, Path]) -> None:
    """The automated judge counts only at gates judge.admits names, signed and checked."""
    change = Made(git)
    v = verdicts.Verdict("PASS", Identity("Bot", "BOT+ci@judges.example.com"), P1)
    judge = JudgeConfig(identity=str(BOT))
    unsigned = offered(v)
    assert gate.automated_problem(unsigned, context(change, judge=judge), "verdict") == AUTOMATED_UNSIGNED
    assert gate.automated_problem(unsigned, outside(change, b"x", judge=judge), "verdict") == AUTOMATED_UNSIGNED
    assert gate.automated_problem(offered(v, "c2ln"), context(change, judge=judge), "verdict") == AUTOMATED_UNSIGNED
    assert gate.automated_problem(unsigned, context(change, judge=judge), "privilege") == (
        "it is the automated judge's, and judge.admits does not name gate privilege (a human must judge this)")
    only = JudgeConfig(identity=str(BOT), admits=("privilege",))
    assert gate.automated_problem(unsigned, context(change, judge=only), "verdict") == (
        "it is the automated judge's, and judge.admits does not name gate verdict (a human must judge this)")
    good = sign(v, keys["riley"])
    signers = signer_line("BOT+ci@judges.example.com", keys["riley"]).encode()
    assert gate.automated_problem(offered(v, good), outside(change, signers, judge=judge), "verdict") is None
    assert gate.automated_problem(offered(v._replace(patch_id=P2), good), outside(change, signers, judge=judge),
                                  "verdict") == (
        "its signature does not verify (signature does not verify for BOT+ci@judges.example.com in namespace agentops-verdict (ssh-keygen: Signature verification failed: incorrect signature);"
        " allowed signers: --trust file)")


# --- what a merge adds -----------------------------------------------------------------------

@pytest.mark.parametrize(("adds", "said"), [
    (None, ""),
    (MergeAdds(True, ("a.py",)), ""),
    (MergeAdds(False, (), True),
     "this octopus merge may add changes beyond its parents, and git cannot remerge an octopus to "
     "tell, so it is judged as a whole: "),
    (MergeAdds(False, ()),
     "this merge adds changes beyond its parents (its remerge diff touches no path git names): "
     "what it adds was judged on no branch, so "),
    (MergeAdds(False, ("a.py", "b.py")),
     "this merge adds changes beyond its parents (its remerge diff touches a.py, b.py): "
     "what it adds was judged on no branch, so "),
    (MergeAdds(False, tuple(f"p{i}" for i in range(8))),
     "this merge adds changes beyond its parents (its remerge diff touches p0, p1, p2, p3, p4, p5, p6, p7): "
     "what it adds was judged on no branch, so "),
    (MergeAdds(False, tuple(f"p{i}" for i in range(10))),
     "this merge adds changes beyond its parents (its remerge diff touches p0, p1, p2, p3, p4, p5, p6, p7"
     " and 2 more): what it adds was judged on no branch, so "),
])
def test_merge_adds(git: Repo, adds: MergeAdds | None, said: str) -> None:
    assert gate._merge_adds(context(Made(git), merge_adds=adds)) == said


def test_merge_adds_shown(git: Repo) -> None:
    ctx = context(Made(git), merge_adds=MergeAdds(False, ("a", "b", "c")))
    assert gate._merge_adds(ctx, 1) == ("this merge adds changes beyond its parents (its remerge diff "
                                        "touches a and 2 more): what it adds was judged on no branch, so ")


# --- check ----------------------------------------------------------------------------------

MISSING = ("{}{} needs a PASS verdict from an independent judge, bound to patch {} ({}).")
WHERE = "a `Verdict:` trailer, or a verdict recorded in refs/notes/agentops/verdicts"


def test_human_change_is_not_judged(git: Repo) -> None:
    change = Made(git, "Human change\n")
    assert gate.check(change, context(change)) == []


@pytest.mark.parametrize("commit", [None, C1])
def test_missing_for_an_agent(git: Repo, commit: str | None) -> None:
    change = Made(git, agent(), commit=commit)
    ask = (STAGED_ASK if commit is None else COMMIT_ASK).format("ask an independent judge to review it")
    assert gate.check(change, context(change)) == [Finding(
        "VII", "verdict", "verdict-missing",
        MISSING.format("", "an agent-authored change", P1, WHERE), ask, commit)]


def test_missing_for_everyone(git: Repo) -> None:
    change = Made(git, "Human change\n", patch_id=P2)
    [found] = gate.check(change, context(change, VerdictConfig(required_for="everyone")))
    assert found.message == MISSING.format("", "every change (policy)", P2, WHERE)


def test_missing_for_a_merge(git: Repo) -> None:
    """A merge that adds something needs a verdict on its diff against its first parent."""
    change = Made(git, agent(), commit=C1)
    [found] = gate.check(change, context(change, merge_adds=MergeAdds(False, ("a.py",))))
    assert found.message == MISSING.format(
        "this merge adds changes beyond its parents (its remerge diff touches a.py): what it adds "
        "was judged on no branch, so ", "an agent-authored change", P1,
        f"the merge's diff against its first parent; {WHERE}")
    [clean] = gate.check(change, context(change, merge_adds=MergeAdds(True)))
    assert clean.message == MISSING.format("", "an agent-authored change", P1, WHERE)


def test_malformed_alone(git: Repo) -> None:
    """A malformed trailer is reported, not a missing verdict."""
    change = Made(git, agent("Add", "Verdict: PASS"))
    assert [f.rule for f in gate.check(change, context(change))] == ["verdict-malformed"]


def test_malformed_beside_a_pass_refuses(git: Repo) -> None:
    change = Made(git, agent("Add", "Verdict: PASS", trailer()))
    assert [f.rule for f in gate.check(change, context(change))] == ["verdict-malformed"]


def test_an_independent_pass_admits(git: Repo) -> None:
    change = Made(git, agent("Add", trailer()))
    assert gate.check(change, context(change)) == []


def test_conflict(git: Repo) -> None:
    """Verdicts that disagree refuse, and so does each one that is not a PASS."""
    change = Made(git, agent("Add", trailer(), trailer("FAIL", CARL), trailer("NOT_PROVEN", BOT, P2)),
                  commit=C1)
    assert gate.check(change, context(change)) == [
        Finding("VII", "verdict", "verdict-conflict",
                "the verdicts disagree (FAIL, NOT_PROVEN, PASS); only an unopposed PASS admits a change; "
                "a FAIL recorded for this exact patch stands.",
                COMMIT_ASK.format("change the code (a new patch), drop stale Verdict trailers from the "
                                  "message and ask for a new review"), C1),
        Finding("VII", "verdict", "verdict-not-pass",
                "judge Carl Committer <carl@example.com> gave FAIL (trailer): the change is not admitted.",
                COMMIT_ASK.format("fix what the judge found, then ask for a new review"), C1),
        Finding("VII", "verdict", "verdict-not-pass",
                "judge Judge Bot <bot@judges.example.com> gave NOT_PROVEN (trailer): the change is not admitted.",
                COMMIT_ASK.format("fix what the judge found, then ask for a new review"), C1),
    ]


def test_a_pass_and_a_fail_conflict(git: Repo) -> None:
    change = Made(git, agent("Add", trailer(), trailer("FAIL", CARL)))
    assert gate.check(change, context(change)) == [
        Finding("VII", "verdict", "verdict-conflict",
                "the verdicts disagree (FAIL, PASS); only an unopposed PASS admits a change; "
                "a FAIL recorded for this exact patch stands.",
                STAGED_ASK.format("change the code (a new patch), drop stale Verdict trailers from the "
                                  "message and ask for a new review")),
        Finding("VII", "verdict", "verdict-not-pass",
                "judge Carl Committer <carl@example.com> gave FAIL (trailer): the change is not admitted.",
                STAGED_ASK.format("fix what the judge found, then ask for a new review")),
    ]


def test_one_fail_refuses(git: Repo) -> None:
    change = Made(git, agent("Add", trailer("FAIL")))
    assert gate.check(change, context(change)) == [Finding(
        "VII", "verdict", "verdict-not-pass",
        "judge Riley Reviewer <riley@example.com> gave FAIL (trailer): the change is not admitted.",
        STAGED_ASK.format("fix what the judge found, then ask for a new review"))]


def test_two_fails_agree(git: Repo) -> None:
    change = Made(git, agent("Add", trailer("FAIL"), trailer("FAIL", CARL)))
    assert [f.rule for f in gate.check(change, context(change))] == ["verdict-not-pass", "verdict-not-pass"]


def test_a_note_for_another_patch_neither_conflicts_nor_refuses(git: Repo) -> None:
    """A FAIL noted on the commit for another patch is not about this change; a PASS
    for this one admits it."""
    change = Made(git, agent(), commit=C1)
    notes = [StoredVerdict(record("FAIL", patch=P2), C1), StoredVerdict(record(judge=str(CARL)), T1)]
    assert gate.check(change, context(change, notes=notes)) == []


def test_a_note_covering_the_patch_speaks_about_it(git: Repo) -> None:
    change = Made(git, agent(), commit=C1)
    notes = [StoredVerdict(record("FAIL", patch=P2, covers=(P1, P3)), T1)]
    [found] = gate.check(change, context(change, notes=notes))
    assert found.message == ("judge Riley Reviewer <riley@example.com> gave FAIL (note on aaaaaaaaaaaa): "
                             "the change is not admitted.")


def test_check_reports_why_a_pass_does_not_admit(git: Repo) -> None:
    change = Made(git, agent("Add", trailer(judge=HANA)))
    assert [f.rule for f in gate.check(change, context(change))] == ["verdict-self-judged"]


def test_check_reads_the_gate_section(git: Repo) -> None:
    """The listed judges are the config's: a PASS from another refuses."""
    change = Made(git, agent("Add", trailer()))
    assert [f.rule for f in gate.check(change, context(change, VerdictConfig(judges=("ann@example.com",))))] \
        == ["verdict-judge-not-listed"]


# --- admission --------------------------------------------------------------------------------

@pytest.mark.parametrize("judge", [HANA, CARL, Identity("C", "noreply@anthropic.com"),
                                   Identity("H", "Hana+x@Example.com"), Identity("Alias", "hana@work.example")])
def test_self_judged(git: Repo, judge: Identity) -> None:
    """The author, the committer, a co-author, or an alias of one, cannot judge."""
    change = Made(git, agent(), committer=CARL)
    config = VerdictConfig(aliases=(("hana@work.example", "hana@example.com"),))
    c = offered(verdicts.Verdict("PASS", judge, P1), where="note on x")
    assert gate.admission(change, context(change, config), [c]) == ([Finding(
        "VII", "verdict", "verdict-self-judged",
        f"judge {judge} (note on x) is the author, committer or a co-author of this change: "
        "no agent grades its own work.",
        STAGED_ASK.format("ask someone else to judge it"))], None)


def test_self_judged_without_author(git: Repo) -> None:
    change = Made(git, author=None, committer=None)
    c = offered(verdicts.Verdict("PASS", RILEY, P1))
    assert gate.admission(change, context(change), [c]) == ([], c)


def test_wrong_patch(git: Repo) -> None:
    change = Made(git, commit=C1)
    c = offered(verdicts.Verdict("PASS", RILEY, P2))
    assert gate.admission(change, context(change), [c]) == ([Finding(
        "VII", "verdict", "verdict-wrong-patch",
        f"the verdict of Riley Reviewer <riley@example.com> (trailer) is bound to patch {P2}, but this "
        f"change is patch {P1}: it judged another change, or the change was edited after judging.",
        COMMIT_ASK.format("ask the judge to review the change as it is now"), C1)], None)


def test_wrong_patch_edited_since(git: Repo) -> None:
    """A staged change edited since the judge saw it names what changed."""
    change = Made(git, since={T1: ["app.py"]})
    c = offered(verdicts.Verdict("PASS", RILEY, P2), where="note on aaaaaaaaaaaa")
    found, admitted = gate.admission(change, context(change, notes=[StoredVerdict(record(patch=P2), T1)]), [c])
    assert admitted is None
    assert found == [Finding(
        "VII", "verdict", "verdict-wrong-patch",
        f"the verdict of Riley Reviewer <riley@example.com> (note on aaaaaaaaaaaa) is bound to patch {P2}, "
        f"but this change is patch {P1}: it was edited after judging "
        "(app.py changed since the judge saw it as aaaaaaaaaaaa).",
        STAGED_ASK.format("ask the judge to review the change as it is now"))]


def test_range_incomplete(git: Repo) -> None:
    change = Made(git, commit=C1)
    c = offered(verdicts.Verdict("PASS", RILEY, P3, (P1, P2, "4" * 40)), where="note on y")
    assert gate.admission(change, context(change), [c]) == ([Finding(
        "VII", "verdict", "verdict-range-incomplete",
        "the PR-level verdict of Riley Reviewer <riley@example.com> (note on y) covers 3 commits, and 2 of "
        "them are not among the commits checked with this one: it admits the pull request's commits "
        "together, never a part of them.",
        "land the whole pull request (squash, merge or rebase all of it), or "
        + COMMIT_ASK.format("ask for a verdict on this part"), C1)], None)
    whole = context(change, range_changes=(change, Made(git, patch_id=P2), Made(git, patch_id="4" * 40)))
    assert gate.admission(change, whole, [c]) == ([], c)


def test_judge_not_listed(git: Repo) -> None:
    change = Made(git)
    config = VerdictConfig(judges=("ann@example.com", "*@review.example.com"))
    c = offered(verdicts.Verdict("PASS", RILEY, P1))
    assert gate.admission(change, context(change, config), [c]) == ([Finding(
        "VII", "verdict", "verdict-judge-not-listed",
        "judge Riley Reviewer <riley@example.com> (trailer) is not one of the judges in verdict.judges "
        "(ann@example.com, *@review.example.com).",
        STAGED_ASK.format("ask a judge listed in verdict.judges"))], None)


def test_unsigned(git: Repo) -> None:
    change = Made(git)
    c = offered(verdicts.Verdict("PASS", RILEY, P1))
    assert gate.admission(change, context(change, VerdictConfig(require_signature=True)), [c]) == ([Finding(
        "VII", "verdict", "verdict-unsigned",
        "the verdict of Riley Reviewer <riley@example.com> (trailer) does not count: it is not signed, "
        "and signed verdicts are required here.",
        STAGED_ASK.format("ask the judge to sign with a key the trust root lists"))], None)


def test_signature_invalid(git: Repo, signed: tuple[verdicts.Verdict, str, bytes]) -> None:
    v, signature, signers = signed
    change = Made(git, patch_id=P1)
    c = offered(v._replace(session="s2"), signature)
    ctx = outside(change, signers, range_changes=(change, Made(git, patch_id=P2)))
    assert gate.admission(change, ctx, [c]) == ([Finding(
        "VII", "verdict", "verdict-signature-invalid",
        "the verdict of Riley Reviewer <riley@example.com> (trailer) does not count: its signature does "
        "not verify (signature does not verify for riley@example.com in namespace agentops-verdict (ssh-keygen: Signature verification failed: incorrect signature); allowed signers: --trust file).",
        STAGED_ASK.format("ask the judge to sign with a key the trust root lists"))], None)
    good = offered(v, signature)
    assert gate.admission(change, ctx, [good]) == ([], good)


def test_automated_not_accepted(git: Repo) -> None:
    change = Made(git)
    c = offered(verdicts.Verdict("PASS", BOT, P1))
    ctx = context(change, judge=JudgeConfig(identity=str(BOT)))
    assert gate.admission(change, ctx, [c]) == ([Finding(
        "VII", "verdict", "verdict-automated-not-accepted",
        f"the verdict of Judge Bot <bot@judges.example.com> (trailer) does not count: {AUTOMATED_UNSIGNED}.",
        STAGED_ASK.format("run `agentops judge` with the judge's key, or ask a human"))], None)


def test_the_first_pass_that_admits(git: Repo) -> None:
    """Problems of earlier verdicts are dropped once one admits; each problem is kept otherwise."""
    change = Made(git)
    bad = offered(verdicts.Verdict("PASS", HANA, P1))
    wrong = offered(verdicts.Verdict("PASS", RILEY, P2))
    good = offered(verdicts.Verdict("PASS", CARL, P1))
    also = offered(verdicts.Verdict("PASS", BOT, P1))
    assert gate.admission(change, context(change), [bad, good, also]) == ([], good)
    found, admitted = gate.admission(change, context(change), [bad, wrong])
    assert admitted is None
    assert [f.rule for f in found] == ["verdict-self-judged", "verdict-wrong-patch"]
