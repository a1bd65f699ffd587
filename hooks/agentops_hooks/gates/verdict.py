"""Factor VII, Validate Externally: no agent grades its own work.

An agent's change needs a `Verdict: PASS` trailer from a judge who is not the
author, the committer or a co-author, bound to this change's patch-id, and
(when the config names judges) from one of them. Any FAIL or NOT_PROVEN
refuses, so two verdicts that disagree refuse.

In a range, a merge is judged on what it adds beyond its parents (its
remerge diff, see checkrange): a clean merge brings judged work only; any
other needs a verdict bound to the merge itself (its first-parent patch-id).
"""
from __future__ import annotations

from collections.abc import Iterator
from fnmatch import fnmatchcase
from typing import NamedTuple
from typing import TYPE_CHECKING

from agentops_hooks.config import Audience
from agentops_hooks.config import Severity
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import verdicts
from agentops_hooks.authorship import Identity
from agentops_hooks.findings import Finding

if TYPE_CHECKING:
    from agentops_hooks.change import Change
    from agentops_hooks.gates import Context

FACTOR = "VII"
GATE = "verdict"
PHASE = "select"


class VerdictConfig(NamedTuple):
    """Gate VII: an independent PASS verdict bound to the change."""

    required_for: Audience = "agents"
    """Whose changes need a verdict: "agents" or "everyone"."""
    severity: Severity = "error"
    """"error" refuses; "warning" only reports."""
    judges: tuple[str, ...] = ()
    """Who may judge: "Name <email>", an email, or a glob such as "*@review.example.com"."""
    aliases: tuple[tuple[str, ...], ...] = ()
    """Groups of emails that belong to one person (never judge each other)."""
    require_signature: bool = False
    """Count a verdict only if its SSH signature verifies against allowed_signers."""
    allowed_signers: str | None = None
    """A tracked allowed-signers file (ssh-keygen format), read from the base commit."""
    merges: bool = False
    """Judge every merge commit as a whole (against its first parent) in range checks;
    false: only a merge that adds something beyond its parents (its remerge diff)."""

    def problems(self) -> Iterator[tuple[str, str]]:
        """What pydantic's types cannot say: (key, problem) pairs."""
        if self.require_signature and not self.allowed_signers:
            yield "require_signature", "needs verdict.allowed_signers (a tracked allowed-signers file)"


SETTINGS = VerdictConfig


def _finding(change: Change, rule: str, message: str, fix: str) -> Finding:
    return Finding(FACTOR, GATE, rule, message, fix, change.commit)


def _ask(change: Change, what: str = "ask an independent judge to review it") -> str:
    """The fix shown to whoever made the change: what to ask for, and the judge's own
    command, never one that would admit the change if its author ran it."""
    last = ("" if change.commit else "last, as the verdict binds the staged change and any "
            "later staging (git add, agentops learn) voids it: ")
    return (f"{last}{what} (no agent grades its own work); the judge runs"
            f": agentops verdict pass --sign {change.selector}; then {change.retry}")


def _edited_since(verdict: verdicts.Verdict, change: Change, ctx: Context) -> str:
    """What changed since the judge saw the staged change, from where the verdict was
    recorded (a staged verdict's note hangs on the tree it judged). Not asked of a
    commit: a range reads no more git processes for more commits."""
    if change.commit is not None or not ctx.store.has_verdict_notes:
        return ""
    for item in ctx.store.verdicts.by_patch.get(verdict.patch_id, []):
        try:
            paths = change.paths_since(item.target)
        except FatalError:  # the judged tree is not in this clone
            continue
        if paths:
            shown = ", ".join(paths[:8]) + (f" and {len(paths) - 8} more" if len(paths) > 8 else "")
            return f"{shown} changed since the judge saw it as {item.target[:12]}"
    return ""


def _person_keys(identities: list[Identity | None], config: VerdictConfig) -> set[str]:
    keys = {verdicts.email_key(i.email) for i in identities if i is not None and i.email}
    for group in config.aliases:
        group_keys = {verdicts.email_key(e) for e in group}
        if keys & group_keys:
            keys |= group_keys
    return keys


def judge_allowed(judge: Identity, config: VerdictConfig) -> bool:
    """Does the judge match `verdict.judges` (always true when none are listed)?"""
    if not config.judges:
        return True
    email = verdicts.email_key(judge.email)
    for entry in config.judges:
        parsed = Identity.parse(entry)
        wanted = parsed.email if parsed is not None and parsed.email else entry
        if fnmatchcase(email, verdicts.email_key(wanted)):
            return True
    return False


class Candidate(NamedTuple):
    """A verdict offered for this change, from a trailer or from the notes."""

    verdict: verdicts.Verdict
    signature: str | None
    where: str


