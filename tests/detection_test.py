"""Agent detection on real commits: every marker of agents.json, where it hides.

Each case is a real `git commit` (or a commit object written with `git
hash-object --literally` where git would refuse to make it), read back as a
range check reads it (CommitChange + the gates' Context).
"""
from __future__ import annotations

import subprocess

import pytest

from agentops_hooks import gates
from agentops_hooks.agent_catalog import builtin_markers
from agentops_hooks.agent_catalog import checked_builtin_markers
from agentops_hooks.authorship import AgentSignal
from agentops_hooks.change import CommitChange
from agentops_hooks.gates import policy
from agentops_hooks.git import Repo
from agentops_hooks.trailers import parse
from tests.conftest import json_output
from tests.conftest import GitRepo
from tests.conftest import run_agentops
from tests.conftest import run_hook

HANA = ("Hana Human", "hana@example.com")


def commit(repo: GitRepo, message: str, author: tuple[str, str] = HANA,
           committer: tuple[str, str] = HANA) -> str:
    """A real commit with these identities; its id."""
    repo.stage("f.txt", repo.root.joinpath("f.txt").read_text() + "x\n"
               if repo.root.joinpath("f.txt").exists() else "x\n")
    env = {"GIT_AUTHOR_NAME": author[0], "GIT_AUTHOR_EMAIL": author[1],
           "GIT_COMMITTER_NAME": committer[0], "GIT_COMMITTER_EMAIL": committer[1]}
    repo.commit(message, "--no-verify", "--cleanup=verbatim", env=env)
    return repo.head()


def signals(rev: str = "HEAD") -> list[AgentSignal]:
    """Why the commit counts as an agent's, as a range check decides it."""
    r = Repo()
    return gates.Context(CommitChange.load(r, rev), policy(r.root)).agent_signals


def rules(found: list[AgentSignal]) -> set[str]:
    return {s.reason.rsplit("[rule ", 1)[1].rstrip("]") for s in found if "[rule " in s.reason}


# --- markers outside git's trailer block ---------------------------------------

def test_co_author_line_followed_by_another_paragraph(repo: GitRepo) -> None:
    message = ("Fix the parser\n\nCo-Authored-By: Claude Opus 4.5 <noreply@anthropic.com>\n\n"
               "Executed-By: ci-runner on host 7\nThis paragraph is prose, so no trailer block.\n")
    commit(repo, message)
    assert not any(k.lower() == "co-authored-by" for k, _ in parse(message))  # git does not see it
    found = signals()
    assert [s.agent for s in found] == ["Claude Code"]
    assert rules(found) == {"claude-code.noreply-email"}


def test_co_author_line_with_stray_text_after_it(repo: GitRepo) -> None:
    commit(repo, "Tidy\n\nCo-authored-by: Codex <noreply@openai.com>\nthanks for the review!\n")
    assert [s.agent for s in signals()] == ["Codex"]


def test_lone_generated_with_claude_code_line(repo: GitRepo) -> None:
    commit(repo, "Add cache\n\n🤖 Generated with [Claude Code](https://claude.com/claude-code)\n")
    found = signals()
    assert rules(found) == {"claude-code.generated-with"}
    assert "message line '🤖 Generated with [Claude Code](https://claude.com/claude-code)'" in found[0].reason


@pytest.mark.parametrize(("key", "agent"), [
    ("Claude-Session", "Claude Code"),
    ("Amp-Thread-ID", "Amp"),
    ("Entire-Checkpoint", "Entire (agent session)"),
    ("Agent-Logs-Url", "GitHub Copilot coding agent"),
])
def test_session_trailers_anywhere(repo: GitRepo, key: str, agent: str) -> None:
    commit(repo, f"Change\n\n{key}: https://example.com/s/1\n\nA paragraph after it.\n")
    assert [s.agent for s in signals()] == [agent]


def test_prose_mentions_are_not_markers(repo: GitRepo) -> None:
    commit(repo, "Document trailers\n\nWe strip the Co-Authored-By: Claude line and the\n"
                 "Entire-Checkpoint trailer, and 'Generated with [Claude Code]' notes.\n")
    assert signals() == []


