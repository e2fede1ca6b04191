"""Pydantic's validation errors as one line a user can act on: the key, what is wrong, the value given.

Example:
    >>> from pydantic import BaseModel, ConfigDict, ValidationError
    >>> class Space(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     depth: int = 1
    >>> try:
    ...     Space.model_validate({"dept": 2})
    ... except ValidationError as err:
    ...     print(describe_error(Space, err.errors()[0], "study.yaml: "))
    study.yaml: dept: unknown key, did you mean 'depth'?
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

__all__ = ["describe_error"]


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """Field names of the (sub)model that holds the key at ``loc``."""
    current: Any = model
    for part in loc[:-1]:
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return []
        field = current.model_fields.get(str(part))
        if field is None:
            return []
        annotation = field.annotation
        candidates = [a for a in getattr(annotation, "__args__", (annotation,)) if isinstance(a, type)]
        current = next((a for a in candidates if issubclass(a, BaseModel)), None)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [name for name in current.model_fields if name != "source"]
    return []


def describe_error(model: type[BaseModel], error: Mapping[str, Any], prefix: str) -> str:
    """One line for a pydantic error of ``model``: the key, then what is wrong, with a close key for a typo."""
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    key = ".".join(str(p) for p in loc)
    where = f"{prefix}{key}: " if key else prefix
    if error["type"] == "extra_forbidden":
        close = difflib.get_close_matches(str(loc[-1]), _fields_at(model, loc), n=1)
        hint = f", did you mean {close[0]!r}?" if close else ""
        return f"{where}unknown key{hint}"
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] in ("missing",):
        return f"{where}required key is missing"
    value = error.get("input")
    shown = "" if isinstance(value, dict) or value is None else f" (got {value!r})"
    return f"{where}{message}{shown}"