def candidates(change: Change, ctx: Context) -> tuple[list[Candidate], list[Finding]]:
    found: list[Candidate] = []
    malformed: list[Finding] = []
    for group in verdicts.verdict_trailers(change.trailers):
        try:
            parsed = verdicts.parse(group.value)._replace(evidence=group.evidence, refs=group.refs)
            found.append(Candidate(parsed, group.signature, "trailer"))
        except verdicts.VerdictSyntaxError as e:
            malformed.append(_finding(
                change, "verdict-malformed",
                f"cannot read `Verdict: {group.value}`: {e}.",
                _ask(change, "drop the malformed Verdict trailer and ask an independent judge "
                             "to review it"),
            ))
    if ctx.store.has_verdict_notes:
        seen = {_same_verdict(c) for c in found}
        for item in ctx.store.verdicts.for_change(change.patch_id, change.commit):
            judge = Identity.parse(item.record.judge)
            if judge is None or not judge.email:
                continue  # never trusted: reported by `agentops notes verify`
            r = item.record
            verdict = verdicts.Verdict(r.status, judge, r.patch_id, r.covers or (), r.range,
                                       r.evidence, r.evidence_refs or (), r.session,
                                       r.judges or ())
            where = f"note on {item.target[:12]}" + (f", PR verdict for {r.range}" if r.range else "")
            candidate = Candidate(verdict, r.signature, where)
            if _same_verdict(candidate) not in seen:  # the same verdict, recorded twice
                seen.add(_same_verdict(candidate))
                found.append(candidate)
    return found, malformed


def binds(verdict: verdicts.Verdict, change: Change) -> bool:
    """Is the verdict about this change: bound to its patch, or a PR-level verdict
    covering it?"""
    return verdict.patch_id == change.patch_id or change.patch_id in verdict.covers


def _outside_range(verdict: verdicts.Verdict, change: Change, ctx: Context) -> list[str]:
    """The patches a PR-level verdict covers that the commits judged with this one lack:
    it admits its commits together (a rebase lands them all), never a part of them."""
    if verdict.patch_id == change.patch_id:
        return []
    present = ctx.store.patches_of(ctx.range_changes) if ctx.range_changes else {change.patch_id}
    return [p for p in verdict.covers if p not in present]


def _same_verdict(c: Candidate) -> tuple[str, str, str, str | None]:
    return (c.verdict.status, verdicts.email_key(c.verdict.judge.email), c.verdict.patch_id,
            c.signature)


def signs_required(ctx: Context) -> bool:
    """Does only a signed verdict count here (the policy, or the enforcement point)?"""
    return ctx.config.section(VerdictConfig).require_signature or ctx.store.require_signature


def trusted_signers(ctx: Context) -> tuple[bytes | None, str] | None:
    """The allowed signers a signature is checked against, and where they come from
    (None: no trust root is configured, so signatures are not checked)."""
    if ctx.store.outside_signers is not None:
        return ctx.store.outside_signers
    name = ctx.config.section(VerdictConfig).allowed_signers
    if not name:
        return None
    base = ctx.trust_base
    return ctx.store.file_at(base, name), (f"{name} at {base[:12]}" if base else "no base commit")


def signature_problem(candidate: Candidate, ctx: Context) -> str | None:
    """Why a candidate's signature does not count (None: it does, or none is needed)."""
    trusted = trusted_signers(ctx)
    if candidate.signature is None:
        if signs_required(ctx):
            return "it is not signed, and signed verdicts are required here"
        return None
    if trusted is None:
        return "no allowed signers are configured to check it against" if signs_required(ctx) \
            else None
    from agentops_hooks.evidence import signatures

    if any(ch in candidate.verdict.judge.email for ch in "*?!,"):
        # ssh-keygen would read such a principal as a pattern.
        return "the judge's email holds a pattern character"
    v = candidate.verdict
    check = signatures.verify(
        signatures.payload(v.status, v.judge, v.patch_id, v.signed_fields()), candidate.signature,
        v.judge.email, trusted[0],
    )
    if check.ok:
        return None
    return f"its signature does not verify ({check.reason}; allowed signers: {trusted[1]})"


def automated_problem(candidate: Candidate, ctx: Context, gate: str) -> str | None:
    """Why a verdict by the configured automated judge (`judge.identity`) does not count
    at `gate` (None: it does, or it is not the automated judge's). It counts only where
    `judge.admits` names the gate, and only signed with a key the trust root lists:
    its name alone is text any agent can type."""
    identity = ctx.config.judge.identity
    found = Identity.parse(identity) if identity else None
    if found is None or verdicts.email_key(found.email) != verdicts.email_key(
            candidate.verdict.judge.email):
        return None
    if gate not in ctx.config.judge.admits:
        return (f"it is the automated judge's, and judge.admits does not name gate {gate} "
                "(a human must judge this)")
    if candidate.signature is None or trusted_signers(ctx) is None:
        return ("it is the automated judge's, which counts only signed and checked against "
                "verdict.allowed_signers (or the enforcement point's trust root)")
    return signature_problem(candidate, ctx)


