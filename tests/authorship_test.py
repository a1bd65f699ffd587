"""Tests for agentops_hooks.authorship."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentops_hooks.authorship import (
    AgentRules,
    AgentSignal,
    Identity,
    co_authors,
    detect_agent,
)

HUMAN = Identity("Jane Doe", "jane@example.com")
OTHER_HUMAN = Identity("John Roe", "john@example.org")
HUMAN_TRAILERS: list[tuple[str, str]] = [
    ("Signed-off-by", "Jane Doe <jane@example.com>"),
    ("Reviewed-by", "John Roe <john@example.org>"),
    ("Co-authored-by", "Ann Smith <ann@example.net>"),
    ("Fixes", "#123"),
]
HUMAN_ENV = {"PATH": "/usr/bin", "HOME": "/home/jane", "TERM": "xterm", "EDITOR": "vim"}

# Every environment variable any built-in rule looks at.
AGENT_ENV_VARS = ("CLAUDECODE", "CODEX_THREAD_ID", "CURSOR_AGENT", "GEMINI_CLI", "OPENCODE")


def only(signals: Sequence[AgentSignal]) -> AgentSignal:
    assert len(signals) == 1, signals
    return signals[0]


# --------------------------------------------------------------------------
# Identity
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Jane Doe <jane@example.com>", Identity("Jane Doe", "jane@example.com")),
        ("Jane Doe <jane@example.com> 1700000000 +0100", Identity("Jane Doe", "jane@example.com")),
        ("Jane Doe <jane@example.com> 1700000000 -0530", Identity("Jane Doe", "jane@example.com")),
        ("Jane Doe <jane@example.com> 1700000000", Identity("Jane Doe", "jane@example.com")),
        ("jane@example.com", Identity("", "jane@example.com")),
        ("  jane@example.com  ", Identity("", "jane@example.com")),
        ("jane@example.com 1700000000 +0000", Identity("", "jane@example.com")),
        ("<jane@example.com>", Identity("", "jane@example.com")),
        ("   Jane    Doe    <  jane@example.com  >   ", Identity("Jane Doe", "jane@example.com")),
        ("\tJane Doe<jane@example.com>\n", Identity("Jane Doe", "jane@example.com")),
        ('"Doe, Jane" <jane@example.com>', Identity("Doe, Jane", "jane@example.com")),
        ("José Müller <jose@example.com>", Identity("José Müller", "jose@example.com")),
        ("山田 太郎 <taro@example.jp>", Identity("山田 太郎", "taro@example.jp")),
        ("Zoë <zoë@exämple.com>", Identity("Zoë", "zoë@exämple.com")),
        ("Jane <Jane@Example.COM>", Identity("Jane", "Jane@Example.COM")),
        ("root <root>", Identity("root", "root")),
        (
            "copilot-swe-agent[bot] <198982749+Copilot@users.noreply.github.com>",
            Identity("copilot-swe-agent[bot]", "198982749+Copilot@users.noreply.github.com"),
        ),
        ("Jane Doe (aider) <jane@example.com>", Identity("Jane Doe (aider)", "jane@example.com")),
    ],
)
def test_identity_parse(text: str, expected: Identity) -> None:
    assert Identity.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "\n",
        "Jane Doe",  # a name without an email
        "Jane Doe jane@example.com",  # missing brackets around the email
        "Jane Doe <jane@example.com",  # missing closing bracket
        "Jane Doe jane@example.com>",  # missing opening bracket
        "Jane Doe <>",  # empty email
        "Jane Doe <   >",  # blank email
        "Jane <a@b> <c@d>",  # two emails
        "Jane <<jane@example.com>>",
        "Jane <jane@example.com> trailing words",
        "Jane <jane @example.com>",  # whitespace inside the email
        "Jane\nDoe <jane@example.com>",  # several lines
        "jane @example.com",
        "@",
        "1700000000 +0100",
    ],
)
def test_identity_parse_rejects(text: str) -> None:
    assert Identity.parse(text) is None


@pytest.mark.parametrize(
    ("ident", "text"),
    [
        (Identity("Jane Doe", "jane@example.com"), "Jane Doe <jane@example.com>"),
        (Identity("", "jane@example.com"), "<jane@example.com>"),
        (Identity("José", "jose@example.com"), "José <jose@example.com>"),
    ],
)
def test_identity_str(ident: Identity, text: str) -> None:
    assert str(ident) == text
    assert Identity.parse(str(ident)) == ident


@pytest.mark.parametrize(
    ("email", "key"),
    [
        ("Jane@Example.COM", "jane@example.com"),
        ("  jane@example.com\t", "jane@example.com"),
        ("jane@example.com", "jane@example.com"),
        ("ZOË@EXAMPLE.COM", "zoë@example.com"),
    ],
)
def test_identity_key(email: str, key: str) -> None:
    assert Identity("Jane", email).key == key


def test_identity_is_frozen_and_hashable() -> None:
    ident = Identity("Jane", "jane@example.com")
    with pytest.raises(AttributeError):
        ident.name = "John"  # type: ignore[misc]
    assert len({ident, Identity("Jane", "jane@example.com")}) == 1


_name_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters='<>"'),
    min_size=1,
    max_size=20,
)
_email_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp"), blacklist_characters="<>"),
    min_size=1,
    max_size=30,
)


@given(
    words=st.lists(_name_text, min_size=0, max_size=3),
    email=_email_text,
)
def test_identity_str_parse_roundtrip(words: list[str], email: str) -> None:
    ident = Identity(" ".join(words), email)
    parsed = Identity.parse(str(ident))
    assert parsed == ident
    assert parsed is not None and parsed.key == email.lower()


# --------------------------------------------------------------------------
# co_authors
# --------------------------------------------------------------------------


def test_co_authors_in_order_and_case_insensitive() -> None:
    trailers = [
        ("Co-authored-by", "Ann <ann@example.net>"),
        ("Signed-off-by", "Jane <jane@example.com>"),
        ("co-authored-by", "Bob <bob@example.net>"),
        ("CO-AUTHORED-BY", "carl@example.net"),
        ("Co-Authored-By", "no email here"),  # unparseable: skipped
        ("Co-authored-by", ""),  # empty: skipped
        ("Reviewed-by", "Dee <dee@example.net>"),
        ("Co-authored", "Eve <eve@example.net>"),  # not the same key
    ]
    assert co_authors(trailers) == [
        Identity("Ann", "ann@example.net"),
        Identity("Bob", "bob@example.net"),
        Identity("", "carl@example.net"),
    ]


def test_co_authors_none() -> None:
    assert co_authors([]) == []
    assert co_authors([("Signed-off-by", "Jane <jane@example.com>")]) == []


# --------------------------------------------------------------------------
# Built-in rules: one case per signal
# --------------------------------------------------------------------------

EMAIL_RULES = [
    ("noreply@anthropic.com", "Claude Code"),
    ("noreply@openai.com", "Codex"),
    ("aider@aider.chat", "Aider"),
    ("copilot@github.com", "GitHub Copilot"),
    ("cursoragent@cursor.com", "Cursor"),
    ("openhands@all-hands.dev", "OpenHands"),
    ("amp@ampcode.com", "Amp"),
    ("noreply@opencode.ai", "OpenCode"),
    # Bot accounts matched by substring, in each GitHub email form.
    ("copilot-swe-agent[bot]@users.noreply.github.com", "GitHub Copilot coding agent"),
    ("175728472+Copilot@users.noreply.github.com", "GitHub Copilot"),
    ("198982749+Copilot@users.noreply.github.com", "GitHub Copilot"),
    ("223556219+Copilot@users.noreply.github.com", "GitHub Copilot"),
    ("codex@openai.com", "Codex"),
    ("claude@anthropic.com", "Claude Code"),
    ("opendevin@all-hands.dev", "OpenHands"),
    ("noreply@aider.dev", "Aider"),
    ("noreply@aider.chat", "Aider"),
    ("138933559+factory-droid[bot]@users.noreply.github.com", "Factory Droid"),
    ("161369871+google-labs-jules[bot]@users.noreply.github.com", "Jules"),
    ("208079219+amazon-q-developer[bot]@users.noreply.github.com", "Amazon Q Developer"),
    ("noreply@cline.bot", "Cline"),
    ("roomote@roocode.com", "Roo Code"),
    ("goose@block.xyz", "Goose"),
    ("noreply@continue.dev", "Continue"),
    ("windsurf@codeium.com", "Windsurf / Cascade"),
    ("198982749+copilot-swe-agent[bot]@users.noreply.github.com", "GitHub Copilot coding agent"),
    ("devin-ai-integration[bot]@users.noreply.github.com", "Devin"),
    ("158243242+devin-ai-integration[bot]@users.noreply.github.com", "Devin"),
]


def bare(reason: str) -> str:
    """A reason without the rule it cites (tested on its own)."""
    return reason.split(" [rule ")[0]


def _call_with_identity(role: str, ident: Identity) -> list[AgentSignal]:
    if role == "author":
        return detect_agent(ident, HUMAN, [])
    if role == "committer":
        return detect_agent(HUMAN, ident, [])
    assert role == "co-author"
    return detect_agent(HUMAN, HUMAN, [("Co-authored-by", str(ident))])


@pytest.mark.parametrize(("email", "agent"), EMAIL_RULES)
@pytest.mark.parametrize("role", ["author", "committer", "co-author"])
def test_builtin_email(role: str, email: str, agent: str) -> None:
    signal = only(_call_with_identity(role, Identity("Some Bot", email)))
    assert signal.agent == agent
    assert email in signal.reason
    if role == "co-author":
        assert bare(signal.reason) == f"Co-authored-by 'Some Bot <{email}>'"
    else:
        assert bare(signal.reason) == f"{role} email {email}"
    assert " [rule " in signal.reason


@pytest.mark.parametrize(
    ("name", "agent"),
    [
        ("copilot-swe-agent[bot]", "GitHub Copilot coding agent"),
        ("devin-ai-integration[bot]", "Devin"),
    ],
)
@pytest.mark.parametrize("role", ["author", "committer", "co-author"])
def test_builtin_bot_name(role: str, name: str, agent: str) -> None:
    ident = Identity(name, "bot@example.com")
    signal = only(_call_with_identity(role, ident))
    assert signal.agent == agent
    assert name in signal.reason
    assert (role if role != "co-author" else "Co-authored-by") in signal.reason


def test_copilot_real_identity_name_and_email_both_reported() -> None:
    ident = Identity(
        "copilot-swe-agent[bot]", "198982749+copilot-swe-agent[bot]@users.noreply.github.com"
    )
    signals = detect_agent(ident, None, [])
    assert [(s.agent, bare(s.reason)) for s in signals] == [
        ("GitHub Copilot coding agent", "author name 'copilot-swe-agent[bot]'"),
        ("GitHub Copilot coding agent", "author email 198982749+copilot-swe-agent[bot]@users.noreply.github.com"),
    ]
    # As a co-author, each rule's reason names the line.
    co = detect_agent(None, None, [("Co-authored-by", str(ident))])
    assert {bare(s.reason) for s in co} == {f"Co-authored-by '{ident}'"}


@pytest.mark.parametrize("name", ["Jane Doe (aider)", "Jane Doe (Aider)", "paul-gauthier (aider)"])
def test_aider_name_suffix(name: str) -> None:
    signal = only(_call_with_identity("author", Identity(name, "jane@example.com")))
    assert signal.agent == "Aider"
    assert signal.reason == f"author name '{name}' [rule aider.author-suffix]"


@pytest.mark.parametrize("name", ["Jane Doe (aider)", "paul-gauthier (aider)"])
def test_aider_committer_only_suffix_is_the_users_change(name: str) -> None:
    """aider/repo.py: a person's change that aider only committed marks the committer."""
    assert _call_with_identity("committer", Identity(name, "jane@example.com")) == []


