"""The pre-receive hook's parts called directly, in a real repository standing in for
the server: its refs are the refs before the push, and the pushed commits are objects
no ref names yet. Every message word for word."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import agentops
from conftest import run_agentops
from conftest import signer_line

from agentops_hooks import git as git_module
from agentops_hooks.errors import FatalError
from agentops_hooks.git import Repo
from agentops_hooks.places import server
from agentops_hooks.places.server import Protection
from agentops_hooks.places.server import RefUpdate
from agentops_hooks.places.server import ServerRef

Z40 = "0" * 40
Z64 = "0" * 64
VERDICTS = "refs/notes/agentops/verdicts"
REFUSED = ("agentops: push refused. Fix the commits (or fetch and merge the notes) and push again; "
           "agentops explain RULE says why each rule refuses and how to satisfy it.")
UNSIGNED = "agentops: unsigned verdicts accepted: any agent can type one — see docs/trust.md"


def base(repo: GitRepo) -> str:
    repo.stage("a.py", "a = 0\n")
    repo.commit("base")
    return repo.head()


def pushed(repo: GitRepo, path: str, content: str, message: str = "Human work", parent: str = "HEAD") -> str:
    """A commit on `parent` that no ref names (as a push brings it); main checked out again."""
    repo.git("checkout", "-q", "--detach", parent)
    repo.stage(path, content)
    repo.commit(message, "--no-verify")
    new = repo.head()
    repo.git("checkout", "-q", "main")
    return new


def agent_pushed(repo: GitRepo, path: str = "b.py", subject: str = "Agent work", parent: str = "HEAD") -> str:
    return pushed(repo, path, "b = 1\n", agent_message(subject), parent)


def passed(ref: str, old: str, new: str, count: int = 1, unsigned: bool = True) -> str:
    label = f"{ref} ({old[:12]}..{new[:12]})"
    return (f"agentops: checking {label}: {count} commit(s)\n{UNSIGNED + chr(10) if unsigned else ''}"
            f"agentops: {label} passed ({count} commit(s); --verbose lists each)")


# --- RefUpdate and parse_updates ----------------------------------------------------

@pytest.mark.parametrize(("old", "new", "created", "deleted"), [
    (Z40, "a" * 40, True, False),
    ("a" * 40, Z40, False, True),
    (Z64, "b" * 64, True, False),
    ("b" * 64, Z64, False, True),
    ("0" * 39 + "1", "1" + "0" * 39, False, False),
    ("a" * 40, "b" * 40, False, False),
])
def test_an_update_is_a_creation_or_a_deletion_when_a_side_is_all_zeros(
        old: str, new: str, created: bool, deleted: bool) -> None:
    update = RefUpdate(old, new, "refs/heads/main")
    assert (update.created, update.deleted) == (created, deleted)


def test_updates_are_read_one_a_line_blank_lines_skipped() -> None:
    a, b, c = "a" * 40, "b" * 40, "c" * 64
    text = f"{a} {b} refs/heads/main\n\n   \n{Z64} {c} refs/tags/v1\r\n{b}\t{Z40}  refs/heads/x\n"
    assert server.parse_updates(text) == [RefUpdate(a, b, "refs/heads/main"), RefUpdate(Z64, c, "refs/tags/v1"),
                                          RefUpdate(b, Z40, "refs/heads/x")]
    assert server.parse_updates("") == []


@pytest.mark.parametrize(("text", "number", "line"), [
    ("garbage line", 1, "garbage line"),
    (f"{'a' * 40} {'b' * 40}", 1, f"{'a' * 40} {'b' * 40}"),
    (f"{'a' * 40} {'b' * 40} refs/heads/main x", 1, f"{'a' * 40} {'b' * 40} refs/heads/main x"),
    (f"\n{'a' * 40} {'b' * 40} refs/heads/main\n{'a' * 39} {'b' * 40} r", 3, f"{'a' * 39} {'b' * 40} r"),
    (f"{'a' * 40} {'b' * 41} r", 1, f"{'a' * 40} {'b' * 41} r"),
    (f"{'a' * 65} {'b' * 40} r", 1, f"{'a' * 65} {'b' * 40} r"),
    (f"{'a' * 40} {'b' * 63} r", 1, f"{'a' * 40} {'b' * 63} r"),
    (f"{'a' * 41} {'b' * 41} r", 1, f"{'a' * 41} {'b' * 41} r"),
    ("x y z", 1, "x y z"),
])
def test_a_line_that_is_not_an_update_is_named_by_number(text: str, number: int, line: str) -> None:
    with pytest.raises(FatalError) as e:
        server.parse_updates(text)
    assert str(e.value) == f"pre-receive input line {number} is not `<old> <new> <ref>`: {line!r}"


# --- which refs are protected -------------------------------------------------------

@pytest.mark.parametrize(("ref", "covered"), [
    ("refs/heads/trunk", True),
    ("refs/tags/v1", True),
    ("refs/tags/", True),
    ("refs/heads/main", True),
    ("refs/heads/release/1.0", True),
    ("refs/heads/release", False),
    ("refs/heads/Main", False),
    ("refs/heads/trunk2", False),
    ("refs/heads/feature", False),
    ("refs/notes/agentops/verdicts", False),
    ("refs/tagsx/v1", False),
    ("refs/heads/refs/tags/v1", False),
])
def test_protection_covers_patterns_the_default_branch_and_every_tag(ref: str, covered: bool) -> None:
    protection = Protection(["refs/heads/main", "refs/heads/release/*"], "refs/heads/trunk")
    assert protection.covers(ref) is covered
    assert protection.patterns == ("refs/heads/main", "refs/heads/release/*")
    assert protection.default_branch == "refs/heads/trunk"


def test_no_patterns_protect_only_the_default_branch_and_tags() -> None:
    protection = Protection([], "refs/heads/main")
    assert [protection.covers(r) for r in ("refs/heads/main", "refs/tags/x", "refs/heads/master")] == [
        True, True, False]


def test_protected_tips_are_the_covered_refs_that_name_a_commit() -> None:
    refs = {"refs/heads/main": ServerRef("", "c1"), "refs/heads/feature": ServerRef("", "c2"),
            "refs/tags/v1": ServerRef("", "c3"), "refs/tags/tree": ServerRef("", ""),
            "refs/heads/release/1": ServerRef("", "c4")}
    protection = Protection(["refs/heads/release/*"], "refs/heads/main")
    assert server._protected_tips(refs, protection) == {
        "refs/heads/main": "c1", "refs/tags/v1": "c3", "refs/heads/release/1": "c4"}


# --- the server's refs, through symbolic refs -----------------------------------------

def test_server_refs_name_each_refs_commit_through_a_tag(repo: GitRepo) -> None:
    tip = base(repo)
    tree = repo.out("rev-parse", "HEAD^{tree}")
    blob = repo.out("rev-parse", "HEAD:a.py")
    repo.git("tag", "light")
    repo.git("tag", "-a", "-m", "annotated", "annotated")
    repo.git("tag", "-a", "-m", "a tree", "treetag", tree)
    repo.git("update-ref", "refs/blobs/blobby", blob)
    repo.git("symbolic-ref", "refs/heads/stable", "refs/heads/main")
    refs = server._server_refs(Repo())
    assert refs == {
        "refs/heads/main": ServerRef("", tip),
        "refs/blobs/blobby": ServerRef("", ""),
        "refs/heads/stable": ServerRef("refs/heads/main", tip),
        "refs/tags/light": ServerRef("", tip),
        "refs/tags/annotated": ServerRef("", tip),
        "refs/tags/treetag": ServerRef("", ""),
    }


def test_an_empty_server_has_no_refs(repo: GitRepo) -> None:
    assert server._server_refs(Repo()) == {}


def test_a_ref_name_that_is_not_utf_8_is_read_with_a_replacement_character(repo: GitRepo) -> None:
    tip = base(repo)
    repo.git("update-ref", "refs/heads/caf\udce9", tip)
    assert server._server_refs(Repo()) == {"refs/heads/caf\ufffd": ServerRef("", tip),
                                           "refs/heads/main": ServerRef("", tip)}


def test_an_update_is_named_by_the_ref_it_writes() -> None:
    a, b = "a" * 40, "b" * 40
    refs = {"refs/heads/stable": ServerRef("refs/heads/next", a), "refs/heads/next": ServerRef("refs/heads/main", a),
            "refs/heads/main": ServerRef("", a), "refs/heads/x": ServerRef("refs/heads/y", a),
            "refs/heads/y": ServerRef("refs/heads/x", a), "refs/heads/gone": ServerRef("refs/heads/new", "")}
    plain = RefUpdate(a, b, "refs/heads/main")
    updates = [RefUpdate(a, b, "refs/heads/stable"), plain, RefUpdate(a, b, "refs/heads/x"),
               RefUpdate(a, b, "refs/heads/other"), RefUpdate(Z40, b, "refs/heads/gone")]
    resolved = server._through_symrefs(updates, refs)
    assert resolved == [RefUpdate(a, b, "refs/heads/main"), plain, RefUpdate(a, b, "refs/heads/x"),
                        RefUpdate(a, b, "refs/heads/other"), RefUpdate(Z40, b, "refs/heads/new")]
    assert resolved[1] is plain


def test_a_cycle_of_symbolic_refs_ends_where_it_would_loop() -> None:
    a, b = "a" * 40, "b" * 40
    refs = {"refs/heads/x": ServerRef("refs/heads/y", a), "refs/heads/y": ServerRef("refs/heads/z", a),
            "refs/heads/z": ServerRef("refs/heads/y", a)}
    assert server._through_symrefs([RefUpdate(a, b, "refs/heads/x")], refs) == [RefUpdate(a, b, "refs/heads/y")]


# --- the policy and the trust roots ---------------------------------------------------

def test_a_policy_that_cannot_be_read_says_why(repo: GitRepo) -> None:
    good = base(repo)
    assert server._policy_problem(Repo(), good) is None
    repo.stage(".agentops.toml", 'protected = ["refs/heads/main"]\n')
    repo.commit("Good policy")
    assert server._policy_problem(Repo(), repo.head()) is None
    repo.stage(".agentops.toml", 'protected = ["main"]\n')
    repo.commit("Bad policy")
    bad = repo.head()
    assert server._policy_problem(Repo(), bad) == (
        f"{bad[:12]}:.agentops.toml: protected[0]: 'main' is not a ref pattern "
        "(use e.g. refs/heads/main or refs/heads/release/*)")


def test_no_trust_root_configured_means_unsigned_verdicts_count(repo: GitRepo) -> None:
    base(repo)
    assert server.server_trust(Repo()) == (None, False)


@pytest.mark.parametrize(("said", "required"), [("true", True), ("yes", True), ("false", False), ("off", False)])
def test_require_signature_is_read_as_a_boolean(repo: GitRepo, said: str, required: bool) -> None:
    base(repo)
    repo.git("config", "agentops.requireSignature", said)
    assert server.server_trust(Repo()) == (None, required)


def test_a_trust_root_named_in_the_servers_config_is_read_relative_to_it(
        repo: GitRepo, keys: dict[str, Path]) -> None:
    base(repo)
    content = signer_line("riley@example.com", keys["riley"])
    (repo.root / ".git" / "signers").write_text(content)
    repo.git("config", "agentops.allowedSigners", "signers")
    path = Repo().git_dir / "signers"
    expected = (content.encode(), f"agentops.allowedSigners {path}")
    assert server.server_trust(Repo()) == (expected, True)
    repo.git("config", "agentops.requireSignature", "false")
    assert server.server_trust(Repo()) == (expected, False)


def test_a_trust_root_that_cannot_be_read_stops_the_check(repo: GitRepo) -> None:
    base(repo)
    repo.git("config", "agentops.allowedSigners", "missing")
    path = Repo().git_dir / "missing"
    with pytest.raises(FatalError) as e:
        server.server_trust(Repo())
    assert str(e.value) == f"cannot read agentops.allowedSigners {path}: No such file or directory"


# --- notes updates --------------------------------------------------------------------

def notes(repo: GitRepo, message: str, ref: str = "agentops/verdicts", *, force: bool = False) -> str:
    repo.git("notes", f"--ref={ref}", "add", *(["-f"] if force else []), "-m", message, "HEAD")
    return repo.out("rev-parse", f"refs/notes/{ref}")


def test_deleting_a_notes_ref_is_refused(repo: GitRepo) -> None:
    base(repo)
    old = notes(repo, "one")
    for zeros in (Z40, Z64):
        assert server.check_notes_update(Repo(), RefUpdate(old, zeros, VERDICTS)) == [
            f"{VERDICTS}: deleting the ledger is refused (notes are append-only)"]


def test_a_new_notes_ref_and_an_append_are_accepted(repo: GitRepo) -> None:
    base(repo)
    first = notes(repo, "one")
    assert server.check_notes_update(Repo(), RefUpdate(Z40, first, VERDICTS)) == []
    repo.git("notes", "--ref=agentops/verdicts", "append", "-m", "two", "HEAD")
    second = repo.out("rev-parse", VERDICTS)
    assert server.check_notes_update(Repo(), RefUpdate(first, second, VERDICTS)) == []


def test_a_notes_update_that_does_not_contain_the_old_tip_is_refused(repo: GitRepo) -> None:
    base(repo)
    old = notes(repo, "one")
    rewritten = repo.out("commit-tree", "-m", "rewrite", f"{old}^{{tree}}")
    assert server.check_notes_update(Repo(), RefUpdate(old, rewritten, "refs/notes/agentops/other")) == [
        f"refs/notes/agentops/other: {rewritten[:12]} does not contain {old[:12]}: rewriting the ledger is "
        "refused (fetch, merge with `agentops notes sync`, push again)"]


def test_a_notes_commit_that_removes_a_line_is_refused_each_one_named(repo: GitRepo) -> None:
    head = base(repo)
    first = notes(repo, "one")
    removal = notes(repo, "two", force=True)
    again = notes(repo, "three", force=True)
    name = VERDICTS
    assert server.check_notes_update(Repo(), RefUpdate(first, again, name)) == [
        f"{name}: notes commit {removal[:12]} removed or changed 1 line(s) of the note on {head[:12]}: one",
        f"{name}: notes commit {again[:12]} removed or changed 1 line(s) of the note on {head[:12]}: two"]
    # only what the update adds is judged
    assert server.check_notes_update(Repo(), RefUpdate(removal, again, name)) == [
        f"{name}: notes commit {again[:12]} removed or changed 1 line(s) of the note on {head[:12]}: two"]


# --- how a protected ref may move -------------------------------------------------------

def test_a_protected_ref_is_not_deleted(repo: GitRepo) -> None:
    tip = base(repo)
    assert server.update_problem(Repo(), RefUpdate(tip, Z40, "refs/heads/main"), "refs/heads/main") == (
        "refs/heads/main is protected and cannot be deleted")


def test_a_protected_ref_names_a_commit_or_a_tag_of_one(repo: GitRepo) -> None:
    tip = base(repo)
    tree = repo.out("rev-parse", "HEAD^{tree}")
    blob = repo.out("rev-parse", "HEAD:a.py")
    repo.git("tag", "-a", "-m", "tree", "treetag", tree)
    treetag = repo.out("rev-parse", "refs/tags/treetag")
    for target in (tree, blob, treetag, "f" * 40):
        for old in (Z40, tip):
            assert server.update_problem(Repo(), RefUpdate(old, target, "refs/tags/v1"), "refs/heads/main") == (
                f"refs/tags/v1 would point at {target[:12]}, which is not a commit (nor a tag of one): a "
                "protected ref names commits, so that they can be checked")
    repo.git("tag", "-a", "-m", "release", "v1")
    tag = repo.out("rev-parse", "refs/tags/v1")
    assert server.update_problem(Repo(), RefUpdate(Z40, tag, "refs/tags/v2"), "refs/heads/main") is None


def test_a_protected_tag_is_never_moved(repo: GitRepo) -> None:
    old = base(repo)
    new = pushed(repo, "b.py", "b = 1\n")
    for target in (new, old):
        assert server.update_problem(Repo(), RefUpdate(old, target, "refs/tags/v1"), "refs/heads/main") == (
            "refs/tags/v1 already exists: a protected tag is never moved (releases are built from tags); "
            "push a new tag instead")


def test_a_protected_branch_only_grows(repo: GitRepo) -> None:
    old = base(repo)
    new = pushed(repo, "b.py", "b = 1\n")
    rewritten = pushed(repo, "c.py", "c = 1\n", parent=old)
    assert server.update_problem(Repo(), RefUpdate(old, new, "refs/heads/release/1"), "refs/heads/main") is None
    assert server.update_problem(Repo(), RefUpdate(Z40, new, "refs/heads/release/1"), "refs/heads/main") is None
    for a, b in ((new, old), (new, rewritten)):
        assert server.update_problem(Repo(), RefUpdate(a, b, "refs/heads/release/1"), "refs/heads/main") == (
            f"refs/heads/release/1: {b[:12]} does not contain {a[:12]}: a force-push that rewinds or rewrites "
            "a protected branch is refused (merge or revert with a new commit instead)")


def test_only_the_default_branch_must_keep_a_readable_policy(repo: GitRepo) -> None:
    old = base(repo)
    bad = pushed(repo, ".agentops.toml", 'protected = ["main"]\n')
    problem = (f"{bad[:12]}:.agentops.toml: protected[0]: 'main' is not a ref pattern "
               "(use e.g. refs/heads/main or refs/heads/release/*)")
    assert server.update_problem(Repo(), RefUpdate(old, bad, "refs/heads/trunk"), "refs/heads/trunk") == (
        f"refs/heads/trunk would get a policy the server cannot read, which would refuse every later push: "
        f"{problem}")
    assert server.update_problem(Repo(), RefUpdate(old, bad, "refs/heads/main"), "refs/heads/trunk") is None
    good = pushed(repo, ".agentops.toml", 'protected = ["refs/heads/main"]\n')
    assert server.update_problem(Repo(), RefUpdate(old, good, "refs/heads/main"), "refs/heads/main") is None


# --- the whole hook, called directly ----------------------------------------------------

def test_a_good_update_passes_and_says_so(repo: GitRepo) -> None:
    old = base(repo)
    new = pushed(repo, "b.py", "b = 1\n")
    assert server.pre_receive(Repo(), [RefUpdate(old, new, "refs/heads/main")]) == (
        True, passed("refs/heads/main", old, new))


def test_an_unjudged_agent_commit_is_refused_with_the_notes_fix(repo: GitRepo) -> None:
    old = base(repo)
    new = agent_pushed(repo, subject="Agent work")
    label = f"refs/heads/main ({old[:12]}..{new[:12]})"
    assert server.pre_receive(Repo(), [RefUpdate(old, new, "refs/heads/main")]) == (False, "\n".join([
        f"agentops: checking {label}: 1 commit(s)",
        UNSIGNED,
        f"??  {new[:12]}  Agent work  (agent-authored (Claude Code: Co-authored-by 'Claude "
        "<noreply@anthropic.com>' [rule claude-code.noreply-email]))",
        "FAIL  [VII verdict] verdict-notes-missing: 1 agent commit(s) carry no Verdict trailer "
        f"({new[:12]}), and this clone has no refs/notes/agentops/verdicts: verdicts recorded in notes were "
        "not fetched, so they cannot be checked.",
        "      fix: push the verdict notes together with the commits (agentops notes push, or git push origin "
        "refs/notes/agentops/verdicts); if there are none, those commits are unjudged",
        f"agentops: 1 finding(s) in {label}. Why, and how to satisfy each: agentops explain "
        "verdict-notes-missing",
        REFUSED]))


def test_an_unprotected_branch_is_not_checked(repo: GitRepo) -> None:
    base(repo)
    new = agent_pushed(repo)
    assert server.pre_receive(Repo(), [RefUpdate(Z40, new, "refs/heads/feature")]) == (True, "")


def test_a_new_protected_ref_checks_only_commits_on_no_other_protected_ref(repo: GitRepo) -> None:
    old = base(repo)
    repo.git("branch", "feature")
    repo.git("tag", "v0")
    new = pushed(repo, "b.py", "b = 1\n")
    assert server.pre_receive(Repo(), [RefUpdate(Z40, new, "refs/heads/release/1")]) == (
        True, passed("refs/heads/release/1", Z40, new))
    # main and v0 hold `old`; a commit only on the unprotected feature branch is checked
    side = pushed(repo, "c.py", "c = 1\n", parent=old)
    repo.git("update-ref", "refs/heads/feature", side)
    top = pushed(repo, "d.py", "d = 1\n", parent=side)
    assert server.pre_receive(Repo(), [RefUpdate(Z40, top, "refs/tags/v1")]) == (
        True, passed("refs/tags/v1", Z40, top, 2))


def test_a_new_ref_on_a_new_server_checks_all_its_history(repo: GitRepo) -> None:
    """The first push of the default branch: every commit, under the built-in policy."""
    base(repo)
    repo.stage("b.py", "b = 1\n")
    repo.commit("more")
    tip = repo.head()
    repo.git("update-ref", "-d", "refs/heads/main")
    assert server.pre_receive(Repo(), [RefUpdate(Z40, tip, "refs/heads/main")]) == (
        True, passed("refs/heads/main", Z40, tip, 2))


def test_the_policy_of_the_updated_refs_old_tip_judges_it(repo: GitRepo) -> None:
    """release/1 turned the verdict gate off in its own history: its commits are judged by
    that, not by the default branch's policy (and not by the policy pushed)."""
    old = base(repo)
    release = pushed(repo, ".agentops.toml", 'gates = ["learnings"]\n')
    repo.git("update-ref", "refs/heads/release/1", release)
    agent = agent_pushed(repo, parent=release)
    assert server.pre_receive(Repo(), [RefUpdate(release, agent, "refs/heads/release/1")]) == (
        True, f"agentops: checking refs/heads/release/1 ({release[:12]}..{agent[:12]}): 1 commit(s)\n"
              f"agentops: refs/heads/release/1 ({release[:12]}..{agent[:12]}) passed (1 commit(s); "
              "--verbose lists each)")
    # a policy pushed to main does not judge the push that brings it
    lax = pushed(repo, ".agentops.toml", 'gates = ["learnings"]\n', parent=old)
    agent2 = agent_pushed(repo, parent=lax)
    ok, message = server.pre_receive(Repo(), [RefUpdate(old, agent2, "refs/heads/main")])
    assert not ok and "verdict-notes-missing" in message


