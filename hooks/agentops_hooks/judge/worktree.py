"""A fresh worktree of exactly the change a judge judges, and what the judge is given.

The change's tree is checked out in a new repository under a temporary directory
that shares the judged repository's objects and nothing else: no uncommitted
file of the worker, no ref, index or hook of the repository. The judge gets a
home and a temporary directory of its own there, and the change's diff, message,
task and claimed evidence as files beside the worktree. Everything is removed
afterwards, whatever happens.
"""
from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from agentops_hooks.git import Repo


class Material(NamedTuple):
    """What a judge is told about the change (docs/judges.md, "What a judge is given")."""

    commit: str
    """The commit checked out: the change's, or, for a staged change, a commit of the
    index's tree made for the purpose (on no ref)."""
    base: str | None
    """What the change is measured against: its first parent, a range's base."""
    tree: str
    patch: bytes
    """The change's diff in its binding form, the bytes its patch-id is taken of."""
    patch_id: str
    message: str
    task: str | None
    claims: tuple[tuple[str, str], ...]
    """The worker's claimed evidence: its (key, value) Verdict-Evidence and Evidence
    trailers."""
    references: tuple[tuple[str, str, str | None], ...]
    """Files and URLs the claims reference: (kind, ref, sha256 claimed)."""


class Workspace(NamedTuple):
    """The directories of one judging: the worktree and the judge's own places."""

    top: Path
    worktree: Path
    home: Path
    tmp: Path
    inputs: Path

    def variables(self, material: Material) -> dict[str, str]:
        """The AGENTOPS_* variables every judge gets (docs/judges.md)."""
        found = {
            "AGENTOPS_WORKTREE": str(self.worktree),
            "AGENTOPS_DIFF": str(self.inputs / "diff.patch"),
            "AGENTOPS_MESSAGE": str(self.inputs / "message.txt"),
            "AGENTOPS_EVIDENCE": str(self.inputs / "evidence.json"),
            "AGENTOPS_PROMPT": str(self.inputs / "prompt.md"),
            "AGENTOPS_OUTPUT_SCHEMA": str(self.inputs / "judge-output.schema.json"),
            "AGENTOPS_HEAD": material.commit,
            "AGENTOPS_TREE": material.tree,
            "AGENTOPS_PATCH_ID": material.patch_id,
            "AGENTOPS_TASK": material.task or "",
        }
        if material.base:
            found["AGENTOPS_BASE"] = material.base
        return found


@contextmanager
def fresh_worktree(repo: Repo, material: Material) -> Iterator[Workspace]:
    """The change checked out in a new temporary worktree, the judge's inputs beside it;
    all of it removed on the way out."""
    top = Path(tempfile.mkdtemp(prefix="agentops-judge-"))
    try:
        space = Workspace(top, top / "worktree", top / "home", top / "tmp", top / "input")
        for place in (space.home, space.tmp, space.inputs):
            place.mkdir()
        repo.materialise(material.commit, space.worktree)
        _write_inputs(space, material)
        yield space
    finally:
        _remove(top)


def _remove(top: Path) -> None:
    """Remove the judging's directories, also those a judge made read-only."""
    for where, dirs, _ in os.walk(top):
        for name in dirs:  # before os.walk goes down into it
            try:
                os.chmod(os.path.join(where, name), stat.S_IRWXU)
            except OSError:
                pass
    shutil.rmtree(top, ignore_errors=True)


def _write_inputs(space: Workspace, material: Material) -> None:
    from agentops_hooks.schemafiles import load_schema

    inputs = space.inputs
    (inputs / "diff.patch").write_bytes(material.patch)
    (inputs / "message.txt").write_text(material.message, encoding="utf-8")
    schema = json.dumps(load_schema("judge-output.schema.json"), indent=2)
    (inputs / "judge-output.schema.json").write_text(schema + "\n", encoding="utf-8")
    evidence = {
        "claims": [{"key": k, "value": v} for k, v in material.claims],
        "references": [
            {"kind": kind, "ref": ref, "sha256": digest,
             "in_worktree": "://" not in ref and (space.worktree / ref).is_file()}
            for kind, ref, digest in material.references],
    }
    (inputs / "evidence.json").write_text(json.dumps(evidence, indent=2) + "\n", encoding="utf-8")
    (inputs / "prompt.md").write_text(review_prompt(material, schema), encoding="utf-8")


def review_prompt(material: Material, schema: str) -> str:
    """The reviewing prompt a reviewer judge (an agent CLI) is given: the change, and
    the one JSON object to answer with."""
    claims = "\n".join(f"- {k}: {v}" for k, v in material.claims) or "- (none)"
    return f"""You are an independent reviewer. You did not write this change and you owe its
author nothing. Judge whether it does what its message says, correctly and safely, and
whether the evidence it claims holds. The change's files are in the current directory.

Answer with exactly one JSON object and nothing else, valid against this JSON Schema:

{schema}

"status" is "PASS" only if you would merge the change as it is; "FAIL" if anything in it is
wrong (list each problem in "findings"); "NOT_PROVEN" if you cannot tell.

Task: {material.task or "(none)"}

Message:
{material.message.strip()}

Claimed evidence:
{claims}

Diff:
{material.patch.decode("utf-8", "replace")}
"""
