"""The base of the kit's records: frozen dataclasses that turn into plain dicts.

A record class is ``@dataclasses.dataclass(frozen=True)`` and derives from
:class:`Record`; its ``to_dict()`` gives every field, in declaration order,
then the properties named in ``dict_properties`` (values computed from the
fields that a reader of the JSON wants too). Values are converted the way
``dataclasses.asdict`` does -- a nested dataclass becomes a dict, tuples stay
tuples, lists lists -- except that a nested :class:`Record` gives its own
``to_dict()`` (so its computed values come along), a ``Path`` becomes a
string and an ``Enum`` its value. ``json.dumps(record.to_dict())`` then works
for every record.
"""
from __future__ import annotations

import dataclasses
import enum
from pathlib import PurePath
from typing import Any, ClassVar

__all__ = ["Record", "plain"]


class Record:
    """Mixin for frozen-dataclass records: ``to_dict()`` (see the module docstring)."""

    dict_properties: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict:
        """The fields, then ``dict_properties``, as plain values."""
        d = {f.name: plain(getattr(self, f.name)) for f in dataclasses.fields(self)}
        d.update((name, plain(getattr(self, name))) for name in self.dict_properties)
        return d


def plain(value: Any) -> Any:
    """``value`` with records, dataclasses, paths and enums turned into plain values."""
    if isinstance(value, Record):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    return value