def test_the_default_branchs_policy_names_the_protected_refs(repo: GitRepo) -> None:
    base(repo)
    repo.stage(".agentops.toml", 'protected = ["refs/heads/prod"]\n')
    repo.commit("Protect prod")
    agent = agent_pushed(repo)
    ok, message = server.pre_receive(Repo(), [RefUpdate(Z40, agent, "refs/heads/prod")])
    assert not ok and "verdict-notes-missing" in message
    assert server.pre_receive(Repo(), [RefUpdate(Z40, agent, "refs/heads/release/1")]) == (True, "")


def test_the_ratchet_is_left_to_ci(repo: GitRepo) -> None:
    base(repo)
    repo.stage(".agentops.toml", 'gates = ["verdict", "ratchet"]\n')
    repo.commit("Ratchet on")
    old = repo.head()
    new = pushed(repo, "b.py", "b = 1\n")
    assert server.pre_receive(Repo(), [RefUpdate(old, new, "refs/heads/main")]) == (
        True, passed("refs/heads/main", old, new) + "\nagentops: the ratchet needs a work tree and is not "
        "checked here (check it in CI: agentops check --range)")


def test_verdicts_pushed_with_the_commits_count(repo: GitRepo) -> None:
    old = base(repo)
    agent = agent_pushed(repo)
    repo.git("checkout", "-q", "--detach", agent)
    agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", agent)
    ledger = repo.out("rev-parse", VERDICTS)
    repo.git("checkout", "-q", "main")
    repo.git("update-ref", "-d", VERDICTS)
    label = f"refs/heads/main ({old[:12]}..{agent[:12]})"
    accepted = server.pre_receive(Repo(), [RefUpdate(old, agent, "refs/heads/main"), RefUpdate(Z40, ledger, VERDICTS)])
    assert accepted == (True, f"agentops: checking {label}: 1 commit(s)\n{UNSIGNED}\n"
                              f"agentops: {label} passed (1 commit(s); --verbose lists each)")
    # the same notes under another name are no verdicts
    other = "refs/notes/agentops/other"
    ok, message = server.pre_receive(Repo(), [RefUpdate(old, agent, "refs/heads/main"), RefUpdate(Z40, ledger, other)])
    assert not ok and "verdict-notes-missing" in message


