"""The request bodies' nesting check (`server.http.too_deep`) against a plain walk of the parsed value: strings
full of quotes, backslashes and brackets must not fool it, in either direction."""

from __future__ import annotations

import json
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from server.http import too_deep

TRICKY = st.sampled_from(['"', "\\", "\\\\", '\\"', "[", "]", "{", "}", '"]', '\\"}', "中", "\n", ""])
TEXT = st.lists(st.one_of(TRICKY, st.text(max_size=3)), max_size=4).map("".join)
JSON = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(-(2**53), 2**53), st.floats(allow_nan=False, allow_infinity=False), TEXT
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=40,
)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


@settings(max_examples=400, deadline=None)
@given(JSON, st.integers(min_value=0, max_value=8))
def test_too_deep_agrees_with_the_parsed_value(value: Any, limit: int) -> None:
    expected = depth(value) > limit
    assert too_deep(orjson.dumps(value), limit) is expected
    assert too_deep(json.dumps(value, indent=1).encode(), limit) is expected  # whitespace and \u escapes


def test_a_hostile_depth_is_caught_and_a_deep_string_is_not() -> None:
    assert too_deep(b'{"x": ' + b"[" * 300 + b"]" * 300 + b"}", 64)
    assert not too_deep(orjson.dumps({"x": "[" * 300, "y": "{" * 300 + '"'}), 64)
    assert not too_deep(b"[" * 64 + b"]" * 64, 64) and too_deep(b"[" * 65 + b"]" * 65, 64)


def nested(levels: int) -> bytes:
    """Objects and arrays in turn, `levels` deep, with a string of brackets and escapes at the bottom."""
    value: Any = '[{\\"]}'
    for level in range(levels):
        value = [value] if level % 2 else {"a": value}
    return orjson.dumps(value)


def test_objects_and_arrays_in_turn_count_one_level_each() -> None:
    """Braces and brackets are one kind to the check: a pass that took `[]` pairs and then `{}` ones would take two
    levels of `{[...]}` at once, and let 100 such levels through as 50."""
    assert not too_deep(nested(64), 64) and too_deep(nested(65), 64)
    assert too_deep(nested(100), 64) and too_deep(nested(100), 51)
