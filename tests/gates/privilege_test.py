"""Gate IV: protected paths need a human's verdict; added lines hold no secrets.

Every fake secret here is assembled at run time from pieces, so this file
holds nothing a secret scanner would flag.
"""
from __future__ import annotations

import os
import random
import string
import warnings
from collections.abc import Callable

import pytest
from click.testing import CliRunner

from agentops_hooks import gates
from agentops_hooks.change import Change
from agentops_hooks.change import ChangedPath
from agentops_hooks.change import CommitChange
from agentops_hooks.change import StagedChange
from agentops_hooks.places.range_check import check_range
from agentops_hooks.places.range_check import render_json
from agentops_hooks.places.range_check import render_text
from agentops_hooks.config import Config
from agentops_hooks.findings import Finding
from agentops_hooks.gates.privilege import SECRET_HINTS
from agentops_hooks.gates.privilege import PrivilegeConfig
from agentops_hooks.gates.privilege import human_verdict
from agentops_hooks.gates.privilege import touched_protected
from agentops_hooks.gates.privilege import is_protected
from agentops_hooks.gates.privilege import secret_kinds
from agentops_hooks.secret_detection import is_placeholder
from agentops_hooks.secret_detection import is_sequence
from agentops_hooks.secret_detection import names_a_secret
from agentops_hooks.secret_detection import reads_as_words
from agentops_hooks.secret_detection import shannon_entropy
from agentops_hooks.git import Repo
from conftest import JUDGE
from conftest import GitRepo
from conftest import agent_message
from conftest import run_hook

HUMAN_JUDGE = "Hugo Human <hugo@example.com>"
POLICY = f'[privilege]\nhuman_judges = ["{HUMAN_JUDGE}", "*@people.example.com"]\n'
ALNUM = string.ascii_letters + string.digits


def rnd(n: int, alphabet: str = ALNUM, seed: int = 7) -> str:
    """A random-looking string; a fixed seed keeps failures reproducible."""
    r = random.Random(f"{seed}-{n}-{alphabet}")
    classes = [c for c in (string.digits, string.ascii_uppercase, string.ascii_lowercase)
               if set(c) & set(alphabet)]
    while True:  # every character class of the alphabet shows up, as in real keys
        text = "".join(r.choice(alphabet) for _ in range(n))
        if all(set(c) & set(text) for c in classes):
            return text


def begin(kind: str) -> str:
    return "-----" + "BEGIN " + kind + "PRIVATE" + " KEY-----"


# "kind reported: variant" -> (the secret, the text of a file holding it on its first line)
SECRETS: dict[str, Callable[[], tuple[str, str]]] = {
    "private key": lambda: (
        (body := rnd(64, ALNUM + "+/")),
        f"{begin('OPENSSH ')}\n{body}\n{rnd(40, ALNUM + '+/')}\n-----END OPENSSH PRIVATE KEY-----\n",
    ),
    "private key: one line": lambda: (
        (body := rnd(64, ALNUM + "+/")),
        f'KEY_PEM = "{begin("RSA ")}\\n{body}\\n-----END RSA PRIVATE KEY-----"\n',
    ),
    "AWS access key id": lambda: (
        (s := "AK" + "IA" + rnd(16, string.ascii_uppercase + string.digits)), f"aws_access_key_id = {s}\n"),
    "AWS access key id: STS": lambda: (
        (s := "AS" + "IA" + rnd(16, string.ascii_uppercase + string.digits)), f"id: {s}\n"),
    "AWS secret access key": lambda: (
        (s := rnd(40, ALNUM + "/+")), f"aws_secret_access_key = {s}\n"),
    "GitHub token: ghp": lambda: ((s := "gh" + "p_" + rnd(36)), f'token = "{s}"\n'),
    "GitHub token: gho": lambda: ((s := "gh" + "o_" + rnd(36)), f"headers = {{'Authorization': 'Bearer {s}'}}\n"),
    "GitHub token: ghu": lambda: ((s := "gh" + "u_" + rnd(36)), f"GH={s}\n"),
    "GitHub token: ghs": lambda: ((s := "gh" + "s_" + rnd(36)), f"run: curl -H 'token {s}'\n"),
    "GitHub token: ghr": lambda: ((s := "gh" + "r_" + rnd(36)), f"refresh = '{s}'\n"),
    "GitHub token: fine-grained": lambda: (
        (s := "github" + "_pat_" + rnd(22) + "_" + rnd(59)), f"const t = `{s}`;\n"),
    "Slack token": lambda: (
        (s := "xo" + "xb-" + rnd(12, string.digits) + "-" + rnd(13, string.digits) + "-" + rnd(24)),
        f"SLACK={s}\n"),
    "Slack webhook URL": lambda: (
        (s := "T" + rnd(10, string.ascii_uppercase + string.digits) + "/B"
         + rnd(10, string.ascii_uppercase + string.digits) + "/" + rnd(24)),
        "url: https://hooks.slack" + f".com/services/{s}\n"),
    "OpenAI API key": lambda: ((s := "s" + "k-" + rnd(48)), f"OPENAI_API_KEY={s}\n"),
    "OpenAI API key: project": lambda: (
        (s := "s" + "k-" + "proj-" + rnd(120, ALNUM + "_-")), f'client = OpenAI(api_key="{s}")\n'),
    "Anthropic API key": lambda: (
        (s := "s" + "k-" + "ant-" + "api03-" + rnd(93, ALNUM + "_-")), f"ANTHROPIC_API_KEY: {s}\n"),
    "high-entropy value assigned to a secret-like name": lambda: (
        (s := rnd(32)), f'DB_PASSWORD = "{s}"\n'),
    "high-entropy value assigned to a secret-like name: JSON": lambda: ((s := rnd(24)), f'  "clientSecret": "{s}",\n'),
    "high-entropy value assigned to a secret-like name: annotated": lambda: ((s := rnd(24)), f'api_token: str = "{s}"\n'),
    "high-entropy value assigned to a secret-like name: env": lambda: ((s := rnd(20)), f"export STRIPE_KEY={s}\n"),
}


