"""The Verdict trailer and what goes with it, called directly: reading a trailer value
and each VerdictSyntaxError word for word, evidence references, what a signature
covers, grouping trailers, the task and the worker of a change, and a record's judge
runs with each ValueError word for word.
"""
from __future__ import annotations

import hashlib
from typing import Any

import pytest

from agentops_hooks.authorship import Identity
from agentops_hooks.evidence.verdicts import EvidenceRef
from agentops_hooks.evidence.verdicts import JudgeRun
from agentops_hooks.evidence.verdicts import TrailerVerdict
from agentops_hooks.evidence.verdicts import Verdict
from agentops_hooks.evidence.verdicts import VerdictSyntaxError
from agentops_hooks.evidence.verdicts import evidence_ref
from agentops_hooks.evidence.verdicts import parse
from agentops_hooks.evidence.verdicts import readable_trailers
from agentops_hooks.evidence.verdicts import task_of
from agentops_hooks.evidence.verdicts import verdict_trailers
from agentops_hooks.evidence.verdicts import worker_of

PATCH = "0123456789abcdef0123456789abcdef01234567"
PATCH64 = PATCH + "89abcdef0123456789abcdef"
JUDGE = Identity("Riley Judge", "riley@example.com")
SHA = "ab" * 32
GOOD = f'PASS judge="Riley Judge <riley@example.com>" patch={PATCH}'
FIELDS = "name, kind, status, command, exit_code, duration, tree, output_sha256, output, reason"


# --- parse -------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (GOOD, Verdict("PASS", JUDGE, PATCH)),
    (f"  fail judge=<riley@example.com> patch={PATCH64.upper()}  ",
     Verdict("FAIL", Identity("", "riley@example.com"), PATCH64)),
    (f'not-proven  judge="Riley Judge <riley@example.com>"   patch={PATCH} session=run-7',
     Verdict("NOT_PROVEN", JUDGE, PATCH, session="run-7")),
    (f'Not_Proven judge="Riley Judge <riley@example.com>" patch={PATCH} session=',
     Verdict("NOT_PROVEN", JUDGE, PATCH)),
    # a quoted value may be followed by the next key with no space between
    (f'PASS judge="Riley Judge <riley@example.com>"patch={PATCH}', Verdict("PASS", JUDGE, PATCH)),
    (f'PASS JUDGE="Riley Judge <riley@example.com>" Patch={PATCH}', Verdict("PASS", JUDGE, PATCH)),
])
def test_parse_reads_a_verdict(value: str, expected: Verdict) -> None:
    """Status in any case and spelling, fields in any spacing, the patch-id lower-cased."""
    assert parse(value) == expected


def test_parse_unescapes_a_quoted_judge() -> None:
    """`\\"` and `\\\\` in a quoted judge are a quote and a backslash."""
    verdict = parse(f'PASS judge="Ann \\"Q\\" \\\\ Bee <ann@example.com>" patch={PATCH}')
    assert verdict.judge == Identity('Ann "Q" \\ Bee', "ann@example.com")


@pytest.mark.parametrize(("value", "message"), [
    ("", "the Verdict trailer is empty"),
    ("   ", "the Verdict trailer is empty"),
    (f'MAYBE judge="A <a@example.com>" patch={PATCH}', "status 'MAYBE' is not one of PASS, FAIL, NOT_PROVEN"),
    ('PASS judge="A <a@example.com>" !!!', "cannot read '!!!' (expected key=value)"),
    (f'PASS judge="A <a@example.com>" patch={PATCH} =x', "cannot read '=x' (expected key=value)"),
    ('PASS judge="A <a@example.com>" judge="B <b@example.com>"', "judge= is given twice"),
    (f"PASS patch={PATCH}", 'no judge="Name <email>"'),
    (f'PASS judge="" patch={PATCH}', 'no judge="Name <email>"'),
    (f'PASS judge="Ann" patch={PATCH}', 'judge \'Ann\' is not "Name <email>"'),
    ('PASS judge="A <a@example.com>"', "no patch=<patch-id>: the verdict is not bound to a change"),
    ('PASS judge="A <a@example.com>" patch=', "no patch=<patch-id>: the verdict is not bound to a change"),
    ('PASS judge="A <a@example.com>" patch=XYZ', "patch=xyz is not a 40 or 64 digit hex patch-id"),
    (f'PASS judge="A <a@example.com>" patch={PATCH}0', f"patch={PATCH}0 is not a 40 or 64 digit hex patch-id"),
])
def test_parse_says_what_is_wrong(value: str, message: str) -> None:
    with pytest.raises(VerdictSyntaxError) as caught:
        parse(value)
    assert str(caught.value) == message


