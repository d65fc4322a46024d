"""Tiny real JPEGs for demo photos: a baseline greyscale image of flat 8×8 blocks, a few hundred bytes.

Only DC coefficients are coded (every block ends at once with EOB), which any decoder reads; a comment
segment carries the photo's id, so no two demo photos have the same bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence

# The standard luminance DC table (ITU T.81 Annex K.3): code lengths 1..16 and the categories 0..11.
_DC_BITS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_VALUES = tuple(range(12))
# An AC table with one symbol, EOB (0x00), coded as the single bit 0.
_AC_BITS = (1, *([0] * 15))
_AC_VALUES = (0,)
_QUANT = 8  # with a DC quantiser of 8 a flat block of grey level L codes as L - 128


def _codes(bits: Sequence[int], values: Sequence[int]) -> dict[int, tuple[int, int]]:
    """Canonical Huffman codes: symbol → (code, length)."""
    out: dict[int, tuple[int, int]] = {}
    code, k = 0, 0
    for length, count in enumerate(bits, start=1):
        for _ in range(count):
            out[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return out


_DC_CODES = _codes(_DC_BITS, _DC_VALUES)
_EOB = _codes(_AC_BITS, _AC_VALUES)[0]


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


class _Bits:
    def __init__(self) -> None:
        self.value, self.count = 0, 0

    def put(self, code: int, length: int) -> None:
        self.value = (self.value << length) | code
        self.count += length

    def bytes(self) -> bytes:
        pad = -self.count % 8
        raw = ((self.value << pad) | ((1 << pad) - 1)).to_bytes((self.count + pad) // 8, "big")
        return raw.replace(b"\xff", b"\xff\x00")  # byte stuffing


def tiny_jpeg(levels: Sequence[Sequence[int]], comment: str) -> bytes:
    """A JPEG of len(levels) × len(levels[0]) flat 8×8 blocks, each of the grey level (0–255) given."""
    rows, cols = len(levels), len(levels[0])
    header = _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    header += _segment(0xFE, comment.encode("utf-8")[:60000])
    header += _segment(0xDB, bytes([0, _QUANT, *([16] * 63)]))
    header += _segment(0xC0, struct.pack(">BHHB", 8, rows * 8, cols * 8, 1) + bytes([1, 0x11, 0]))
    header += _segment(0xC4, bytes([0x00, *_DC_BITS, *_DC_VALUES]) + bytes([0x10, *_AC_BITS, *_AC_VALUES]))
    header += _segment(0xDA, bytes([1, 1, 0x00, 0, 63, 0]))
    bits, previous = _Bits(), 0
    for row in levels:
        for level in row:
            dc = max(0, min(255, level)) - 128
            diff, previous = dc - previous, dc
            size = abs(diff).bit_length()
            bits.put(*_DC_CODES[size])
            if size:
                bits.put(diff if diff > 0 else diff + (1 << size) - 1, size)
            bits.put(*_EOB)
    return b"\xff\xd8" + header + bits.bytes() + b"\xff\xd9"
