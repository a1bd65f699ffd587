"""The range check's parts called directly, in small real repositories: the range
spec and its refusals, shallow clones, the plan of each commit's gates (what is
skipped and why), merges and what they add, the notes-missing finding, a commit
git cannot read, and the report's outcome."""
from __future__ import annotations

import gc
import subprocess
from pathlib import Path

import pytest

from agentops_hooks import gates as gate_runner
from agentops_hooks.config import Config
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence.verdicts import UNSIGNED_ACCEPTED
from agentops_hooks.findings import Finding
from agentops_hooks.gates.privilege import SECRET_HINTS
from agentops_hooks.gates.privilege import PrivilegeConfig
from agentops_hooks.gates.verdict import VerdictConfig
from agentops_hooks.git import Repo
from agentops_hooks.places import range_check
from agentops_hooks.places.range_check import CommitResult
from agentops_hooks.places.range_check import RangeReport
from agentops_hooks.places.range_check import RangeRun
from conftest import CONSTRAINT
from conftest import GitRepo
from conftest import agent_commit
from conftest import agent_message

NOTES_FIX = ("fetch the notes first (git fetch origin '+refs/notes/agentops/*:refs/notes/agentops/*') "
             "and run again")
MERGE_SKIP = "(merge commit: judged on the commits it merges; verdict.merges = false)"
CLEAN_SKIP = "verdict (clean merge: its remerge diff is empty, it adds nothing beyond its parents)"
RATCHET_SKIP = "ratchet (measured once, on the newest commit)"


@pytest.fixture
def line(repo: GitRepo) -> dict[str, str]:
    """base (tagged), a human commit, an agent commit: their ids."""
    repo.stage("a.txt", "a\n")
    repo.commit("base")
    repo.git("tag", "base")
    ids = {"base": repo.head()}
    repo.stage("h.txt", "human\n")
    repo.commit("human work")
    ids["human"] = repo.head()
    ids["agent"] = agent_commit(repo, "f.txt", "agent\n", "agent work")
    return ids


def fatal(call: object, *args: object) -> str:
    with pytest.raises(FatalError) as e:
        call(*args)  # type: ignore[operator]
    return str(e.value)


def steps(run: RangeRun) -> list[tuple[str, list[str], list[str]]]:
    """(subject, gates planned, skipped) of each commit, oldest first."""
    return [(c.subject, planned, skipped) for c, _, planned, skipped in run._steps]


def finish(run: RangeRun) -> list[CommitResult]:
    return list(run.each())


# --- resolve_range, range_base ------------------------------------------------------

@pytest.mark.parametrize("spec", ["", "   ", "-all", "--all", "-x..HEAD"])
def test_a_spec_that_is_no_range_is_refused(line: dict[str, str], spec: str) -> None:
    assert fatal(range_check.resolve_range, Repo(), spec) == f"{spec!r} is not a range: use BASE..HEAD"


@pytest.mark.parametrize("spec", ["a..b..c", "..HEAD", "base..", " ..HEAD", "base.. ", "base...",
                                  "...HEAD", "a...b...c", "base... "])
def test_a_range_needs_both_ends(line: dict[str, str], spec: str) -> None:
    assert fatal(range_check.resolve_range, Repo(), spec) == (
        f"{spec!r} is not a range: use BASE..HEAD, both ends given "
        "(an empty end is often an unset CI variable)")


@pytest.mark.parametrize(("spec", "end"), [("nope..HEAD", "nope"), ("base..nope", "nope"),
                                           ("nope", "nope"), ("base...nope", "nope"),
                                           ("nope...HEAD", "nope")])
def test_an_end_that_names_no_commit_is_refused(line: dict[str, str], spec: str, end: str) -> None:
    assert fatal(range_check.resolve_range, Repo(), spec) == (
        f"{end!r} in {spec!r} does not name a commit here")


def test_a_tree_is_no_commit(line: dict[str, str], repo: GitRepo) -> None:
    tree = repo.out("rev-parse", "HEAD^{tree}")
    assert fatal(range_check.resolve_range, Repo(), f"base..{tree}") == (
        f"{tree!r} in 'base..{tree}' does not name a commit here")