@pytest.mark.parametrize(
    "name", ["Jane (aider) Doe", "Aider Fan", "Jane Doe(aider)", "Jane Doe (aider-ish)", "(aider)"]
)
def test_aider_name_suffix_negative(name: str) -> None:
    assert detect_agent(Identity(name, "jane@example.com"), HUMAN, []) == []


def test_aider_name_suffix_only_for_the_author() -> None:
    assert detect_agent(HUMAN, HUMAN, [("Co-authored-by", "Jane Doe (aider) <jane@example.com>")]) == []


@pytest.mark.parametrize(
    ("key", "value", "agent"),
    [
        ("Agent-Logs-Url", "https://github.com/o/r/sessions/123", "GitHub Copilot coding agent"),
        ("Amp-Thread-ID", "https://ampcode.com/threads/T-abc", "Amp"),
        ("Amp-Thread", "https://ampcode.com/threads/T-def", "Amp"),
        ("Assisted-by", "Claude Opus", "Claude Opus"),
        ("Generated-by", "GPT-5 via Codex", "GPT-5 via Codex"),
        ("Assisted-by", "", "AI assistant"),
        ("Generated-by", "   ", "AI assistant"),
        ("Agent", "claude-code session=abc", "claude-code"),
        ("Agent", "codex", "codex"),
        ("Agent", "", "agent"),
    ],
)
def test_builtin_trailer(key: str, value: str, agent: str) -> None:
    signal = only(detect_agent(HUMAN, HUMAN, [("Signed-off-by", str(HUMAN)), (key, value)]))
    assert signal.agent == agent
    assert bare(signal.reason) == f"{key} trailer '{value.strip()}'"
    assert key in signal.reason and value.strip() in signal.reason