def run(repo: GitRepo, message: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    return run_hook(repo, message, capsys, "--gate", "privilege")


def staged_patch_id() -> str:
    return StagedChange.from_message_file(Repo(), None).patch_id


def verdict(judge: str = HUMAN_JUDGE, status: str = "PASS", patch: str | None = None) -> str:
    return f'Verdict: {status} judge="{judge}" patch={patch or staged_patch_id()}'


@pytest.fixture
def based(repo: GitRepo) -> GitRepo:
    """A human-made base: the policy naming the human judges, a workflow, some code."""
    repo.stage(".agentops.toml", POLICY)
    repo.stage(".github/workflows/ci.yml", "on: push\n")
    repo.stage("app.py", "print('v1')\n")
    repo.commit("base")
    return repo


# --- secrets ------------------------------------------------------------------

@pytest.mark.parametrize("label", sorted(SECRETS))
def test_each_secret_kind_is_caught_and_never_shown(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], label: str,
) -> None:
    secret, text = SECRETS[label]()
    repo.stage("conf/settings.txt", "# settings\n\n" + text)
    code, out = run(repo, agent_message(), capsys)
    assert code == 1, out
    assert "[IV Enforce Least Privilege] privilege: privilege-secret" in out
    assert f"conf/settings.txt:3 ({label.split(':')[0]})" in out
    assert secret not in out
    assert secret[:12] not in out and secret[-12:] not in out


def test_secret_is_never_shown_in_range_reports(repo: GitRepo) -> None:
    secret, text = SECRETS["GitHub token: ghp"]()
    repo.stage("README.md", "# x\n")
    repo.commit("base")
    repo.stage("deploy.sh", text)
    repo.commit(agent_message("Deploy script"))
    report = check_range(Repo(), Config(), ["HEAD~1..HEAD"], "HEAD~1..HEAD", ["privilege"])
    assert [f.rule for f in report.findings] == ["privilege-secret"]
    for rendered in (render_text(report), render_json(report)):
        assert "deploy.sh:1 (GitHub token)" in rendered
        assert secret not in rendered


def test_a_secret_beside_bytes_that_are_not_utf8_is_found(repo: GitRepo) -> None:
    """A Latin-1 line in the same patch is read as a replacement character, not an error."""
    secret, text = SECRETS["GitHub token: ghp"]()
    repo.stage("README.md", "# x\n")
    repo.commit("base")
    repo.stage("deploy.sh", b"# caf\xe9\n" + text.encode())
    repo.commit(agent_message("Deploy script"))
    report = check_range(Repo(), Config(), ["HEAD~1..HEAD"], "HEAD~1..HEAD", ["privilege"])
    assert [f.rule for f in report.findings] == ["privilege-secret"]
    assert "deploy.sh:2 (GitHub token)" in render_text(report)