@pytest.mark.parametrize("spec", ["base..HEAD", "HEAD", "base..main", "HEAD~1..HEAD"])
def test_a_range_is_given_to_rev_list_as_it_is(line: dict[str, str], spec: str) -> None:
    assert range_check.resolve_range(Repo(), spec) == [spec]


def test_triple_dot_starts_from_the_merge_base(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("checkout", "-q", "-b", "other", "base")
    repo.stage("o.txt", "o\n")
    repo.commit("other work")
    assert range_check.resolve_range(Repo(), "main...other") == [f"{line['base']}..other"]
    assert range_check.resolve_range(Repo(), "other...main") == [f"{line['base']}..main"]


def test_triple_dot_of_unrelated_histories_is_refused(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("checkout", "-q", "--orphan", "lone")
    repo.stage("l.txt", "l\n")
    repo.commit("lone root")
    assert fatal(range_check.resolve_range, Repo(), "main...lone") == "'main' and 'lone' share no history"


def test_a_missing_end_in_a_shallow_clone_says_fetch_everything(
        line: dict[str, str], repo: GitRepo, tmp_path: Path) -> None:
    clone = shallow_clone(repo, tmp_path, 1)
    assert fatal(range_check.resolve_range, Repo(clone), "HEAD~2..HEAD") == (
        "'HEAD~2' in 'HEAD~2..HEAD' does not name a commit here (this is a shallow clone: fetch the "
        "full history, e.g. fetch-depth: 0 in actions/checkout)")
    assert range_check.resolve_range(Repo(clone), "HEAD") == ["HEAD"]


@pytest.mark.parametrize(("spec", "base"), [("base..HEAD", "base"), ("base...HEAD", "base"),
                                            ("HEAD~1..HEAD", "human"), ("HEAD~1...HEAD", "human")])
def test_range_base_is_the_left_end(line: dict[str, str], spec: str, base: str) -> None:
    assert range_check.range_base(Repo(), spec) == line[base]


@pytest.mark.parametrize("spec", ["HEAD", "base", "nope..HEAD", "nope...HEAD"])
def test_range_base_of_no_range_or_an_unknown_base_is_none(line: dict[str, str], spec: str) -> None:
    assert range_check.range_base(Repo(), spec) is None


# --- shallow clones -------------------------------------------------------------------

def shallow_clone(repo: GitRepo, tmp_path: Path, depth: int, branch: str = "main") -> Path:
    clone = tmp_path / f"shallow{depth}"
    subprocess.run(["git", "clone", "-q", "--no-local", "--depth", str(depth), "-b", branch,
                    f"file://{repo.root}", str(clone)], check=True, env=repo.env)
    return clone


def test_a_range_past_a_shallow_clone_is_refused(line: dict[str, str], repo: GitRepo, tmp_path: Path) -> None:
    clone = shallow_clone(repo, tmp_path, 2)
    human = line["human"][:12]
    assert fatal(range_check.check_range, Repo(clone), Config(), ["HEAD"], "the whole history") == (
        f"the whole history reaches past the history of this shallow clone (the parent of {human} "
        "is missing): fetch the full history (fetch-depth: 0 in actions/checkout, or git fetch "
        "--unshallow) and run again")


def test_a_range_within_a_shallow_clone_is_checked(line: dict[str, str], repo: GitRepo, tmp_path: Path) -> None:
    clone = shallow_clone(repo, tmp_path, 2)
    report = range_check.check_range(Repo(clone), Config(), ["HEAD~1..HEAD"], "L")
    assert [r.change.subject for r in report.results] == ["agent work"]


def test_a_merge_cut_by_a_shallow_clone_names_a_parent(line: dict[str, str], repo: GitRepo,
                                                       tmp_path: Path) -> None:
    repo.diverge()
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
    merge = repo.head()[:12]
    clone = shallow_clone(repo, tmp_path, 1)
    assert fatal(range_check.check_range, Repo(clone), Config(), ["HEAD"], "L") == (
        f"L reaches past the history of this shallow clone (a parent of {merge} is missing): fetch "
        "the full history (fetch-depth: 0 in actions/checkout, or git fetch --unshallow) and run again")


def test_a_merged_branch_cut_by_a_shallow_clone_is_refused(line: dict[str, str], repo: GitRepo,
                                                          tmp_path: Path) -> None:
    """The commits a merge brings in count too: the oldest of them cut off is named."""
    repo.git("checkout", "-q", "-b", "side", "base")
    side = []
    for i in range(3):
        repo.stage("s.txt", f"side {i}\n")
        repo.commit(f"side {i}")
        side.append(repo.head())
    repo.git("checkout", "-q", "main")
    repo.git("merge", "-q", "--no-ff", "-m", "Merge side", "side")
    clone = shallow_clone(repo, tmp_path, 3)  # main down to the human commit, side down to side 1
    assert fatal(range_check.check_range, Repo(clone), Config(), [f"{line['human']}..HEAD"], "L") == (
        f"L reaches past the history of this shallow clone (the parent of {side[1][:12]} is missing): "
        "fetch the full history (fetch-depth: 0 in actions/checkout, or git fetch --unshallow) and "
        "run again")


# --- the report -------------------------------------------------------------------------

def test_a_range_is_judged_oldest_first(line: dict[str, str]) -> None:
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "base..HEAD")
    assert report.label == "base..HEAD"
    assert report.count == 2
    assert [r.change.subject for r in report.each()] == ["human work", "agent work"]
    assert [r.change.commit for r in report.results] == [line["human"], line["agent"]]
    human, agent = report.results
    assert human.signals == [] and human.findings == [] and human.skipped == [] and not human.unjudged
    assert [s.agent for s in agent.signals] == ["Claude Code"]
    assert agent.findings == []
    assert agent.unjudged is True
    assert report.notices == [UNSIGNED_ACCEPTED]
    assert report.range_findings == [notes_missing(1, line["agent"][:12])]
    assert report.findings == report.range_findings
    assert report.passed is False


def notes_missing(count: int, names: str, fix: str = NOTES_FIX) -> Finding:
    return Finding(
        "VII", "verdict", "verdict-notes-missing",
        f"{count} agent commit(s) carry no Verdict trailer ({names}), and this clone has no "
        "refs/notes/agentops/verdicts: verdicts recorded in notes were not fetched, so they cannot "
        "be checked.",
        f"{fix}; if there are none, those commits are unjudged")


def test_the_notes_fix_can_be_named(line: dict[str, str]) -> None:
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L", notes_fix="push the notes")
    assert report.range_findings == [notes_missing(1, line["agent"][:12], "push the notes")]


def test_with_notes_an_unjudged_commit_is_refused_itself(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
    agent = report.results[1]
    assert [f.rule for f in agent.findings] == ["verdict-missing"]
    assert agent.unjudged is False
    assert report.range_findings == []
    assert report.findings == agent.findings
    assert report.passed is False


def test_a_verdicts_tip_counts_as_notes(line: dict[str, str], repo: GitRepo) -> None:
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L", verdicts_tip=line["base"])
    assert [f.rule for f in report.results[1].findings] == ["verdict-missing"]
    assert report.range_findings == []


def test_many_unjudged_commits_are_named_up_to_eight(line: dict[str, str], repo: GitRepo) -> None:
    ids = [line["agent"]] + [agent_commit(repo, "f.txt", f"{i}\n", f"agent {i}") for i in range(9)]
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
    names = ", ".join(i[:12] for i in ids[:8])
    assert report.range_findings == [notes_missing(10, f"{names} and 2 more")]
    assert all(r.unjudged for r in report.results[1:])


def test_eight_unjudged_commits_are_all_named(line: dict[str, str], repo: GitRepo) -> None:
    ids = [line["agent"]] + [agent_commit(repo, "f.txt", f"{i}\n", f"agent {i}") for i in range(7)]
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
    assert report.range_findings == [notes_missing(8, ", ".join(i[:12] for i in ids))]


def test_an_empty_range_holds_no_commits(line: dict[str, str]) -> None:
    report = range_check.check_range(Repo(), Config(), ["HEAD..HEAD"], "HEAD..HEAD")
    assert report.results == [] and report.count == 0
    assert report.notices == [UNSIGNED_ACCEPTED, "HEAD..HEAD holds no commits: nothing to check"]
    assert report.range_findings == [] and report.passed is True
    run = range_check.start_range(Repo(), Config(), ["HEAD..HEAD"], "E")
    assert run.count == 0 and run.changes == [] and run._feed is None
    assert finish(run) == [] and run.passed is True and run.range_findings == []


@pytest.mark.parametrize(("gates", "require", "notices"), [
    (["learnings"], False, []),
    (["verdict"], True, []),
    (["verdict"], False, [UNSIGNED_ACCEPTED]),
])
def test_unsigned_verdicts_are_noticed_only_when_accepted(
        line: dict[str, str], gates: list[str], require: bool, notices: list[str]) -> None:
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L", gates=gates,
                                     require_signature=require)
    assert report.notices == notices


def test_a_policy_requiring_signatures_is_not_noticed(line: dict[str, str]) -> None:
    config = Config(sections=(VerdictConfig(require_signature=True),))
    assert range_check.check_range(Repo(), config, ["base..HEAD"], "L").notices == []


def test_the_root_commit_is_judged(repo: GitRepo) -> None:
    root = agent_commit(repo, "f.txt", "f\n", "root work")
    report = range_check.check_range(Repo(), Config(), ["HEAD"], "HEAD")
    assert [r.change.commit for r in report.results] == [root]
    assert report.results[0].change.parents == []
    assert report.results[0].unjudged is True


def test_a_range_git_cannot_read_is_a_fatal_error(line: dict[str, str]) -> None:
    message = fatal(range_check.check_range, Repo(), Config(), ["nope..HEAD"], "the range")
    assert message.startswith("cannot read the range: ")
    assert "nope" in message


def test_a_report_of_warnings_only_passes(line: dict[str, str]) -> None:
    warning = Finding("VII", "verdict", "r", "m", "f", severity="warning")
    error = warning._replace(severity="error")
    change = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L").results[0].change
    assert RangeReport("L", [CommitResult(change, [], [warning])], range_findings=[warning]).passed
    assert not RangeReport("L", [CommitResult(change, [], [warning, error])]).passed
    assert not RangeReport("L", [], range_findings=[error]).passed
    both = RangeReport("L", [CommitResult(change, [], [warning])], range_findings=[error])
    assert both.findings == [warning, error]


def test_a_run_passes_until_refused() -> None:
    run = RangeRun("L")
    assert run.label == "L" and run.count == 0 and run.passed is True
    run.range_findings.append(Finding("VII", "verdict", "r", "m", "f", severity="warning"))
    assert run.passed is True
    run.range_findings.append(Finding("VII", "verdict", "r", "m", "f"))
    assert run.passed is False
    run.range_findings.clear()
    run.refused = True
    assert run.passed is False


def test_a_run_is_refused_by_a_commit_error(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    results = iter(run.each())
    next(results)
    assert run.refused is False
    next(results)
    assert run.refused is True and run.passed is False


def test_a_warning_policy_does_not_refuse_the_run(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    config = Config(sections=(VerdictConfig(severity="warning"),))
    run = range_check.start_range(Repo(), config, ["base..HEAD"], "L")
    results = finish(run)
    assert [f.severity for f in results[1].findings] == ["warning"]
    assert run.refused is False and run.passed is True


def test_the_cyclic_collector_is_off_while_judging_and_restored(line: dict[str, str]) -> None:
    assert gc.isenabled()
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    assert gc.isenabled()
    during = [gc.isenabled() for _ in run.each()]
    assert during == [False, False]
    assert gc.isenabled()
    gc.disable()
    try:
        range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_each_is_given_once(line: dict[str, str]) -> None:
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    assert len(finish(run)) == 2
    assert finish(run) == []
    assert len(run.range_findings) == 1  # the second pass judged nothing, so said nothing


# --- the plan ---------------------------------------------------------------------------

def test_the_plan_runs_the_gates_that_apply(line: dict[str, str]) -> None:
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    assert run.label == "L" and run.count == 2
    assert [c.commit for c in run.changes] == [line["human"], line["agent"]]
    assert steps(run) == [("human work", [], []),
                          ("agent work", ["verdict", "learnings", "privilege", "supervise"], [])]
    assert run._notes_fix == NOTES_FIX and run._has_notes is False
    finish(run)


def test_the_plan_follows_the_gates_asked(line: dict[str, str]) -> None:
    config = Config(sections=(PrivilegeConfig(required_for="everyone"),))
    run = range_check.start_range(Repo(), config, ["base..HEAD"], "L", gates=["privilege", "verdict"])
    assert steps(run) == [("human work", ["privilege"], []), ("agent work", ["privilege", "verdict"], [])]
    finish(run)


def test_the_ratchet_is_measured_once_on_the_newest(line: dict[str, str]) -> None:
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L", gates=["ratchet"])
    assert steps(run) == [("human work", [], [RATCHET_SKIP]), ("agent work", ["ratchet"], [])]
    assert run.notices == []
    finish(run)


def test_the_ratchet_on_an_older_tip_says_what_it_measured(line: dict[str, str]) -> None:
    from agentops_hooks.gates.ratchet import MetricConfig
    from agentops_hooks.gates.ratchet import RatchetConfig

    config = Config(sections=(RatchetConfig(metrics={"m": MetricConfig(direction="higher", command="echo 1")}),))
    repo = Repo()
    run = range_check.start_range(repo, config, ["base..HEAD~1"], "base..HEAD~1", gates=["ratchet"])
    assert run.notices == [
        f"the ratchet measured the work tree (HEAD {line['agent'][:12]}), not the newest commit of the "
        f"range ({line['human'][:12]}): check out that commit for a true measurement"]
    run = range_check.start_range(Repo(), config, ["base..HEAD"], "L", gates=["ratchet"])
    assert run.notices == []
    run = range_check.start_range(Repo(), Config(), ["base..HEAD~1"], "L", gates=["ratchet"])
    assert run.notices == []
    run = range_check.start_range(Repo(), config, ["base..HEAD~1"], "L", gates=["verdict"],
                                  require_signature=True)
    assert run.notices == []


def test_the_evidence_is_shared_and_holds_what_was_given(line: dict[str, str]) -> None:
    signers = (b"riley ssh-ed25519 AAAA\n", "the server's signers")
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L", verdicts_tip=line["base"],
                                  trust_commit=line["base"], outside_signers=signers,
                                  require_signature=True)
    contexts = [ctx for _, ctx, _, _ in run._steps]
    evidence = contexts[0].evidence
    assert all(ctx.evidence is evidence for ctx in contexts)
    assert all(list(ctx.range_changes) == run.changes for ctx in contexts)
    assert [ctx.change for ctx in contexts] == run.changes
    assert all(ctx.merge_adds is None for ctx in contexts)
    assert evidence.batch == run.changes
    assert evidence.verdicts_tip == line["base"]
    assert evidence.trust_commit == line["base"]
    assert evidence.outside_signers == signers
    assert evidence.require_signature is True
    assert run._has_notes is True
    finish(run)
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    evidence = run._steps[0][1].evidence
    assert evidence.verdicts_tip is None and evidence.trust_commit is None
    assert evidence.outside_signers is None and evidence.require_signature is False
    finish(run)


@pytest.mark.parametrize(("config", "gates", "words"), [
    (Config(), None, tuple(h.encode() for h in SECRET_HINTS)),
    (Config(), ["verdict"], ()),
    (Config(sections=(PrivilegeConfig(secrets=False),)), None, ()),
])
def test_the_patch_stream_keeps_what_gate_iv_looks_for(
        line: dict[str, str], config: Config, gates: list[str] | None, words: tuple[bytes, ...]) -> None:
    run = range_check.start_range(Repo(), config, ["base..HEAD"], "L", gates=gates)
    assert run._steps[0][1].evidence.kept_words == words
    assert run._feed is not None
    finish(run)


def test_the_patch_stream_keeps_what_gate_x_forbids(line: dict[str, str], repo: GitRepo) -> None:
    from agentops_hooks.gates.knowledge import constraint_words

    repo.stage(".agents/constraints/http.toml", CONSTRAINT)
    repo.commit("a constraint")
    words = constraint_words(Repo(), repo.head())
    assert words != () and constraint_words(Repo(), line["base"]) == ()
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L", gates=["knowledge"])
    assert run._steps[0][1].evidence.kept_words == words
    finish(run)
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L", gates=["knowledge"],
                                  trust_commit=line["base"])
    assert run._steps[0][1].evidence.kept_words == constraint_words(Repo(), line["base"])
    finish(run)
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L",
                                  gates=["privilege", "knowledge"])
    assert run._steps[0][1].evidence.kept_words == tuple(h.encode() for h in SECRET_HINTS) + words
    finish(run)


