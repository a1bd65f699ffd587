"""The allowed-signers reader (evidence/trust.py), line by line.

ssh-keygen is the oracle: for each options field, a line holding it must be
accepted by our reader exactly when `ssh-keygen -Y verify` accepts a signature
through it. The refusals are checked word for word, since their only job is
to say what is wrong.
"""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from agentops_hooks.evidence import trust
from agentops_hooks.evidence.signing import read_blob
from conftest import signer_line

NAMES = "(cert-authority, namespaces, valid-after, valid-before)"


def key_words(key: Path) -> str:
    """`keytype base64` of the public half of `key`."""
    return signer_line("x", key).split(" ", 1)[1].strip()


def ssh_keygen_reads(options: str, key: Path, tmp_path: Path) -> bool:
    """Does ssh-keygen read a line with these options without a `bad options` complaint,
    when it verifies a signature by `key` through it?"""
    signers = tmp_path / "allowed_signers"
    signers.write_text(f"riley@example.com {options} {key_words(key)}\n")
    msg = tmp_path / "msg"
    msg.write_text("hello\n")
    sig = Path(f"{msg}.sig")
    sig.unlink(missing_ok=True)
    subprocess.run(["ssh-keygen", "-q", "-Y", "sign", "-f", str(key), "-n", "agentops-verdict", str(msg)],
                   check=True, capture_output=True)
    with msg.open("rb") as data:
        done = subprocess.run(["ssh-keygen", "-Y", "verify", "-f", str(signers), "-I", "riley@example.com",
                               "-n", "agentops-verdict", "-s", str(sig)], stdin=data, capture_output=True,
                              text=True)
    return "bad options" not in done.stderr


def we_accept(options: str, key: Path) -> bool:
    try:
        trust.parse_line(f"riley@example.com {options} {key_words(key)}")
    except ValueError:
        return False
    return True


# Each is a field ssh-keygen reads...
ACCEPTED = [
    'namespaces="agentops-verdict"',
    'NAMESPACES="agentops-verdict"',
    'Namespaces="x,agentops-verdict"',
    "cert-authority",
    'cert-authority,namespaces="agentops-verdict"',
    'namespaces="agentops-verdict",valid-after="20200101"',
    'valid-after="202001011230",valid-before="20991231"',
    'valid-after="20200101123045Z"',
    'valid-before="20991231Z",namespaces="agentops-verdict"',
]
# ... and each one it calls bad options
REFUSED = [
    "namespaces",
    'valid-after="2020"',
    "valid-after",
    'valid-before="2099-12-31"',
    "Valid-Before",
    "foo",
    'cert-authority,foo="x"',
    'namespaces="agentops-verdict"x',
    'namespaces="agentops-verdict";cert-authority',
    'namespaces="agentops-verdict",',
    "cert-authority,",
]


@pytest.mark.parametrize("options", ACCEPTED)
def test_an_options_field_ssh_keygen_reads_is_read(options: str, keys: dict[str, Path],
                                                   tmp_path: Path) -> None:
    assert ssh_keygen_reads(options, keys["riley"], tmp_path)
    assert we_accept(options, keys["riley"])


@pytest.mark.parametrize("options", REFUSED)
def test_an_options_field_ssh_keygen_refuses_is_refused(options: str, keys: dict[str, Path],
                                                        tmp_path: Path) -> None:
    assert not ssh_keygen_reads(options, keys["riley"], tmp_path)
    assert not we_accept(options, keys["riley"])


def test_an_empty_namespaces_list_is_refused_though_ssh_keygen_reads_it(keys: dict[str, Path],
                                                                        tmp_path: Path) -> None:
    # ssh-keygen reads it as "no namespace at all": a judge line that verifies nothing
    assert ssh_keygen_reads('namespaces=""', keys["riley"], tmp_path)
    assert not we_accept('namespaces=""', keys["riley"])


@pytest.mark.parametrize(("options", "message"), [
    ("foo", f"'foo' is not an option {NAMES}"),
    ('cert-authority,foo="x",namespaces="a"', f"'foo=\"x\"' is not an option {NAMES}"),
    ('foo,cert-authority,namespaces="a"', f"'foo' is not an option {NAMES}"),
    ("1x,cert-authority", f"'1x' is not an option {NAMES}"),
    ('namespaces="a"x,cert-authority', f"'namespaces=\"a\"x' is not an option {NAMES}"),
    ('namespaces="a";cert-authority', f"'namespaces=\"a\";cert-authority' is not an option {NAMES}"),
    ("namespaces", 'namespaces needs a list, namespaces="agentops-verdict"'),
    ('cert-authority,namespaces=""', 'namespaces needs a list, namespaces="agentops-verdict"'),
    ('valid-after="2020"', 'valid-after needs a time, valid-after="YYYYMMDD[HHMM[SS]][Z]"'),
    ("Valid-Before", 'valid-before needs a time, valid-before="YYYYMMDD[HHMM[SS]][Z]"'),
    ('namespaces="a",', "nothing follows the last ',' of the options"),
])
def test_a_bad_options_field_says_what_is_wrong(options: str, message: str, keys: dict[str, Path]) -> None:
    with pytest.raises(ValueError) as e:
        trust.parse_line(f"riley@example.com {options} {key_words(keys['riley'])}")
    assert str(e.value) == message