@pytest.mark.parametrize(
    "key",
    ["Agent-Logs", "Agent-Logs-Url-X", "Amp", "Amp-Thread-IDs", "Assisted", "X-Agent", "Agents", "Generated"],
)
def test_lookalike_trailer_keys_are_ignored(key: str) -> None:
    assert detect_agent(HUMAN, HUMAN, [(key, "claude-code")]) == []


@pytest.mark.parametrize(
    ("var", "value", "agent"),
    [
        ("CLAUDECODE", "1", "Claude Code"),
        ("CURSOR_AGENT", "1", "Cursor"),
        ("GEMINI_CLI", "1", "Gemini CLI"),
        ("OPENCODE", "1", "OpenCode"),
    ],
)
def test_builtin_env_equals(var: str, value: str, agent: str) -> None:
    signal = only(detect_agent(HUMAN, HUMAN, [], {**HUMAN_ENV, var: value}))
    assert signal.agent == agent
    assert bare(signal.reason) == f"environment {var}={value}"


@pytest.mark.parametrize("value", ["019a-thread", "1", "0"])
def test_codex_thread_id_any_value(value: str) -> None:
    signal = only(detect_agent(HUMAN, HUMAN, [], {**HUMAN_ENV, "CODEX_THREAD_ID": value}))
    assert signal.agent == "Codex"
    assert signal.reason == "environment CODEX_THREAD_ID is set [rule codex.env]"