def test_human_commits_are_read_by_a_later_pipeline(line: dict[str, str]) -> None:
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
    human = report.results[0].change
    assert human._batch is not None and not human._batch.started
    assert [p.path for p in human.paths] == ["h.txt"]


# --- merges ---------------------------------------------------------------------------

def merge(repo: GitRepo, *branches: str, agent: bool = True, edit: str | None = None) -> str:
    message = agent_message("Merge") if agent else "Merge\n"
    repo.git("merge", "-q", "--no-ff", "--no-commit", *branches, check=False)
    if edit is not None:
        repo.stage("main.txt", edit)
    repo.commit(message, "--no-verify")
    return repo.head()


def test_a_clean_agent_merge_skips_the_work_gates(line: dict[str, str], repo: GitRepo) -> None:
    repo.diverge()
    merge(repo, "side")
    run = range_check.start_range(Repo(), Config(), ["main~1..HEAD"], "L")
    assert [s[0] for s in steps(run)] == ["side work", "Merge"]
    assert steps(run)[1] == ("Merge", ["privilege"], [
        CLEAN_SKIP, f"learnings {MERGE_SKIP}", f"supervise {MERGE_SKIP}"])
    ctx = run._steps[1][1]
    assert ctx.merge_adds == gate_runner.MergeAdds(True, ())
    assert run._steps[0][1].merge_adds is None
    finish(run)


