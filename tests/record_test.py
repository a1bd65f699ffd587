"""`@record` behaves as `@dataclass(frozen=True)` does where we use it, and
`as_dataclass` makes a record class a dataclass pydantic can validate."""
from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from agentops_hooks.record import FrozenRecordError
from agentops_hooks.record import as_dataclass
from agentops_hooks.record import field
from agentops_hooks.record import record
from agentops_hooks.record import replace


@record
class Point:
    """A point."""

    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


@record
class Box:
    corner: Point = field(default_factory=lambda: Point(1, 1))
    labels: list[str] = field(default_factory=list)
    note: str | None = field(default=None, repr=False, compare=False)


@record(frozen=False)
class Counter:
    count: int = 0
    seen: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.seen.append("made")


@dataclasses.dataclass(frozen=True)
class DataPoint:
    x: int
    y: int = 0
    tags: tuple[str, ...] = ()


def test_init_positional_keyword_and_defaults() -> None:
    assert (Point(1).x, Point(1).y, Point(1).tags) == (1, 0, ())
    assert Point(1, 2) == Point(x=1, y=2) == Point(y=2, x=1)
    with pytest.raises(TypeError):
        Point()  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Point(1, z=3)  # type: ignore[call-arg]


def test_factories_give_each_instance_its_own_value() -> None:
    a, b = Box(), Box()
    a.labels.append("x")
    assert b.labels == [] and a.corner == Point(1, 1)
    assert "labels" not in Box.__dict__  # a factory leaves no shared class attribute


def test_equality_hash_and_repr_as_a_dataclass_has_them() -> None:
    assert Point(1, 2) != Point(1, 3)
    assert Point(1, 2) != DataPoint(1, 2)  # another class is never equal
    assert hash(Point(1, 2, ("a",))) == hash(Point(1, 2, ("a",)))
    assert len({Point(1), Point(1), Point(2)}) == 2
    assert repr(Point(1, 2)) == repr(DataPoint(1, 2)).replace("DataPoint", "Point")
    assert Box(note="a") == Box(note="b")  # compare=False
    assert "note" not in repr(Box(note="secret"))  # repr=False


def test_frozen_refuses_assignment_and_deletion() -> None:
    p = Point(1)
    with pytest.raises(FrozenRecordError):
        p.x = 2  # type: ignore[misc]
    with pytest.raises(AttributeError):
        del p.x  # type: ignore[misc]
    assert p.x == 1


def test_not_frozen_allows_assignment_and_is_unhashable() -> None:
    c = Counter()
    c.count += 1
    assert c.count == 1 and c.seen == ["made"]  # __post_init__ ran
    with pytest.raises(TypeError):
        hash(c)


def test_replace_copies_with_changes() -> None:
    p = Point(1, 2, ("a",))
    assert replace(p, y=5) == Point(1, 5, ("a",)) and p.y == 2
    with pytest.raises(TypeError, match="no field z"):
        replace(p, z=1)
    assert replace(DataPoint(1), y=3) == DataPoint(1, 3)  # dataclasses pass through


def test_as_dataclass_keeps_behaviour_and_feeds_pydantic() -> None:
    from pydantic import TypeAdapter

    @record
    class Section:
        """A config section."""

        name: str = "n"
        """The name."""
        items: dict[str, int] = field(default_factory=dict)
        hidden: str | None = field(default=None, repr=False, compare=False)

    before = Section("a", {"k": 1})
    as_dataclass(Section)
    assert dataclasses.is_dataclass(Section)
    assert [f.name for f in dataclasses.fields(Section)] == ["name", "items", "hidden"]
    made = TypeAdapter(Section).validate_python({"name": "a", "items": {"k": 1}})
    assert made == before and isinstance(made, Section)
    assert Section().items == {} and Section().items is not Section().items
    with pytest.raises(dataclasses.FrozenInstanceError):
        made.name = "b"  # type: ignore[misc]
    schema = TypeAdapter(Section).json_schema()
    assert schema["properties"]["name"]["default"] == "n"
    assert as_dataclass(Section) is Section  # a second call changes nothing


def test_the_commit_path_imports_no_dataclasses() -> None:
    """What the records are for: a commit-msg run without a config file never imports dataclasses."""
    code = ("import sys; import agentops_hooks.places.commit, agentops_hooks.gates.verdict, "
            "agentops_hooks.gates.learnings, agentops_hooks.gates.privilege, "
            "agentops_hooks.gates.supervise; print('dataclasses' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