def test_scissors_and_comments_are_not_read_at_commit_time(repo: GitRepo,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("a.txt", "a\n")
    message = ("Plain change\n\n# Co-authored-by: Claude <noreply@anthropic.com>\n"
               "# ------------------------ >8 ------------------------\n"
               "+Co-authored-by: Claude <noreply@anthropic.com>\n")
    code, out = run_hook(repo, message, capsys)
    assert code == 0 and "human" in out.lower()
    code, out = run_hook(repo, "Change\n\nnote\n\nCo-authored-by: Claude <noreply@anthropic.com>\n"
                         "\nExecuted-By: x\n", capsys)
    assert code == 1 and "claude-code.noreply-email" in out


# --- identities -------------------------------------------------------------------

IDENTITY_CASES = [
    ("author", ("OpenHands", "opendevin@all-hands.dev"), "OpenHands"),
    ("author", ("openhands", "openhands@all-hands.dev"), "OpenHands"),
    ("author", ("Codex", "codex@openai.com"), "Codex"),
    ("committer", ("Codex", "codex@openai.com"), "Codex"),
    ("author", ("Claude Code", "claude@anthropic.com"), "Claude Code"),
    ("author", ("claude[bot]", "209825114+claude[bot]@users.noreply.github.com"), "Claude Code"),
    ("author", ("Devin AI", "158243242+devin-ai-integration[bot]@users.noreply.github.com"), "Devin"),
    ("author", ("google-labs-jules[bot]", "161369871+google-labs-jules[bot]@users.noreply.github.com"),
     "Jules"),
    ("author", ("Amazon Q Developer", "208079219+amazon-q-developer[bot]@users.noreply.github.com"),
     "Amazon Q Developer"),
    ("author", ("Cursor Agent", "cursoragent@cursor.com"), "Cursor"),
    ("author", ("Paul (aider)", "paul@example.com"), "Aider"),
]


@pytest.mark.parametrize(("role", "ident", "agent"), IDENTITY_CASES)
def test_agent_identities(repo: GitRepo, role: str, ident: tuple[str, str], agent: str) -> None:
    commit(repo, "Change\n", **{role: ident})
    assert agent in {s.agent for s in signals()}


def test_copilot_coding_agent_author(repo: GitRepo) -> None:
    commit(repo, "Fix\n", author=("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com"))
    assert {"copilot.coding-agent", "copilot.noreply"} <= rules(signals())


CO_AUTHORS = [
    ("Copilot <175728472+Copilot@users.noreply.github.com>", "GitHub Copilot"),  # review suggestion
    ("Copilot <198982749+Copilot@users.noreply.github.com>", "GitHub Copilot"),
    ("Copilot <223556219+Copilot@users.noreply.github.com>", "GitHub Copilot"),
    ("Copilot Autofix powered by AI <62310815+github-advanced-security[bot]@users.noreply.github.com>",
     "GitHub Copilot Autofix"),
    ("aider (vertex_ai/gemini-2.5-pro) <noreply@aider.dev>", "Aider"),
    ("aider (openai/gpt-4.1) <noreply@aider.chat>", "Aider"),
    ("aider (gpt-5) <aider@aider.chat>", "Aider"),
    ("factory-droid[bot] <138933559+factory-droid[bot]@users.noreply.github.com>", "Factory Droid"),
    ("gemini-code-assist[bot] <176961590+gemini-code-assist[bot]@users.noreply.github.com>",
     "Gemini Code Assist"),
    ("Amp <amp@ampcode.com>", "Amp"),
    ("Cline <noreply@cline.bot>", "Cline"),
    ("Roo Code <roomote@roocode.com>", "Roo Code"),
    ("goose <goose@block.xyz>", "Goose"),
    ("Continue <noreply@continue.dev>", "Continue"),
    ("Windsurf <windsurf@codeium.com>", "Windsurf / Cascade"),
    ("opencode <noreply@opencode.ai>", "OpenCode"),
    ("OpenDevin <opendevin@opendevin.ai>", "OpenHands"),
]


@pytest.mark.parametrize(("co_author", "agent"), CO_AUTHORS)
def test_agent_co_authors(repo: GitRepo, co_author: str, agent: str) -> None:
    commit(repo, f"Change\n\nCo-authored-by: {co_author}\n")
    assert agent in {s.agent for s in signals()}


def test_aider_subject_prefix(repo: GitRepo) -> None:
    commit(repo, "aider: Added a check for dirty files before undo\n\n# Aider chat conversation:\n")
    assert rules(signals()) == {"aider.subject-prefix"}


def test_aider_committer_only_suffix_is_the_users_change(repo: GitRepo) -> None:
    """aider/repo.py: aider commits the user's own edits with only the committer marked."""
    commit(repo, "feat: Add script\n", author=("Paul Gauthier", "paul@example.com"),
           committer=("Paul Gauthier (aider)", "paul@example.com"))
    assert signals() == []
    commit(repo, "feat: Add script\n", author=("Paul Gauthier (aider)", "paul@example.com"),
           committer=("Paul Gauthier (aider)", "paul@example.com"))
    assert rules(signals()) == {"aider.author-suffix"}
    commit(repo, "feat: more\n\nCo-authored-by: aider (gpt-5) <aider@aider.chat>\n",
           author=("Paul Gauthier", "paul@example.com"),
           committer=("Paul Gauthier (aider)", "paul@example.com"))
    assert rules(signals()) == {"aider.chat-email"}


def test_people_are_human(repo: GitRepo) -> None:
    commit(repo, "Refactor\n\nCo-authored-by: Calvin Smith <calvin@all-hands.dev>\n"
                 "Co-authored-by: Claude Monet <claude@monet.example>\n",
           author=("Xingyao Wang", "xingyao@all-hands.dev"), committer=("GitHub", "noreply@github.com"))
    assert signals() == []


def test_every_builtin_marker_names_its_source() -> None:
    markers = builtin_markers()
    assert checked_builtin_markers() == markers  # every kind, role and regex usable
    assert len({m.rule for m in markers}) == len(markers)
    assert all(m.source for m in markers)
    agents = {m.agent for m in markers}
    for wanted in ("Claude Code", "Codex", "GitHub Copilot", "GitHub Copilot coding agent",
                   "GitHub Copilot Autofix", "Cursor", "Aider", "OpenHands", "Devin", "Amp",
                   "Gemini CLI", "Jules", "Factory Droid", "Windsurf / Cascade", "Cline", "Roo Code",
                   "Goose", "Continue", "Amazon Q Developer"):
        assert wanted in agents


# --- [[agents.known]] in the config ------------------------------------------------

def test_configured_agent_extends_the_catalog(repo: GitRepo) -> None:
    repo.write(".agentops.toml", '[[agents.known]]\nname = "Corp Bot"\nid = "corp"\n'
               'markers = [{kind = "line", value = "^Made-With: corpbot"},'
               ' {kind = "email", value = "bot@corp.example", roles = ["author"]}]\n')
    commit(repo, "Change\n\nMade-With: corpbot 2\n")
    assert rules(signals()) == {"config.corp.line"}
    commit(repo, "Change\n", committer=("Bot", "bot@corp.example"))
    assert signals() == []  # the marker is for authors only
    commit(repo, "Change\n", author=("Bot", "bot@corp.example"))
    assert rules(signals()) == {"config.corp.email"}


# --- git-ai's refs/notes/ai ------------------------------------------------------

SESSION_NOTE = """src/main.rs
  s_c9883b05a2487d::t_9f8e7d6c5b4a32 1-10,15-20
  h_31dce776f88375 42-50
---
{"schema_version": "authorship/3.0.0", "base_commit_sha": "7734793b", "prompts": {},
 "humans": {"h_31dce776f88375": {"author": "Developer <dev@example.com>"}},
 "sessions": {"s_c9883b05a2487d": {"agent_id": {"tool": "cursor", "id": "6ef2", "model": "claude-4.5"}}}}
"""
LEGACY_NOTE = """src/lib.rs
  abcd1234abcd1234 1-50
---
{"schema_version": "authorship/3.0.0", "base_commit_sha": "7734793b",
 "prompts": {"abcd1234abcd1234": {"agent_id": {"tool": "claude", "id": "c1", "model": "opus"},
   "total_additions": 50, "total_deletions": 0, "accepted_lines": 50, "overriden_lines": 0}}}
"""
HUMAN_NOTE = """src/main.rs
  h_31dce776f88375 1-5
---
{"schema_version": "authorship/3.0.0", "base_commit_sha": "7734793b", "prompts": {},
 "humans": {"h_31dce776f88375": {"author": "Hana Human <hana@example.com>"}}}
"""


@pytest.mark.parametrize(("note", "expected"), [
    (SESSION_NOTE, {("Cursor", "git-ai.tool-cursor")}),
    (LEGACY_NOTE, {("Claude Code", "git-ai.tool-claude")}),
    (HUMAN_NOTE, set()),
])
def test_git_ai_notes(repo: GitRepo, note: str, expected: set[tuple[str, str]]) -> None:
    commit(repo, "Plain message\n")
    repo.git("notes", "--ref=ai", "add", "-m", note, "HEAD")
    found = signals()
    assert {(s.agent, s.reason.rsplit("[rule ", 1)[1].rstrip("]")) for s in found} == expected


@pytest.mark.parametrize("note", ["not a log at all", "src/a.rs\n  abcd 1-2\n---\n{not json",
                                  '---\n{"schema_version": "other/1"}'])
def test_unparsable_git_ai_note_counts_as_an_agents(repo: GitRepo, note: str) -> None:
    commit(repo, "Plain message\n")
    repo.git("notes", "--ref=ai", "add", "-m", note, "HEAD")
    found = signals()
    assert rules(found) == {"git-ai.unreadable"}
    assert "refs/notes/ai note cannot be read" in found[0].reason


def test_git_ai_note_whose_blob_is_missing(repo: GitRepo) -> None:
    commit(repo, "base\n")
    target = commit(repo, "Plain message\n")
    missing = "0123456789abcdef0123456789abcdef01234567"
    entry = f"100644 blob {missing}\t{target}\n".encode()
    tree = repo.git("mktree", "--missing", input=entry).stdout.decode().strip()
    notes = repo.out("commit-tree", tree, "-m", "Notes added by 'git notes add'")
    repo.git("update-ref", "refs/notes/ai", notes)
    code, out = run_agentops(repo, "check", "--range", f"{target}~1..{target}")
    assert "Traceback" not in out
    assert f"its blob {missing[:12]} is missing" in out and target[:12] in out
    assert code == 1


def test_git_ai_ref_that_is_no_notes_commit_is_a_clear_error(repo: GitRepo) -> None:
    commit(repo, "base\n")
    target = commit(repo, "Plain message\n")
    blob = repo.git("hash-object", "-w", "--stdin", input=b"junk\n").stdout.decode().strip()
    repo.git("update-ref", "refs/notes/ai", blob)
    before = repo.out("for-each-ref")
    code, out = run_agentops(repo, "check", "--range", f"{target}~1..{target}")
    assert code == 2 and "Traceback" not in out
    assert "refs/notes/ai" in out and "agentops: error:" in out
    assert repo.out("for-each-ref") == before  # nothing written


# --- commits git would not make: written with hash-object --literally --------------

def literal_commit(repo: GitRepo, body: bytes) -> str:
    parent = repo.head()
    tree = repo.out("rev-parse", "HEAD^{tree}")
    raw = f"tree {tree}\nparent {parent}\n".encode() + body
    oid = repo.git("hash-object", "-w", "--literally", "-t", "commit", "--stdin", input=raw)
    head = oid.stdout.decode().strip()
    repo.git("update-ref", "HEAD", head)
    return head


@pytest.mark.parametrize(("body", "defect"), [
    ((b"author \xff\xfe Bad <b\xe9@x.example> 1700000000 +0000\ncommitter C <c@x.example> 1700000000 +0000"
      b"\n\nFix\n"), "its author or committer identity is not UTF-8"),
    ((b"author A <a@x.example> 1700000000 +0000\ncommitter C <c@x.example> 1700000000 +0000\n\n"
      b"Caf\xe9 au lait\n"), "its message is not UTF-8 and names no encoding"),
    (b"author A <a@x.example> 1700000000 +0000\ncommitter C <c@x.example> 1700000000 +0000\n\n",
     "its message is empty"),
    (b"author  <> 1700000000 +0000\ncommitter C <c@x.example> 1700000000 +0000\n\nFix\n",
     "its author identity is empty or unreadable"),
    (b"committer C <c@x.example> 1700000000 +0000\n\nFix\n", "its author identity is empty or unreadable"),
])
def test_unreadable_commits_count_as_agents_and_name_the_commit(repo: GitRepo, body: bytes,
                                                                defect: str) -> None:
    commit(repo, "base\n")
    bad = literal_commit(repo, body)
    assert any(defect in s.reason for s in signals())
    before = repo.out("for-each-ref")
    code, out = run_agentops(repo, "check", "--range", "HEAD~1..HEAD")
    assert "Traceback" not in out and code == 1
    assert bad[:12] in out and defect in out
    code, out = run_agentops(repo, "check", "--range", "HEAD~1..HEAD", "--format", "json")
    assert code == 1 and json_output(out, "check-range")["commits"][0]["agent"] is True
    assert repo.out("for-each-ref") == before  # nothing written


def test_a_declared_encoding_is_read(repo: GitRepo) -> None:
    commit(repo, "base\n")
    literal_commit(repo, b"author A <a@x.example> 1700000000 +0000\ncommitter C <c@x.example> "
                         b"1700000000 +0000\nencoding ISO-8859-1\n\nCaf\xe9 au lait\n")
    r = Repo()
    change = CommitChange.load(r, "HEAD")
    assert change.message == "Caf\u00e9 au lait\n" and change.defects == ()
    assert signals() == []


def test_report_and_range_check_run_on_bad_commits(repo: GitRepo) -> None:
    commit(repo, "base\n")
    literal_commit(repo, b"author  <> 1700000000 +0000\ncommitter  <> 1700000000 +0000\n\n")
    for args in (["report", "HEAD~1..HEAD"], ["check", "--range", "HEAD~1..HEAD"]):
        proc = subprocess.run(["agentops", *args], cwd=repo.root, env=repo.env,
                              capture_output=True, text=True, check=False)
        assert "Traceback" not in proc.stdout + proc.stderr and proc.returncode in (0, 1), args
