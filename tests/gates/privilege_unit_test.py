"""Gate IV's parts read directly: globs, protected paths, the policy table,
human verdicts, secrets in a patch's added lines, and every finding word for word.

Every fake secret here is assembled at run time from pieces, so this file
holds nothing a secret scanner would flag.
"""
from __future__ import annotations

import os
import random
import string

import pytest
from unidiff.patch import PatchSet

from agentops_hooks import gates
from agentops_hooks.change import ChangedPath
from agentops_hooks.change import CommitChange
from agentops_hooks.change import load_commits
from agentops_hooks.change import StagedChange
from agentops_hooks.config import Config
from agentops_hooks.findings import Finding
from agentops_hooks.gates import privilege
from agentops_hooks.gates.privilege import PrivilegeConfig
from agentops_hooks.gates.verdict import VerdictConfig
from agentops_hooks.git import Repo
from agentops_hooks.authorship import Identity
from agentops_hooks.secret_detection import secret_kinds
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message

HUMAN = "Hugo Human <hugo@example.com>"
ALNUM = string.ascii_letters + string.digits


def rnd(n: int, seed: int = 3) -> str:
    """Random letters and digits, each class present, as in a real key."""
    r = random.Random(f"{seed}-{n}")
    while True:
        text = "".join(r.choice(ALNUM) for _ in range(n))
        if all(set(c) & set(text) for c in (string.digits, string.ascii_uppercase, string.ascii_lowercase)):
            return text


def begin(kind: str = "RSA ") -> str:
    return "-----" + "BEGIN " + kind + "PRIVATE" + " KEY-----"


def openai_key() -> str:
    return "s" + "k-" + rnd(48)


# --- globs ----------------------------------------------------------------------

@pytest.mark.parametrize(("glob", "source"), [
    ("a", r"(?:.*/)?a\Z"),
    ("/a", r"a\Z"),
    ("a/", r"(?:.*/)?a(?:/.*)?\Z"),
    ("a/b", r"a/b\Z"),
    ("/a/b", r"a/b\Z"),
    ("a/X", r"a/X\Z"),
    ("a/X*", r"a/X[^/]*\Z"),
    ("a/b/", r"a/b(?:/.*)?\Z"),
    ("a/**", r"(?:.*/)?a(?:/.*)?\Z"),
    ("a/b/**", r"a/b(?:/.*)?\Z"),
    ("**/a", r"(?:.*/)?a\Z"),
    ("a/**/b", r"a/(?:.*/)?b\Z"),
    ("a/**b", r"a/.*b\Z"),
    ("a/**/", r"(?:.*/)?a/(?:.*/)?.*\Z"),
    ("x**y", r"(?:.*/)?x.*y\Z"),
    ("*.py", r"(?:.*/)?[^/]*\.py\Z"),
    ("a?b", r"(?:.*/)?a[^/]b\Z"),
    ("a.b", r"(?:.*/)?a\.b\Z"),
    ("[ab]c", r"(?:.*/)?[ab]c\Z"),
    ("[!ab]c", r"(?:.*/)?[^ab]c\Z"),
    ("[]x]", r"(?:.*/)?[]x]\Z"),
    ("[a\\b]", r"(?:.*/)?[a\\b]\Z"),
    ("[a[b]", r"(?:.*/)?[a\[b]\Z"),
    ("[z-a]", r"(?:.*/)?\[z\-a\]\Z"),
    ("[abc", r"(?:.*/)?\[abc\Z"),
    ("[!]", r"(?:.*/)?\[!\]\Z"),
    ("[]", r"(?:.*/)?\[\]\Z"),
    ("d/[ab]/*", r"d/[ab]/[^/]*\Z"),
    ("/.github/**", r"\.github(?:/.*)?\Z"),
    ("//a/b", r"a/b\Z"),
    ("*", r"(?:.*/)?[^/]*\Z"),
    ("**", r"(?:.*/)?.*\Z"),
])
def test_a_glob_as_a_regular_expression(glob: str, source: str) -> None:
    assert privilege._glob_source(glob) == source


