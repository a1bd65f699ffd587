"""The `agentops` command's front door.

`agentops check --staged` is what an agent or a commit-msg hook runs on every
commit, so it goes straight to the standard-library hook code; everything
else loads the click CLI.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence

_VALUE_OPTIONS = ("--message-file", "--gate", "--color")


def staged_check_args(argv: Sequence[str]) -> list[str] | None:
    """The `agentops-hook` arguments for a plain `check --staged`, or None."""
    if not argv or argv[0] != "check":
        return None
    out: list[str] = ["--as-check"]
    message: str | None = None
    staged = False
    rest = list(argv[1:])
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name in _VALUE_OPTIONS:
            if not eq:
                if not rest:
                    return None
                value = rest.pop(0)
            if name in ("--gate", "--color"):
                out += [name, value]
            else:
                message = value
        elif arg == "--staged":
            staged = True
        elif arg == "--amend":
            out.append("--amend")
        else:
            return None  # anything else (--format, --range, --help...) is the CLI's
    if not staged and message is None:
        return None
    return [*out, *([message] if message is not None else [])]


def main() -> None:
    """Console entry point: fast path for staged checks, click for the rest."""
    args = staged_check_args(sys.argv[1:])
    if args is not None:
        from agentops_hooks.places.commit import main as hook_main

        raise SystemExit(hook_main(args))
    from agentops_hooks.commands import main as cli_main

    cli_main()