# --- Verdict ------------------------------------------------------------------------

def test_trailer_value_escapes_the_judge_and_reads_back() -> None:
    """Quotes and backslashes in the judge's name are escaped; parse reads the same verdict."""
    verdict = Verdict("PASS", Identity('Ann "Q" \\ Bee', "ann@example.com"), PATCH, session="run-7")
    value = verdict.trailer_value()
    assert value == f'PASS judge="Ann \\"Q\\" \\\\ Bee <ann@example.com>" patch={PATCH} session=run-7'
    assert parse(value) == verdict


def test_trailer_value_without_session() -> None:
    assert Verdict("FAIL", JUDGE, PATCH).trailer_value() == \
        f'FAIL judge="Riley Judge <riley@example.com>" patch={PATCH}'


def test_admits_only_pass() -> None:
    assert [Verdict(s, JUDGE, PATCH).admits for s in ("PASS", "FAIL", "NOT_PROVEN")] == [True, False, False]


def judge_run(**changes: Any) -> JudgeRun:
    run = JudgeRun("ci", "check", "PASS", "make test", 0, 1.5, "f" * 40, SHA, "ok\n", None)
    return run._replace(**changes)


def test_signed_fields_in_payload_order() -> None:
    """Every field beyond status, judge and patch, by name, in the order the payload signs them."""
    refs = (EvidenceRef("test-log", "build/pytest.log", SHA), EvidenceRef("ci-run", "https://ci/7"))
    run = judge_run()
    verdict = Verdict("PASS", JUDGE, PATCH, covers=(PATCH, PATCH64), range="a..b", evidence="3 passed",
                      refs=refs, session="run-7", runs=(run,))
    assert verdict.signed_fields() == [
        ("range", "a..b"),
        ("covers", f"{PATCH} {PATCH64}"),
        ("evidence", "3 passed"),
        ("evidence-ref", f"test-log build/pytest.log {SHA}"),
        ("evidence-ref", "ci-run https://ci/7 -"),
        ("session", "run-7"),
        ("judge-run", run.signed()),
    ]


def test_signed_fields_of_a_bare_verdict() -> None:
    assert Verdict("PASS", JUDGE, PATCH).signed_fields() == []
    assert Verdict("PASS", JUDGE, PATCH, range="", evidence="", session="").signed_fields() == [
        ("range", ""), ("evidence", ""), ("session", "")]


# --- evidence references --------------------------------------------------------------

def test_evidence_ref_signed_and_trailer_value() -> None:
    with_sha = EvidenceRef("test-log", "build/pytest.log", SHA)
    without = EvidenceRef("ci-run", "https://ci/7")
    assert with_sha.signed() == f"test-log build/pytest.log {SHA}"
    assert without.signed() == "ci-run https://ci/7 -"
    assert with_sha.trailer_value() == f"kind=test-log ref=build/pytest.log sha256={SHA}"
    assert without.trailer_value() == "kind=ci-run ref=https://ci/7"
    assert with_sha.to_dict() == {"kind": "test-log", "ref": "build/pytest.log", "sha256": SHA}


