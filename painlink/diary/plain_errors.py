"""A refused value said in plain words, not in the validator's.

pydantic explains a refusal to a programmer ("String should match pattern
'^[A-Za-z]…'", "Input should be less than or equal to 10"); the person who typed
the value needs to know what to type instead. The form pages and the JSON API both
show these messages, so they are worded once, here, from the error's *type* and its
limits (``ctx``), never from pydantic's English. A custom check's own message
("the end is before the start") is already meant for people and is kept.
"""

from __future__ import annotations

from typing import Any

#: what a schema pattern asks for, in words (painlink/diary/schemas.py)
PATTERN_WORDS = {
    r"^[A-Za-z0-9_.\-]+$": "use only letters, numbers, dots, dashes and underscores",
    r"^[^\W_][^\x00-\x1f\x7f]*$": "start with a letter or a number, on one line",
}


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _choices(expected: str) -> str:
    """pydantic's "'a', 'b' or 'c'" as "a, b or c"."""
    return expected.replace("'", "").replace("_", " ")


def plain_message(error: Any) -> str:
    """One pydantic error (a dict of ``ValidationError.errors()``) in plain words."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    msg = str(error.get("msg", ""))
    if kind == "missing" or (error.get("input", "") is None and kind.endswith("_type")):
        return "please fill this in"
    if kind == "string_too_short":
        return (
            "please fill this in"
            if ctx.get("min_length") == 1
            else (f"use at least {ctx.get('min_length')} characters")
        )
    if kind == "string_too_long":
        return f"use at most {ctx.get('max_length')} characters"
    if kind == "string_pattern_mismatch":
        return PATTERN_WORDS.get(str(ctx.get("pattern", "")), "use letters and numbers only")
    if kind in ("less_than_equal", "less_than"):
        return f"enter a number of {_number(ctx.get('le', ctx.get('lt')))} or less"
    if kind in ("greater_than_equal", "greater_than"):
        return f"enter a number of {_number(ctx.get('ge', ctx.get('gt')))} or more"
    if kind in ("float_parsing", "float_type", "finite_number"):
        return "enter a number, like 2 or 7.5"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return "enter a whole number, like 3"
    if kind in ("bool_parsing", "bool_type"):
        return "answer yes or no"
    if kind in ("literal_error", "enum"):
        return f"choose one of: {_choices(str(ctx.get('expected', '')))}"
    if kind.startswith("datetime"):
        return "use a date and time like 2026-03-01 14:30"
    if kind.startswith("date"):
        return "use a date like 2026-03-01"
    if kind.startswith("time"):
        return "use a time like 14:30"
    if kind == "extra_forbidden":
        return "this is not a field of this entry"
    if kind in ("string_type", "dict_type", "list_type", "model_type"):
        return "this value has the wrong form"
    if kind in ("value_error", "assertion_error"):
        return msg.removeprefix("Value error, ").removeprefix("Assertion failed, ")
    return "this value was not accepted"