def test_env_set_reason_does_not_leak_value() -> None:
    signal = only(detect_agent(HUMAN, HUMAN, [], {"CODEX_THREAD_ID": "s3cr3t-value"}))
    assert "s3cr3t-value" not in signal.reason


@pytest.mark.parametrize("var", ["CLAUDECODE", "CURSOR_AGENT", "GEMINI_CLI", "OPENCODE"])
@pytest.mark.parametrize("value", ["0", "", "true", "yes", " 1", "11"])
def test_builtin_env_equals_negative(var: str, value: str) -> None:
    assert detect_agent(HUMAN, HUMAN, [], {**HUMAN_ENV, var: value}) == []


@pytest.mark.parametrize("value", ["", "  "])
def test_codex_thread_id_empty(value: str) -> None:
    assert detect_agent(HUMAN, HUMAN, [], {"CODEX_THREAD_ID": value}) == []


def test_env_var_names_are_case_sensitive() -> None:
    assert detect_agent(HUMAN, HUMAN, [], {"claudecode": "1", "codex_thread_id": "x"}) == []


def test_env_none_ignores_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in AGENT_ENV_VARS:
        monkeypatch.setenv(var, "1")
    rules = AgentRules(env=("MY_AGENT", "OTHER=yes"))
    monkeypatch.setenv("MY_AGENT", "1")
    monkeypatch.setenv("OTHER", "yes")
    assert detect_agent(HUMAN, HUMAN, HUMAN_TRAILERS, None, rules) == []
    assert detect_agent(HUMAN, HUMAN, HUMAN_TRAILERS, rules=rules) == []
    # The same environment passed explicitly does count.
    env = {var: "1" for var in AGENT_ENV_VARS} | {"MY_AGENT": "1", "OTHER": "yes"}
    assert len(detect_agent(HUMAN, HUMAN, HUMAN_TRAILERS, env, rules)) == len(AGENT_ENV_VARS) + 2


# --------------------------------------------------------------------------
# Negatives
# --------------------------------------------------------------------------


def test_plain_human_commit() -> None:
    assert detect_agent(HUMAN, OTHER_HUMAN, HUMAN_TRAILERS, HUMAN_ENV) == []
    assert detect_agent(None, None, [], {}) == []
    assert detect_agent(None, None, []) == []