def test_notes_replace_refs_and_bad_names_are_refused_each_on_its_line(repo: GitRepo) -> None:
    head = base(repo)
    first = notes(repo, "one")
    removal = notes(repo, "two", force=True)
    repo.git("update-ref", VERDICTS, first)
    updates = [RefUpdate(Z40, head, "main"), RefUpdate(Z40, head, "refs/replace/" + head),
               RefUpdate(first, removal, VERDICTS), RefUpdate(first, Z40, "refs/notes/agentops/x"),
               RefUpdate(Z40, head, "refs/notes/commits")]
    assert server.pre_receive(Repo(), updates) == (False, "\n".join([
        "agentops: refused: 'main' is not a valid ref name",
        f"agentops: refused: refs/replace/{head}: replace refs are refused: they would make every git command "
        "on the server show other objects than the ones stored",
        f"agentops: refused: {VERDICTS}: notes commit {removal[:12]} removed or changed 1 line(s) of the note "
        f"on {head[:12]}: one",
        "agentops: refused: refs/notes/agentops/x: deleting the ledger is refused (notes are append-only)",
        REFUSED]))


def test_a_refused_protected_update_is_not_checked_further(repo: GitRepo) -> None:
    old = base(repo)
    new = pushed(repo, "b.py", "b = 1\n")
    assert server.pre_receive(Repo(), [RefUpdate(old, Z40, "refs/heads/main"),
                                       RefUpdate(Z40, new, "refs/heads/release/1")]) == (False, "\n".join([
        "agentops: refused: refs/heads/main is protected and cannot be deleted",
        passed("refs/heads/release/1", Z40, new), REFUSED]))


