"""ULIDs: 26-character ids that sort by creation time (Crockford base32: 48-bit milliseconds + 80 random bits)."""

from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_ulid(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    value = (ms << 80) | secrets.randbits(80)
    return "".join(_ALPHABET[(value >> (5 * i)) & 31] for i in range(25, -1, -1))