@pytest.mark.parametrize(
    "email",
    [
        "noreply@anthropic.com.evil.com",
        "xnoreply@anthropic.com",
        "noreply+x@anthropic.com",
        "noreply@anthropic.co",
        "noreply@mail.anthropic.com",
        "no-reply@anthropic.com",
        "noreply@openai.com.evil.com",
        "aider@aider.chat.example",
        "notaider@aider.chat",
        "copilot@github.com.evil",
        "123+copilot@github.com",
        "cursoragent@cursor.community",
        "openhands@all-hands.dev.x",
        "amp@ampcode.co",
        "noreply@opencode.ai.evil",
        "copilot-swe-agent@users.noreply.github.com",  # no "[bot]"
        "devin-ai-integration@users.noreply.github.com",
        "198982749+Copilot@example.com",
        "Copilot@users.noreply.github.com.evil",
    ],
)
@pytest.mark.parametrize("role", ["author", "committer", "co-author"])
def test_lookalike_emails_are_human(role: str, email: str) -> None:
    assert _call_with_identity(role, Identity("Some Person", email)) == []


# --------------------------------------------------------------------------
# Case-insensitivity
# --------------------------------------------------------------------------


@pytest.mark.parametrize("email", ["NoReply@Anthropic.COM", "NOREPLY@ANTHROPIC.COM", " noreply@anthropic.com "])
@pytest.mark.parametrize("role", ["author", "committer", "co-author"])
def test_email_case_insensitive(role: str, email: str) -> None:
    signal = only(_call_with_identity(role, Identity("Claude", email)))
    assert signal.agent == "Claude Code"
    assert email.strip() in signal.reason


@pytest.mark.parametrize("name", ["Copilot-SWE-Agent[BOT]", "DEVIN-AI-INTEGRATION[bot]"])
def test_bot_name_case_insensitive(name: str) -> None:
    assert bare(only(detect_agent(Identity(name, "x@example.com"), None, [])).reason) == f"author name '{name}'"


@pytest.mark.parametrize(
    ("email", "agent"),
    [
        ("198982749+Copilot-SWE-Agent[Bot]@users.noreply.github.com", "GitHub Copilot coding agent"),
        ("DEVIN-AI-INTEGRATION[BOT]@users.noreply.github.com", "Devin"),
    ],
)
def test_bot_email_case_insensitive(email: str, agent: str) -> None:
    signal = only(detect_agent(Identity("Someone", email), None, []))
    assert (signal.agent, bare(signal.reason)) == (agent, f"author email {email}")


@pytest.mark.parametrize(
    ("key", "value", "agent"),
    [
        ("co-AUTHORED-by", "Claude <noreply@anthropic.com>", "Claude Code"),
        ("CO-AUTHORED-BY", "Codex <noreply@openai.com>", "Codex"),
        ("agent-logs-url", "https://example.com/log", "GitHub Copilot coding agent"),
        ("AMP-THREAD-ID", "T-1", "Amp"),
        ("amp-thread", "T-2", "Amp"),
        ("assisted-BY", "Gemini", "Gemini"),
        ("GENERATED-BY", "Cursor", "Cursor"),
        ("AGENT", "opencode session=1", "opencode"),
        (" Agent ", "aider", "aider"),
    ],
)
def test_trailer_key_case_insensitive(key: str, value: str, agent: str) -> None:
    signal = only(detect_agent(HUMAN, HUMAN, [(key, value)]))
    assert signal.agent == agent
    assert value in signal.reason


# --------------------------------------------------------------------------
# Configured rules
# --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["author", "committer", "co-author"])
@pytest.mark.parametrize("configured", ["bot@corp.example", "BOT@Corp.Example", "  bot@corp.example "])
def test_config_email(role: str, configured: str) -> None:
    rules = AgentRules(emails=(configured,))
    ident = Identity("Corp Bot", "Bot@corp.EXAMPLE")
    assert _call_with_identity(role, ident) == []
    signals = detect_agent(
        *_identity_args(role, ident),
        rules=rules,
    )
    signal = only(signals)
    assert signal.agent == "configured agent"
    assert configured.strip() in signal.reason
    assert (role if role != "co-author" else "Co-authored-by") in signal.reason


def _identity_args(
    role: str, ident: Identity
) -> tuple[Identity | None, Identity | None, list[tuple[str, str]]]:
    if role == "author":
        return ident, HUMAN, []
    if role == "committer":
        return HUMAN, ident, []
    return HUMAN, HUMAN, [("Co-authored-by", str(ident))]


