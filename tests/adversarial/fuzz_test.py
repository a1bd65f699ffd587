"""Fuzz: the verdict and learnings gates never crash, whatever the message and the staged diff.

Hypothesis makes the commit message (trailer-like lines, comments, dividers,
scissors, non-ASCII, control characters, CRLF) and the staged files (text,
binary, empty, odd names); the gates run in-process on the StagedChange and
must return a list of Findings, each with the fields a reader needs.
"""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from agentops_hooks import gates
from agentops_hooks.change import StagedChange
from agentops_hooks.findings import Finding
from agentops_hooks.git import Repo
from agentops_hooks.gates import policy
from conftest import CLAUDE_TRAILER
from conftest import JUDGE
from conftest import GitRepo

_text = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("abcXYZ :=#;-<>@.\"'\t\\/()[]{}é漢ü")),
        st.characters(min_codepoint=0, max_codepoint=0x1F).filter(lambda c: c not in "\n\r\x00"),
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00"),
    ),
    max_size=40,
)
_keys = st.sampled_from(["Verdict", "verdict", "VERDICT", "Verdict-Evidence", "Learning", "learning",
                         "Co-authored-by", "Signed-off-by", "Task", "Ünï", "Bad Key", "X"])
_verdict_values = st.one_of(
    _text,
    st.builds(lambda s, j, p: f'{s} judge="{j}" patch={p}',
              st.sampled_from(["PASS", "FAIL", "NOT_PROVEN", "pass", "MAYBE", ""]),
              st.sampled_from([JUDGE, "", "no email", "Hana Human <hana@example.com>", "\"<>\""]),
              st.sampled_from(["", "0" * 40, "g" * 40, "deadbeef", "0" * 64, "x" * 500])),
)
_line = st.one_of(
    st.builds(lambda k, sep, v: f"{k}{sep}{v}", _keys, st.sampled_from([":", ": ", " : ", "="]),
              _verdict_values),
    st.just(CLAUDE_TRAILER),
    st.builds(lambda v: " " + v, _text),
    st.builds(lambda v: "# " + v, _text),
    st.just("# ------------------------ >8 ------------------------"),
    st.just("---"),
    st.just("diff --git a/x b/x"),
    st.just(""),
    st.just("   "),
    st.just("## Lesson (2026-01-01)"),
    _text,
)


@st.composite
def messages(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(_line, max_size=14))
    eol = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    text = eol.join(lines) + draw(st.sampled_from(["", eol]))
    if draw(st.booleans()):  # half the messages are surely an agent's: every gate rule runs
        text += eol + eol + CLAUDE_TRAILER + eol
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.booleans()):
        data += draw(st.binary(max_size=8))  # trailing bytes that may not decode
    return data


_names = st.sampled_from(["a.py", "b.txt", "learnings.md", "docs/x.md", "naïve 文件.py", "tab\tname.py",
                          "new\nline.py", "-dash.py", ".agents/learnings/l.md", "bin.dat", "dir/deep/c.rs"])
_contents = st.one_of(
    st.text(max_size=300).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=200),
    st.lists(st.sampled_from(["x = 1", "## Title (2026-02-03)", "- a bullet", "---", "title: t",
                              "", "\r", "\x00"]), max_size=40).map(lambda ls: "\n".join(ls).encode()),
    st.just(b""),
)


@pytest.fixture
def fuzz_repo(repo: GitRepo) -> GitRepo:
    repo.stage("a.py", "a = 0\n")
    repo.stage("learnings.md", "# Learnings\n")
    repo.commit("base")
    return repo


@settings(max_examples=80, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(message=messages(), files=st.dictionaries(_names, _contents, max_size=4),
       delete=st.booleans())
def test_gates_never_crash(fuzz_repo: GitRepo, message: bytes, files: dict[str, bytes],
                           delete: bool) -> None:
    fuzz_repo.git("reset", "-q", "--hard")
    fuzz_repo.git("clean", "-qfdx")
    for path, content in files.items():
        fuzz_repo.stage(path, content)
    if delete:
        fuzz_repo.git("rm", "-q", "--cached", "a.py")
    msgfile = fuzz_repo.message_file(message)
    cfg = policy(fuzz_repo.root)
    change = StagedChange.from_message_file(Repo(), msgfile)
    found = gates.run(gates.Context(change, cfg), ["verdict", "learnings"])
    assert isinstance(found, list)
    for f in found:
        assert isinstance(f, Finding)
        assert f.factor in ("VII", "IX") and f.gate in ("verdict", "learnings")
        assert f.rule.startswith({"verdict": "verdict-", "learnings": "learning-"}[f.gate])
        assert f.message and f.fix
    assert msgfile.read_bytes() == message  # the gates read the message, never rewrite it
