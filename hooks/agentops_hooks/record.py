"""Value classes for the commit-time path, at a fraction of a dataclass's cost.

`@dataclass` compiles six methods for every class and `import dataclasses`
brings in `inspect`: about 0.6 ms a class and 7 ms for the import, which a
commit-msg hook defining thirty classes pays on every commit before it reads
a byte. `@record` compiles one method, `__init__`, and shares the others.
`as_dataclass` turns a record class into a real dataclass, in place, for the
rare run that needs one (pydantic validating a config file).
"""
from __future__ import annotations

from operator import attrgetter
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

if TYPE_CHECKING:
    from collections.abc import Callable

    from typing_extensions import dataclass_transform
else:
    def dataclass_transform(**_: Any) -> Callable[[Any], Any]:
        return lambda decorated: decorated

T = TypeVar("T")
MISSING: Any = type("MISSING", (), {"__repr__": lambda self: "MISSING"})()


class FrozenRecordError(AttributeError):
    """An attempt to change a field of a frozen record."""


class Field:
    """What `field()` says of one field: its default, and whether repr and == see it."""

    __slots__ = ("default", "default_factory", "repr", "compare")

    def __init__(self, default: Any, default_factory: Callable[[], Any] | None,
                 repr: bool, compare: bool) -> None:  # noqa: A002 - dataclasses' names
        self.default = default
        self.default_factory = default_factory
        self.repr = repr
        self.compare = compare


def field(*, default: Any = MISSING, default_factory: Callable[[], Any] | None = None,
          repr: bool = True, compare: bool = True) -> Any:  # noqa: A002
    """A field's default (or a factory for one), as `dataclasses.field` says it."""
    return Field(default, default_factory, repr, compare)


@dataclass_transform(frozen_default=True, field_specifiers=(field,))
def record(cls: type[T] | None = None, /, *, frozen: bool = True) -> Any:
    """Make `cls` a value class from its annotated fields, like `@dataclass(frozen=True)`:
    `__init__` (positional or keyword, defaults and factories), `__eq__` and
    `__hash__` over the compared fields, `__repr__`; `frozen=False` allows
    assignment and leaves the class unhashable, as dataclasses do."""
    def build(target: type[T]) -> type[T]:
        return _build(target, frozen)

    return build if cls is None else build(cls)


def _build(cls: type[T], frozen: bool) -> type[T]:
    specs: dict[str, Field] = {}
    for base in reversed(cls.__mro__[1:]):
        specs.update(getattr(base, "__record_fields__", {}))
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, MISSING)
        spec = value if isinstance(value, Field) else Field(value, None, True, True)
        if isinstance(value, Field):
            if spec.default is MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        specs[name] = spec
    namespace: dict[str, Any] = {"MISSING": MISSING}
    params, lines = [], []
    for name, spec in specs.items():
        if spec.default_factory is not None:
            namespace[f"_factory_{name}"] = spec.default_factory
            params.append(f"{name}=MISSING")
            lines.append(f"    d[{name!r}] = _factory_{name}() if {name} is MISSING else {name}")
        else:
            if spec.default is not MISSING:
                namespace[f"_default_{name}"] = spec.default
                params.append(f"{name}=_default_{name}")
            else:
                params.append(name)
            lines.append(f"    d[{name!r}] = {name}")
    if hasattr(cls, "__post_init__"):
        lines.append("    self.__post_init__()")
    source = (f"def __init__(self, {', '.join(params)}):\n    d = self.__dict__\n"
              + "\n".join(lines or ["    pass"]) + "\n")
    exec(source, namespace)  # noqa: S102 - our own generated code, as dataclasses does
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    compared = [name for name, spec in specs.items() if spec.compare]
    methods: dict[str, Any] = {
        "__init__": init, "__record_fields__": specs, "__record_frozen__": frozen,
        "__record_key__": attrgetter(*compared) if len(compared) > 1 else _one_key(compared),
        "__repr__": _repr, "__eq__": _eq,
    }
    if frozen:
        methods.update(__hash__=_hash, __setattr__=_refuse_set, __delattr__=_refuse_del)
    elif "__hash__" not in cls.__dict__:
        methods["__hash__"] = None
    for name, value in methods.items():
        setattr(cls, name, value)
    return cls


def _one_key(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    """The key of a record with one compared field or none, a tuple as attrgetter's are."""
    if not names:
        return lambda obj: ()
    get = attrgetter(names[0])
    return lambda obj: (get(obj),)


def _repr(self: Any) -> str:
    shown = ", ".join(f"{n}={self.__dict__[n]!r}" for n, spec in self.__record_fields__.items()
                      if spec.repr)
    return f"{type(self).__qualname__}({shown})"


def _eq(self: Any, other: Any) -> Any:
    if other.__class__ is self.__class__:
        key = self.__record_key__
        return key(self) == key(other)
    return NotImplemented


def _hash(self: Any) -> int:
    return hash(self.__record_key__(self))


def _refuse_set(self: Any, name: str, value: Any) -> None:
    raise FrozenRecordError(f"cannot assign to field {name!r} of a frozen {type(self).__name__}")


def _refuse_del(self: Any, name: str) -> None:
    raise FrozenRecordError(f"cannot delete field {name!r} of a frozen {type(self).__name__}")


def replace(obj: T, /, **changes: Any) -> T:
    """A copy of a record (or a dataclass) with some fields changed."""
    specs = getattr(obj, "__record_fields__", None)
    if specs is None:
        import dataclasses

        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    values = {name: getattr(obj, name) for name in specs}
    unknown = set(changes) - set(values)
    if unknown:
        raise TypeError(f"{type(obj).__name__} has no field {', '.join(sorted(unknown))}")
    values.update(changes)
    return type(obj)(**values)


def as_dataclass(cls: type[T]) -> type[T]:
    """Make a record class a real (frozen, where it was) dataclass, in place, once.

    Its own `__init__`, `__repr__`, `__eq__` and `__hash__` stay; the class
    gains `__dataclass_fields__`, which is what pydantic and `dataclasses.fields` read.
    """
    import dataclasses

    if dataclasses.is_dataclass(cls):
        return cls
    specs: dict[str, Field] = cls.__record_fields__  # type: ignore[attr-defined]
    frozen: bool = cls.__record_frozen__  # type: ignore[attr-defined]
    for name in ("__setattr__", "__delattr__"):
        if name in cls.__dict__:
            delattr(cls, name)  # dataclass adds its own frozen ones
    for name, spec in specs.items():
        if name not in cls.__dict__.get("__annotations__", {}):
            continue
        kwargs: dict[str, Any] = {"repr": spec.repr, "compare": spec.compare}
        if spec.default_factory is not None:
            kwargs["default_factory"] = spec.default_factory
        elif spec.default is not MISSING:
            kwargs["default"] = spec.default
        setattr(cls, name, dataclasses.field(**kwargs))
    return dataclasses.dataclass(frozen=frozen)(cls)