@pytest.mark.parametrize(("glob", "i", "found"), [
    ("[ab]", 0, ("[ab]", 3)),
    ("x[]a]y", 1, ("[]a]", 4)),
    ("[!a]", 0, ("[^a]", 3)),
    ("[!]a]", 0, None),                # `[^]` does not compile
    ("[a\\]", 0, ("[a\\\\]", 3)),
    ("[a[]", 0, ("[a\\[]", 3)),
    ("[a", 0, None),
    ("[]", 0, None),
    ("[a]", 1, None),
    ("[z-a]", 0, None),
    ("x[ab][cd]", 5, ("[cd]", 8)),
])
def test_a_character_class(glob: str, i: int, found: tuple[str, int] | None) -> None:
    assert privilege._class_source(glob, i) == found


@pytest.mark.parametrize(("patterns", "path", "protected"), [
    ((), "a", False),
    (("a", "b/c"), "a", True),
    (("a", "b/c"), "b/c", True),
    (("a", "b/c"), "x/b/c", False),
    (("a", "b/c"), "x/a", True),
    (("a",), "ab", False),
    (("*.yml",), "x\n.yml", True),
    (("ci/*",), "ci/a\nb", True),
])
def test_is_protected(patterns: tuple[str, ...], path: str, protected: bool) -> None:
    assert privilege.is_protected(path, patterns) is protected
    assert privilege.is_protected(path, list(patterns)) is protected


def test_no_glob_matches_nothing() -> None:
    assert privilege.glob_matcher(()).pattern == r"(?!)"
    assert privilege.glob_matcher(()).match("") is None


def test_directory_patterns() -> None:
    assert privilege._directory_patterns((
        ".github/workflows/**", "a/b/", "x/*/y/z", "CODEOWNERS", "/top/sub/f", "a/b?/c",
        "a/[x]/c", ".husky/**", "n/m*/o",
    )) == ("/.github", "/.github/workflows", "/a", "/a/b", "/x", "/top", "/top/sub", ".husky", "/n")


@pytest.mark.parametrize(("paths", "touched"), [
    ([ChangedPath("M", "app.py")], []),
    ([ChangedPath("M", ".github/workflows/ci.yml")], [0]),
    ([ChangedPath("A", ".github")], [0]),                       # stands in for the directory
    ([ChangedPath("A", ".github/workflows")], [0]),
    ([ChangedPath("A", "x/.husky")], [0]),                      # at any depth, as its glob
    ([ChangedPath("A", "x/.github")], []),
    ([ChangedPath("R", "ci.yml", ".github/workflows/ci.yml")], [0]),
    ([ChangedPath("R", ".github/workflows/ci.yml", "ci.yml")], [0]),
    ([ChangedPath("M", "ci.yml", ".github/workflows/ci.yml")], []),   # only a rename has a from
    ([ChangedPath("R", "b.py", "a.py")], []),
    ([ChangedPath("M", "a"), ChangedPath("D", "CODEOWNERS"), ChangedPath("A", "docs/CODEOWNERS")], [1, 2]),
])
def test_touched_protected(paths: list[ChangedPath], touched: list[int]) -> None:
    patterns = PrivilegeConfig().protected_paths
    assert privilege.touched_protected(paths, patterns) == [paths[i] for i in touched]


@pytest.mark.parametrize(("path", "described"), [
    (ChangedPath("A", "a"), "a (added)"),
    (ChangedPath("M", "a"), "a (modified)"),
    (ChangedPath("D", "a"), "a (deleted)"),
    (ChangedPath("T", "a"), "a (type changed)"),
    (ChangedPath("C", "a"), "a (copied)"),
    (ChangedPath("P", "pyproject.toml"), "pyproject.toml (its [tool.agentops] policy table changed)"),
    (ChangedPath("X", "a"), "a (changed)"),
    (ChangedPath("R", "b", "a"), "a (renamed to b)"),
    (ChangedPath("R", "b"), "b (changed)"),
    (ChangedPath("C", "b", "a"), "b (copied)"),
])
def test_describe(path: ChangedPath, described: str) -> None:
    assert privilege._describe(path) == described


@pytest.mark.parametrize(("raw", "table"), [
    (None, None),
    (b"", None),
    (b'[project]\nname = "x"\n', None),
    (b'tool = "x"\n', None),
    (b"[tool.black]\nline-length = 1\n", None),
    (b"[tool.agentops]\ngates = []\n", {"gates": []}),
    (b"[tool.agentops\n", b"[tool.agentops\n"),
])
def test_agentops_table(raw: bytes | None, table: object) -> None:
    assert privilege._agentops_table(raw) == table


@pytest.mark.parametrize(("text", "quoted"), [("a", "a"), ("a b", "'a b'"), ("it's", "'it'\"'\"'s'")])
def test_shell_quote(text: str, quoted: str) -> None:
    assert privilege._shell_quote(text) == quoted


@pytest.mark.parametrize(("raw", "hinted"), [
    (b"", False),
    (b"nothing here", False),
    (b"a KEY", True),
    (b"Secret", True),
    (b"x token", True),
    (b"sk-", True),
    (b"hooks.slack", True),
    (b"github_pat_", True),
])
def test_hinted(raw: bytes, hinted: bool) -> None:
    assert privilege._hinted(raw) is hinted


def test_parse_reads_bytes_that_are_not_utf8() -> None:
    raw = (b"diff --git a/f b/f\nnew file mode 100644\n--- /dev/null\n+++ b/f\n@@ -0,0 +1,2 @@\n"
           b"+caf\xe9\n+x\n")
    [patched] = privilege._parse(raw)
    assert patched.path == "f"
    assert [line.value for line in patched[0]] == ["caf\ufffd\n", "x\n"]


def test_finding() -> None:
    class Commit:
        commit = "c0ffee"

    assert privilege._finding(Commit(), "r", "m", "f") == Finding("IV", "privilege", "r", "m", "f", "c0ffee")  # type: ignore[arg-type]


def test_constants() -> None:
    assert (privilege.FACTOR, privilege.GATE, privilege.PHASE, privilege.MAX_LISTED) == ("IV", "privilege", "bound", 20)
    assert privilege.SETTINGS is PrivilegeConfig
    config = PrivilegeConfig()
    assert (config.required_for, config.severity, config.human_judges, config.secrets) == ("agents", "error", (), True)


# --- secrets in a patch's added lines -----------------------------------------------

def patch_of(*lines: str, start: int = 1) -> PatchSet:
    """One file's hunk of the lines given: `+` added, ` ` context, `-` removed."""
    old = sum(1 for x in lines if not x.startswith("+"))
    new = sum(1 for x in lines if not x.startswith("-"))
    body = "".join(x + "\n" for x in lines)
    return PatchSet(f"--- a/f\n+++ b/f\n@@ -{start},{old} +{start},{new} @@\n{body}")


@pytest.mark.parametrize(("lines", "found"), [
    (["+x = 1"], []),
    (["+k = " + openai_key()], [(1, "OpenAI API key")]),
    ([" k = " + openai_key()], []),
    (["-k = " + openai_key(), "+x"], []),
    ([" a", "-b", "+k = " + openai_key(), "+k = " + openai_key()], [(2, "OpenAI API key"), (3, "OpenAI API key")]),
    (["+" + begin(), "+" + rnd(64)], [(1, "private key")]),
    (["+" + begin() + "\f", "+\r" + rnd(64)], [(1, "private key")]),
    (["+" + begin(), "+  " + rnd(64) + "  "], [(1, "private key")]),
    (["+" + begin(), " " + rnd(64)], []),                        # its body is not added
    (["+" + begin(), "-" + rnd(64)], []),
    (["+" + begin()], []),
])
def test_secrets_in(lines: list[str], found: list[tuple[int, str]]) -> None:
    [patched] = patch_of(*lines)
    assert privilege.secrets_in(patched) == found


def test_secrets_in_numbers_lines_of_each_hunk() -> None:
    key = openai_key()
    [patched] = PatchSet(f"--- a/f\n+++ b/f\n@@ -1,1 +1,2 @@\n a\n+k = {key}\n"
                         f"@@ -10,1 +11,2 @@\n b\n+k = {key}\n")
    assert privilege.secrets_in(patched) == [(2, "OpenAI API key"), (12, "OpenAI API key")]


def test_secret_helpers_are_the_detectors() -> None:
    assert privilege.SECRET_HINTS is privilege._HINTS
    assert privilege.secret_kinds is secret_kinds


# --- a change and its context --------------------------------------------------------

def staged(message: str = "") -> StagedChange:
    return StagedChange(Repo(), message.encode(), os.environ, amend=False)


def context(change: object, *sections: object) -> gates.Context:
    return gates.Context(change, Config(sections=sections))  # type: ignore[arg-type]


def pass_verdict(judge: str = HUMAN, status: str = "PASS", patch: str | None = None) -> str:
    return f'Verdict: {status} judge="{judge}" patch={patch or staged().patch_id}'


HUMANS = PrivilegeConfig(human_judges=(HUMAN, "*@people.example.com"))


@pytest.fixture
def based(repo: GitRepo) -> GitRepo:
    repo.stage(".github/workflows/ci.yml", "on: push\n")
    repo.stage("app.py", "print('v1')\n")
    repo.commit("base")
    return repo


DEFAULTS = PrivilegeConfig().protected_paths


@pytest.mark.parametrize(("signers", "added"), [
    (None, ()),
    ("", ()),
    ("keys/allowed_signers", ("keys/allowed_signers",)),
    ("./keys/allowed_signers", ("keys/allowed_signers",)),
    ("keys/signers[1]", ("keys/signers[[]1]",)),
    ("k?ys/*.signers", ("k[?]ys/[*].signers",)),
    ("a./b", ("a./b",)),
])
def test_protected_patterns(repo: GitRepo, signers: str | None, added: tuple[str, ...]) -> None:
    ctx = context(staged(), VerdictConfig(allowed_signers=signers))
    assert privilege.protected_patterns(ctx) == (*DEFAULTS, "/.agents/constraints/**", *added)


def test_protected_patterns_are_the_configured_ones(repo: GitRepo) -> None:
    ctx = context(staged(), PrivilegeConfig(protected_paths=("only/this",)))
    assert privilege.protected_patterns(ctx) == ("only/this", "/.agents/constraints/**")


@pytest.mark.parametrize(("before", "after", "touched"), [
    (None, '[tool.agentops]\ngates = []\n', True),
    ('[tool.agentops]\ngates = []\n', '[tool.agentops]\ngates = ["privilege"]\n', True),
    ('[tool.agentops]\ngates = []\n', '[project]\nname = "x"\n\n[tool.agentops]\ngates = []\n', False),
    ('[project]\nname = "x"\n', '[project]\nname = "y"\n', False),
    ('[tool.agentops]\ngates = []\n', None, True),
    ('[tool.agentops\n', '[tool.agentops\n\n', True),            # unreadable: any edit counts
    (None, '[project]\nname = "x"\n', False),
])
def test_policy_table_touched(repo: GitRepo, before: str | None, after: str | None, touched: bool) -> None:
    repo.stage("README.md", "# x\n")
    if before is not None:
        repo.stage("pyproject.toml", before)
    repo.commit("base")
    if after is None:
        repo.git("rm", "-q", "pyproject.toml")
    else:
        repo.stage("pyproject.toml", after)
    change = staged()
    expected = [ChangedPath("P", "pyproject.toml")] if touched else []
    assert privilege.policy_table_touched(change, context(change)) == expected


def test_policy_table_of_a_pyproject_renamed_away(repo: GitRepo) -> None:
    repo.stage("pyproject.toml", '[tool.agentops]\ngates = []\n' + "# padding line\n" * 5)
    repo.commit("base")
    repo.git("mv", "pyproject.toml", "old.toml")
    change = staged()
    assert [p.status for p in change.paths] == ["R"]
    assert privilege.policy_table_touched(change, context(change)) == [ChangedPath("P", "pyproject.toml")]


def test_policy_table_untouched_when_no_pyproject_changes(repo: GitRepo) -> None:
    repo.stage("pyproject.toml", '[tool.agentops]\ngates = []\n')
    repo.commit("base")
    repo.stage("sub/pyproject.toml", '[tool.agentops]\ngates = ["x"]\n')
    change = staged()
    assert privilege.policy_table_touched(change, context(change)) == []