def test_a_line_is_read_into_its_parts(keys: dict[str, Path]) -> None:
    words = key_words(keys["riley"])
    signer = trust.parse_line(f'  "Riley@Example.com,ci@example.com"  namespaces="a b",cert-authority\t'
                              f"{words}  riley's key, 2026  ")
    assert signer == trust.Signer("Riley@Example.com,ci@example.com", 'namespaces="a b",cert-authority',
                                  read_blob(words), "riley's key, 2026")
    assert signer.line() == f'Riley@Example.com,ci@example.com namespaces="a b",cert-authority {words} ' \
                            "riley's key, 2026"
    assert trust.parse_line(f'"Xena@example.X" {words}').principals == "Xena@example.X"
    plain = trust.parse_line(f"riley@example.com {words}")
    assert plain == trust.Signer("riley@example.com", "", read_blob(words), "")
    assert plain.line() == f"riley@example.com {words}"


def test_a_line_names_its_principals_written_out_in_any_case(keys: dict[str, Path]) -> None:
    signer = trust.parse_line(f"Riley@Example.com,ci@example.com {key_words(keys['riley'])}")
    assert signer.names("riley@example.com")
    assert signer.names("CI@EXAMPLE.COM")
    assert not signer.names("riley@example.com,ci@example.com")
    assert not signer.names("ci")
    assert not signer.names("other@example.com")
    pattern = trust.parse_line(f"*@example.com {key_words(keys['riley'])}")
    assert not pattern.names("riley@example.com")


@pytest.mark.parametrize("line", ["", "   ", "# a comment", "  # indented comment", "#riley@x ssh-ed25519 AAAA"])
def test_blank_and_comment_lines_are_no_signer(line: str) -> None:
    assert trust.parse_line(line) is None


@pytest.mark.parametrize(("line", "message"), [
    ("riley@example.com", "expected `principals [options] keytype base64`"),
    ("riley@example.com ssh-ed25519", "expected `principals [options] keytype base64`"),
    ('riley@example.com namespaces="a ssh-ed25519 AAAA', "a quote is not closed"),
    ("riley@example.com ssh-ed25519 notbase64!", "'ssh-ed25519 notbase64!' is not an SSH public key"),
    ("riley@example.com ssh-ed25519 " + "A" * 60, f"'ssh-ed25519 {'A' * 28}' is not an SSH public key"),
    ('riley@example.com namespaces="a" ssh-ed25519', "'ssh-ed25519' is not an SSH public key"),
    ("riley@example.com ssh-ed25519 AAAA a comment", "'ssh-ed25519 AAAA' is not an SSH public key"),
])
def test_a_line_that_is_not_a_signer_says_why(line: str, message: str) -> None:
    with pytest.raises(ValueError) as e:
        trust.parse_line(line)
    assert str(e.value) == message


def test_words_keep_quoted_spaces_together() -> None:
    assert trust._tokens('a  "b c"\td ') == ["a", '"b c"', "d"]
    assert trust._tokens('x="1 2",y "z"') == ['x="1 2",y', '"z"']
    assert trust._tokens("") == []
    with pytest.raises(ValueError, match="^a quote is not closed$"):
        trust._tokens('a "b')


def test_a_file_is_read_line_by_line_naming_the_bad_one(keys: dict[str, Path]) -> None:
    riley, agent = key_words(keys["riley"]), key_words(keys["agent"])
    content = f"# judges\n\nriley@example.com {riley}\nci@example.com cert-authority {agent}\n".encode()
    assert [s.principals for s in trust.parse(content, "the file")] == ["riley@example.com", "ci@example.com"]
    with pytest.raises(trust.TrustFileError) as e:
        trust.parse(content + b"oops\n", "the file")
    assert str(e.value) == ("the file line 5 is not an allowed-signers line: "
                            "expected `principals [options] keytype base64`")
    with pytest.raises(trust.TrustFileError) as e:
        trust.parse(b"riley@example.com \xff\n", "the file")
    assert str(e.value) == "the file is not UTF-8 text, so not an allowed-signers file"
    assert trust.parse(b"", "the file") == []


@pytest.mark.parametrize(("args", "options"), [
    ((("agentops-verdict",), None, None), 'namespaces="agentops-verdict"'),
    ((("a", "b"), "20200101", "20991231"), 'namespaces="a,b",valid-after="20200101",valid-before="20991231"'),
    (((), None, "20991231Z"), 'valid-before="20991231Z"'),
    (((), "20200101", None), 'valid-after="20200101"'),
    (((), None, None), ""),
])
def test_options_for_a_new_line_hold_only_what_was_given(args: tuple, options: str) -> None:
    assert trust.options_for(*args) == options


def test_options_for_a_new_line_refuse_a_bad_time() -> None:
    with pytest.raises(ValueError) as e:
        trust.options_for((), "tomorrow", None)
    assert str(e.value) == 'valid-after needs a time, valid-after="YYYYMMDD[HHMM[SS]][Z]"'


def test_a_trust_root_outside_the_repository(keys: dict[str, Path], tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    line = f"riley@example.com {key_words(keys['riley'])}\n"
    (tmp_path / "signers").write_text(line)
    assert trust.read_outside("~/signers", "trust root") == (line.encode(), "trust root ~/signers")
    (tmp_path / "empty").write_text("# nobody yet\n")
    with pytest.raises(trust.TrustFileError) as e:
        trust.read_outside(str(tmp_path / "empty"), "trust root")
    assert str(e.value) == f"trust root {tmp_path / 'empty'} lists no judge: no verdict could ever count"
    (tmp_path / "bad").write_text(line + "oops\n")
    with pytest.raises(trust.TrustFileError) as e:
        trust.read_outside("~/bad", "trust root")
    assert str(e.value) == ("trust root ~/bad line 2 is not an allowed-signers line: "
                            "expected `principals [options] keytype base64`")
    with pytest.raises(trust.TrustFileError) as e:
        trust.read_outside("~/missing", "trust root")
    assert str(e.value) == "cannot read trust root ~/missing: No such file or directory"
