"""Verdict signatures: real ed25519 keys, the real ssh-keygen, no mocks."""
from __future__ import annotations

import base64
import fcntl
import os
import subprocess
import sys
import tempfile
import termios
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from agentops_hooks.authorship import Identity
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence.signatures import NAMESPACE
from agentops_hooks.evidence.signatures import SIGNATURE_KEY
from agentops_hooks.evidence.signatures import Check
from agentops_hooks.evidence.signatures import armor
from agentops_hooks.evidence.signatures import payload
from agentops_hooks.evidence.signatures import sign
from agentops_hooks.evidence.signatures import verify

RILEY = Identity("Riley Reviewer", "riley@example.com")
ADA = Identity("Ada Auditor", "ada@example.com")
PATCH = "0123456789abcdef0123456789abcdef01234567"
OTHER_PATCH = "fedcba9876543210fedcba9876543210fedcba98"


@dataclass(frozen=True)
class Keys:
    dir: Path
    riley: Path
    ada: Path
    locked: Path

    def public(self, key: Path) -> str:
        """``type base64`` of a key, without its comment."""
        kind, blob = Path(f"{key}.pub").read_text().split()[:2]
        return f"{kind} {blob}"

    def line(self, principals: str, key: Path, options: str = "") -> str:
        opts = f" {options}" if options else ""
        return f"{principals}{opts} {self.public(key)}\n"


def keygen(*args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ("ssh-keygen", *args), input=input, stdin=None if input is not None else subprocess.DEVNULL,
        capture_output=True, check=False, timeout=30,
    )


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("sshkeys")
    for name, passphrase in (("riley", ""), ("ada", ""), ("locked", "secret")):
        proc = keygen("-t", "ed25519", "-N", passphrase, "-C", name, "-f", str(root / name), "-q")
        assert proc.returncode == 0, proc.stderr
    return Keys(root, root / "riley", root / "ada", root / "locked")


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's ssh-agent must not make a locked key usable or slow a test down."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture(scope="module")
def signed(keys: Keys) -> tuple[bytes, str]:
    """Riley's signature over a PASS for PATCH."""
    data = payload("PASS", RILEY, PATCH)
    return data, sign(data, keys.riley)


def one_line_of(armored: bytes) -> str:
    lines = armored.decode().splitlines()
    assert lines[0] == "-----BEGIN SSH SIGNATURE-----"
    assert lines[-1] == "-----END SSH SIGNATURE-----"
    return "".join(lines[1:-1])


def sign_directly(keys: Keys, key: Path, data: bytes, namespace: str) -> bytes:
    """ssh-keygen -Y sign, bypassing the module: the armored signature."""
    proc = keygen("-Y", "sign", "-f", str(key), "-n", namespace, input=data)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def assert_one_line(text: str) -> None:
    assert text.strip()
    assert "\n" not in text and "\r" not in text


# -- payload ---------------------------------------------------------------


def test_constants() -> None:
    assert NAMESPACE == "agentops-verdict"
    assert SIGNATURE_KEY == "Verdict-Signature"


def test_payload_is_the_canonical_bytes() -> None:
    assert payload("PASS", RILEY, PATCH) == (
        b"agentops-verdict v1\n"
        b"status=PASS\n"
        b"judge=Riley Reviewer <riley@example.com>\n"
        b"patch=0123456789abcdef0123456789abcdef01234567\n"
    )


def test_payload_writes_the_judge_as_str_identity_and_utf8() -> None:
    assert payload("NOT_PROVEN", Identity("", "bot@example.com"), PATCH).splitlines()[1:3] == [
        b"status=NOT_PROVEN", b"judge=<bot@example.com>",
    ]
    assert b"judge=Zo\xc3\xab <zoe@example.com>\n" in payload("FAIL", Identity("Zoë", "zoe@example.com"), PATCH)


@pytest.mark.parametrize("status, judge, patch", [
    ("PASS\npatch=" + OTHER_PATCH, RILEY, PATCH),
    ("PASS", Identity("Riley\npatch=x", "riley@example.com"), PATCH),
    ("PASS", RILEY, PATCH + "\r"),
])
def test_payload_refuses_a_field_with_a_line_break(status: str, judge: Identity, patch: str) -> None:
    with pytest.raises(ValueError, match="line break"):
        payload(status, judge, patch)


# -- sign and armor --------------------------------------------------------


