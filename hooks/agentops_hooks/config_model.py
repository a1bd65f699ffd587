"""The policy's sections as pydantic reads them.

The sections are NamedTuples (config.py, the gate modules), so that the
commit-msg check never imports dataclasses; a run that checks a config file
or prints its schema gets, for each section, a dataclass with the same name,
fields, defaults and field docs (`model`), checks the file against it, and
turns the result back into the sections (`checked`).
"""
from __future__ import annotations

from typing import Any
from typing import TypeVar

T = TypeVar("T")


def checked(cls: type[T], table: object) -> T:
    """`table` checked by pydantic against the model of `cls`, as a `cls`."""
    from pydantic import TypeAdapter

    return _unmodel(TypeAdapter(model(cls)).validate_python(table, strict=False))  # type: ignore[no-any-return]


def model(cls: type) -> type:
    """The dataclass pydantic reads for a section (a NamedTuple): the same name,
    fields, defaults and field docs, unknown keys refused; nested sections alike.

    The sections are NamedTuples so that commit time never imports dataclasses
    (with inspect, ast and dis it costs more than the whole check otherwise);
    only a run that reads a config file or prints the schema builds these."""
    made = _MODELS.get(cls)
    if made is not None:
        return made
    import dataclasses
    import typing

    from pydantic import Field

    docs = _field_docs(cls)
    hints = typing.get_type_hints(cls)
    fields: list[tuple[str, Any, Any]] = []
    for name in cls._fields:  # type: ignore[attr-defined]
        kind = _modelled(hints[name])
        if name in docs:
            kind = typing.Annotated[kind, Field(description=docs[name])]
        default = cls._field_defaults.get(name, dataclasses.MISSING)  # type: ignore[attr-defined]
        if isinstance(default, dict):
            spec = dataclasses.field(default_factory=dict)
        elif _is_section(type(default)):
            spec = dataclasses.field(default_factory=model(type(default)))
        else:
            spec = dataclasses.field(default=default)
        fields.append((name, kind, spec))
    made = dataclasses.make_dataclass(cls.__name__, fields, frozen=True, namespace={
        "__doc__": cls.__doc__, "__pydantic_config__": {"extra": "forbid"}})
    _ORIGINALS[made] = cls
    _MODELS[cls] = made
    return made


_MODELS: dict[type, type] = {}
_ORIGINALS: dict[type, type] = {}


def _is_section(kind: object) -> bool:
    return isinstance(kind, type) and issubclass(kind, tuple) and hasattr(kind, "_field_defaults")


def _modelled(kind: Any) -> Any:
    """A type hint with every section in it replaced by its model."""
    import types
    import typing

    if _is_section(kind):
        return model(kind)
    args = typing.get_args(kind)
    origin = typing.get_origin(kind)
    if not args or origin is typing.Literal:
        return kind
    inner = tuple(_modelled(arg) for arg in args)
    if origin in (typing.Union, types.UnionType):
        return typing.Union[inner]
    return origin[inner]


def _unmodel(value: Any) -> Any:
    """A validated model back as the section it models (nested ones too)."""
    original = _ORIGINALS.get(type(value))
    if original is not None:
        return original(**{name: _unmodel(getattr(value, name))
                            for name in original._fields})  # type: ignore[attr-defined]
    if isinstance(value, dict):
        return {key: _unmodel(item) for key, item in value.items()}
    if isinstance(value, (tuple, list)):
        return tuple(_unmodel(item) for item in value)
    return value


def _field_docs(cls: type) -> dict[str, str]:
    """The docstring under each field of a class body, as pydantic reads them."""
    import ast
    import inspect
    import textwrap

    body = ast.parse(textwrap.dedent(inspect.getsource(cls))).body[0].body  # type: ignore[attr-defined]
    docs = {}
    for node, after in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant)
                and isinstance(after.value.value, str)):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs
