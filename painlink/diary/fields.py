"""Column specifications read off the Pydantic schemas.

Validating millions of CSV rows one Pydantic object at a time is slow; validating
each column once with Polars is fast. This module turns each schema field into a
:class:`FieldSpec` (type, bounds, vocabulary) so that the fast path enforces the
same rules as the schemas without restating them.
"""

from __future__ import annotations

import datetime as dt
import functools
import types
import typing
from dataclasses import dataclass
from enum import Enum
from typing import Literal

import annotated_types
import polars as pl
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from painlink.rules.plausibility import Plausible

Kind = Literal["str", "int", "float", "bool", "date", "datetime", "enum", "enum_list"]

POLARS_TYPE: dict[str, pl.DataType] = {
    "str": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "date": pl.Date(),
    "datetime": pl.Datetime("us"),
    "enum": pl.String(),
    "enum_list": pl.String(),  # values joined by ";" in a fixed order
}


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str  # name in frames and in the database
    csv_name: str  # name in the CSV format (the schema alias, if any)
    kind: Kind
    required: bool
    ge: float | None = None
    le: float | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] = ()
    plausible: str | None = None  # "date" or "birth_year": bounded by rules/plausibility.py

    @property
    def dtype(self) -> pl.DataType:
        return POLARS_TYPE[self.kind]


def _unwrap_optional(annotation: object) -> object:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _constraints(info: FieldInfo, annotation: object) -> list[object]:
    found = list(info.metadata)
    if typing.get_origin(annotation) is typing.Annotated:
        found.extend(typing.get_args(annotation)[1:])
    out: list[object] = []
    for item in found:
        # pydantic collects several constraints into one FieldInfo when nested
        if isinstance(item, FieldInfo):
            out.extend(item.metadata)
        else:
            out.append(item)
    return out


def _kind_of(annotation: object) -> tuple[Kind, tuple[str, ...]]:
    base = annotation
    if typing.get_origin(base) is typing.Annotated:
        base = typing.get_args(base)[0]
    if typing.get_origin(base) is list:
        (item,) = typing.get_args(base)
        assert isinstance(item, type) and issubclass(item, Enum)
        return "enum_list", tuple(m.value for m in item)
    if isinstance(base, type) and issubclass(base, Enum):
        return "enum", tuple(m.value for m in base)
    mapping: dict[object, Kind] = {
        str: "str",
        int: "int",
        float: "float",
        bool: "bool",
        dt.date: "date",
        dt.datetime: "datetime",
    }
    if base not in mapping:
        raise TypeError(f"no column kind for {annotation!r}")
    return mapping[base], ()


@functools.cache
def field_specs(model: type[BaseModel]) -> tuple[FieldSpec, ...]:
    """The column specs of a schema (cached: schemas do not change at run time)."""
    specs = []
    hints = typing.get_type_hints(model, include_extras=True)
    for name, info in model.model_fields.items():
        annotation = _unwrap_optional(hints[name])
        kind, choices = _kind_of(annotation)
        ge: float | None = None
        le: float | None = None
        max_length: int | None = None
        pattern: str | None = None
        plausible: str | None = None
        for c in _constraints(info, annotation):
            if isinstance(c, Plausible):
                plausible = c.kind
            elif isinstance(c, annotated_types.Ge):
                ge = float(c.ge)  # type: ignore[arg-type]  # SupportsGe: numbers in our schemas
            elif isinstance(c, annotated_types.Le):
                le = float(c.le)  # type: ignore[arg-type]  # SupportsLe: numbers in our schemas
            elif isinstance(c, annotated_types.MaxLen):
                max_length = c.max_length
            elif hasattr(c, "pattern") and getattr(c, "pattern", None):
                pattern = c.pattern
        specs.append(
            FieldSpec(
                name=name,
                csv_name=info.alias or name,
                kind=kind,
                required=info.is_required(),
                choices=choices,
                ge=ge,
                le=le,
                max_length=max_length,
                pattern=pattern,
                plausible=plausible,
            )
        )
    return tuple(specs)