@pytest.mark.parametrize("line", [
    'api_key = "<your-key>"',
    "API_KEY=${API_KEY}",
    'token: "{{ secrets.DEPLOY_TOKEN }}"',
    'password = "changeme"',
    'secret = "xxxxxxxxxxxxxxxxxxxxxxxxxxxx"',
    'secret = "0000000000000000000000000000"',
    "aws_access_key_id = " + "AK" + "IA" + "IOSFODNN7" + "EXAMPLE",
    "aws_secret_access_key = " + "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCY" + "EXAMPLEKEY",
    "id = " + "AK" + "IA" + "X" * 16,
    "token = " + "gh" + "p_" + "x" * 36,
    "hook: https://hooks.slack" + ".com/services/T00000000/B00000000/" + "X" * 24,
    "OPENAI_API_KEY=" + "s" + "k-" + "your-openai-key-here-please",
    'OPENAI_API_KEY="' + "s" + "k-" + '..."',
    "password = os.environ['DB_PASSWORD_FOR_SERVICE_2']",
    "token = get_token_from_vault_v2(config)",
    "SECRET_KEY = settings.SECRET_KEY_FROM_THE_ENV_2",
    'token_url = "https://auth2.example.org/oauth/t0ken/endpoint"',
    'password = "correct horse battery staple 42"',
    'api_key = "short1"',                              # under 20 characters
    'api_key = "abababababababababab12"',              # 20+ characters, low entropy
    'pipeline_name = "build-and-deploy-the-service"',   # no secret-like name
    "class_name = 'sk-some-long-kebab-identifier-v2'",  # sk- followed by an ordinary word
    begin("RSA ") + "...",
    begin("RSA "),                                        # a header alone is not a key
])
def test_placeholders_and_ordinary_code_pass(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], line: str,
) -> None:
    repo.stage("config.py", line + "\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_private_key_header_with_placeholder_body_passes(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("docs/keys.md", f"```\n{begin('OPENSSH ')}\n...\n-----END OPENSSH PRIVATE KEY-----\n```\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_removed_and_unchanged_secret_lines_pass(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    secret, text = SECRETS["AWS access key id"]()
    other, other_text = SECRETS["Slack token"]()
    repo.stage("old.env", text + "A=1\n" + other_text)
    repo.commit("a human committed this long ago")
    repo.stage("old.env", "A=2\n" + other_text)  # removes one secret, keeps the other as context
    code, out = run(repo, agent_message("Remove the leaked key"), capsys)
    assert code == 0, out
    assert secret not in out and other not in out


@pytest.mark.parametrize("attributes", ["", "*.bin binary\n"])
def test_a_secret_in_a_binary_file_is_found(
    repo: GitRepo, capsys: pytest.CaptureFixture[str], attributes: str,
) -> None:
    """Patches are read as text, whatever the content or .gitattributes say."""
    secret, _ = SECRETS["GitHub token: ghp"]()
    if attributes:
        repo.stage(".gitattributes", attributes)
        repo.commit("attributes")
    repo.stage("blob.bin", b"\x00\x01" + secret.encode() + b"\x00")
    code, out = run(repo, agent_message(), capsys)
    assert code == 1, out
    assert "blob.bin:1 (GitHub token)" in out
    assert secret not in out


def test_every_secret_location_is_listed(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("a.env", SECRETS["OpenAI API key"]()[1] + "\n" + SECRETS["Anthropic API key"]()[1])
    repo.stage("b/c.yml", "x: 1\n" + SECRETS["Slack token"]()[1])
    code, out = run(repo, agent_message(), capsys)
    assert code == 1
    assert out.count("privilege: privilege-secret\n") == 1
    for where in ("a.env:1 (OpenAI API key)", "a.env:3 (Anthropic API key)", "b/c.yml:2 (Slack token)"):
        assert where in out


def test_humans_pass_by_default_and_policy_can_hold_everyone(
    repo: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    secret, text = SECRETS["OpenAI API key"]()
    repo.stage(".github/workflows/ci.yml", "on: push\n")
    repo.stage("app.env", text)
    code, out = run(repo, "Human change\n", capsys)
    assert code == 0, out
    repo.write(".agentops.toml", '[privilege]\nrequired_for = "everyone"\n')
    code, out = run(repo, "Human change\n", capsys)
    assert code == 1
    assert "every change (policy) touches protected paths" in out
    assert "every change (policy) adds lines that look like secrets" in out
    assert "privilege-secret" in out and "privilege-protected-path" in out
    assert secret not in out


def test_secret_scan_can_be_switched_off(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", "[privilege]\nsecrets = false\n")
    repo.stage("app.env", SECRETS["OpenAI API key"]()[1])
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out


def test_severity_warning_reports_without_refusing(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.write(".agentops.toml", '[privilege]\nseverity = "warning"\n')
    repo.stage("app.env", SECRETS["OpenAI API key"]()[1])
    code, out = run(repo, agent_message(), capsys)
    assert code == 0
    assert "warning: privilege-secret" in out


@pytest.mark.parametrize(("text", "low"), [("a" * 30, True), ("ab" * 15, True), (rnd(32), False)])
def test_entropy_threshold(text: str, low: bool) -> None:
    assert (shannon_entropy(text) < 3.5) is low


def test_secret_kinds_direct() -> None:
    assert secret_kinds("nothing to see here") == []
    assert secret_kinds(begin("EC "), rnd(64)) == ["private key"]
    assert secret_kinds(begin(""), "-----END PRIVATE KEY-----") == []
    assert is_placeholder("<your-key>") and is_placeholder("${TOKEN}") and is_placeholder("zzzzzzzz")
    assert not is_placeholder(rnd(24))


# --- protected paths ----------------------------------------------------------

@pytest.mark.parametrize(("action", "named"), [
    (lambda r: r.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n"),
     ".github/workflows/ci.yml (modified)"),
    (lambda r: r.stage(".github/workflows/nested/deploy.yml", "on: push\n"),
     ".github/workflows/nested/deploy.yml (added)"),
    (lambda r: r.git("rm", "-q", ".github/workflows/ci.yml"), ".github/workflows/ci.yml (deleted)"),
    (lambda r: r.git("mv", ".github/workflows/ci.yml", "ci-disabled.yml"),
     ".github/workflows/ci.yml (renamed to ci-disabled.yml)"),
    (lambda r: r.git("mv", "app.py", ".github/workflows/app.yml"),
     "app.py (renamed to .github/workflows/app.yml)"),
    (lambda r: r.stage(".pre-commit-config.yaml", "repos: []\n"), ".pre-commit-config.yaml (added)"),
    (lambda r: r.stage("docs/CODEOWNERS", "* @agent\n"), "docs/CODEOWNERS (added)"),
    (lambda r: r.stage(".gitlab-ci.yml", "test: {script: [true]}\n"), ".gitlab-ci.yml (added)"),
    # Loosening the policy: e.g. dropping a ratchet metric or the human judges.
    (lambda r: r.stage(".agentops.toml", '[privilege]\nhuman_judges = ["*"]\n'), ".agentops.toml (modified)"),
    (lambda r: r.git("rm", "-q", ".agentops.toml"), ".agentops.toml (deleted)"),
])
def test_protected_path_is_refused_for_an_agent(
    based: GitRepo, capsys: pytest.CaptureFixture[str], action: Callable[[GitRepo], object], named: str,
) -> None:
    action(based)
    code, out = run(based, agent_message("Tidy CI"), capsys)
    assert code == 1, out
    assert "[IV Enforce Least Privilege] privilege: privilege-protected-path" in out
    assert named in out
    assert staged_patch_id() in out
    assert 'agentops verdict pass --judge "Human Name <human@example.com>" --message-file' in out
    assert "git restore --staged --" in out


def test_fix_unstages_both_sides_of_a_rename(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.git("mv", ".github/workflows/ci.yml", "ci-disabled.yml")
    code, out = run(based, agent_message("Disable CI"), capsys)
    assert code == 1
    assert "git restore --staged -- .github/workflows/ci.yml ci-disabled.yml" in out


def test_other_paths_are_not_protected(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage("app.py", "print('v2')\n")
    based.stage("src/.github/workflows-notes.md", "notes\n")
    code, out = run(based, agent_message(), capsys)
    assert code == 0, out


def test_human_judges_verdict_bound_to_the_patch_admits(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    code, out = run(based, agent_message("Run CI on PRs", verdict()), capsys)
    assert code == 0, out
    code, out = run(based, agent_message("Run CI on PRs", verdict("Pat <pat@people.example.com>")), capsys)
    assert code == 0, out


def test_human_verdict_recorded_in_notes_admits(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    from agentops_hooks.commands import cli

    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    result = CliRunner().invoke(cli, ["verdict", "pass", "--judge", HUMAN_JUDGE, "--staged"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    code, out = run(based, agent_message("Run CI on PRs"), capsys)
    assert code == 0, out


@pytest.mark.parametrize(("line", "reason"), [
    (lambda: verdict(JUDGE), f"{JUDGE} (trailer) is not in privilege.human_judges"),
    (lambda: verdict(patch="ab" * 20), "is bound to patch abab"),
    (lambda: verdict(status="FAIL"), f"{HUMAN_JUDGE} (trailer) gave FAIL"),
    (lambda: verdict("Hana <hana@example.com>"), "is the author, committer or a co-author"),
])
def test_verdicts_that_do_not_count(
    based: GitRepo, capsys: pytest.CaptureFixture[str], line: Callable[[], str], reason: str,
) -> None:
    based.write(".agentops.toml", f'[privilege]\nhuman_judges = ["{HUMAN_JUDGE}", "hana@example.com"]\n')
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    code, out = run(based, agent_message("Run CI on PRs", line()), capsys)
    assert code == 1, out
    assert "privilege-protected-path" in out
    assert reason in out


def test_a_human_fail_outweighs_a_human_pass(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    message = agent_message("Run CI", verdict(), verdict("Pat <pat@people.example.com>", "FAIL"))
    code, out = run(based, message, capsys)
    assert code == 1
    assert "gave FAIL" in out


def test_no_human_judges_configured_says_so(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage(".github/workflows/ci.yml", "on: push\n")
    code, out = run(repo, agent_message("Add CI", verdict(JUDGE)), capsys)
    assert code == 1
    assert "privilege.human_judges lists no one" in out


def test_unsigned_human_verdict_does_not_count_when_signatures_are_required(
    based: GitRepo, capsys: pytest.CaptureFixture[str],
) -> None:
    based.stage(".agentops/allowed_signers", "hugo@example.com ssh-ed25519 AAAA\n")
    based.stage(".agentops.toml", POLICY + '[verdict]\nrequire_signature = true\n'
                                           'allowed_signers = ".agentops/allowed_signers"\n')
    based.commit("policy: signed verdicts")
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    code, out = run(based, agent_message("Run CI on PRs", verdict()), capsys)
    assert code == 1
    assert "it is not signed" in out


@pytest.mark.parametrize("configured", [True, False])
def test_allowed_signers_file_is_protected_when_configured(
    based: GitRepo, capsys: pytest.CaptureFixture[str], configured: bool,
) -> None:
    based.stage("keys/allowed_signers", "hugo@example.com ssh-ed25519 AAAA\n")
    if configured:
        based.stage(".agentops.toml", POLICY + '[verdict]\nallowed_signers = "./keys/allowed_signers"\n')
    based.commit("policy")
    based.stage("keys/allowed_signers", "hugo@example.com ssh-ed25519 AAAA\nagent@x ssh-ed25519 BBBB\n")
    code, out = run(based, agent_message("Add my key"), capsys)
    assert code == (1 if configured else 0), out
    assert ("keys/allowed_signers (modified)" in out) is configured


def test_protected_paths_are_configurable(based: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    based.write(".agentops.toml", POLICY + 'protected_paths = ["deploy/", "**/*.pem"]\n')
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")  # no longer protected
    code, out = run(based, agent_message(), capsys)
    assert code == 0, out
    based.stage("infra/certs/server.pem", "cert\n")
    based.stage("x/deploy/run.sh", "echo\n")
    code, out = run(based, agent_message(), capsys)
    assert code == 1
    assert "infra/certs/server.pem (added), x/deploy/run.sh (added)" in out


@pytest.mark.parametrize(("path", "protected"), [
    (".github/workflows/ci.yml", True),
    (".github/workflows/a/b.yml", True),
    ("sub/.github/workflows/ci.yml", False),   # a pattern with a "/" is anchored at the root
    (".github/workflows.md", False),
    ("CODEOWNERS", True),
    ("docs/CODEOWNERS", True),                 # a pattern without "/" matches at any depth
    (".github/CODEOWNERS", True),
    ("CODEOWNERS.bak", False),
    (".git-hooks/pre-push", True),
    ("src/app.py", False),
])
def test_default_protected_globs(path: str, protected: bool) -> None:
    assert is_protected(path, PrivilegeConfig().protected_paths) is protected


@pytest.mark.parametrize(("pattern", "path", "matches"), [
    ("/CODEOWNERS", "CODEOWNERS", True),
    ("/CODEOWNERS", "docs/CODEOWNERS", False),
    ("X11/conf.d/*", "X11/conf.d/a.conf", True),  # only a leading "/" is dropped, no other character
    ("ci/*.yml", "ci/a.yml", True),
    ("ci/*.yml", "ci/x/a.yml", False),
    ("ci/**/*.yml", "ci/x/y/a.yml", True),
    ("ci/**/*.yml", "ci/a.yml", True),
    ("secrets/", "a/secrets/k", True),
    ("key[0-9].txt", "key7.txt", True),
    ("key[!0-9].txt", "key7.txt", False),
    ("odd[name", "odd[name", True),
    ("ci/**", "ci", True),                     # the directory's own path too (a link standing in for it)
    ("ci/**/*.yml", "ci/x/a.txt", False),
    ("x/a**b", "x/a/c/b", True),               # `**` inside a name crosses directories
    ("x/a**b", "x/ac", False),
    ("**", "a/b/c", True),
    ("key?.txt", "key7.txt", True),
    ("key?.txt", "key.txt", False),
    ("a?b", "a/b", False),                     # `?` stays inside a directory
    ("key[7].txt", "key7.txt", True),
    ("[]a]x", "ax", True),                     # a `]` first in a class is one of its characters
    ("[]a]x", "]x", True),
    ("[a]*[b]", "axyb", True),                 # each class ends at its first `]`
    ("x[\\]y", "x\\y", True),                  # a backslash in a class is a character
    ("x[\\]y", "xXy", False),
    # A malformed class is read literally, and the rest of the glob as a glob.
    ("[z-a]", "[z-a]", True),
    ("[z-a]", "sub/[z-a]", True),
    ("[z-a]", "z", False),
    ("logs[z-a]/", "logs[z-a]/x", True),
    ("/k[z-a]*", "k[z-a].txt", True),
    ("k[z-a][0-9]", "k[z-a]7", True),
    ("k[[]", "k[", True),                      # a `[` in a class is a character
    ("k[[]", "kx", False),
])
def test_glob_rules(pattern: str, path: str, matches: bool) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no FutureWarning of a nested set on the user's stderr
        assert is_protected(path, (pattern,)) is matches


@pytest.mark.parametrize(("path", "protected"), [
    (".github", True), (".github/workflows", True), (".git-hooks", True), ("sub/.husky", True),
    ("x/.github", False), (".githubx", False), ("src", False),
])
def test_a_path_at_a_protected_directory_stands_in_for_it(path: str, protected: bool) -> None:
    """A symlink, file or submodule where a protected directory goes is a protected change."""
    paths = [ChangedPath("A", path)]
    assert touched_protected(paths, PrivilegeConfig().protected_paths) == (paths if protected else [])


def test_the_constraints_are_protected_whatever_the_policy_lists(repo: GitRepo) -> None:
    repo.write(".agentops.toml", "[privilege]\nprotected_paths = []\n")
    repo.stage(".agents/constraints/http.toml", "x = 1\n")
    repo.stage(".github/workflows/ci.yml", "on: push\n")
    [found] = privilege_findings(staged(agent_message()))
    assert "protected paths: .agents/constraints/http.toml (added)." in found.message


def test_no_glob_protects_nothing_and_many_globs_protect_each_path() -> None:
    assert not is_protected("a", ())
    assert is_protected("b", ("a", "b")) and is_protected("a", ("a", "b"))
    assert not is_protected("c", ("a", "b"))


@pytest.mark.parametrize("path", [".github/workflows/x\ny.yml", ".husky/a\n/b", ".agents/constraints/x\n.toml"])
def test_a_newline_in_a_path_does_not_escape_a_protected_glob(path: str) -> None:
    """git paths may hold a newline: `**` crosses it as any other character."""
    assert is_protected(path, (*PrivilegeConfig().protected_paths, "/.agents/constraints/**"))


# --- the committed form, and a range -----------------------------------------

def test_same_verdict_admits_the_committed_change(based: GitRepo) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    based.commit(agent_message("Run CI on PRs", verdict()))
    config = Config(sections=(PrivilegeConfig(human_judges=(HUMAN_JUDGE,)),))
    committed = CommitChange.load(Repo(), "HEAD")
    assert gates.run(gates.Context(committed, config), ["privilege"]) == []
    # The policy in force decides who is human: without the list, nobody is.
    found = gates.run(gates.Context(CommitChange.load(Repo(), "HEAD"), Config()), ["privilege"])
    assert [f.rule for f in found] == ["privilege-protected-path"]
    assert found[0].commit == based.head()
    assert f"--commit {based.head()[:12]}" in found[0].fix


def test_range_check_judges_each_commit(based: GitRepo, monkeypatch: pytest.MonkeyPatch) -> None:
    start = based.head()
    secret, text = SECRETS["Anthropic API key"]()
    based.stage("app.py", "print('v2')\n")
    based.commit(agent_message("Clean change"))
    based.stage("client.py", text)
    based.commit(agent_message("Leak a key"))
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    based.commit(agent_message("Touch CI"))
    based.stage(".github/workflows/ci.yml", "on: [push]\n")
    based.commit("A human may touch CI")
    based.stage(".github/workflows/ci.yml", "on: [push, workflow_dispatch]\n")
    based.commit(agent_message("Touch CI with a human verdict", verdict()))
    config = Config(sections=(PrivilegeConfig(human_judges=(HUMAN_JUDGE,)),))

    def one_diff_per_commit(*args: object) -> bytes:
        raise AssertionError("a range reads its patches in one git diff-tree, not one per commit")

    monkeypatch.setattr(Repo, "diff_tree", one_diff_per_commit)
    report = check_range(Repo(), config, [f"{start}..HEAD"], "range", ["privilege"])
    by_subject = {r.change.subject: [f.rule for f in r.findings] for r in report.results}
    assert by_subject == {
        "Clean change": [],
        "Leak a key": ["privilege-secret"],
        "Touch CI": ["privilege-protected-path"],
        "A human may touch CI": [],
        "Touch CI with a human verdict": [],
    }
    secret_finding = next(f for f in report.findings if f.rule == "privilege-secret")
    assert "client.py:1 (Anthropic API key)" in secret_finding.message
    assert "git rebase -i" in secret_finding.fix
    assert secret not in render_text(report)


# --- secrets: what real code holds that is not one (measured: docs/secrets.md) ----

HEX = "0123456789abcdef"

# What real histories hold that the detectors took for secrets. Each line is a kind
# a person would not call a secret; assembled from pieces like the real ones above.
NOT_SECRETS: dict[str, str] = {
    "React key prop": '  <Anchor key="bitbucket-' + 'token-help-anchor-link-2" />',
    "React key prop, template": "  <Row key={`row-${item.id}`} token={token} />",
    "i18n key, object": "  key: I18nKey.TIPS$CUSTOMIZE_MICRO" + "AGENT,",
    "i18n key, prop": '      i18nKey="errors.brave_measure_text_error.line1"',
    "i18n key, member": "    i18nKey: I18nKey.COMMON$CHANGES,",
    "i18n key, constant": "const KEY_1 = I18nKey.SUGGESTIONS$HACKER_NEWS;",
    "translated text": '  "invalidEncryptionKey": "暗号化キーは22文字でなければなりません。共同編集は無効化されています。",',
    "test URL with a token parameter": '      "ws://acme.com/ws?token=abc123&userId=user456&version=v1",',
    "test env text": '      target: { value: "KEY=value\\n\\nANOTHER=123" },',
    "test value, interleaved sequence": "    api_key = '1a2b3c4d5e6f" + "7g8h9i0j'",
    "test value, Google-shaped sequence": "    api_key = 'AIza" + "SyA1B2C3D4E5F6G7H8I9J0'",
    "test value, Anthropic-shaped words": "    api_key = 's" + "k-ant-1234567890abcdef-some-more-stuff-here'",
    "test value, words and numbers": '    token = "test-api-' + 'token-2024-abc123xyz"',
    "secret's name in prose": "4. Add as GitHub secret: `GCP_SA_KEY_BASE64`",
    "secret's name in prose, bare": "# Add as GitHub secret: AZURE_STATIC_WEB_APPS_API_TOKEN_2",
    "secret's name as a value": '  secret: "DEPLOY_' + 'TOKEN_PRODUCTION_2"',
    "public PostHog project key": "posthog_project_api_key = 'ph" + "c_" + rnd(43) + "'",
    "public Stripe key": 'STRIPE_PUBLISHABLE_KEY = "p' + "k_live_" + rnd(24) + '"',
    "redacted with deadbeef": "api_key = '4ae31ed2a0f0dd626" + "09e51cd95deadbeefe7774f'",
    "a lookup key": 'cache_key = "' + rnd(24) + '"',
    "a name ending in a reference word": 'OPENAI_API_KEY_NAME = "' + rnd(24) + '"',
}


@pytest.mark.parametrize("label", sorted(NOT_SECRETS))
def test_what_real_code_holds_is_not_a_secret(label: str) -> None:
    assert secret_kinds(NOT_SECRETS[label]) == [], label


# Real secrets in the shapes the real histories showed: still found.
REAL_SHAPES: dict[str, str] = {
    "Slack token in a logged payload": '# {"payload": {"token": "' + rnd(24) + '", "team_id": "T07"}}',
    "hex token in a dict": "    'RESET_" + "TOKEN': '" + rnd(32, HEX) + "',",
    "camelCase apiKey": '  apiKey: "' + rnd(32, HEX) + '",',
    "Google key inside JSON in an env file": (
        """FIREBASE_CONFIG='{"apiKey":"AI""" + "za" + rnd(35, ALNUM + "_-") + '","authDomain":"x"}\''),
    "vendor key": "export STRIPE_" + "KEY=" + rnd(32),
    "api key in prose": "#### add my api " + "key: " + rnd(40, HEX),
    "key of a member": "config.secret_" + 'key = "' + rnd(40) + '"',
}


@pytest.mark.parametrize("label", sorted(REAL_SHAPES))
def test_real_secrets_in_real_shapes_are_found(label: str) -> None:
    assert secret_kinds(REAL_SHAPES[label]) == ["high-entropy value assigned to a secret-like name"], label


def test_a_commit_of_look_alikes_reports_only_the_real_secret(repo: GitRepo) -> None:
    """Through a real commit and the range check: one finding, for the one real line."""
    secret, real = SECRETS["GitHub token: ghp"]()
    repo.stage("README.md", "# x\n")
    repo.commit("base")
    repo.stage("web/src/app.tsx", "\n".join(NOT_SECRETS.values()) + "\n")
    repo.stage("web/src/api.ts", "// client\n" + real)
    repo.commit(agent_message("Add the settings page"))
    report = check_range(Repo(), Config(), ["HEAD~1..HEAD"], "HEAD~1..HEAD", ["privilege"])
    assert [f.rule for f in report.findings] == ["privilege-secret"]
    message = report.findings[0].message
    assert "web/src/api.ts:2 (GitHub token)" in message
    assert "app.tsx" not in message
    assert secret not in render_text(report)


def test_look_alikes_pass_at_commit_time(repo: GitRepo, capsys: pytest.CaptureFixture[str]) -> None:
    repo.stage("web/src/app.tsx", "\n".join(NOT_SECRETS.values()) + "\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 0, out
    repo.stage("web/src/api.ts", REAL_SHAPES["camelCase apiKey"] + "\n")
    code, out = run(repo, agent_message(), capsys)
    assert code == 1
    assert "web/src/api.ts:1 (high-entropy value assigned to a secret-like name)" in out
    assert "app.tsx" not in out


@pytest.mark.parametrize(("name", "secret"), [
    ("DB_PASSWORD", True), ("clientSecret", True), ("api_key", True), ("STRIPE_KEY", True),
    ("process.env.GITHUB_TOKEN", True), ("aws.secretAccessKey", True), ("privateKey", True),
    ("key", False), ("KEY_1", False), ("i18nKey", False), ("cacheKey", False), ("publicKey", False),
    ("token_url", False), ("api_key_id", False), ("max_tokens", False), ("tokenizer", False),
    ("monkey", False), ("keyboard_shortcut", False),
])
def test_names_that_hold_a_secret(name: str, secret: bool) -> None:
    assert names_a_secret(name) is secret


@pytest.mark.parametrize(("value", "made_up"), [
    ("1234567890abcdef", True), ("1a2b3c4d5e6f7g8h9i0j", True), ("A1B2C3D4E5F6G7H8I9J0", True),
    ("xyz7890123", True), (rnd(32), False), (rnd(32, HEX), False), (rnd(40, ALNUM + "/+"), False),
])
def test_sequences_are_made_up(value: str, made_up: bool) -> None:
    assert is_sequence(value) is made_up


@pytest.mark.parametrize(("value", "words"), [
    ("bitbucket-token-help-anchor-link-2", True), ("test_password_123", True),
    ("ThisIsMyPassword2024", True), (rnd(20), False), (rnd(32, HEX), False),
    (rnd(40, ALNUM + "/+"), False), (rnd(64, ALNUM + "_-"), False),
])
def test_words_are_not_random(value: str, words: bool) -> None:
    assert reads_as_words(value) is words


def _jwt(header: str, payload: str) -> str:
    import base64

    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

    return part(header) + "." + part(payload) + "."


@pytest.mark.parametrize(("line", "next_line", "kinds"), [
    # A fake key in a test: a header, a word, a footer.
    ("`${certUser}\\n" + begin("") + "\\nSECRET\\n-----END PRIVATE KEY-----\\n`,", None, []),
    (begin("RSA "), "SECRET", []),
    # A legacy encrypted PEM: its headers come before the base64.
    (begin("RSA "), "Proc-Type: 4,ENCRYPTED", ["private key"]),
    # RFC 6455's sample nonce: a handshake header, not a credential.
    ('"Sec-WebSocket-' + 'Key: dGhlIHNhbXBsZSBub25jZQ==",', None, []),
    # Slack-shaped words in a test; a real one has digits.
    ('return { botToken: "xo' + 'xb-team-token" };', None, []),
    # An unsigned token ("alg": "none") in a test config; a signed one is a secret.
    ('"accessToken": "workos:' + _jwt('{"alg":"none","typ":"JWT"}', '{"sub":"testId"}') + '"', None, []),
    ('"accessToken": "' + _jwt('{"alg":"HS256","typ":"JWT"}', '{"sub":"' + rnd(12) + '"}')
     + rnd(43, ALNUM + "_-") + '"', None, ["high-entropy value assigned to a secret-like name"]),
])
def test_test_fixtures_and_handshakes_are_not_secrets(line: str, next_line: str | None, kinds: list[str]) -> None:
    assert secret_kinds(line, next_line) == kinds


@pytest.mark.parametrize(("alphabet", "length", "share"), [
    (ALNUM, 20, 0.95), (ALNUM, 40, 0.99), (ALNUM + "+/", 32, 0.98), (HEX, 40, 0.90),
    (string.ascii_uppercase + string.digits, 32, 0.98), (string.ascii_lowercase + string.digits, 32, 0.95),
])
def test_random_values_are_found_whatever_their_alphabet(alphabet: str, length: int, share: float) -> None:
    """The filters for words, sequences and names leave random secrets alone."""
    r = random.Random(f"{alphabet}-{length}")
    values = ["".join(r.choice(alphabet) for _ in range(length)) for _ in range(1000)]
    found = sum(bool(secret_kinds(f'DB_PASSWORD = "{v}"')) for v in values)
    assert found >= share * len(values)


# --- the findings word for word, in process -------------------------------------

def staged(message: str = "") -> StagedChange:
    """The staged change with `message`, as the commit-msg hook reads it (no message file)."""
    return StagedChange(Repo(), message.encode(), os.environ, amend=False)


def privilege_findings(change: Change, config: Config | None = None) -> list[Finding]:
    return gates.run(gates.Context(change, config or gates.policy(Repo().root)), ["privilege"])


def test_a_protected_path_finding_word_for_word(based: GitRepo) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    based.git("mv", "app.py", "my app.py")                          # not protected: not named
    change = staged(agent_message("Tidy CI", verdict(JUDGE), verdict(status="FAIL")))
    [found] = privilege_findings(change)
    assert found.rule == "privilege-protected-path"
    assert found.message == (
        "an agent-authored change touches protected paths: .github/workflows/ci.yml (modified). "
        "Changing them widens what agents may do, so it needs a PASS verdict from a human judge "
        f"listed in privilege.human_judges, bound to patch {change.patch_id}. Not counted: "
        f"{JUDGE} (trailer) is not in privilege.human_judges; {HUMAN_JUDGE} (trailer) gave FAIL."
    )
    assert found.fix == (
        'agentops verdict pass --judge "Human Name <human@example.com>" --staged   # run by a human '
        "judge listed in privilege.human_judges, then git commit again; or unstage them "
        "(git restore --staged -- .github/workflows/ci.yml) and leave them to a human"
    )


def test_a_protected_path_finding_with_no_human_judges_and_no_verdict(repo: GitRepo) -> None:
    repo.stage("deploy key/allowed signers", "a@example.com ssh-ed25519 AAAA\n")
    repo.stage(".agentops.toml", '[verdict]\nallowed_signers = "deploy key/allowed signers"\n')
    repo.commit("policy")
    repo.git("mv", "deploy key/allowed signers", "keys")
    change = staged(agent_message("Move the keys"))
    [found] = privilege_findings(change)
    assert found.message == (
        "an agent-authored change touches protected paths: deploy key/allowed signers (renamed to keys). "
        "Changing them widens what agents may do, so it needs a PASS verdict from a human judge "
        f"listed in privilege.human_judges, bound to patch {change.patch_id}. privilege.human_judges "
        "lists no one, so no verdict can admit it: a human adds the reviewers under [privilege] "
        "human_judges in .agentops.toml."
    )
    assert found.fix.endswith("(git restore --staged -- 'deploy key/allowed signers' keys) "
                              "and leave them to a human")


def test_a_committed_protected_path_is_left_to_a_human(based: GitRepo) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    based.commit(agent_message("Tidy CI"))
    [found] = privilege_findings(CommitChange.load(Repo(), "HEAD"))
    assert found.fix == (
        f'agentops verdict pass --judge "Human Name <human@example.com>" --commit {based.head()[:12]}   '
        "# run by a human judge listed in privilege.human_judges, then agentops check --commit "
        f"{based.head()[:12]}; or leave the protected paths to a human"
    )


def test_the_policy_table_is_named_as_such(repo: GitRepo) -> None:
    repo.stage("pyproject.toml", '[project]\nname = "demo"\n\n[tool.agentops]\ngates = ["privilege"]\n')
    repo.commit("base")
    repo.stage("pyproject.toml", '[project]\nname = "demo"\n\n[tool.agentops]\ngates = []\n')
    [found] = privilege_findings(staged(agent_message()), Config())
    assert "touches protected paths: pyproject.toml (its [tool.agentops] policy table changed). " in found.message
    assert "(git restore --staged -- pyproject.toml)" in found.fix
    repo.stage("pyproject.toml", '[project]\nname = "demo2"\n\n[tool.agentops]\ngates = ["privilege"]\n')
    assert privilege_findings(staged(agent_message()), Config()) == []  # the rest of the file is free


def test_a_policy_table_added_with_the_file_is_a_protected_change(repo: GitRepo) -> None:
    repo.stage("README.md", "# demo\n")
    repo.commit("base")
    repo.stage("pyproject.toml", '[project]\nname = "demo"\n\n[tool.agentops]\ngates = []\n')
    repo.stage("app.py", "x = 1\n")
    [found] = privilege_findings(staged(agent_message()), Config())
    assert "pyproject.toml (its [tool.agentops] policy table changed)" in found.message
    repo.stage("pyproject.toml", '[project]\nname = "demo"\n')      # no table: an ordinary file
    assert privilege_findings(staged(agent_message()), Config()) == []


def test_a_rename_between_ordinary_paths_is_not_protected(based: GitRepo) -> None:
    based.git("mv", "app.py", "main.py")
    assert privilege_findings(staged(agent_message())) == []


@pytest.mark.parametrize("signers", ["keys/signers[1]", "keys/*signers", "keys/signers?"])
def test_the_allowed_signers_file_is_protected_by_its_literal_name(repo: GitRepo, signers: str) -> None:
    """Glob characters in the configured path are that file's name, not a pattern."""
    repo.stage(signers, "a@example.com ssh-ed25519 AAAA\n")
    repo.stage("keys/signers1", "look-alike\n")
    repo.stage(".agentops.toml", f'[verdict]\nallowed_signers = "./{signers}"\n')
    repo.commit("policy")
    repo.stage("keys/signers1", "look-alike 2\n")
    assert privilege_findings(staged(agent_message())) == []
    repo.stage(signers, "a@example.com ssh-ed25519 AAAA\nagent@x ssh-ed25519 BBBB\n")
    [found] = privilege_findings(staged(agent_message()))
    assert f"protected paths: {signers} (modified)." in found.message


def test_human_verdict_says_yes_or_no(based: GitRepo) -> None:
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    config = gates.policy(Repo().root)
    assert human_verdict(staged(agent_message()), gates.Context(staged(), config)) == (False, [])
    change = staged(agent_message("CI", verdict()))
    assert human_verdict(change, gates.Context(change, config)) == (True, [])
    change = staged(agent_message("CI", verdict(), verdict(JUDGE)))
    assert human_verdict(change, gates.Context(change, config)) == (
        True, [f"{JUDGE} (trailer) is not in privilege.human_judges"])


ALIASES = ('[verdict]\naliases = [["hana@example.com", "hana@people.example.com"], '
           '["pat@people.example.com", "pat@work.example.com"]]\n')


@pytest.mark.parametrize(("judge", "counted"), [
    ("Hana <hana@people.example.com>", False),        # the author under another address
    ("Carl <carl@people.example.com>", False),        # the committer, in no alias group
    ("Pat <pat@people.example.com>", True),           # in a group of her own: not a party
    ("Hugo <hugo@example.com>", True),
])
def test_aliases_make_one_person_of_the_author(based: GitRepo, judge: str, counted: bool) -> None:
    based.write(".agentops.toml", POLICY + ALIASES)
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    env = {**os.environ, "GIT_COMMITTER_NAME": "Carl", "GIT_COMMITTER_EMAIL": "carl@people.example.com"}
    change = StagedChange(Repo(), agent_message("CI", verdict(judge)).encode(), env, amend=False)
    assert change.author is not None and change.author.email == "hana@example.com"
    found = privilege_findings(change)
    if counted:
        assert found == []
    else:
        assert "is the author, committer or a co-author of this change" in found[0].message


def test_a_secret_finding_word_for_word(repo: GitRepo) -> None:
    secret, text = SECRETS["GitHub token: ghp"]()
    repo.stage("deploy.sh", text)
    [found] = privilege_findings(staged(agent_message()), Config())
    assert found.message == (
        "an agent-authored change adds lines that look like secrets: deploy.sh:1 (GitHub token). The values "
        "are not shown here; a secret in a commit leaves with every clone and push."
    )
    assert found.fix == (
        "take the secret out of those lines and read it at run time (an environment variable or a secret "
        "manager), git add the files, then git commit again; rotate it if it was ever real. A false "
        'positive: use an obvious placeholder ("<your-key>", "${VAR}"), or set [privilege] secrets = false '
        "in .agentops.toml."
    )


@pytest.mark.parametrize("root", [True, False])
def test_a_committed_secret_is_rewritten_out_of_history(repo: GitRepo, root: bool) -> None:
    if not root:
        repo.stage("README.md", "# x\n")
        repo.commit("base")
    base = None if root else repo.head()
    repo.stage("deploy.sh", SECRETS["GitHub token: ghp"]()[1])
    repo.commit(agent_message())
    [found] = privilege_findings(CommitChange.load(Repo(), "HEAD"), Config())
    assert found.fix.startswith(
        f"rewrite the history without it (git rebase -i {base[:12] if base else '--root'}, edit the file, "
        "git commit --amend) and rotate the secret: it is in the repository's history. A false positive: ")


@pytest.mark.parametrize(("count", "listed"), [(20, ""), (21, " and 1 more")])
def test_secret_locations_are_listed_up_to_twenty(repo: GitRepo, count: int, listed: str) -> None:
    repo.stage("a.env", "".join(f"T{i}=gh" + "p_" + rnd(36, seed=i) + "\n" for i in range(count)))
    [found] = privilege_findings(staged(agent_message()), Config())
    shown = ", ".join(f"a.env:{n} (GitHub token)" for n in range(1, 21))
    assert f"look like secrets: {shown}{listed}. The values" in found.message


def test_a_secret_after_unchanged_lines_of_a_hunk_is_found(repo: GitRepo) -> None:
    repo.stage("app.env", "A=1\nB=2\nC=3\n")
    repo.commit("base")
    repo.stage("app.env", "A=1\nB=2\n" + SECRETS["OpenAI API key"]()[1] + "C=3\n")
    [found] = privilege_findings(staged(agent_message()), Config())
    assert "app.env:3 (OpenAI API key)" in found.message


def test_a_header_added_over_unchanged_lines_adds_no_key(repo: GitRepo) -> None:
    """Only the added lines are this change's: a body already there was not leaked by it."""
    body = rnd(64, ALNUM + "+/")
    repo.stage("id_key", f"{body}\n{rnd(40, ALNUM + '+/')}\n")
    repo.commit("a human's file")
    repo.stage("id_key", f"{begin('OPENSSH ')}\n{body}\n# {rnd(40, ALNUM + '+/')}\n")
    assert privilege_findings(staged(agent_message()), Config()) == []


@pytest.mark.parametrize(("header_end", "body"), [
    ("", rnd(64, ALNUM + "+/")),
    ("", rnd(17, string.ascii_lowercase) + "XXX"),  # a body may end in the letters of a placeholder
    ("\f", rnd(64, ALNUM + "+/")),                  # whitespace after the header is not a body
    ("\r", "\r" + rnd(64, ALNUM + "+/")),
])
def test_a_key_whose_body_ends_the_hunk_is_found(repo: GitRepo, header_end: str, body: str) -> None:
    """The header's next line decides: it is read even when it is the hunk's last."""
    repo.stage("id_key", f"{begin('OPENSSH ')}{header_end}\n{body}\n")
    [found] = privilege_findings(staged(agent_message()), Config())
    assert "id_key:1 (private key)" in found.message


def test_a_range_reads_hints_in_any_case(repo: GitRepo) -> None:
    """The kept patch of a range is searched for hint words as the stream found them: any case."""
    secret, text = SECRETS["high-entropy value assigned to a secret-like name"]()
    assert text.startswith("DB_PASSWORD") and not any(h in text for h in SECRET_HINTS)
    repo.stage("README.md", "# x\n")
    repo.commit("base")
    repo.stage("settings.py", text)
    repo.commit(agent_message("Settings"))
    report = check_range(Repo(), Config(), ["HEAD~1..HEAD"], "HEAD~1..HEAD", ["privilege"])
    [found] = report.findings
    assert "look like secrets: settings.py:1 (high-entropy value assigned to a secret-like name)." in found.message


def test_a_patch_holding_every_hint_word_is_read(repo: GitRepo) -> None:
    repo.stage("notes.md", "# " + " ".join(SECRET_HINTS) + "\n")
    repo.stage("app.env", SECRETS["OpenAI API key"]()[1])
    [found] = privilege_findings(staged(agent_message()), Config())
    assert "app.env:1 (OpenAI API key)" in found.message


def test_a_commit_whose_author_cannot_be_read_is_judged(based: GitRepo) -> None:
    """An unreadable identity counts as no one, not as an error."""
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    tree = based.out("write-tree").strip()
    body = (f"tree {tree}\nparent {based.head()}\nauthor no identity here\n"
            f"committer Hana <hana@example.com> 1700000000 +0000\n\n" + agent_message("CI", verdict()))
    commit = based.git("hash-object", "-t", "commit", "-w", "--literally", "--stdin",
                       input=body.encode()).stdout.decode().strip()
    change = CommitChange.load(Repo(), commit)
    assert change.author is None
    assert privilege_findings(change, Config(sections=(PrivilegeConfig(human_judges=(HUMAN_JUDGE,)),))) == []


def test_the_automated_judge_listed_as_a_human_still_does_not_count(based: GitRepo) -> None:
    """Its name is text any agent can type: where judge.admits does not name gate IV, it never counts."""
    based.write(".agentops.toml", POLICY.replace('"*@people.example.com"', '"bot@example.com"')
                + '[judge]\nidentity = "Bot <bot@example.com>"\n')
    based.stage(".github/workflows/ci.yml", "on: [push, pull_request]\n")
    [found] = privilege_findings(staged(agent_message("CI", verdict("Bot <bot@example.com>"))))
    assert ("Not counted: Bot <bot@example.com> (trailer): it is the automated judge's, and judge.admits "
            "does not name gate privilege (a human must judge this).") in found.message
