"""Verdict signatures called directly: real ed25519 keys and the real ssh-keygen,
plus small stand-in programs (a judge's ``gpg.ssh.program``, or an ssh-keygen
first on PATH) where the exact words and exit codes of a failure must be chosen."""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from agentops_hooks.authorship import Identity
from agentops_hooks.errors import FatalError
from agentops_hooks.evidence import signatures
from agentops_hooks.evidence.signatures import Check
from agentops_hooks.evidence.signatures import armor
from agentops_hooks.evidence.signatures import payload
from agentops_hooks.evidence.signatures import sign
from agentops_hooks.evidence.signatures import verify

RILEY = Identity("Riley Reviewer", "riley@example.com")
PATCH = "0123456789abcdef0123456789abcdef01234567"
EMAIL = "riley@example.com"
FAILED = "signature does not verify for riley@example.com in namespace agentops-verdict"
DATA = payload("PASS", RILEY, PATCH)


@pytest.fixture(autouse=True)
def no_agent(monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's ssh-agent must not make a locked key usable or slow a test down."""
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)


@pytest.fixture(scope="module")
def sshkeys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """ed25519 keys: riley and ada without a passphrase, locked with one."""
    root = tmp_path_factory.mktemp("sshkeys")
    for name, passphrase in (("riley", ""), ("ada", ""), ("locked", "secret")):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", passphrase, "-C", name,
                        "-f", str(root / name)], check=True, stdin=subprocess.DEVNULL, timeout=30)
    return {name: root / name for name in ("riley", "ada", "locked")}


def public(key: Path) -> str:
    kind, blob = Path(f"{key}.pub").read_text().split()[:2]
    return f"{kind} {blob}"


def signers(principals: str, key: Path, options: str = "") -> bytes:
    opts = f" {options}" if options else ""
    return f"{principals}{opts} {public(key)}\n".encode()


@pytest.fixture(scope="module")
def sig(sshkeys: dict[str, Path]) -> str:
    """Riley's one-line signature over DATA."""
    return sign(DATA, sshkeys["riley"])


# -- stand-in programs -----------------------------------------------------------

FAKE = """\
import json, os, sys
log = os.environ["FAKE_LOG"]
record = {
    "argv": sys.argv[1:],
    "askpass": os.environ.get("SSH_ASKPASS_REQUIRE"),
    "marker": os.environ.get("FAKE_MARKER"),
    "session_leader": os.getsid(0) == os.getpid(),
    "stdin": sys.stdin.buffer.read().decode("latin-1") if sys.stdin is not None else None,
    "stdin_is_devnull": os.path.samestat(os.fstat(0), os.stat(os.devnull)),
    "files": {},
}
for arg in sys.argv[1:]:
    if os.path.isfile(arg):
        record["files"][os.path.basename(arg)] = open(arg, "rb").read().decode("latin-1")
with open(log, "w") as f:
    json.dump(record, f)
behave = json.loads(os.environ.get("FAKE_BEHAVE", "{}"))
if "sig" in behave:
    with open(sys.argv[-1] + ".sig", "wb") as f:
        f.write(behave["sig"].encode("latin-1"))
if "stdout" in behave:
    sys.stdout.buffer.write(behave["stdout"].encode("utf-8", "surrogateescape"))
err = behave.get("stderr", "")
for name in ("allowed_signers", "verdict.sig"):
    for arg in sys.argv[1:]:
        if os.path.basename(arg) == name:
            err = err.replace("{" + name + "}", arg)
sys.stderr.buffer.write(err.encode("latin-1"))
if behave.get("sleep"):
    import time
    time.sleep(behave["sleep"])
sys.exit(behave.get("exit", 0))
"""