def test_an_update_through_a_symbolic_ref_is_judged_as_its_target(repo: GitRepo) -> None:
    old = base(repo)
    repo.git("symbolic-ref", "refs/heads/stable", "refs/heads/main")
    agent = agent_pushed(repo)
    ok, message = server.pre_receive(Repo(), [RefUpdate(old, agent, "refs/heads/stable")])
    assert not ok and f"agentops: checking refs/heads/main ({old[:12]}..{agent[:12]}): 1 commit(s)" in message


HEADLESS = ("agentops: refused: the server's HEAD names {}, which does not exist, so the policy (on the default "
            "branch) cannot be read: an administrator points HEAD at the default branch on the server "
            "(git symbolic-ref HEAD refs/heads/main)")


def test_a_head_naming_no_branch_refuses_when_the_server_has_branches_or_tags(repo: GitRepo) -> None:
    old = base(repo)
    new = pushed(repo, "b.py", "b = 1\n")
    repo.git("symbolic-ref", "HEAD", "refs/heads/trunk")
    assert server.pre_receive(Repo(), [RefUpdate(old, new, "refs/heads/main")]) == (
        False, HEADLESS.format("refs/heads/trunk"))
    assert server.pre_receive(Repo(), [RefUpdate(Z40, new, "refs/heads/trunk"), ]) == (
        True, passed("refs/heads/trunk", Z40, new))
    assert server.pre_receive(Repo(), [RefUpdate(old, Z40, "refs/heads/trunk")]) == (
        False, HEADLESS.format("refs/heads/trunk"))
    repo.git("update-ref", "-d", "refs/heads/main")
    repo.git("tag", "v1", old)
    assert server.pre_receive(Repo(), [RefUpdate(Z40, new, "refs/heads/x")]) == (
        False, HEADLESS.format("refs/heads/trunk"))


