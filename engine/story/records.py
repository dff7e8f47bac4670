"""The saved form of the story's records, derived from their dataclass fields: one definition.

A Scene, a Version or the PlayState is written into saves as a compact JSON object (fields
equal to their default left out) and read back strictly (unknown fields refused, types checked).
Both directions are derived here from the dataclass itself, so a field added to the class is
saved, loaded and checked with no table to keep in step. This module knows no file format and
does no I/O; engine.saves.snapshot decides what a save holds.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass
from typing import Any

_JSON_TYPES = {str: str, int: int, bool: bool, float: float, dict: dict, list: list,
               type(None): type(None)}


@dataclass(frozen=True)
class RecordShape:
    """What a record class looks like in a save.

    Attributes:
        required: fields without a default: always written, and a saved record lacking one is
            damaged.
        defaults: the other fields and their defaults; a field equal to its default is left
            out of the saved form (most scenes keep most defaults, so saves stay small).
        types: each field's accepted JSON types (exact types: a bool is not an int here).
        nested: fields holding a list of records, and the record class of their items.
    """

    required: tuple[str, ...]
    defaults: dict[str, Any]
    types: dict[str, frozenset[type]]
    nested: dict[str, type]
    required_set: frozenset[str] = frozenset()   # `required` as a set, for quick checks


def _json_types(hint: Any) -> tuple[frozenset[type], type | None]:
    """The JSON types a type hint allows, and the record class of a list's items (or None)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        allowed: set[type] = set()
        for arg in typing.get_args(hint):
            allowed |= _json_types(arg)[0]
        return frozenset(allowed), None
    if origin is list:
        (item,) = typing.get_args(hint) or (None,)
        return frozenset({list}), item if dataclasses.is_dataclass(item) else None
    if origin is dict:
        return frozenset({dict}), None
    if hint in _JSON_TYPES:
        return frozenset({_JSON_TYPES[hint]}), None
    raise TypeError(f"{hint!r} has no JSON form; give the field a plain type")


def shape_of(cls: type) -> RecordShape:
    """The saved shape of a dataclass, read from its fields and type hints."""
    hints = typing.get_type_hints(cls)
    required, defaults, kinds, nested = [], {}, {}, {}
    for field in dataclasses.fields(cls):
        kinds[field.name], item = _json_types(hints[field.name])
        if item is not None:
            nested[field.name] = item
        if field.default is not dataclasses.MISSING:
            defaults[field.name] = field.default
        elif field.default_factory is not dataclasses.MISSING:
            defaults[field.name] = field.default_factory()
        else:
            required.append(field.name)
    return RecordShape(tuple(required), defaults, kinds, nested, frozenset(required))


def compact(record: Any, shape: RecordShape) -> dict:
    """A record as saved: its required fields, then every other field not at its default.
    Lists of records are saved as lists of their own compact forms."""
    out = {name: getattr(record, name) for name in shape.required}
    for name, default in shape.defaults.items():
        value = getattr(record, name)
        if value != default:
            if name in shape.nested:
                value = [item.to_dict() for item in value]
            out[name] = value
    return out


__all__ = ["RecordShape", "shape_of", "compact"]