def test_an_evil_merge_is_judged_on_what_it_adds(line: dict[str, str], repo: GitRepo) -> None:
    repo.diverge()
    evil = merge(repo, "side", edit="slipped in\n")
    run = range_check.start_range(Repo(), Config(), ["main~1..HEAD"], "L")
    assert steps(run)[1] == ("Merge", ["verdict", "privilege"], [
        f"learnings {MERGE_SKIP}", f"supervise {MERGE_SKIP}"])
    assert run._steps[1][1].merge_adds == gate_runner.MergeAdds(False, ("main.txt",))
    results = finish(run)
    assert results[1].unjudged is True
    assert run.range_findings == [notes_missing(1, evil[:12])]


def test_an_octopus_merge_is_judged_as_a_whole(line: dict[str, str], repo: GitRepo) -> None:
    repo.diverge()
    repo.git("checkout", "-q", "-b", "third", "base")
    repo.stage("third.txt", "third\n")
    repo.commit("third work")
    repo.git("checkout", "-q", "main")
    merge(repo, "side", "third")
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    octopus = run._steps[-1]
    assert len(octopus[0].parents) == 3
    assert octopus[1].merge_adds == gate_runner.MergeAdds(clean=False, octopus=True)
    assert octopus[2] == ["verdict", "privilege"]
    finish(run)