def test_a_head_naming_no_branch_on_a_server_with_only_notes_uses_the_built_in_policy(repo: GitRepo) -> None:
    base(repo)
    notes(repo, "one")
    new = pushed(repo, "b.py", "b = 1\n")
    repo.git("symbolic-ref", "HEAD", "refs/heads/trunk")
    repo.git("update-ref", "-d", "refs/heads/main")
    assert server.pre_receive(Repo(), [RefUpdate(Z40, new, "refs/heads/release/1")]) == (
        True, passed("refs/heads/release/1", Z40, new, 2))


def test_a_detached_head_naming_nothing_says_no_branch(repo: GitRepo) -> None:
    old = base(repo)
    (repo.root / ".git" / "HEAD").write_text("f" * 40 + "\n")
    assert server.pre_receive(Repo(), [RefUpdate(old, old, "refs/heads/main")]) == (
        False, HEADLESS.format("no branch"))


# --- main: exit codes, and failing closed -----------------------------------------------

def test_main_exits_0_to_accept_and_1_to_refuse(repo: GitRepo) -> None:
    old = base(repo)
    new = pushed(repo, "b.py", "b = 1\n")
    assert server.main(f"{old} {new} refs/heads/main\n") == (0, passed("refs/heads/main", old, new))
    assert server.main(f"{old} {Z40} refs/heads/main\n") == (1, "\n".join([
        "agentops: refused: refs/heads/main is protected and cannot be deleted", REFUSED]))