@pytest.mark.parametrize(("judge", "humans", "config", "human"), [
    (Identity("Hugo Human", "hugo@example.com"), (HUMAN,), VerdictConfig(), True),
    (Identity("Hugo Human", "hugo@example.com"), (), VerdictConfig(judges=("*",)), False),
    (Identity("Hugo Human", "hugo@example.com"), ["hugo@example.com"], VerdictConfig(), True),
    (Identity("Pat", "pat@people.example.com"), ("*@people.example.com",), VerdictConfig(), True),
    (Identity("Bot", "bot@example.com"), (HUMAN,), VerdictConfig(judges=("bot@example.com",)), False),
])
def test_is_human_judge(judge: Identity, humans: tuple[str, ...], config: VerdictConfig, human: bool) -> None:
    assert privilege.is_human_judge(judge, humans, config) is human


def test_people_are_author_committer_and_co_authors_with_their_aliases(repo: GitRepo) -> None:
    change = staged("x\n\nCo-authored-by: Cody <Cody@Example.com>\n")
    assert privilege._people(change, VerdictConfig()) == {"hana@example.com", "cody@example.com"}
    aliases = VerdictConfig(aliases=(("other@example.com", "Alias@example.com"), ("HANA@example.com", "h2@example.com")))
    assert privilege._people(change, aliases) == {"hana@example.com", "cody@example.com", "h2@example.com"}


def ci_change(based: GitRepo, *trailers: str) -> StagedChange:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    return staged(agent_message("Tidy CI", *(t() if callable(t) else t for t in trailers)))


@pytest.mark.parametrize(("trailers", "verdict"), [
    ((), (False, [])),
    ((lambda: pass_verdict(),), (True, [])),
    ((lambda: pass_verdict("Pat <pat@people.example.com>"),), (True, [])),
    ((lambda: pass_verdict(JUDGE),), (False, [f"{JUDGE} (trailer) is not in privilege.human_judges"])),
    ((lambda: pass_verdict(JUDGE), lambda: pass_verdict()),
     (True, [f"{JUDGE} (trailer) is not in privilege.human_judges"])),
    ((lambda: pass_verdict(patch="ab" * 20),),
     (False, [f"{HUMAN} (trailer) is bound to patch {'ab' * 20}, not this one"])),
    ((lambda: pass_verdict(status="FAIL"),), (False, [f"{HUMAN} (trailer) gave FAIL"])),
    ((lambda: pass_verdict(), lambda: pass_verdict("Pat <pat@people.example.com>", "FAIL")),
     (False, ["Pat <pat@people.example.com> (trailer) gave FAIL"])),
    ((lambda: pass_verdict("Pat <pat@people.example.com>", "FAIL"), lambda: pass_verdict()),
     (False, ["Pat <pat@people.example.com> (trailer) gave FAIL"])),
    ((lambda: pass_verdict("Hana <hana@people.example.com>"),), (True, [])),
])
def test_human_verdict(based: GitRepo, trailers: tuple[object, ...], verdict: tuple[bool, list[str]]) -> None:
    change = ci_change(based, *trailers)
    assert privilege.human_verdict(change, context(change, HUMANS)) == verdict


def test_a_verdict_by_the_author_is_not_counted(based: GitRepo) -> None:
    change = ci_change(based, lambda: pass_verdict("Hana <hana@example.com>"))
    humans = PrivilegeConfig(human_judges=("hana@example.com",))
    assert privilege.human_verdict(change, context(change, humans)) == (
        False, ["Hana <hana@example.com> (trailer) is the author, committer or a co-author of this change"])
    aliased = VerdictConfig(aliases=(("hana@example.com", "hugo@example.com"),))
    change = ci_change(based, lambda: pass_verdict())
    assert privilege.human_verdict(change, context(change, HUMANS, aliased)) == (
        False, [f"{HUMAN} (trailer) is the author, committer or a co-author of this change"])


