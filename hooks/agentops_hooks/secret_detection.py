"""What a secret looks like in one added line: gate IV's detectors (docs/secrets.md).

Two families. Known formats (private keys, AWS, GitHub, Slack, OpenAI and
Anthropic keys) are matched by their prefixes. Anything else is only found
as a value assigned to a name that says it holds a secret (`api_key`,
`DB_PASSWORD`, `clientSecret`), when the value looks random: long, mixed
letters and digits, high entropy, not words, not a sequence, not a reference.
Every rule was measured on real histories: docs/secrets.md has the counts.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache
from itertools import pairwise

MIN_SECRET_LENGTH = 20
"""A value assigned to a secret-sounding name must be at least this long..."""
MIN_ENTROPY = 3.5
"""...and have at least this Shannon entropy, in bits per character."""
MAX_NAME_HEAD = 60
"""How far before its secret word a name is read back (`PRODUCTION_DATABASE_` of `…_PASSWORD`)."""
MAX_WORD_RUN = 3.0
MIN_WORDS_SHARE = 0.5
"""A value reads as words and numbers (`test-token-123`, `Summer2024Secure`), not
as random, when its letters and digits come in runs of MAX_WORD_RUN on average
and at least MIN_WORDS_SHARE of them are in words one could say (three or more
letters, a vowel, never four consonants in a row). Random text seldom does
both: 0.2 % of 20 random letters and digits, 0.02 % of 40 (docs/secrets.md)."""
MIN_SEQUENCE = 6
"""A run of this many consecutive letters or digits (`123456`, `abcdef`,
`1a2b3c4d5e6f`) marks a made-up value: random text almost never holds one."""

# A line worth a closer look holds one of these (lower-cased); most lines hold none.
SECRET_HINTS = ("key", "secret", "token", "passw", "pwd", "akia", "asia", "ghp_", "gho_", "ghu_",
                "ghs_", "ghr_", "github_pat_", "xox", "hooks.slack", "sk-")

# The words of a name that say it holds a secret (`DB_PASSWORD`, `clientSecret`).
_SECRET_WORDS = frozenset(("secret", "secrets", "token", "password", "passwd", "pwd", "passphrase",
                           "apikey", "privatekey", "secretkey", "accesskey", "authkey"))
# `key` alone names a lookup (`key="row-1"`, a dict key); after one of these it names
# a lookup too (`i18nKey`, `cacheKey`, `publicKey`); after any other word, a credential.
_LOOKUP_KEY_WORDS = frozenset((
    "i18n", "l10n", "translation", "locale", "lang", "label", "message", "msg", "text", "title",
    "cache", "storage", "store", "state", "query", "sort", "order", "group", "index", "lookup",
    "map", "dict", "hash", "object", "item", "row", "column", "field", "attr", "prop", "route",
    "menu", "tab", "nav", "form", "input", "event", "element", "component", "list", "entry",
    "primary", "foreign", "unique", "partition", "shard", "composite", "idempotency", "dedup",
    "hot", "short", "shortcut", "keyboard", "socket", "local", "config", "setting", "settings",
    "option", "public", "pub", "publishable", "react", "child", "parent", "node", "tree", "data",
    "test",
))
# Before a lone `key`, the word that makes it a credential in prose ("my api key: …").
_KEY_QUALIFIERS = frozenset(("api", "access", "secret", "private", "auth", "client", "license",
                             "licence", "signing", "encryption", "master", "service", "account"))
# The last word of a name that holds a reference to a secret, not the secret (token_url, key_file...).
_REFERENCE_WORDS = frozenset(("url", "uri", "path", "file", "dir", "name", "id", "ids", "type", "env",
                              "var", "field", "header", "prefix", "length", "len", "size", "count",
                              "limit", "hint", "label", "placeholder", "help", "ref"))
_PLACEHOLDER_WORDS = ("example", "placeholder", "changeme", "change_me", "change-me", "your_",
                      "your-", "yourkey", "redacted", "dummy", "fake", "sample", "xxxx", "****",
                      "...", "<", "${", "{{", "%(", "deadbeef")
# What may stand between a private key's header and its body: whitespace, quotes, joins.
_KEY_PADDING = " \t\r\n\f\v\"'`,;+"
# Keys their vendors publish in client code by design: PostHog project keys, Stripe publishable keys.
_PUBLIC_PREFIXES = ("phc_", "pk_live_", "pk_test_")


class _Patterns:
    """The secret detectors, compiled on first use: most changes hold no hint
    word, and compiling them would cost every commit a few milliseconds."""

    def __init__(self) -> None:
        # Each kind: its name in findings, the pattern (group "body" is the random
        # part), and how random the body must look: "any" (not a placeholder or a
        # sequence), "alnum" (also letters and digits) or "mixed" (upper and lower
        # case letters and digits, for the short `sk-` prefixes that ordinary
        # kebab-case words could follow).
        self.token_kinds: tuple[tuple[str, re.Pattern[str], str], ...] = (
            ("AWS access key id", re.compile(
                r"(?<![A-Za-z0-9])(?:AKIA|ASIA)(?P<body>[A-Z0-9]{16})(?![A-Za-z0-9])"), "any"),
            ("GitHub token", re.compile(
                r"(?<![A-Za-z0-9_])gh[pousr]_(?P<body>[A-Za-z0-9]{36,255})(?![A-Za-z0-9_])"), "any"),
            ("GitHub token", re.compile(
                r"(?<![A-Za-z0-9_])github_pat_(?P<body>[A-Za-z0-9_]{22,255})(?![A-Za-z0-9_])"), "any"),
            ("Slack token", re.compile(r"(?<![A-Za-z0-9])xox[baprs]-(?P<body>[A-Za-z0-9-]{10,})"), "alnum"),
            ("Slack webhook URL", re.compile(
                r"hooks\.slack\.com/(?:services|workflows|triggers)/(?P<body>[A-Za-z0-9_/+-]{20,})"),
             "any"),
            ("Anthropic API key", re.compile(
                r"(?<![A-Za-z0-9_-])sk-ant-(?P<body>[A-Za-z0-9_-]{20,})"), "mixed"),
            ("OpenAI API key", re.compile(
                r"(?<![A-Za-z0-9_-])sk-(?!ant-)(?:proj-|svcacct-|admin-)?(?P<body>[A-Za-z0-9_-]{20,})"),
             "mixed"),
        )
        self.private_key = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
        # What follows a real header: base64, or the headers of a legacy encrypted PEM.
        self.key_material = re.compile(r"[A-Za-z0-9+/=]{20}|Proc-Type:")
        self.jwt = re.compile(r"(?<![\w-])(?P<head>eyJ[A-Za-z0-9_-]{10,})\.[A-Za-z0-9_-]+\.")
        self.aws_secret = re.compile(
            r"(?i)aws[\w.-]{0,20}secret[\w.-]{0,20}[\"']?\s{0,3}(?::=|=>|=|:)\s{0,3}[\"']?"
            r"(?P<body>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])")
        # A name from its secret word on (`_assigned_secret` reads back to its start),
        # a separator, the value: quoted, or bare up to what ends a word of code or a
        # query parameter (`&`, `\`).
        self.assignment = re.compile(
            r"(?i:key|secret|token|passw(?:or)?d|pwd|passphrase)(?P<tail>[A-Za-z0-9_.-]{0,40})[\"']?\s{0,3}"
            r"(?::\s{0,3}[A-Za-z_][\w.\[\], |]{0,40}?\s{0,3}=(?!=)|:=|=>|==?|:)\s{0,3}"
            r"(?P<value>\"[^\"\n]{0,500}\"|'[^'\n]{0,500}'|`[^`\n]{0,500}`|[^\s\"'`,;()\[\]{}<>&\\]{1,500})")
        self.dotted_name = re.compile(r"[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+")
        self.constant_name = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
        self.name_words = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
        self.runs = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+")
        self.words = re.compile(r"[A-Z]?[a-z]{2,}")
        self.vowel = re.compile(r"[aeiouy]")
        self.consonants = re.compile(r"[^aeiouy]{4}")


@lru_cache(maxsize=1)
def _patterns() -> _Patterns:
    return _Patterns()


def shannon_entropy(text: str) -> float:
    """Bits per character of the text's own character distribution."""
    if not text:
        return 0.0
    n = len(text)
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