def test_merges_of_both_kinds_in_one_range(line: dict[str, str], repo: GitRepo) -> None:
    """An octopus merge beside a two-parent one: each gets its own answer."""
    repo.diverge()
    merge(repo, "side", edit="evil\n")
    repo.git("checkout", "-q", "-b", "x", "base")
    repo.stage("x.txt", "x\n")
    repo.commit("x work")
    repo.git("checkout", "-q", "-b", "y", "base")
    repo.stage("y.txt", "y\n")
    repo.commit("y work")
    repo.git("checkout", "-q", "main")
    merge(repo, "x", "y")
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    adds = [ctx.merge_adds for c, ctx, _, _ in run._steps if c.is_merge]
    assert adds == [gate_runner.MergeAdds(False, ("main.txt",)),
                    gate_runner.MergeAdds(clean=False, octopus=True)]
    finish(run)


def test_a_human_merge_plan(line: dict[str, str], repo: GitRepo) -> None:
    repo.diverge()
    merge(repo, "side", agent=False)
    run = range_check.start_range(Repo(), Config(), ["main~1..HEAD"], "L")
    assert run._steps[1][1].merge_adds is None
    # No remerge diff was asked for: verdict does not apply to a human's merge anyway.
    assert steps(run)[1] == ("Merge", [], [f"learnings {MERGE_SKIP}", f"supervise {MERGE_SKIP}"])
    finish(run)