def test_an_unsigned_verdict_is_not_counted_where_signatures_are_required(based: GitRepo) -> None:
    based.stage("signers", "hugo@example.com ssh-ed25519 AAAA\n")
    based.commit("signers")
    change = ci_change(based, lambda: pass_verdict())
    signed = VerdictConfig(require_signature=True, allowed_signers="signers")
    admitted, [reason] = privilege.human_verdict(change, context(change, HUMANS, signed))
    assert not admitted
    assert reason.startswith(f"{HUMAN} (trailer): it is not signed")


def test_the_automated_judge_is_not_counted(based: GitRepo) -> None:
    change = ci_change(based, lambda: pass_verdict("Bot <bot@example.com>"))
    config = Config(sections=(PrivilegeConfig(human_judges=("bot@example.com",)),),
                    judge=Config().judge._replace(identity="Bot <bot@example.com>"))
    assert privilege.human_verdict(change, gates.Context(change, config)) == (False, [
        "Bot <bot@example.com> (trailer): it is the automated judge's, and judge.admits does not name "
        "gate privilege (a human must judge this)"])


# --- the findings, word for word ----------------------------------------------------

PROTECTED_FIX = ('agentops verdict pass --judge "Human Name <human@example.com>" {selector}   '
                 "# run by a human judge listed in privilege.human_judges, then {retry}; or {moved}")


def test_a_protected_path_finding(based: GitRepo) -> None:
    based.git("mv", "app.py", "my app.py")
    change = ci_change(based, lambda: pass_verdict(JUDGE), lambda: pass_verdict(status="FAIL"))
    assert privilege.check_protected_paths(change, context(change, HUMANS), "WHO") == [Finding(
        "IV", "privilege", "privilege-protected-path",
        "WHO touches protected paths: .github/workflows/ci.yml (modified). Changing them widens what "
        "agents may do, so it needs a PASS verdict from a human judge listed in privilege.human_judges, "
        f"bound to patch {change.patch_id}. Not counted: {JUDGE} (trailer) is not in "
        f"privilege.human_judges; {HUMAN} (trailer) gave FAIL.",
        PROTECTED_FIX.format(selector="--staged", retry="git commit again",
                             moved="unstage them (git restore --staged -- .github/workflows/ci.yml) "
                                   "and leave them to a human"),
        None,
    )]


def test_a_protected_path_finding_with_no_human_judges(based: GitRepo) -> None:
    based.git("mv", ".github/workflows/ci.yml", "ci yml")
    based.stage("CODEOWNERS", "* @x\n")
    change = staged(agent_message())
    [found] = privilege.check_protected_paths(change, context(change), "WHO")
    assert found.message == (
        "WHO touches protected paths: CODEOWNERS (added), .github/workflows/ci.yml (renamed to ci yml). "
        "Changing them widens what agents may do, so it needs a PASS verdict from a human judge listed "
        f"in privilege.human_judges, bound to patch {change.patch_id}. privilege.human_judges lists no "
        "one, so no verdict can admit it: a human adds the reviewers under [privilege] human_judges in "
        ".agentops.toml.")
    assert found.fix == PROTECTED_FIX.format(
        selector="--staged", retry="git commit again",
        moved="unstage them (git restore --staged -- CODEOWNERS .github/workflows/ci.yml 'ci yml') "
              "and leave them to a human")


def test_a_protected_path_finding_for_the_policy_table(repo: GitRepo) -> None:
    repo.stage("pyproject.toml", '[tool.agentops]\ngates = []\n')
    change = staged(agent_message())
    [found] = privilege.check_protected_paths(change, context(change, HUMANS), "WHO")
    assert found.message == (
        "WHO touches protected paths: pyproject.toml (its [tool.agentops] policy table changed). "
        "Changing them widens what agents may do, so it needs a PASS verdict from a human judge listed "
        f"in privilege.human_judges, bound to patch {change.patch_id}.")
    assert found.fix.endswith("or unstage them (git restore --staged -- pyproject.toml) and leave them to a human")


def test_a_committed_protected_path_finding(based: GitRepo) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    based.commit(agent_message())
    change = CommitChange.load(Repo(), "HEAD")
    head = based.head()[:12]
    assert privilege.check_protected_paths(change, context(change, HUMANS), "WHO") == [Finding(
        "IV", "privilege", "privilege-protected-path",
        "WHO touches protected paths: .github/workflows/ci.yml (modified). Changing them widens what "
        "agents may do, so it needs a PASS verdict from a human judge listed in privilege.human_judges, "
        f"bound to patch {change.patch_id}.",
        PROTECTED_FIX.format(selector=f"--commit {head}", retry=f"agentops check --commit {head}",
                             moved="leave the protected paths to a human"),
        based.head(),
    )]


