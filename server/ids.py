"""ULIDs: 26-character ids that sort by creation time (Crockford base32: 48-bit milliseconds + 80 random bits)."""

from __future__ import annotations

import base64
import random
import secrets
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_FROM_RFC4648 = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", _ALPHABET.encode())


def new_ulid(at_ms: int | None = None) -> str:
    ms = int(time.time() * 1000) if at_ms is None else at_ms
    return _encode((ms << 80) | secrets.randbits(80))


def seeded_ulid(at_ms: int, rng: random.Random) -> str:
    """A ULID at `at_ms` whose random part comes from `rng`: the same seed gives the same ids (the demo district).
    Never use it for ids phones or users could predict and collide with; `new_ulid` is for those."""
    return _encode((at_ms << 80) | rng.getrandbits(80))


def _encode(value: int) -> str:
    # 128 bits as 160 (a whole number of 5-byte groups) in base32, less the 6 leading zero digits.
    return base64.b32encode(value.to_bytes(20, "big")).translate(_FROM_RFC4648)[6:].decode("ascii")