@pytest.mark.parametrize("gates", [["learnings", "privilege"], ["privilege"]])
def test_without_gate_vii_no_merge_is_remerged(line: dict[str, str], repo: GitRepo, gates: list[str]) -> None:
    repo.diverge()
    merge(repo, "side")
    run = range_check.start_range(Repo(), Config(), ["main~1..HEAD"], "L", gates=gates)
    assert run._steps[1][1].merge_adds is None
    finish(run)


def test_merges_true_judges_every_merge_whole(line: dict[str, str], repo: GitRepo) -> None:
    repo.diverge()
    merge(repo, "side")
    config = Config(sections=(VerdictConfig(merges=True),))
    run = range_check.start_range(Repo(), config, ["main~1..HEAD"], "L")
    assert run._steps[1][1].merge_adds is None
    assert steps(run)[1] == ("Merge", ["verdict", "learnings", "privilege", "supervise"], [])
    finish(run)


# --- a commit git cannot read ------------------------------------------------------------

def test_a_commit_missing_an_object_is_refused_by_name(line: dict[str, str], repo: GitRepo) -> None:
    second = agent_commit(repo, "f.txt", "agent 2\n", "agent 2")
    blob = repo.out("rev-parse", f"{line['agent']}:f.txt")
    path = repo.root / ".git" / "objects" / blob[:2] / blob[2:]
    path.chmod(0o644)
    path.unlink()
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
    unreadable = [f for r in report.results for f in r.findings if f.rule == "commit-unreadable"]
    assert [f.commit for f in unreadable] == [line["agent"], second]
    first = unreadable[0]
    error = first.message.split("cannot be read (")[1].split("), so no gate")[0]
    assert first == Finding(
        "VII", "verdict", "commit-unreadable",
        f"commit {line['agent'][:12]} cannot be read ({error}), so no gate can judge it: an object "
        "it needs is missing (a partial clone that cannot fetch it, or a damaged repository).",
        "fetch the missing objects (git fetch --refetch origin, or clone again; git fsck names them) "
        "and run again", commit=line["agent"])
    assert blob in error
    agent = report.results[1]
    assert agent.findings == [first]
    assert [s.agent for s in agent.signals] == ["Claude Code"]
    assert report.results[0].findings == [] and report.passed is False