def test_main_refuses_input_it_cannot_read(repo: GitRepo) -> None:
    base(repo)
    assert server.main("garbage line\n") == (
        1, "agentops: refused: the check could not run: pre-receive input line 1 is not "
           "`<old> <new> <ref>`: 'garbage line'")


def test_main_refuses_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert server.main("") == (1, f"agentops: refused: the check could not run: not a git repository: {tmp_path}")


def test_main_reads_the_pushed_objects_from_the_quarantine(repo: GitRepo, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The pushed commit is only in the quarantine git names in the environment."""
    old = base(repo)
    quarantine = tmp_path / "incoming"
    quarantine.mkdir()
    objects = str(repo.root / ".git" / "objects")
    env = {"GIT_OBJECT_DIRECTORY": str(quarantine), "GIT_ALTERNATE_OBJECT_DIRECTORIES": objects}
    blob = repo.git("hash-object", "-w", "--stdin", input=b"b = 1\n", env=env).stdout.decode().strip()
    tree = repo.git("mktree", input=f"100644 blob {blob}\tb.py\n".encode(), env=env).stdout.decode().strip()
    new = repo.git("commit-tree", "-p", old, "-m", "Human work", tree, env=env).stdout.decode().strip()
    assert repo.git("cat-file", "-e", new, check=False).returncode != 0
    monkeypatch.setattr(git_module, "_kept_for_session", set())
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GIT_QUARANTINE_PATH", str(quarantine))
    assert server.main(f"{old} {new} refs/heads/main\n") == (0, passed("refs/heads/main", old, new))
    assert git_module._kept_for_session == {"GIT_QUARANTINE_PATH", "GIT_OBJECT_DIRECTORY",
                                            "GIT_ALTERNATE_OBJECT_DIRECTORIES"}


def test_main_refuses_on_an_unexpected_error(repo: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    old = base(repo)

    def broken(*args: object, **kwargs: object) -> None:
        raise KeyError("a bug")

    monkeypatch.setattr(server, "check_range", broken)
    assert server.main(f"{old} {old} refs/heads/main\n") == (1, "agentops: refused: internal error (KeyError: 'a bug')")



def test_an_unprotected_update_does_not_end_the_check_of_the_others(repo: GitRepo) -> None:
    old = base(repo)
    agent = agent_pushed(repo)
    ok, message = server.pre_receive(Repo(), [RefUpdate(Z40, agent, "refs/heads/feature"),
                                              RefUpdate(old, agent, "refs/heads/main")])
    assert not ok and "verdict-notes-missing" in message


def test_a_push_of_an_unreadable_policy_to_the_default_branch_is_refused(repo: GitRepo) -> None:
    old = base(repo)
    bad = pushed(repo, ".agentops.toml", 'protected = ["main"]\n')
    assert server.pre_receive(Repo(), [RefUpdate(old, bad, "refs/heads/main")]) == (False, "\n".join([
        "agentops: refused: refs/heads/main would get a policy the server cannot read, which would refuse every "
        f"later push: {bad[:12]}:.agentops.toml: protected[0]: 'main' is not a ref pattern (use e.g. "
        "refs/heads/main or refs/heads/release/*)", REFUSED]))


def test_without_a_default_branch_the_built_in_policy_judges_whatever_other_refs_hold(repo: GitRepo) -> None:
    """A server whose HEAD names no branch yet, its first push creating it: the built-in
    policy, not one read from some ref (here a branch named None)."""
    repo.stage(".agentops.toml", 'protected = ["main"]\n')
    repo.commit("A policy no one can read", "--no-verify")
    tip = repo.head()
    repo.git("branch", "None")
    repo.git("symbolic-ref", "HEAD", "refs/heads/trunk")
    repo.git("update-ref", "-d", "refs/heads/main")
    assert server.pre_receive(Repo(), [RefUpdate(Z40, tip, "refs/heads/trunk")]) == (
        True, passed("refs/heads/trunk", Z40, tip))


def test_the_ratchet_is_not_run_on_a_bare_server(repo: GitRepo, tmp_path: Path) -> None:
    repo.stage(".agentops.toml", 'gates = ["verdict", "ratchet"]\n[ratchet.metrics.tests]\n'
               'direction = "higher"\ncommand = "echo 1"\n')
    repo.commit("Ratchet on")
    old = repo.head()
    new = pushed(repo, "b.py", "b = 1\n")
    bare = tmp_path / "server.git"
    repo.git("init", "-q", "--bare", "-b", "main", str(bare))
    (bare / "objects" / "info" / "alternates").write_text(str(repo.root / ".git" / "objects") + "\n")
    repo.git("--git-dir", str(bare), "update-ref", "refs/heads/main", old)
    assert server.pre_receive(Repo(bare), [RefUpdate(old, new, "refs/heads/main")]) == (
        True, passed("refs/heads/main", old, new) + "\nagentops: the ratchet needs a work tree and is not "
        "checked here (check it in CI: agentops check --range)")


def test_a_server_that_requires_signatures_accepts_no_unsigned_verdict(repo: GitRepo) -> None:
    old = base(repo)
    repo.git("config", "agentops.requireSignature", "true")
    new = pushed(repo, "b.py", "b = 1\n")
    assert server.pre_receive(Repo(), [RefUpdate(old, new, "refs/heads/main")]) == (
        True, passed("refs/heads/main", old, new, unsigned=False))


SIGNERS = ".agentops/allowed_signers"
SIGNED_POLICY = f'[verdict]\nrequire_signature = true\nallowed_signers = "{SIGNERS}"\n'


def signed_verdict(repo: GitRepo, rev: str, key: Path) -> str:
    """A verdict on `rev` signed with `key`, in notes the server does not have yet: the notes tip."""
    code, out = run_agentops(repo, "verdict", "pass", "--judge", JUDGE, "--commit", rev, "--sign-key", str(key))
    assert code == 0, out
    tip = repo.out("rev-parse", VERDICTS)
    repo.git("update-ref", "-d", VERDICTS)
    return tip


def test_the_servers_own_trust_root_judges_signed_verdicts(repo: GitRepo, keys: dict[str, Path]) -> None:
    old = base(repo)
    agent = agent_pushed(repo)
    ledger = signed_verdict(repo, agent, keys["riley"])
    (repo.root / ".git" / "signers").write_text(signer_line("riley@example.com", keys["riley"]))
    repo.git("config", "agentops.allowedSigners", "signers")
    updates = [RefUpdate(old, agent, "refs/heads/main"), RefUpdate(Z40, ledger, VERDICTS)]
    assert server.pre_receive(Repo(), updates) == (True, passed("refs/heads/main", old, agent, unsigned=False))


@pytest.mark.parametrize("created", [False, True])
def test_trust_roots_come_from_the_protected_side_not_from_the_push(
        repo: GitRepo, keys: dict[str, Path], created: bool) -> None:
    """A pushed commit adds the agent's key to the allowed signers, and the next one's
    verdict is signed with it: judged by the old tip's signers (a new ref: the default
    branch's), it is refused; a verdict signed by the listed key passes."""
    repo.stage(SIGNERS, signer_line("riley@example.com", keys["riley"]))
    repo.stage(".agentops.toml", SIGNED_POLICY)
    repo.commit("Signed verdicts, Riley's key")
    old = repo.head()
    ref = "refs/heads/release/1" if created else "refs/heads/main"
    before = Z40 if created else old
    adds = pushed(repo, SIGNERS, signer_line("riley@example.com", keys["riley"])
                  + signer_line("riley@example.com", keys["agent"]))
    agent = agent_pushed(repo, parent=adds)
    repo.git("checkout", "-q", "--detach", agent)  # where the agent's key is listed, so it signs
    ledger = signed_verdict(repo, agent, keys["agent"])
    repo.git("checkout", "-q", "main")
    ok, message = server.pre_receive(Repo(), [RefUpdate(before, agent, ref), RefUpdate(Z40, ledger, VERDICTS)])
    assert not ok and "verdict-signature-invalid" in message, message
    ledger = signed_verdict(repo, agent, keys["riley"])
    ok, message = server.pre_receive(Repo(), [RefUpdate(before, agent, ref), RefUpdate(Z40, ledger, VERDICTS)])
    assert ok, message