def is_placeholder(value: str) -> bool:
    """An obvious stand-in: "xxxx", "<your-key>", "${VAR}", "changeme", one repeated char..."""
    text = value.strip().strip("\"'`")
    lower = text.lower()
    if not text or text.startswith(("$", "%")) or any(w in lower for w in _PLACEHOLDER_WORDS):
        return True
    return len(set(text.replace("-", "").replace("_", "").replace("/", ""))) <= 1


def is_sequence(value: str) -> bool:
    """Made up by hand: its letters or its digits, read apart, hold a run of
    MIN_SEQUENCE consecutive ones (`1234567890abcdef`, `1a2b3c4d5e6f7g8h`)."""
    letters = "".join(c for c in value.lower() if "a" <= c <= "z")
    digits = "".join(c for c in value if "0" <= c <= "9")
    for chars, alphabet in ((letters, "abcdefghijklmnopqrstuvwxyz"), (digits, "12345678901")):
        run = 1
        for a, b in pairwise(chars):
            run = run + 1 if a + b in alphabet else 1
            if run >= MIN_SEQUENCE:
                return True
    return False


def reads_as_words(value: str) -> bool:
    """Words and numbers, not random characters (`bitbucket-token-help-link-2`,
    `test_password_123`, `/api/v1/auth/refresh`): see MIN_WORDS_SHARE."""
    patterns = _patterns()
    runs = patterns.runs.findall(value)
    alnum = sum(map(len, runs))
    if not runs or alnum / len(runs) < MAX_WORD_RUN:
        return False
    spoken = sum(len(w) for w in patterns.words.findall(value)
                 if patterns.vowel.search(w.lower()) and not patterns.consonants.search(w.lower()))
    return spoken / alnum >= MIN_WORDS_SHARE