def test_sign_returns_one_base64_line(signed: tuple[bytes, str]) -> None:
    _, sig = signed
    assert "\n" not in sig and "-----" not in sig and " " not in sig
    assert base64.b64decode(sig, validate=True).startswith(b"SSHSIG")


def test_armor_restores_exactly_what_ssh_keygen_writes(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    # ed25519 signatures are deterministic, so ssh-keygen run directly writes the same bytes.
    direct = sign_directly(keys, keys.riley, data, NAMESPACE)
    assert armor(sig) == direct
    assert one_line_of(direct) == sig
    body = armor(sig).decode().splitlines()[1:-1]
    assert all(len(line) == 70 for line in body[:-1]) and 0 < len(body[-1]) <= 70


def test_armor_wraps_at_70_columns() -> None:
    assert armor("A" * 141) == (
        b"-----BEGIN SSH SIGNATURE-----\n" + b"A" * 70 + b"\n" + b"A" * 70 + b"\nA\n"
        b"-----END SSH SIGNATURE-----\n"
    )


def test_a_valid_signature_verifies(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    allowed = keys.line("riley@example.com", keys.riley).encode()
    assert verify(data, sig, "riley@example.com", allowed) == Check(True, "verified by riley@example.com's key")


def test_sign_accepts_a_path_object_and_a_str(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    assert sign(data, str(keys.riley)) == sig
    assert sign(data, keys.riley) == sig


# -- tampering -------------------------------------------------------------


@pytest.mark.parametrize("forged", [
    pytest.param(payload("PASS", RILEY, PATCH), id="status FAIL changed to PASS"),
    pytest.param(payload("FAIL", ADA, PATCH), id="judge changed"),
    pytest.param(payload("FAIL", RILEY, OTHER_PATCH), id="signature made for another patch"),
])
def test_a_tampered_payload_fails(keys: Keys, forged: bytes) -> None:
    genuine = payload("FAIL", RILEY, PATCH)
    sig = sign(genuine, keys.riley)
    allowed = keys.line("riley@example.com,ada@example.com", keys.riley).encode()
    assert verify(genuine, sig, "riley@example.com", allowed).ok
    check = verify(forged, sig, "riley@example.com", allowed)
    assert not check.ok
    assert check.reason.startswith(
        "signature does not verify for riley@example.com in namespace agentops-verdict",
    )
    assert_one_line(check.reason)


def test_a_signature_in_another_namespace_fails(keys: Keys) -> None:
    data = payload("PASS", RILEY, PATCH)
    allowed = keys.line("riley@example.com", keys.riley).encode()
    right = one_line_of(sign_directly(keys, keys.riley, data, NAMESPACE))
    assert verify(data, right, "riley@example.com", allowed).ok
    other = one_line_of(sign_directly(keys, keys.riley, data, "other-namespace"))
    check = verify(data, other, "riley@example.com", allowed)
    assert not check.ok
    assert "namespace" in check.reason
    assert_one_line(check.reason)


# -- allowed signers -------------------------------------------------------


def test_a_key_not_in_allowed_signers_fails(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    check = verify(data, sig, "riley@example.com", keys.line("ada@example.com", keys.ada).encode())
    assert check == Check(False, "signature does not verify for riley@example.com in namespace agentops-verdict")


def test_a_key_listed_under_another_principal_fails(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    allowed = (keys.line("riley@example.com", keys.riley) + keys.line("ada@example.com", keys.ada)).encode()
    assert verify(data, sig, "riley@example.com", allowed).ok
    check = verify(data, sig, "ada@example.com", allowed)
    assert not check.ok
    assert "ada@example.com" in check.reason


@pytest.mark.parametrize("principal, ok", [
    ("riley@example.com", True),
    ("anyone@example.com", True),
    ("riley@example.org", False),
    ("riley@example.com.evil.org", False),
])
def test_a_principal_pattern_matches_as_ssh_keygen_says(
    keys: Keys, signed: tuple[bytes, str], principal: str, ok: bool,
) -> None:
    data, sig = signed
    allowed = keys.line("*@example.com", keys.riley).encode()
    check = verify(data, sig, principal, allowed)
    assert check.ok is ok
    if ok:
        assert check.reason == f"verified by {principal}'s key"


@pytest.mark.parametrize("principal", [
    "iley@example.com", "riley@example.co", "riley", "RILEY@example.com", " riley@example.com",
])
def test_the_principal_must_match_exactly(keys: Keys, signed: tuple[bytes, str], principal: str) -> None:
    # ssh-keygen compares principals exactly, case included; no substring or prefix match.
    data, sig = signed
    allowed = keys.line("riley@example.com", keys.riley).encode()
    assert verify(data, sig, "riley@example.com", allowed).ok
    assert not verify(data, sig, principal, allowed).ok


def test_the_allowed_signers_options_are_honoured(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    for options in ('namespaces="git"', 'valid-before="20200101"'):
        check = verify(data, sig, "riley@example.com", keys.line("riley@example.com", keys.riley, options).encode())
        assert not check.ok, options
        assert_one_line(check.reason)
    scoped = keys.line("riley@example.com", keys.riley, f'namespaces="git,{NAMESPACE}"').encode()
    assert verify(data, sig, "riley@example.com", scoped).ok


def test_comments_blank_lines_and_no_final_newline_are_fine(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    allowed = ("# judges\n\n" + keys.line("riley@example.com", keys.riley).rstrip("\n")).encode()
    assert verify(data, sig, "riley@example.com", allowed).ok


@pytest.mark.parametrize("allowed, reason", [
    (None, "no allowed signers file"),
    (b"", "no allowed signers"),
    (b"\n  \n", "no allowed signers"),
    (b"garbage line here\n", "signature does not verify"),
    (b"\0\0\xff\xfe", "signature does not verify"),
    (b"riley@example.com ssh-ed25519 AAAAjunk\n", "signature does not verify"),
])
def test_missing_empty_or_garbage_allowed_signers_fail(
    signed: tuple[bytes, str], allowed: bytes | None, reason: str,
) -> None:
    data, sig = signed
    check = verify(data, sig, "riley@example.com", allowed)
    assert not check.ok
    assert check.reason.startswith(reason)
    assert_one_line(check.reason)


# -- garbage signatures ----------------------------------------------------


def _random_b64(prefix: bytes = b"") -> Callable[[str], str]:
    return lambda _: base64.b64encode(prefix + os.urandom(120)).decode()


@pytest.mark.parametrize("spoil, reason", [
    pytest.param(lambda _: "", "the signature is empty", id="empty"),
    pytest.param(lambda _: "   ", "the signature is empty", id="blank"),
    pytest.param(lambda _: "notbase64!!", "the signature is not valid base64", id="not base64"),
    pytest.param(lambda _: "QUJ", "the signature is not valid base64", id="bad padding"),
    pytest.param(lambda _: "Zo\u00eb", "the signature is not valid base64", id="non-ascii"),
    pytest.param(lambda s: s[:60], "signature does not verify", id="truncated base64"),
    pytest.param(lambda s: s[:-8], "signature does not verify", id="truncated at the end"),
    pytest.param(lambda s: s[:61], "the signature is not valid base64", id="truncated mid-quantum"),
    pytest.param(_random_b64(), "the signature is not an SSH signature", id="random base64"),
    pytest.param(_random_b64(b"SSHSIG"), "signature does not verify", id="random after the magic"),
    pytest.param(lambda s: armor(s).decode(), "the signature holds whitespace", id="armored"),
    pytest.param(lambda s: s[:70] + "\n" + s[70:], "the signature holds whitespace", id="wrapped"),
    pytest.param(lambda s: "-----BEGIN" + s, "the signature is armored", id="dashes"),
])
def test_a_garbage_signature_is_a_failed_check_not_an_exception(
    keys: Keys, signed: tuple[bytes, str], spoil: Callable[[str], str], reason: str,
) -> None:
    data, sig = signed
    allowed = keys.line("riley@example.com", keys.riley).encode()
    assert verify(data, sig, "riley@example.com", allowed).ok
    check = verify(data, spoil(sig), "riley@example.com", allowed)
    assert not check.ok
    assert check.reason.startswith(reason)
    assert_one_line(check.reason)


@pytest.mark.parametrize("principal", ["", "   ", "riley@example.com\n", "riley\0@example.com"])
def test_an_unusable_principal_is_a_failed_check(keys: Keys, signed: tuple[bytes, str], principal: str) -> None:
    data, sig = signed
    check = verify(data, sig, principal, keys.line("*", keys.riley).encode())
    assert not check.ok
    assert_one_line(check.reason)


def test_surrounding_whitespace_on_the_signature_is_ignored(keys: Keys, signed: tuple[bytes, str]) -> None:
    data, sig = signed
    assert verify(data, f" {sig}\n", "riley@example.com", keys.line("riley@example.com", keys.riley).encode()).ok


# -- sign failures ---------------------------------------------------------


def assert_fatal_one_line(key: Path, *words: str) -> str:
    with pytest.raises(FatalError) as info:
        sign(payload("PASS", RILEY, PATCH), key)
    message = str(info.value)
    assert_one_line(message)
    assert str(key) in message
    for word in words:
        assert word in message
    return message


def test_sign_with_a_missing_key_is_fatal(tmp_path: Path) -> None:
    assert_fatal_one_line(tmp_path / "nope", "does not exist")


def test_sign_with_a_garbage_key_file_is_fatal(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("this is not a key\n")
    junk.chmod(0o600)
    assert_fatal_one_line(junk, "ssh-keygen said", "not a key")


def test_sign_with_a_directory_is_fatal(tmp_path: Path) -> None:
    assert_fatal_one_line(tmp_path, "directory")


def test_sign_with_a_passphrase_key_is_fatal_and_does_not_prompt(keys: Keys) -> None:
    message = assert_fatal_one_line(keys.locked, "passphrase", "ssh-agent")
    assert "Enter passphrase" not in message


def test_sign_with_a_passphrase_key_does_not_prompt_on_a_terminal(keys: Keys, tmp_path: Path) -> None:
    """Even with a controlling terminal, ssh-keygen must not ask for the passphrase."""
    master, slave = os.openpty()
    script = (
        "import sys\n"
        "from agentops_hooks.errors import FatalError\n"
        "from agentops_hooks.evidence.signatures import sign\n"
        "try:\n"
        "    sign(b'x', sys.argv[1])\n"
        "except FatalError as e:\n"
        "    print('FATAL', e)\n"
    )

    def take_terminal() -> None:
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    try:
        proc = subprocess.run(
            (sys.executable, "-c", script, str(keys.locked)),
            stdin=slave, capture_output=True, start_new_session=True,
            preexec_fn=take_terminal, timeout=20, check=False,
        )
    finally:
        os.close(slave)
        os.close(master)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.decode().startswith("FATAL cannot sign the verdict with SSH key")
    assert "passphrase" in proc.stdout.decode()


def test_sign_never_runs_an_askpass_program(keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An askpass program in the environment (set by an agent, say) must not unlock a judge's key."""
    askpass = tmp_path / "askpass"
    askpass.write_text("#!/bin/sh\necho secret\n")
    askpass.chmod(0o755)
    monkeypatch.setenv("SSH_ASKPASS", str(askpass))
    monkeypatch.setenv("SSH_ASKPASS_REQUIRE", "force")
    monkeypatch.setenv("DISPLAY", ":0")
    data = payload("PASS", RILEY, PATCH)
    # The environment really would unlock the key for a plain ssh-keygen run:
    direct = subprocess.run(
        ("ssh-keygen", "-Y", "sign", "-f", str(keys.locked), "-n", NAMESPACE),
        input=data, capture_output=True, start_new_session=True, timeout=30, check=False,
    )
    assert direct.returncode == 0, direct.stderr
    with pytest.raises(FatalError, match="passphrase"):
        sign(data, keys.locked)


def test_a_missing_ssh_keygen_is_fatal(
    keys: Keys, signed: tuple[bytes, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    data, sig = signed
    allowed = keys.line("riley@example.com", keys.riley).encode()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(FatalError, match="^ssh-keygen is not installed"):
        sign(data, keys.riley)
    with pytest.raises(FatalError, match="^ssh-keygen is not installed"):
        verify(data, sig, "riley@example.com", allowed)


def test_temporary_files_are_always_removed(
    keys: Keys, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    data = payload("PASS", RILEY, PATCH)
    sig = sign(data, keys.riley)
    with pytest.raises(FatalError):
        sign(data, keys.locked)
    allowed = keys.line("riley@example.com", keys.riley).encode()
    assert verify(data, sig, "riley@example.com", allowed).ok
    assert not verify(data + b"x", sig, "riley@example.com", allowed).ok
    assert not verify(data, sig[:60], "riley@example.com", allowed).ok
    assert list(scratch.iterdir()) == []