# --- what each commit is judged by --------------------------------------------------------

def test_nine_unjudged_commits_name_eight_and_one_more(line: dict[str, str], repo: GitRepo) -> None:
    ids = [line["agent"]] + [agent_commit(repo, "f.txt", f"{i}\n", f"agent {i}") for i in range(8)]
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L")
    names = ", ".join(i[:12] for i in ids[:8])
    assert report.range_findings == [notes_missing(9, f"{names} and 1 more")]


def test_range_base_takes_the_left_of_the_first_triple_dot(line: dict[str, str]) -> None:
    """`A..B...C` splits at `...`: its left end is `A..B` (not `A`)."""
    assert range_check.range_base(Repo(), "base..HEAD...HEAD") == Repo().resolve("base..HEAD")
    assert range_check.range_base(Repo(), "base..HEAD...HEAD") != line["base"]
    assert range_check.range_base(Repo(), "base...HEAD..HEAD") == line["base"]


def test_only_the_gates_asked_judge(line: dict[str, str], repo: GitRepo) -> None:
    """A gate the policy enables but the caller did not ask for says nothing."""
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L", gates=["privilege"])
    assert [r.findings for r in report.results] == [[], []]
    assert report.passed is True


def test_a_clean_merge_is_not_judged_by_the_gates_it_skips(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    repo.diverge()
    merge(repo, "side")
    report = range_check.check_range(Repo(), Config(), ["main~1..HEAD"], "L")
    result = report.results[1]
    assert result.findings == []
    assert result.skipped == [CLEAN_SKIP, f"learnings {MERGE_SKIP}", f"supervise {MERGE_SKIP}"]
    assert report.passed is True


def test_the_ratchet_skip_is_in_the_result(line: dict[str, str]) -> None:
    report = range_check.check_range(Repo(), Config(), ["base..HEAD"], "L", gates=["ratchet"])
    assert [r.skipped for r in report.results] == [[RATCHET_SKIP], []]


# --- trust roots ---------------------------------------------------------------------------

SIGNERS = ".agentops/allowed_signers"
SIGNED = Config(sections=(VerdictConfig(require_signature=True, allowed_signers=SIGNERS),))


def signed_agent_commit(repo: GitRepo, key: Path) -> str:
    from conftest import JUDGE
    from conftest import run_agentops

    agent = agent_commit(repo, "g.txt", "g\n", "signed work")
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent,
                             "--sign-key", str(key))
    assert code == 0, out
    return agent