@pytest.mark.parametrize(("kind", "ref", "sha256", "message"), [
    ("Test", "a", None, "evidence kind 'Test' is not lower-case letters, digits and '-'"),
    ("", "a", None, "evidence kind '' is not lower-case letters, digits and '-'"),
    ("1log", "a", None, "evidence kind '1log' is not lower-case letters, digits and '-'"),
    ("log", "", None, "evidence ref '' is empty or holds whitespace"),
    ("log", "a b", None, "evidence ref 'a b' is empty or holds whitespace"),
    ("log", "a\tb", None, "evidence ref 'a\\tb' is empty or holds whitespace"),
    ("log", "a", "AB" * 32, f"sha256 '{'AB' * 32}' is not 64 lower-case hex digits"),
    ("log", "a", "ab", "sha256 'ab' is not 64 lower-case hex digits"),
    ("log", "a", "", "sha256 '' is not 64 lower-case hex digits"),
])
def test_evidence_ref_check_says_which_part(kind: str, ref: str, sha256: str | None, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        EvidenceRef.check(kind, ref, sha256)
    assert str(caught.value) == message


def test_evidence_ref_check_accepts() -> None:
    assert EvidenceRef.check("ci-run2", "https://ci/7", None) == EvidenceRef("ci-run2", "https://ci/7", None)
    assert EvidenceRef.check("log", "a", SHA) == EvidenceRef("log", "a", SHA)


@pytest.mark.parametrize(("value", "expected"), [
    ("kind=test-log ref=build/pytest.log", EvidenceRef("test-log", "build/pytest.log")),
    (f"  kind=log ref=a sha256={SHA}", EvidenceRef("log", "a", SHA)),
    ('kind="log" ref="build/x.log"', EvidenceRef("log", "build/x.log")),
    (f'kind=log REF="a" SHA256="{SHA}"', EvidenceRef("log", "a", SHA)),
    ("kind=log", None),
    ("kind=log ref=", None),
    ('kind=log ref="a b"', None),
    ("kind=Log ref=a", None),
    ("kind=log ref=a sha256=xyz", None),
    ("pytest: 3 passed", None),
    ("the kind=log ref=a", None),
])
def test_evidence_ref_reads_a_reference(value: str, expected: EvidenceRef | None) -> None:
    """`kind=… ref=… [sha256=…]`, plain or quoted, is a reference; anything else is None."""
    assert evidence_ref(value) == expected


# --- grouping trailers ------------------------------------------------------------------

def test_verdict_trailers_groups_and_records_positions() -> None:
    """Each Verdict takes the first free-text evidence, every reference and the first
    signature after it; other trailers are skipped, not the end of the group."""
    ref = f"kind=log ref=a sha256={SHA}"
    trailers = [
        ("Evidence-Before", "ignored"), ("Verdict-Evidence", "no verdict yet"),
        ("Verdict", GOOD), ("Other", "x"), ("verdict-evidence", "3 passed"),
        ("Verdict-Evidence", "second text"), ("VERDICT-EVIDENCE", ref),
        ("Verdict-Signature", " sig1 "), ("Verdict-Signature", "sig2"),
        ("Task", "T-1"),
        ("verdict", "FAIL whatever"), ("Verdict-Evidence", "kind=ci ref=https://ci/7"),
    ]
    assert verdict_trailers(trailers) == [
        TrailerVerdict(GOOD, evidence="3 passed", signature="sig1",
                       refs=(EvidenceRef("log", "a", SHA),), lines=(2, 4, 6, 7)),
        TrailerVerdict("FAIL whatever", refs=(EvidenceRef("ci", "https://ci/7"),), lines=(10, 11)),
    ]


def test_verdict_trailers_other_trailers_are_no_signature() -> None:
    assert verdict_trailers([("Verdict", GOOD), ("Other", "x")]) == [TrailerVerdict(GOOD, lines=(0,))]
    assert verdict_trailers([]) == []


def test_readable_trailers_skips_malformed_verdicts() -> None:
    """A Verdict that does not parse is skipped; the ones after it are still read."""
    trailers = [("Verdict", "MAYBE"), ("Verdict", GOOD), ("Verdict-Signature", "s"), ("Verdict", "")]
    assert list(readable_trailers(trailers)) == [
        (TrailerVerdict(GOOD, signature="s", lines=(1, 2)), Verdict("PASS", JUDGE, PATCH)),
    ]


# --- task and worker ---------------------------------------------------------------------

@pytest.mark.parametrize(("trailers", "expected"), [
    ([("Task", " T-1 ")], "T-1"),
    ([("task", "T-2")], "T-2"),
    ([("TASK", "T-3")], "T-3"),
    ([("Other", "x"), ("Task", "  "), ("Task", "T-4"), ("Task", "T-5")], "T-4"),
    ([("Other", "x")], None),
    ([("Task", "")], None),
    ([], None),
])
def test_task_of_is_the_first_non_empty_task(trailers: list[tuple[str, str]], expected: str | None) -> None:
    assert task_of(trailers) == expected


AUTHOR = Identity("Ann", "Ann+work@Example.COM")


@pytest.mark.parametrize(("trailers", "author", "expected"), [
    ([("Agent", "claude session=abc")], AUTHOR, "session abc"),
    ([("agent", "session=abc")], AUTHOR, "session abc"),
    ([("AGENT", "x session=s1 session=s2")], AUTHOR, "session s1"),
    ([("Agent", "claude session=")], AUTHOR, "ann@example.com"),
    ([("Agent", "claude sessions=abc")], AUTHOR, "ann@example.com"),
    ([("Agent", "claude SESSION=abc")], AUTHOR, "ann@example.com"),
    ([("Agent", "claude long-word-here")], AUTHOR, "ann@example.com"),
    ([("Other", "session=abc")], AUTHOR, "ann@example.com"),
    ([("Other", "session=abc"), ("Agent", "a session=def")], AUTHOR, "session def"),
    ([], AUTHOR, "ann@example.com"),
    ([], None, None),
    ([("Agent", "claude")], None, None),
    ([], Identity("Ann", ""), None),
])
def test_worker_of(trailers: list[tuple[str, str]], author: Identity | None, expected: str | None) -> None:
    """An Agent trailer's session=ID names the worker, else the author's email as one person."""
    assert worker_of(trailers, author) == expected


# --- judge runs -----------------------------------------------------------------------------

DROP = object()
"""A run_dict field value: leave the field out."""


def run_dict(**changes: object) -> dict[str, object]:
    item: dict[str, object] = {"name": "ci", "kind": "check", "status": "FAIL", "command": "make test",
                               "exit_code": 2, "duration": 1.5, "tree": "f" * 40, "output_sha256": SHA,
                               "output": "1 failed\n", "reason": "tests fail"}
    item.update(changes)
    return {k: v for k, v in item.items() if v is not DROP}


def test_judge_run_from_dict_reads_every_field() -> None:
    run = JudgeRun.from_dict(run_dict())
    assert run == JudgeRun("ci", "check", "FAIL", "make test", 2, 1.5, "f" * 40, SHA, "1 failed\n", "tests fail")
    assert run.to_dict() == run_dict()
    assert JudgeRun.from_dict(run.to_dict()) == run


def test_judge_run_from_dict_defaults() -> None:
    """Without output and reason: no output kept, no reason; an integer duration is a float."""
    run = JudgeRun.from_dict(run_dict(output=DROP, reason=DROP, duration=3, exit_code=None))
    assert run == JudgeRun("ci", "check", "FAIL", "make test", None, 3.0, "f" * 40, SHA, "", None)
    assert isinstance(run.duration, float)
    assert JudgeRun.from_dict(run_dict(reason=None, exit_code=0)) == \
        JudgeRun("ci", "check", "FAIL", "make test", 0, 1.5, "f" * 40, SHA, "1 failed\n", None)


@pytest.mark.parametrize(("item", "message"), [
    ([], f"each of judges is an object of {FIELDS}"),
    ("ci", f"each of judges is an object of {FIELDS}"),
    (None, f"each of judges is an object of {FIELDS}"),
    (run_dict(extra=1), f"each of judges is an object of {FIELDS}"),
    *[(run_dict(**{name: DROP}), f"a judge run's {name} must be a string")
      for name in ("name", "kind", "status", "command", "tree", "output_sha256")],
    *[(run_dict(**{name: 1}), f"a judge run's {name} must be a string")
      for name in ("name", "kind", "status", "command", "tree", "output_sha256")],
    (run_dict(status="pass"), "a judge run's status 'pass' is not one of PASS, FAIL, NOT_PROVEN"),
    (run_dict(output_sha256="AB" * 32), "a judge run's output_sha256 is not 64 lower-case hex digits"),
    (run_dict(output_sha256="ab"), "a judge run's output_sha256 is not 64 lower-case hex digits"),
    (run_dict(exit_code="2"), "a judge run's exit_code must be an integer or null"),
    (run_dict(exit_code=True), "a judge run's exit_code must be an integer or null"),
    (run_dict(exit_code=2.0), "a judge run's exit_code must be an integer or null"),
    (run_dict(duration="1.5"), "a judge run's duration must be a number"),
    (run_dict(duration=True), "a judge run's duration must be a number"),
    (run_dict(duration=None), "a judge run's duration must be a number"),
    (run_dict(duration=DROP), "a judge run's duration must be a number"),
    (run_dict(output=5), "a judge run's output must be a string"),
    # null is no output: the schema says a string, and signing a run hashes its output
    (run_dict(output=None), "a judge run's output must be a string"),
    (run_dict(reason=["x"]), "a judge run's reason must be a string"),
])
def test_judge_run_from_dict_says_what_is_wrong(item: object, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        JudgeRun.from_dict(item)
    assert str(caught.value) == message


def test_judge_run_signed_covers_every_field() -> None:
    """One JSON line of every field, the kept output by its sha256, non-ASCII escaped."""
    kept = hashlib.sha256("ok ✓\n".encode()).hexdigest()
    run = judge_run(name="ci ✓", output="ok ✓\n", reason="fine")
    assert run.signed() == (f'["ci \\u2713", "check", "PASS", "make test", 0, 1.5, "{"f" * 40}", '
                            f'"{SHA}", "{kept}", "fine"]')
    ok = hashlib.sha256(b"ok\n").hexdigest()
    assert judge_run(exit_code=None).signed() == \
        f'["ci", "check", "PASS", "make test", null, 1.5, "{"f" * 40}", "{SHA}", "{ok}", null]'