@pytest.mark.parametrize("email", ["xbot@corp.example", "bot@corp.example.org", "bot+1@corp.example"])
def test_config_email_is_exact(email: str) -> None:
    rules = AgentRules(emails=("bot@corp.example",))
    assert detect_agent(Identity("B", email), None, [], rules=rules) == []


@pytest.mark.parametrize("role", ["author", "committer", "co-author"])
@pytest.mark.parametrize(
    ("pattern", "ident"),
    [
        (r"\[bot\]", Identity("renovate[bot]", "29139614+renovate[bot]@users.noreply.github.com")),
        (r"^Robo ", Identity("ROBO Coder", "robo@example.com")),  # IGNORECASE
        (r"@agents\.corp\.example>$", Identity("Alice", "alice@agents.corp.example")),  # "Name <email>"
        (r"ice <ali", Identity("Alice", "alice@example.com")),  # search, not match
    ],
)
def test_config_pattern(role: str, pattern: str, ident: Identity) -> None:
    assert _call_with_identity(role, ident) == []
    signal = only(detect_agent(*_identity_args(role, ident), rules=AgentRules(patterns=(pattern,))))
    assert signal.agent == "configured agent"
    assert pattern in signal.reason
    assert str(ident) in signal.reason


def test_config_pattern_no_match() -> None:
    rules = AgentRules(patterns=(r"\[bot\]", r"^robot"))
    assert detect_agent(HUMAN, OTHER_HUMAN, HUMAN_TRAILERS, HUMAN_ENV, rules) == []


@pytest.mark.parametrize("value", ["1", "yes", "abc", "true"])
def test_config_env_set(value: str) -> None:
    rules = AgentRules(env=("MY_AGENT",))
    signal = only(detect_agent(HUMAN, HUMAN, [], {**HUMAN_ENV, "MY_AGENT": value}, rules))
    assert signal.agent == "configured agent"
    assert "MY_AGENT" in signal.reason


@pytest.mark.parametrize("env", [{"MY_AGENT": "0"}, {"MY_AGENT": ""}, {"MY_AGENT": " "}, {}, {"my_agent": "1"}])
def test_config_env_set_negative(env: dict[str, str]) -> None:
    assert detect_agent(HUMAN, HUMAN, [], env, AgentRules(env=("MY_AGENT",))) == []


def test_config_env_exact() -> None:
    rules = AgentRules(env=("AGENT_MODE=autonomous",))
    signal = only(detect_agent(HUMAN, HUMAN, [], {"AGENT_MODE": "autonomous"}, rules))
    assert signal.agent == "configured agent"
    assert "AGENT_MODE=autonomous" in signal.reason


@pytest.mark.parametrize("value", ["Autonomous", "autonomous ", "manual", "", "1"])
def test_config_env_exact_negative(value: str) -> None:
    rules = AgentRules(env=("AGENT_MODE=autonomous",))
    assert detect_agent(HUMAN, HUMAN, [], {"AGENT_MODE": value}, rules) == []
    assert detect_agent(HUMAN, HUMAN, [], {}, rules) == []


def test_config_env_exact_value_may_contain_equals() -> None:
    rules = AgentRules(env=("OPTS=a=b",))
    assert only(detect_agent(None, None, [], {"OPTS": "a=b"}, rules)).reason.count("OPTS=a=b") == 1
    assert detect_agent(None, None, [], {"OPTS": "a"}, rules) == []


@pytest.mark.parametrize("configured", ["X-Agent-Run", "x-agent-run", "X-AGENT-RUN:", " X-Agent-Run "])
@pytest.mark.parametrize("written", ["X-Agent-Run", "x-agent-run", "X-AGENT-run"])
def test_config_trailer(configured: str, written: str) -> None:
    trailers = [("Signed-off-by", str(HUMAN)), (written, "run-42")]
    assert detect_agent(HUMAN, HUMAN, trailers) == []
    signal = only(detect_agent(HUMAN, HUMAN, trailers, rules=AgentRules(trailers=(configured,))))
    assert signal.agent == "configured agent"
    assert "run-42" in signal.reason
    assert "X-Agent-Run".lower() in signal.reason.lower()


def test_config_trailer_absent() -> None:
    rules = AgentRules(trailers=("X-Agent-Run",))
    assert detect_agent(HUMAN, HUMAN, [("X-Agent", "run-42"), ("X-Agent-Run-Id", "1")], rules=rules) == []


