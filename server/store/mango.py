"""A Mango selector matcher for the embedded store (CouchDB's `filter=_selector` on `_changes`).

Covers the operators a replication filter uses: equality, comparison, `$in`/`$nin`, `$exists`, `$regex`,
`$and`/`$or`/`$nor`/`$not`, `$elemMatch`/`$all`/`$size`, and dotted field paths. Comparison across types
follows CouchDB's collation order of types: null < false < true < numbers < strings < arrays < objects.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from server.errors import bad_request

_MISSING = object()


def _type_rank(v: Any) -> int:
    if v is None:
        return 0
    if v is False:
        return 1
    if v is True:
        return 2
    if isinstance(v, int | float):
        return 3
    if isinstance(v, str):
        return 4
    if isinstance(v, list):
        return 5
    return 6


def _compare(a: Any, b: Any) -> int:
    ra, rb = _type_rank(a), _type_rank(b)
    if ra != rb:
        return -1 if ra < rb else 1
    if ra in (3, 4):
        return -1 if a < b else (1 if a > b else 0)
    if ra == 5:
        for x, y in zip(a, b, strict=False):
            c = _compare(x, y)
            if c:
                return c
        return (len(a) > len(b)) - (len(a) < len(b))
    if ra == 6:
        return 0 if a == b else (1 if str(a) > str(b) else -1)
    return 0


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as e:
        raise bad_request(f"Invalid $regex: {e}") from None


def _field(doc: Any, path: str) -> Any:
    cur = doc
    for part in path.split("."):
        if isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return _MISSING
    return cur


def _op(op: str, value: Any, arg: Any) -> bool:
    if op == "$exists":
        return (value is not _MISSING) == bool(arg)
    if value is _MISSING:
        return False  # Mango: every operator but $exists needs the field to be there
    if op == "$eq":
        return _compare(value, arg) == 0
    if op == "$ne":
        return _compare(value, arg) != 0
    if op == "$gt":
        return _compare(value, arg) > 0
    if op == "$gte":
        return _compare(value, arg) >= 0
    if op == "$lt":
        return _compare(value, arg) < 0
    if op == "$lte":
        return _compare(value, arg) <= 0
    if op == "$in":
        _need_list(op, arg)
        return any(_compare(value, a) == 0 for a in arg) or (
            isinstance(value, list) and any(_compare(v, a) == 0 for v in value for a in arg)
        )
    if op == "$nin":
        _need_list(op, arg)
        return all(_compare(value, a) != 0 for a in arg)
    if op == "$regex":
        return isinstance(value, str) and _regex(str(arg)).search(value) is not None
    if op == "$size":
        return isinstance(value, list) and len(value) == int(arg)
    if op == "$all":
        _need_list(op, arg)
        return isinstance(value, list) and all(any(_compare(v, a) == 0 for v in value) for a in arg)
    if op == "$elemMatch":
        return isinstance(value, list) and any(_match_value(v, arg) for v in value)
    if op == "$type":
        names = ["null", "boolean", "boolean", "number", "string", "array", "object"]
        return bool(names[_type_rank(value)] == arg)
    if op == "$mod":
        return isinstance(value, int) and isinstance(arg, list) and len(arg) == 2 and bool(value % arg[0] == arg[1])
    raise bad_request(f"Invalid operator: {op}")


def _need_list(op: str, arg: Any) -> None:
    if not isinstance(arg, list):
        raise bad_request(f"Argument of {op} must be an array")


def _match_value(value: Any, cond: Any) -> bool:
    """A condition on one value: an operator object, or a literal meaning `$eq`."""
    if isinstance(cond, dict) and cond and all(k.startswith("$") for k in cond):
        for op, arg in cond.items():
            if op == "$not":
                if _match_value(value, arg):
                    return False
            elif op in ("$and", "$or", "$nor"):
                if not _combine(op, arg, value, on_value=True):
                    return False
            elif not _op(op, value, arg):
                return False
        return True
    if isinstance(cond, dict) and cond:
        # A nested selector on the fields of a sub-object.
        return isinstance(value, dict) and all(_match_value(_field(value, k), v) for k, v in cond.items())
    return value is not _MISSING and _compare(value, cond) == 0


def _combine(op: str, arg: Any, target: Any, on_value: bool = False) -> bool:
    if not isinstance(arg, list):
        raise bad_request(f"Argument of {op} must be an array")

    def check(s: Any) -> bool:
        return _match_value(target, s) if on_value else matches(s, target)

    if op == "$and":
        return all(check(s) for s in arg)
    if op == "$or":
        return any(check(s) for s in arg)
    return not any(check(s) for s in arg)


def matches(selector: Any, doc: dict[str, Any]) -> bool:
    """Whether `doc` matches the Mango `selector`; a malformed selector is a 400."""
    if not isinstance(selector, dict):
        raise bad_request("selector must be a JSON object")
    for key, cond in selector.items():
        if key in ("$and", "$or", "$nor"):
            if not _combine(key, cond, doc):
                return False
        elif key == "$not":
            if matches(cond, doc):
                return False
        elif key.startswith("$"):
            raise bad_request(f"Invalid operator: {key}")
        elif not _match_value(_field(doc, key), cond):
            return False
    return True


_OPERATORS = {
    "$eq",
    "$ne",
    "$gt",
    "$gte",
    "$lt",
    "$lte",
    "$in",
    "$nin",
    "$regex",
    "$size",
    "$all",
    "$elemMatch",
    "$type",
    "$mod",
    "$exists",
    "$not",
    "$and",
    "$or",
    "$nor",
}


MAX_DEPTH = 16
MAX_TERMS = 1000  # fields and values in one selector (a replication filter has a handful)


def validate(selector: Any, allow_regex: bool = True, depth: int = 0) -> None:
    """Refuse a malformed selector up front (400), even when no document would reach the bad part.

    `allow_regex=False` for selectors from devices: Python's regex engine backtracks, and one crafted pattern
    would hold the whole gateway for minutes. A selector of more than MAX_TERMS values is refused too: it is
    matched against every document of the caller's scope, so a `$in` of 100,000 values held a read thread for
    seconds per request, and four such requests stalled everyone's reads.
    """
    if depth == 0 and _terms(selector) > MAX_TERMS:
        raise bad_request(f"selector has more than {MAX_TERMS} values and fields")
    if not isinstance(selector, dict):
        raise bad_request("selector must be a JSON object")
    if depth > MAX_DEPTH:
        raise bad_request(f"selector is nested deeper than {MAX_DEPTH} levels")
    for key, cond in selector.items():
        if key.startswith("$"):
            if key not in _OPERATORS:
                raise bad_request(f"Invalid operator: {key}")
            if key in ("$and", "$or", "$nor", "$in", "$nin", "$all") and not isinstance(cond, list):
                raise bad_request(f"Argument of {key} must be an array")
            if key == "$regex":
                if not allow_regex:
                    raise bad_request("$regex is not supported in replication filters")
                _regex(str(cond))
            if key == "$mod" and not (
                isinstance(cond, list)
                and len(cond) == 2
                and all(isinstance(x, int) and not isinstance(x, bool) for x in cond)
                and cond[0] != 0
            ):
                raise bad_request("Argument of $mod must be [divisor, remainder], integers, divisor not 0")
            if key == "$size" and (not isinstance(cond, int) or isinstance(cond, bool)):
                raise bad_request("Argument of $size must be an integer")
            if key == "$type" and cond not in ("null", "boolean", "number", "string", "array", "object"):
                raise bad_request("Argument of $type must be a JSON type name")
        if isinstance(cond, dict):
            validate(cond, allow_regex, depth + 1)
        elif isinstance(cond, list) and key in ("$and", "$or", "$nor"):
            for sub in cond:
                validate(sub, allow_regex, depth + 1)


def _terms(value: Any) -> int:
    """The fields and values in a selector (each counts one), counting no further than MAX_TERMS + 1."""
    count, stack = 0, [value]
    while stack and count <= MAX_TERMS:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count