class Fake:
    """An ssh-keygen stand-in that records how it was run and does as told."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.bin = tmp_path / "fakebin"
        self.bin.mkdir()
        self.program = self.bin / "ssh-keygen"
        self.program.write_text(f"#!{sys.executable}\n{FAKE}")
        self.program.chmod(0o755)
        self.log = tmp_path / "fake.json"
        self.monkeypatch = monkeypatch
        monkeypatch.setenv("FAKE_LOG", str(self.log))

    def behave(self, **how: object) -> None:
        self.monkeypatch.setenv("FAKE_BEHAVE", json.dumps(how))

    def on_path(self) -> None:
        self.monkeypatch.setenv("PATH", f"{self.bin}{os.pathsep}{os.environ['PATH']}")

    def record(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.log.read_text())


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fake:
    return Fake(tmp_path, monkeypatch)


ARMORED = armor("U1NIU0lHAAAA")


def fatal(call: object, *args: object, **kwargs: object) -> str:
    with pytest.raises(FatalError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return str(info.value)


# -- payload ---------------------------------------------------------------------


def test_payload_with_more_fields_in_order() -> None:
    assert payload("FAIL", RILEY, PATCH, [("range", "a..b"), ("session", "s-1"), ("evidence", "")]) == (
        b"agentops-verdict v1\nstatus=FAIL\njudge=Riley Reviewer <riley@example.com>\n"
        b"patch=" + PATCH.encode() + b"\nrange=a..b\nsession=s-1\nevidence=\n"
    )


def test_payload_is_utf8() -> None:
    assert payload("PASS", Identity("Zoë", "z@x"), "p") == (
        "agentops-verdict v1\nstatus=PASS\njudge=Zoë <z@x>\npatch=p\n".encode()
    )


@pytest.mark.parametrize("status, judge, patch, more, message", [
    ("PASS\nx", RILEY, PATCH, (), "the verdict's status holds a line break: 'PASS\\nx'"),
    ("PASS", Identity("R\rX", "r@x"), PATCH, (), "the verdict's judge holds a line break: 'R\\rX <r@x>'"),
    ("PASS", RILEY, "\n", (), "the verdict's patch holds a line break: '\\n'"),
    ("PASS", RILEY, PATCH, (("range", "a"), ("session", "b\r")),
     "the verdict's session holds a line break: 'b\\r'"),
])
def test_payload_refuses_a_line_break_word_for_word(
    status: str, judge: Identity, patch: str, more: tuple[tuple[str, str], ...], message: str,
) -> None:
    with pytest.raises(ValueError) as info:
        payload(status, judge, patch, more)
    assert str(info.value) == message


# -- armor and unarmor -----------------------------------------------------------


@pytest.mark.parametrize("one_line, text", [
    ("", "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n"),
    ("A" * 70, "-----BEGIN SSH SIGNATURE-----\n" + "A" * 70 + "\n-----END SSH SIGNATURE-----\n"),
    ("A" * 71, "-----BEGIN SSH SIGNATURE-----\n" + "A" * 70 + "\nA\n-----END SSH SIGNATURE-----\n"),
    (" AB\nCD\t", "-----BEGIN SSH SIGNATURE-----\nABCD\n-----END SSH SIGNATURE-----\n"),
    ("Zoë", "-----BEGIN SSH SIGNATURE-----\nZo?\n-----END SSH SIGNATURE-----\n"),
])
def test_armor(one_line: str, text: str) -> None:
    assert armor(one_line) == text.encode("ascii")


@pytest.mark.parametrize("text, body", [
    ("-----BEGIN SSH SIGNATURE-----\nAB\nCD\n-----END SSH SIGNATURE-----\n", "ABCD"),
    ("noise\n  -----BEGIN SSH SIGNATURE-----  \n AB \n-----END SSH SIGNATURE-----\nmore\n", "AB"),
    ("-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n", None),
    ("-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\nX\n-----END SSH SIGNATURE-----\n", None),
    ("-----BEGIN SSH SIGNATURE-----\nAB\n", None),
    ("AB\n-----END SSH SIGNATURE-----\n", None),
    ("-----END SSH SIGNATURE-----\n-----BEGIN SSH SIGNATURE-----\nAB\n", None),
    ("-----END SSH SIGNATURE-----\n-----BEGIN SSH SIGNATURE-----\nAB\n-----END SSH SIGNATURE-----\n", "AB"),
    ("", None),
])
def test_unarmor(text: str, body: str | None) -> None:
    assert signatures._unarmor(text) == body


# -- what ssh-keygen said --------------------------------------------------------


@pytest.mark.parametrize("stderr, said", [
    (b"", ""),
    (b"Load key \"k\": invalid format.\n", 'Load key "k": invalid format'),
    (b"one.\n\n  two  \nthree..\n", "one; two; three"),
    (b"Enter passphrase: Load key \"l\": incorrect passphrase\n", 'Load key "l": incorrect passphrase'),
    (b"Enter passphrase for l:   bad\n", "bad"),
    (b"Enter passphrase (empty for no passphrase):\n", ""),
    (b"  Enter passphrase: x\n", "x"),
    (b"say Enter passphrase: x\n", "say Enter passphrase: x"),
    (b"Enter passphrase x\n", "Enter passphrase x"),
    (b"@@@@@@@\n@ WARNING: UNPROTECTED PRIVATE KEY FILE! @\n@@@@\nreal\n", "real"),
    (b"a@b\n", "a@b"),
    (b"bad \xff byte\n", "bad \ufffd byte"),
    (b"x\r\ny\r\n", "x; y"),
    (b"FIX.\nXX\n", "FIX; XX"),
])
def test_said(stderr: bytes, said: str) -> None:
    assert signatures._said(stderr) == said


def test_said_drops_the_lines_given_exactly() -> None:
    stderr = b"Could not verify signature.\nCould not verify signature twice.\nother\n"
    assert signatures._said(stderr, drop=("Could not verify signature.",)) == (
        "Could not verify signature twice; other"
    )
    assert signatures._said(stderr) == "Could not verify signature; Could not verify signature twice; other"


# -- how ssh-keygen is run -------------------------------------------------------


def test_the_environment_keeps_everything_and_forbids_askpass(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_ASKPASS_REQUIRE", "force")
    monkeypatch.setenv("FAKE_MARKER", "kept")
    env = signatures._environment()
    assert env == {**os.environ, "SSH_ASKPASS_REQUIRE": "never"}
    assert os.environ["SSH_ASKPASS_REQUIRE"] == "force"


def test_sign_runs_the_program_given_without_a_terminal(fake: Fake, sshkeys: dict[str, Path],
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_MARKER", "kept")
    monkeypatch.setenv("SSH_ASKPASS_REQUIRE", "force")
    fake.behave(sig=ARMORED.decode())
    assert sign(DATA, sshkeys["riley"], program=str(fake.program)) == "U1NIU0lHAAAA"
    record = fake.record()
    argv = record["argv"]
    assert argv[:-1] == ["-Y", "sign", "-f", str(sshkeys["riley"]), "-n", "agentops-verdict"]
    assert Path(argv[-1]).name == "payload"
    assert Path(argv[-1]).parent.name.startswith("agentops-sign-")
    assert record["files"]["payload"] == DATA.decode("latin-1")
    assert record["askpass"] == "never"
    assert record["marker"] == "kept"
    assert record["session_leader"] is True
    assert record["stdin"] == ""
    assert record["stdin_is_devnull"] is True


def test_sign_through_the_agent_names_the_public_key(fake: Fake, sshkeys: dict[str, Path]) -> None:
    fake.behave(sig=ARMORED.decode())
    agent_key = public(sshkeys["riley"])
    assert sign(DATA, "key::" + agent_key, program=str(fake.program), agent_key=agent_key) == "U1NIU0lHAAAA"
    argv = fake.record()["argv"]
    assert argv[:4] == ["-Y", "sign", "-U", "-f"]
    assert Path(argv[4]).name == "key.pub"
    assert argv[5:7] == ["-n", "agentops-verdict"]
    assert Path(argv[7]).name == "payload"
    assert Path(argv[4]).parent == Path(argv[7]).parent
    assert fake.record()["files"] == {"key.pub": agent_key + "\n", "payload": DATA.decode("latin-1")}


def test_sign_writes_a_non_ascii_agent_key_with_replacements(fake: Fake) -> None:
    fake.behave(sig=ARMORED.decode())
    assert sign(DATA, "", program=str(fake.program), agent_key="ssh-ed25519 Zoë") == "U1NIU0lHAAAA"
    assert fake.record()["files"]["key.pub"] == "ssh-ed25519 Zo?\n"


def test_sign_reads_a_non_ascii_signature_with_replacements(fake: Fake, sshkeys: dict[str, Path]) -> None:
    fake.behave(sig="-----BEGIN SSH SIGNATURE-----\nA\xe9B\n-----END SSH SIGNATURE-----\n")
    assert sign(DATA, sshkeys["riley"], program=str(fake.program)) == "A\ufffdB"


def test_sign_reads_the_signature_as_ascii_not_utf8(fake: Fake, sshkeys: dict[str, Path]) -> None:
    fake.behave(sig="-----BEGIN SSH SIGNATURE-----\nA" + "é".encode().decode("latin-1") + "B\n"
                    "-----END SSH SIGNATURE-----\n")
    assert sign(DATA, sshkeys["riley"], program=str(fake.program)) == "A\ufffd\ufffdB"


def test_sign_never_hands_the_callers_stdin_to_ssh_keygen(fake: Fake, sshkeys: dict[str, Path]) -> None:
    """A hook's stdin (refs, say) must not reach ssh-keygen, where a passphrase prompt would read it."""
    fake.behave(sig=ARMORED.decode())
    saved = os.dup(0)
    read, write = os.pipe()
    os.write(write, b"secret\n")
    os.close(write)
    os.dup2(read, 0)
    os.close(read)
    try:
        assert sign(DATA, sshkeys["riley"], program=str(fake.program)) == "U1NIU0lHAAAA"
    finally:
        os.dup2(saved, 0)
        os.close(saved)
    record = fake.record()
    assert record["stdin"] == ""
    assert record["stdin_is_devnull"] is True