def test_config_adds_to_builtins() -> None:
    rules = AgentRules(emails=("bot@corp.example",))
    signals = detect_agent(Identity("Claude", "noreply@anthropic.com"), Identity("Bot", "bot@corp.example"), [], rules=rules)
    assert [s.agent for s in signals] == ["Claude Code", "configured agent"]


@pytest.mark.parametrize("pattern", ["[unclosed", "(?P<x>a)(?P<x>b)", "*x"])
def test_config_invalid_pattern_raises(pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid agent pattern"):
        AgentRules(patterns=("ok", pattern))


def test_config_blank_entries_match_nothing() -> None:
    rules = AgentRules(emails=("", " "), env=("", "=", "=1", " =x"), trailers=("", ":", " "))
    nobody = Identity("", "")
    trailers = [("", ""), (":", "x"), (" ", "y"), ("Co-authored-by", "A <a@b.c>")]
    env = {"": "1", " ": "x"}
    assert detect_agent(nobody, nobody, trailers, env, rules) == []


@pytest.mark.parametrize("field", ["emails", "patterns", "env", "trailers"])
def test_config_rejects_bare_string(field: str) -> None:
    with pytest.raises(TypeError):
        AgentRules(**{field: "abc"})  # type: ignore[arg-type]


def test_config_lists_become_tuples() -> None:
    rules = AgentRules(emails=["a@b.c"], patterns=["x"], env=["V"], trailers=["T"])  # type: ignore[arg-type]
    assert rules == AgentRules(emails=("a@b.c",), patterns=("x",), env=("V",), trailers=("T",))
    assert hash(rules) == hash(AgentRules(emails=("a@b.c",), patterns=("x",), env=("V",), trailers=("T",)))


# --------------------------------------------------------------------------
# Deduplication and order
# --------------------------------------------------------------------------


def test_dedupe_identical_signals() -> None:
    claude = "Claude <noreply@anthropic.com>"
    trailers = [
        ("Co-authored-by", claude),
        ("co-authored-by", claude),
        ("Amp-Thread-ID", "T-1"),
        ("Amp-Thread-ID", "T-1"),
    ]
    assert [(s.agent, bare(s.reason)) for s in detect_agent(HUMAN, HUMAN, trailers)] == [
        ("Claude Code", f"Co-authored-by '{claude}'"),
        ("Amp", "Amp-Thread-ID trailer 'T-1'"),
    ]


def test_dedupe_keeps_distinct_reasons() -> None:
    claude = Identity("Claude", "noreply@anthropic.com")
    signals = detect_agent(claude, claude, [("Co-authored-by", str(claude)), ("Amp-Thread-ID", "T-2")])
    assert [(s.agent, bare(s.reason)) for s in signals] == [
        ("Claude Code", "author email noreply@anthropic.com"),
        ("Claude Code", "committer email noreply@anthropic.com"),
        ("Claude Code", "Co-authored-by 'Claude <noreply@anthropic.com>'"),
        ("Amp", "Amp-Thread-ID trailer 'T-2'"),
    ]


def test_dedupe_configured_duplicates() -> None:
    rules = AgentRules(emails=("bot@corp.example", "BOT@corp.example"), patterns=("corp", "corp"))
    signals = detect_agent(Identity("Bot", "bot@corp.example"), None, [], rules=rules)
    assert len(signals) == 3  # two distinct email reasons (as configured), one pattern
    assert len(set(signals)) == len(signals)


def test_order() -> None:
    author = Identity("Jane Doe (aider)", "jane@example.com")
    committer = Identity("Claude", "noreply@anthropic.com")
    trailers = [
        ("Agent", "opencode session=9"),
        ("Co-authored-by", "Codex <noreply@openai.com>"),
        ("X-Run", "7"),
        ("Amp-Thread-ID", "T-9"),
        ("Co-authored-by", "Helper <helper@bots.example>"),
    ]
    env = {"OPENCODE": "1", "CLAUDECODE": "1", "GEMINI_CLI": "1", "ZZ_AGENT": "1", "AA_AGENT": "1"}
    rules = AgentRules(
        emails=("helper@bots.example",),
        patterns=(r"\(aider\)",),
        env=("ZZ_AGENT", "AA_AGENT"),
        trailers=("X-Run",),
    )
    signals = detect_agent(author, committer, trailers, env, rules)
    assert [(s.agent, bare(s.reason)) for s in signals] == [
        ("Aider", "author name 'Jane Doe (aider)'"),
        ("Claude Code", "committer email noreply@anthropic.com"),
        ("Codex", "Co-authored-by 'Codex <noreply@openai.com>'"),
        ("Amp", "Amp-Thread-ID trailer 'T-9'"),
        ("opencode", "Agent trailer 'opencode session=9'"),
        ("Claude Code", "environment CLAUDECODE=1"),
        ("Gemini CLI", "environment GEMINI_CLI=1"),
        ("OpenCode", "environment OPENCODE=1"),
        ("configured agent", "author 'Jane Doe (aider) <jane@example.com>' matches configured pattern '\\(aider\\)'"),
        ("configured agent", "X-Run trailer '7' (configured)"),
        (
            "configured agent",
            "Co-authored-by trailer 'Helper <helper@bots.example>': configured agent email helper@bots.example",
        ),
        ("configured agent", "environment AA_AGENT is set (configured)"),
        ("configured agent", "environment ZZ_AGENT is set (configured)"),
    ]


def test_accepts_any_mapping_and_sequence() -> None:
    from types import MappingProxyType

    env: Mapping[str, str] = MappingProxyType({"CLAUDECODE": "1"})
    trailers: Sequence[tuple[str, str]] = (("Amp-Thread", "T"),)
    assert [s.agent for s in detect_agent(None, None, trailers, env)] == ["Amp", "Claude Code"]


# --------------------------------------------------------------------------
# Properties
# --------------------------------------------------------------------------

_AGENT_MARKERS = (
    "anthropic",
    "openai",
    "aider",
    "copilot",
    "cursor",
    "devin",
    "all-hands",
    "ampcode",
    "opencode",
)

_plain = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<>\r\n"),
    max_size=30,
).filter(lambda s: not any(m in s.lower() for m in _AGENT_MARKERS))