def test_no_protected_path_or_an_admitting_verdict_gives_no_finding(based: GitRepo) -> None:
    based.stage("app.py", "print('v2')\n")
    change = staged(agent_message())
    assert privilege.check_protected_paths(change, context(change, HUMANS), "WHO") == []
    change = ci_change(based, lambda: pass_verdict())
    assert privilege.check_protected_paths(change, context(change, HUMANS), "WHO") == []


SECRET_FIX_TAIL = ('A false positive: use an obvious placeholder ("<your-key>", "${VAR}"), or set '
                   "[privilege] secrets = false in .agentops.toml.")


def test_a_staged_secret_finding(repo: GitRepo) -> None:
    repo.stage("a.env", "x = 1\nOPENAI_API_KEY=" + openai_key() + "\n")
    repo.stage("b.bin", b"\x00\x01OPENAI_API_KEY=" + openai_key().encode() + b"\x00")
    change = staged(agent_message())
    assert privilege.check_secrets(change, context(change), "WHO") == [Finding(
        "IV", "privilege", "privilege-secret",
        "WHO adds lines that look like secrets: a.env:2 (OpenAI API key), b.bin:1 (OpenAI API key). "
        "The values are not shown here; a secret in a commit leaves with every clone and push.",
        "take the secret out of those lines and read it at run time (an environment variable or a "
        "secret manager), git add the files, then git commit again; rotate it if it was ever real. "
        + SECRET_FIX_TAIL,
        None,
    )]


@pytest.mark.parametrize("root", [True, False])
def test_a_committed_secret_finding(repo: GitRepo, root: bool) -> None:
    if not root:
        repo.stage("README.md", "# x\n")
        repo.commit("base")
    base = None if root else repo.head()
    repo.stage("a.env", "OPENAI_API_KEY=" + openai_key() + "\n")
    repo.commit(agent_message())
    change = CommitChange.load(Repo(), "HEAD")
    [found] = privilege.check_secrets(change, context(change), "WHO")
    assert found.commit == repo.head()
    assert found.fix == (
        f"rewrite the history without it (git rebase -i {base[:12] if base else '--root'}, edit the file, "
        "git commit --amend) and rotate the secret: it is in the repository's history. " + SECRET_FIX_TAIL)


@pytest.mark.parametrize(("count", "listed"), [(19, 19), (20, 20), (21, 20), (23, 20)])
def test_secret_locations_listed(repo: GitRepo, count: int, listed: int) -> None:
    repo.stage("a.env", "".join(f"K{i}=s" + "k-" + rnd(48, seed=i) + "\n" for i in range(count)))
    change = staged(agent_message())
    [found] = privilege.check_secrets(change, context(change), "WHO")
    where = ", ".join(f"a.env:{i + 1} (OpenAI API key)" for i in range(listed))
    more = f" and {count - listed} more" if count > listed else ""
    assert found.message.startswith(f"WHO adds lines that look like secrets: {where}{more}. The values")


def test_no_secret_gives_no_finding(repo: GitRepo) -> None:
    repo.stage("a.txt", "no hint here\n")
    change = staged()
    assert privilege.check_secrets(change, context(change), "WHO") == []
    repo.stage("a.txt", "the key is under the mat\n")
    change = staged()
    assert privilege.check_secrets(change, context(change), "WHO") == []


def test_whole_patch_of_a_staged_change(repo: GitRepo) -> None:
    repo.stage("a.txt", "nothing\n")
    assert privilege._whole_patch(staged()) is None
    repo.stage("a.txt", "a Token\n")
    [patched] = privilege._whole_patch(staged())
    assert patched.path == "a.txt"