def _merge_adds(ctx: Context, shown: int = 8) -> str:
    """Why a merge in a range needs a verdict at all: what it adds beyond its parents."""
    adds = ctx.merge_adds
    if adds is None or adds.clean:
        return ""
    if adds.octopus:
        return ("this octopus merge may add changes beyond its parents, and git cannot "
                "remerge an octopus to tell, so it is judged as a whole: ")
    paths = ", ".join(adds.paths[:shown]) or "no path git names"
    more = f" and {len(adds.paths) - shown} more" if len(adds.paths) > shown else ""
    return (f"this merge adds changes beyond its parents (its remerge diff touches {paths}{more}): "
            "what it adds was judged on no branch, so ")


def check(change: Change, ctx: Context) -> list[Finding]:
    """Findings for gate VII; none when an independent PASS binds this change."""
    config = ctx.config.section(VerdictConfig)
    if not ctx.applies(config.required_for):
        return []
    who = "an agent-authored change" if ctx.agent_signals else "every change (policy)"
    offered, findings = candidates(change, ctx)
    if not offered and not findings:
        merge = _merge_adds(ctx)
        where = "a `Verdict:` trailer, or a verdict recorded in refs/notes/agentops/verdicts"
        if merge:
            where = f"the merge's diff against its first parent; {where}"
        return [_finding(
            change, "verdict-missing",
            f"{merge}{who} needs a PASS verdict from an independent judge, bound to patch "
            f"{change.patch_id} ({where}).",
            _ask(change),
        )]

    # Every trailer speaks about this change; a note only if bound to its patch.
    relevant = [c for c in offered if c.where == "trailer" or binds(c.verdict, change)]
    statuses = {c.verdict.status for c in relevant}
    if len(statuses) > 1:
        findings.append(_finding(
            change, "verdict-conflict",
            "the verdicts disagree (" + ", ".join(sorted(statuses)) + "); "
            "only an unopposed PASS admits a change; a FAIL recorded for this exact patch "
            "stands.",
            _ask(change, "change the code (a new patch), drop stale Verdict trailers from the "
                         "message and ask for a new review"),
        ))
    for c in relevant:
        if not c.verdict.admits:
            findings.append(_finding(
                change, "verdict-not-pass",
                f"judge {c.verdict.judge} gave {c.verdict.status} ({c.where}): "
                "the change is not admitted.",
                _ask(change, "fix what the judge found, then ask for a new review"),
            ))
    if findings:
        return findings
    return admission(change, ctx, offered)[0]


def admission(change: Change, ctx: Context, offered: list[Candidate]) -> tuple[list[Finding],
                                                                            Candidate | None]:
    """Why each offered PASS does not admit the change, or the first one that does."""
    config = ctx.config.section(VerdictConfig)
    people = _person_keys([change.author, change.committer, *change.co_authors], config)
    problems: list[Finding] = []
    for c in offered:
        v = c.verdict
        if verdicts.email_key(v.judge.email) in people:
            problems.append(_finding(
                change, "verdict-self-judged",
                f"judge {v.judge} ({c.where}) is the author, committer or a co-author of "
                "this change: no agent grades its own work.",
                _ask(change, "ask someone else to judge it"),
            ))
        elif not binds(v, change):
            edited = _edited_since(v, change, ctx)
            problems.append(_finding(
                change, "verdict-wrong-patch",
                f"the verdict of {v.judge} ({c.where}) is bound to patch {v.patch_id}, but this "
                f"change is patch {change.patch_id}: "
                + (f"it was edited after judging ({edited})." if edited else
                   "it judged another change, or the change was edited after judging."),
                _ask(change, "ask the judge to review the change as it is now"),
            ))
        elif missing := _outside_range(v, change, ctx):
            problems.append(_finding(
                change, "verdict-range-incomplete",
                f"the PR-level verdict of {v.judge} ({c.where}) covers {len(v.covers)} commits, "
                f"and {len(missing)} of them are not among the commits checked with this one: "
                "it admits the pull request's commits together, never a part of them.",
                "land the whole pull request (squash, merge or rebase all of it), or "
                + _ask(change, "ask for a verdict on this part"),
            ))
        elif not judge_allowed(v.judge, config):
            listed = ", ".join(config.judges)
            problems.append(_finding(
                change, "verdict-judge-not-listed",
                f"judge {v.judge} ({c.where}) is not one of the judges in verdict.judges "
                f"({listed}).",
                _ask(change, "ask a judge listed in verdict.judges"),
            ))
        elif (problem := signature_problem(c, ctx)) is not None:
            problems.append(_finding(
                change, "verdict-unsigned" if c.signature is None else "verdict-signature-invalid",
                f"the verdict of {v.judge} ({c.where}) does not count: {problem}.",
                _ask(change, "ask the judge to sign with a key the trust root lists"),
            ))
        elif (problem := automated_problem(c, ctx, GATE)) is not None:
            problems.append(_finding(
                change, "verdict-automated-not-accepted",
                f"the verdict of {v.judge} ({c.where}) does not count: {problem}.",
                _ask(change, "run `agentops judge` with the judge's key, or ask a human"),
            ))
        else:
            return [], c
    return problems, None