@given(
    name=_plain,
    email=_plain,
    trailer_values=st.lists(_plain, max_size=4),
    env_values=st.dictionaries(st.sampled_from(["PATH", "HOME", "LANG"]), _plain, max_size=3),
)
def test_property_humans_are_human(
    name: str, email: str, trailer_values: list[str], env_values: dict[str, str]
) -> None:
    ident = Identity(name, email)
    trailers = [("Signed-off-by", v) for v in trailer_values] + [
        ("Co-authored-by", v) for v in trailer_values
    ]
    assert detect_agent(ident, ident, trailers, env_values) == []


_trailer_pool = [
    ("Co-authored-by", "Claude <noreply@anthropic.com>"),
    ("co-authored-by", "Codex <noreply@openai.com>"),
    ("Co-authored-by", "Ann <ann@example.net>"),
    ("Agent-Logs-Url", "https://example.com"),
    ("Assisted-by", "Gemini"),
    ("Agent", "claude-code session=1"),
    ("Signed-off-by", "Jane <jane@example.com>"),
    ("X-Run", "1"),
]


@given(
    trailers=st.lists(st.sampled_from(_trailer_pool), max_size=8),
    env_keys=st.sets(st.sampled_from(AGENT_ENV_VARS + ("MY_AGENT",))),
)
def test_property_deterministic_and_unique(trailers: list[tuple[str, str]], env_keys: set[str]) -> None:
    env = {k: "1" for k in env_keys}
    rules = AgentRules(emails=("ann@example.net",), env=("MY_AGENT",), trailers=("X-Run",))
    first = detect_agent(HUMAN, HUMAN, trailers, env, rules)
    again = detect_agent(HUMAN, HUMAN, list(trailers), dict(reversed(list(env.items()))), rules)
    assert first == again
    assert len(set(first)) == len(first)
    # Every agent-ish trailer and env var shows up; env signals are sorted by variable name.
    assert len([s for s in first if s.reason.startswith("environment ")]) == len(env_keys)
    builtin_env = [
        s.reason.split()[1].split("=")[0]
        for s in first
        if s.reason.startswith("environment ") and not s.reason.endswith("(configured)")
    ]
    assert builtin_env == sorted(builtin_env)
    assert len(builtin_env) == len(env_keys - {"MY_AGENT"})
    signed_off = _trailer_pool[6]
    assert bool(first) == bool(env_keys or any(t != signed_off for t in trailers))