def test_whole_patch_of_a_range_is_its_kept_patch(repo: GitRepo) -> None:
    repo.stage("README.md", "# x\n")
    repo.commit("base")
    repo.stage("a.txt", "a Token\n")
    repo.stage("b.txt", "nothing\n")
    repo.commit("hinted")
    repo.stage("c.txt", "nothing\n")
    repo.commit("plain")
    words = tuple(h.encode() for h in privilege.SECRET_HINTS)
    plain, hinted = load_commits(Repo(), ["HEAD~2..HEAD"], stats=True, keep_words=words)
    assert plain.kept_patch() == b""
    assert privilege._whole_patch(plain) is None
    [patched] = privilege._whole_patch(hinted)
    assert patched.path == "a.txt"


def test_check(based: GitRepo) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    based.stage("a.env", "OPENAI_API_KEY=" + openai_key() + "\n")
    agent, human = staged(agent_message()), staged("Human change\n")
    assert [(f.rule, f.message.split(" touches")[0].split(" adds")[0]) for f in privilege.check(agent, context(agent))] \
        == [("privilege-protected-path", "an agent-authored change"), ("privilege-secret", "an agent-authored change")]
    assert privilege.check(human, context(human)) == []
    everyone = PrivilegeConfig(required_for="everyone")
    assert [(f.rule, f.message.split(" touches")[0].split(" adds")[0]) for f in privilege.check(human, context(human, everyone))] \
        == [("privilege-protected-path", "every change (policy)"), ("privilege-secret", "every change (policy)")]
    quiet = PrivilegeConfig(secrets=False)
    assert [f.rule for f in privilege.check(agent, context(agent, quiet))] == ["privilege-protected-path"]


# --- a private key whatever its line endings ----------------------------------------

@pytest.mark.parametrize("text", [
    begin() + "\r" + rnd(64) + "\r" + rnd(40) + "\r-----END RSA PRIVATE KEY-----\r",   # CR alone
    begin() + "\r\n" + rnd(64),
    begin() + "\f" + rnd(64),
    begin() + "\v" + rnd(64),
    'KEY = "' + begin() + "\\r\\n" + rnd(64) + '\\r\\n-----END RSA PRIVATE KEY-----"',   # escaped CRLF
    'KEY = "' + begin() + "\\n" + rnd(64) + '"',
])
def test_a_private_key_is_found_whatever_ends_its_lines(text: str) -> None:
    assert secret_kinds(text) == ["private key"]


@pytest.mark.parametrize(("text", "next_line"), [
    (begin() + "\r...\r", None),
    ('KEY = "' + begin() + '\\r\\n..."', None),
    (begin() + "\r", "\r..."),
    (begin() + "\r\n", None),
])
def test_a_header_over_a_placeholder_is_no_key_whatever_ends_its_lines(text: str, next_line: str | None) -> None:
    assert secret_kinds(text, next_line) == []


def test_the_next_line_of_a_header_is_read_past_a_carriage_return() -> None:
    assert secret_kinds(begin(), "\r" + rnd(64) + "\r") == ["private key"]


def test_a_key_file_with_cr_line_endings_is_a_secret(repo: GitRepo) -> None:
    """Git reads a file whose lines end in CR alone as one line: the key is still found."""
    repo.stage("id_rsa", (begin() + "\r" + rnd(64) + "\r" + rnd(40) + "\r-----END RSA PRIVATE KEY-----\r").encode())
    change = staged(agent_message())
    [found] = privilege.check_secrets(change, context(change), "WHO")
    assert found.message.startswith("WHO adds lines that look like secrets: id_rsa:1 (private key). ")


def test_only_a_renames_old_path_is_unstaged(based: GitRepo) -> None:
    """A copy's source stays staged as it is: only the path it made is left to a human."""
    based.stage(".github/workflows/deploy.yml", "on: push\n")
    change = staged(agent_message())
    change.__dict__["paths"] = [ChangedPath("C", ".github/workflows/deploy.yml", ".github/workflows/ci.yml")]
    [found] = privilege.check_protected_paths(change, context(change, HUMANS), "WHO")
    assert "WHO touches protected paths: .github/workflows/deploy.yml (copied). " in found.message
    assert found.fix.endswith("or unstage them (git restore --staged -- .github/workflows/deploy.yml) "
                              "and leave them to a human")