def test_sign_gives_ssh_keygen_thirty_seconds(fake: Fake, sshkeys: dict[str, Path],
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict] = []  # type: ignore[type-arg]
    real = subprocess.run

    def spy(*args: object, **kwargs: object) -> object:
        seen.append(dict(kwargs))
        return real(*args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(subprocess, "run", spy)
    fake.behave(sig=ARMORED.decode())
    sign(DATA, sshkeys["riley"], program=str(fake.program))
    assert [kwargs["timeout"] for kwargs in seen] == [30]


def test_a_slow_program_times_out(fake: Fake, sshkeys: dict[str, Path], monkeypatch: pytest.MonkeyPatch,
                                  sig: str) -> None:
    monkeypatch.setattr(signatures, "_TIMEOUT", 0.5)
    fake.behave(sleep=10)
    key = sshkeys["riley"]
    assert fatal(sign, DATA, key, program=str(fake.program)) == (
        f"cannot sign the verdict with SSH key {key}: ssh-keygen did not finish in 0.5s"
    )
    fake.on_path()
    assert verify(DATA, sig, EMAIL, signers(EMAIL, key)) == Check(
        False, f"{FAILED}: ssh-keygen did not finish in 0.5s",
    )


def test_a_missing_program_is_fatal(tmp_path: Path, sshkeys: dict[str, Path]) -> None:
    missing = str(tmp_path / "no" / "ssh-keygen")
    assert fatal(sign, DATA, sshkeys["riley"], program=missing) == (
        f"{missing} is not installed (needed for verdict signatures)"
    )


def test_a_missing_ssh_keygen_is_fatal_for_verify(sig: str, sshkeys: dict[str, Path], tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    assert fatal(verify, DATA, sig, EMAIL, signers(EMAIL, sshkeys["riley"])) == (
        "ssh-keygen is not installed (needed for verdict signatures)"
    )


def test_a_program_that_cannot_be_run_is_fatal(tmp_path: Path, sshkeys: dict[str, Path]) -> None:
    program = tmp_path / "ssh-keygen"
    program.write_text("#!/bin/sh\n")
    program.chmod(0o644)
    assert fatal(sign, DATA, sshkeys["riley"], program=str(program)) == (
        "cannot run ssh-keygen: Permission denied"
    )


def test_no_temporary_directory_is_fatal_for_sign_and_a_failed_check_for_verify(
    tmp_path: Path, sshkeys: dict[str, Path], sig: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    key = sshkeys["riley"]
    assert fatal(sign, DATA, key) == f"cannot sign the verdict with SSH key {key}: No such file or directory"
    assert verify(DATA, sig, EMAIL, signers(EMAIL, key)) == Check(
        False, f"{FAILED}: cannot prepare the check (No such file or directory)",
    )


# -- sign: real keys -------------------------------------------------------------


def test_sign_makes_what_ssh_keygen_makes(sshkeys: dict[str, Path], sig: str) -> None:
    direct = subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(sshkeys["riley"]), "-n", "agentops-verdict"],
                            input=DATA, capture_output=True, check=True, timeout=30).stdout
    assert armor(sig) == direct
    assert base64.b64decode(sig).startswith(b"SSHSIG")


def test_sign_refuses_what_is_not_a_key_file(tmp_path: Path) -> None:
    assert fatal(sign, DATA, "") == "cannot sign the verdict: no SSH key path given"
    assert fatal(sign, DATA, tmp_path / "nope") == (
        f"cannot sign the verdict: SSH key {tmp_path / 'nope'} does not exist"
    )
    assert fatal(sign, DATA, tmp_path) == f"cannot sign the verdict: SSH key {tmp_path} is a directory"


def test_sign_with_a_garbage_key_says_it_is_not_a_key(tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("this is not a key\n")
    junk.chmod(0o600)
    assert fatal(sign, DATA, junk) == (
        f"cannot sign the verdict with SSH key {junk}: ssh-keygen said: "
        f"Couldn't load public key {junk}: No such file or directory (the file is not a key ssh-keygen can read)"
    )


def test_sign_with_a_locked_key_says_to_use_the_agent(sshkeys: dict[str, Path]) -> None:
    key = sshkeys["locked"]
    assert fatal(sign, DATA, key) == (
        f'cannot sign the verdict with SSH key {key}: ssh-keygen said: Load key "{key}": '
        "incorrect passphrase supplied to decrypt private key (a key with a passphrase must be loaded into ssh-agent)"
    )


def test_sign_through_a_missing_agent_says_to_load_the_key(sshkeys: dict[str, Path]) -> None:
    assert fatal(sign, DATA, "key::x", agent_key=public(sshkeys["riley"])) == (
        "cannot sign the verdict with SSH key key::x: ssh-keygen said: Couldn't get agent socket"
        " (the key must be loaded into ssh-agent: ssh-add)"
    )


# -- sign: the program's failures word for word -----------------------------------


@pytest.mark.parametrize("agent, stderr, code, said", [
    (False, "", 3, "exit status 3"),
    (False, "boom.\n", 1, "boom"),
    (False, "agent went away\n", 1, "agent went away"),
    (False, "No such file or directory\n", 255, "No such file or directory (the file is not a key ssh-keygen can read)"),
    (False, "No such file\n", 255, "No such file"),
    (False, "bad passphrase\n", 255, "bad passphrase (a key with a passphrase must be loaded into ssh-agent)"),
    (False, "PASSPHRASE\n", 255, "PASSPHRASE"),
    (True, "boom\n", 1, "boom"),
    (True, "", 2, "exit status 2"),
    (True, "no agent\n", 1, "no agent (the key must be loaded into ssh-agent: ssh-add)"),
    (True, "x: No such file\n", 1, "x: No such file (the key must be loaded into ssh-agent: ssh-add)"),
    (True, "bad passphrase\n", 1, "bad passphrase (a key with a passphrase must be loaded into ssh-agent)"),
    (True, "agent: No such file or directory; passphrase\n", 1,
     "agent: No such file or directory; passphrase (the key must be loaded into ssh-agent: ssh-add)"),
    (False, "No such file or directory passphrase\n", 1,
     "No such file or directory passphrase (the file is not a key ssh-keygen can read)"),
])
def test_sign_reports_what_the_program_said(
    fake: Fake, sshkeys: dict[str, Path], agent: bool, stderr: str, code: int, said: str,
) -> None:
    fake.behave(stderr=stderr, exit=code, sig=ARMORED.decode())
    key = sshkeys["riley"]
    agent_key = public(key) if agent else None
    assert fatal(sign, DATA, key, program=str(fake.program), agent_key=agent_key) == (
        f"cannot sign the verdict with SSH key {key}: ssh-keygen said: {said}"
    )


def test_sign_hint_for_a_file_needs_a_regular_file(fake: Fake) -> None:
    fake.behave(stderr="No such file or directory\n", exit=255)
    assert fatal(sign, DATA, os.devnull, program=str(fake.program)) == (
        f"cannot sign the verdict with SSH key {os.devnull}: ssh-keygen said: No such file or directory"
    )


def test_sign_with_the_agent_needs_no_key_file(fake: Fake, tmp_path: Path) -> None:
    fake.behave(sig=ARMORED.decode())
    assert sign(DATA, tmp_path / "nope", program=str(fake.program), agent_key="ssh-ed25519 AAAA") == "U1NIU0lHAAAA"
    assert sign(DATA, tmp_path, program=str(fake.program), agent_key="ssh-ed25519 AAAA") == "U1NIU0lHAAAA"


@pytest.mark.parametrize("written", [
    None,
    "",
    "-----BEGIN SSH SIGNATURE-----\n-----END SSH SIGNATURE-----\n",
    "U1NIU0lH\n",
])
def test_sign_without_a_signature_written_is_fatal(fake: Fake, sshkeys: dict[str, Path], written: str | None) -> None:
    fake.behave(**({} if written is None else {"sig": written}))
    key = sshkeys["riley"]
    assert fatal(sign, DATA, key, program=str(fake.program)) == (
        f"cannot sign the verdict with SSH key {key}: ssh-keygen wrote no signature"
    )


def test_sign_leaves_no_temporary_files(sshkeys: dict[str, Path], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    sign(DATA, sshkeys["riley"])
    with pytest.raises(FatalError):
        sign(DATA, sshkeys["locked"])
    assert list(scratch.iterdir()) == []


# -- verify: real keys -----------------------------------------------------------


def test_verify_accepts_the_signers_key(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA, sig, EMAIL, signers(EMAIL, sshkeys["riley"])) == Check(True, "verified by riley@example.com's key")
    assert verify(DATA, f"\t{sig} \n", EMAIL, signers(EMAIL, sshkeys["riley"])).ok


def test_verify_accepts_a_pattern(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA, sig, "ada@example.com", signers("*@example.com", sshkeys["riley"])) == Check(
        True, "verified by ada@example.com's key",
    )


def test_verify_refuses_another_key(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA, sig, EMAIL, signers(EMAIL, sshkeys["ada"])) == Check(False, FAILED)


def test_verify_refuses_another_principal(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA, sig, "ada@example.com", signers(EMAIL, sshkeys["riley"])) == Check(
        False, "signature does not verify for ada@example.com in namespace agentops-verdict",
    )


def test_verify_refuses_a_tampered_payload(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA + b"x", sig, EMAIL, signers(EMAIL, sshkeys["riley"])) == Check(
        False, f"{FAILED} (ssh-keygen: Signature verification failed: incorrect signature)",
    )


def test_verify_refuses_another_namespace_naming_the_file(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA, sig, EMAIL, signers(EMAIL, sshkeys["riley"], 'namespaces="git"')) == Check(
        False, f'{FAILED} (ssh-keygen: allowed_signers:1: key is not permitted for use in signature namespace '
        '"agentops-verdict")',
    )


def test_verify_refuses_a_signature_made_in_another_namespace(sshkeys: dict[str, Path]) -> None:
    armored = subprocess.run(["ssh-keygen", "-Y", "sign", "-f", str(sshkeys["riley"]), "-n", "git"],
                             input=DATA, capture_output=True, check=True, timeout=30).stdout
    one_line = "".join(armored.decode().splitlines()[1:-1])
    assert verify(DATA, one_line, EMAIL, signers(EMAIL, sshkeys["riley"])) == Check(
        False, f"{FAILED} (ssh-keygen: Couldn't verify signature: namespace does not match)",
    )


def test_verify_refuses_a_truncated_signature(sshkeys: dict[str, Path], sig: str) -> None:
    assert verify(DATA, sig[:-8], EMAIL, signers(EMAIL, sshkeys["riley"])) == Check(
        False, f"{FAILED} (ssh-keygen: sshsig_peek_hashalg: parse signature object: incomplete message)",
    )


def test_verify_with_garbage_signers(sig: str) -> None:
    assert verify(DATA, sig, EMAIL, b"garbage\n") == Check(False, FAILED)


@pytest.mark.parametrize("allowed, reason", [
    (None, "no allowed signers file"),
    (b"", "no allowed signers: the allowed signers file is empty"),
    (b" \n\t\n", "no allowed signers: the allowed signers file is empty"),
])
def test_verify_without_signers(sig: str, allowed: bytes | None, reason: str) -> None:
    assert verify(DATA, sig, EMAIL, allowed) == Check(False, reason)


@pytest.mark.parametrize("principal, reason", [
    ("", "no principal (judge email) to verify the signature for"),
    ("  ", "no principal (judge email) to verify the signature for"),
    ("\n", "no principal (judge email) to verify the signature for"),
    ("riley\0@example.com", "principal 'riley\\x00@example.com' is not a usable email"),
    (" riley@example.com", "principal ' riley@example.com' is not a usable email"),
    ("riley@example.com\n", "principal 'riley@example.com\\n' is not a usable email"),
    ("riley\n@example.com", "principal 'riley\\n@example.com' is not a usable email"),
])
def test_verify_refuses_an_unusable_principal(sshkeys: dict[str, Path], sig: str, principal: str,
                                              reason: str) -> None:
    assert verify(DATA, sig, principal, signers("*", sshkeys["riley"])) == Check(False, reason)


def test_verify_a_principal_that_is_not_utf8_does_not_raise(tmp_path: Path, sshkeys: dict[str, Path],
                                                            sig: str) -> None:
    principal = os.fsdecode(b"r\xffy@example.com")
    allowed = b"r\xffy@example.com " + public(sshkeys["riley"]).encode() + b"\n"
    check = verify(DATA, sig, principal, allowed)
    assert check == Check(False, f"signature does not verify for {principal} in namespace agentops-verdict")


@pytest.mark.parametrize("signature, reason", [
    ("", "the signature is empty"),
    (" \n", "the signature is empty"),
    ("U1NI U0lH", "the signature holds whitespace (it must be one base64 line)"),
    ("U1NI\tU0lH", "the signature holds whitespace (it must be one base64 line)"),
    ("-----U1NIU0lH", "the signature is armored; expected the one-line base64 body"),
    ("U1NIU0lH!", "the signature is not valid base64"),
    ("U1NIU0l", "the signature is not valid base64"),
    ("Zoë", "the signature is not valid base64"),
    ("\udcff", "the signature is not valid base64"),
    (base64.b64encode(b"XSSHSIG").decode(), "the signature is not an SSH signature"),
    (base64.b64encode(b"SSHSI").decode(), "the signature is not an SSH signature"),
])
def test_verify_refuses_what_is_not_a_signature(sshkeys: dict[str, Path], signature: str, reason: str) -> None:
    assert verify(DATA, signature, EMAIL, signers(EMAIL, sshkeys["riley"])) == Check(False, reason)


def test_a_bare_magic_is_shaped_like_a_signature() -> None:
    assert signatures._signature_problem("U1NIU0lH") is None
    assert signatures._signature_problem(" U1NIU0lH\n") is None


# -- verify: how ssh-keygen is asked and what it said ------------------------------


def test_verify_asks_ssh_keygen_with_the_files_and_the_payload_on_stdin(
    fake: Fake, sig: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake.on_path()
    monkeypatch.setenv("SSH_ASKPASS_REQUIRE", "force")
    fake.behave(exit=1)
    assert verify(DATA, f" {sig}\n", EMAIL, b"the signers\n") == Check(False, FAILED)
    record = fake.record()
    argv = record["argv"]
    assert [argv[0], argv[1], argv[2], argv[4], argv[5], argv[6], argv[7], argv[8]] == [
        "-Y", "verify", "-f", "-I", EMAIL, "-n", "agentops-verdict", "-s",
    ]
    assert len(argv) == 10
    assert Path(argv[3]).name == "allowed_signers" and Path(argv[9]).name == "verdict.sig"
    assert Path(argv[3]).parent == Path(argv[9]).parent
    assert Path(argv[3]).parent.name.startswith("agentops-verify-")
    assert record["files"] == {"allowed_signers": "the signers\n", "verdict.sig": armor(sig).decode()}
    assert record["stdin"] == DATA.decode("latin-1")
    assert record["askpass"] == "never"
    assert record["session_leader"] is True


def test_verify_names_its_files_by_role(fake: Fake, sig: str) -> None:
    fake.on_path()
    fake.behave(exit=255, stderr="{allowed_signers}:3: bad line.\nCould not verify signature.\n"
                                 "{verdict.sig}: broken\n\xff\n")
    assert verify(DATA, sig, EMAIL, b"x\n") == Check(
        False, f"{FAILED} (ssh-keygen: allowed_signers:3: bad line; signature: broken; \ufffd)",
    )


def test_verify_with_the_good_line_and_a_failure_code_fails(fake: Fake, sig: str) -> None:
    fake.on_path()
    fake.behave(exit=1, stdout=f'Good "agentops-verdict" signature for {EMAIL} with ED25519 key SHA256:x\n')
    assert verify(DATA, sig, EMAIL, b"x\n") == Check(False, FAILED)


def test_verify_with_the_good_line_and_success_passes(fake: Fake, sig: str) -> None:
    fake.on_path()
    fake.behave(exit=0, stdout=f'Good "agentops-verdict" signature for {EMAIL} with ED25519 key SHA256:x\n'
                               "\udcff\n")
    assert verify(DATA, sig, EMAIL, b"x\n") == Check(True, "verified by riley@example.com's key")


def test_verify_leaves_no_temporary_files(sshkeys: dict[str, Path], sig: str, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert verify(DATA, sig, EMAIL, signers(EMAIL, sshkeys["riley"])).ok
    assert not verify(DATA + b"x", sig, EMAIL, signers(EMAIL, sshkeys["riley"])).ok
    assert list(scratch.iterdir()) == []