def is_unsigned_jwt(value: str) -> bool:
    """A JSON Web Token whose header says `"alg": "none"`: it has no signature,
    so no server that checks one accepts it (test fixtures are made so)."""
    m = _patterns().jwt.search(value)
    if m is None:
        return False
    import base64  # only for the rare value that holds a token
    import json

    head = m.group("head")
    try:
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
    except ValueError:  # not base64, not UTF-8, not JSON: not a token's header
        return False
    return isinstance(header, dict) and str(header.get("alg", "")).lower() == "none"


def _random_looking(body: str, level: str = "alnum") -> bool:
    """Not a placeholder or a sequence; "alnum": letters and digits; "mixed": upper, lower and digits."""
    if is_placeholder(body) or is_sequence(body):
        return False
    if level == "any":
        return True
    digits = any(c.isdigit() for c in body)
    if level == "mixed":
        return digits and any(c.isupper() for c in body) and any(c.islower() for c in body)
    return digits and any(c.isalpha() for c in body)


def names_a_secret(name: str, before: str = "") -> bool:
    """Does the assigned name say it holds a secret? By its words: `DB_PASSWORD`,
    `clientSecret`, `api_key`, `STRIPE_KEY`; not `key`, `KEY_1`, `i18nKey`,
    `token_url` or `public_key`. `before` is the text before the name: in prose,
    "api key: …" names a credential with two words."""
    last = name.rsplit(".", 1)[-1]
    words = [w.lower() for w in _patterns().name_words.findall(last) if not w.isdigit()]
    if words == ["key"] and before.endswith(" ") and (prior := before.split()[-1:]):
        return prior[0].lower() in _KEY_QUALIFIERS
    if not words or words[-1] in _REFERENCE_WORDS:
        return False
    if any(w in _SECRET_WORDS for w in words):
        return True
    keys = [i for i, w in enumerate(words) if w == "key"]
    return any(i > 0 and words[i - 1] not in _LOOKUP_KEY_WORDS for i in keys)


def _secret_value(value: str, quoted: bool) -> bool:
    """Is an assigned value a secret's text, rather than a word, a name or a reference?"""
    patterns = _patterns()
    if (len(value) < MIN_SECRET_LENGTH or not value.isascii() or any(c.isspace() for c in value)
            or "://" in value or value.startswith(_PUBLIC_PREFIXES)
            or patterns.constant_name.fullmatch(value) or is_unsigned_jwt(value)
            or (not quoted and patterns.dotted_name.fullmatch(value))):
        return False
    return (_random_looking(value) and not reads_as_words(value)
            and shannon_entropy(value) >= MIN_ENTROPY)


def _assigned_secret(text: str) -> bool:
    for m in _patterns().assignment.finditer(text):
        start, limit = m.start(), max(0, m.start() - MAX_NAME_HEAD)
        while start > limit and (text[start - 1].isalnum() or text[start - 1] in "_$.-"):
            start -= 1  # back to the start of the name: `DB_` of `DB_PASSWORD`
        if not names_a_secret(text[start:m.end("tail")], text[max(0, start - MAX_NAME_HEAD):start]):
            continue
        raw = m.group("value")
        quoted = raw[:1] in "\"'`"
        if not quoted and text[m.end():m.end() + 1] in ("(", "["):
            continue  # a call or a subscript: code that fetches the secret
        if _secret_value(raw[1:-1] if quoted else raw, quoted):
            return True
    return False


def secret_kinds(text: str, next_line: str | None = None) -> list[str]:
    """The kinds of secret an added line holds (empty: none). `next_line` is the
    added line after it, which shows whether a private key block is a real one."""
    lower = text.lower()
    if not any(hint in lower for hint in SECRET_HINTS):
        return []
    patterns = _patterns()
    kinds: list[str] = []
    header = patterns.private_key.search(text)
    if header is not None:
        # A key's lines may end in CR alone (one line to git) or be escaped in a string (`\r\n`).
        rest = text[header.end():].replace("\\r", "").replace("\\n", "").strip(_KEY_PADDING)
        shown = rest or (next_line or "").strip(_KEY_PADDING)
        if patterns.key_material.match(shown) and not is_placeholder(shown):
            kinds.append("private key")
    for kind, pattern, level in patterns.token_kinds:
        if kind not in kinds and any(_random_looking(m.group("body"), level)
                                     for m in pattern.finditer(text)):
            kinds.append(kind)
    if any(_random_looking(m.group("body"), "any") for m in patterns.aws_secret.finditer(text)):
        kinds.append("AWS secret access key")
    if not kinds and _assigned_secret(text):
        kinds.append("high-entropy value assigned to a secret-like name")
    return kinds