def test_signatures_are_checked_against_the_trust_commit(
        line: dict[str, str], repo: GitRepo, keys: dict[str, Path]) -> None:
    from conftest import signer_line

    repo.stage(SIGNERS, signer_line("riley@example.com", keys["retired"]))
    repo.commit("signers: the retired key")
    trusted = repo.head()
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.commit("rotate the key")
    signed_agent_commit(repo, keys["retired"])
    report = range_check.check_range(Repo(), SIGNED, ["HEAD~1..HEAD"], "L", trust_commit=trusted)
    assert report.results[0].findings == [] and report.passed is True
    report = range_check.check_range(Repo(), SIGNED, ["HEAD~1..HEAD"], "L")
    assert [f.rule for f in report.results[0].findings] == ["verdict-signature-invalid"]


def test_outside_signers_win_over_the_tree(line: dict[str, str], repo: GitRepo, keys: dict[str, Path]) -> None:
    from conftest import signer_line

    repo.stage(SIGNERS, signer_line("riley@example.com", keys["retired"]))
    repo.commit("signers: the retired key")
    signed_agent_commit(repo, keys["riley"])
    outside = (signer_line("riley@example.com", keys["riley"]).encode(), "the server's signers")
    report = range_check.check_range(Repo(), SIGNED, ["HEAD~1..HEAD"], "L", outside_signers=outside)
    assert report.results[0].findings == [] and report.passed is True
    report = range_check.check_range(Repo(), SIGNED, ["HEAD~1..HEAD"], "L")
    assert [f.rule for f in report.results[0].findings] == ["verdict-signature-invalid"]


def test_a_refused_commit_stays_refused_after_a_passing_one(line: dict[str, str], repo: GitRepo) -> None:
    repo.git("notes", "--ref", "refs/notes/agentops/verdicts", "add", "-m", "nothing", "base")
    repo.stage("h2.txt", "human again\n")
    repo.commit("more human work")
    run = range_check.start_range(Repo(), Config(), ["base..HEAD"], "L")
    results = finish(run)
    assert [bool(r.findings) for r in results] == [False, True, False]
    assert run.refused is True and run.passed is False



def test_a_merge_git_cannot_remerge_is_a_fatal_error(repo: GitRepo) -> None:
    repo.stage("n.txt", "1\n2\n3\n4\n5\n6\n7\n")
    repo.commit("base")
    blob = repo.out("rev-parse", "HEAD:n.txt")
    repo.git("checkout", "-q", "-b", "side")
    repo.stage("n.txt", "one\n2\n3\n4\n5\n6\n7\n")
    repo.commit("side work")
    repo.git("checkout", "-q", "main")
    repo.stage("n.txt", "1\n2\n3\n4\n5\n6\nseven\n")
    repo.commit("main work")
    merge(repo, "side")
    path = repo.root / ".git" / "objects" / blob[:2] / blob[2:]
    path.chmod(0o644)
    path.unlink()
    message = fatal(range_check.start_range, Repo(), Config(), ["main~1..HEAD"], "the range")
    assert message.startswith("cannot tell what the merges of the range add beyond their parents: ")
