"""Byte arithmetic in numpy over a chunk: fixed-width windows at many offsets at once, and
8 bytes at a time as the lanes of a little-endian uint64 word (SIMD within a register)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "HIGH",
    "LOW_BYTES",
    "SPAN",
    "ZEROS",
    "Windows",
    "eight_digits",
    "first_lane",
    "hex_numbers",
    "lanes",
    "last_lane",
    "run",
    "run_at",
    "word",
]


_FRONT = 8
"""Zero bytes before a chunk: what words and windows read there."""


class Windows:
    """Fixed-width byte windows of a chunk at many offsets at once: ``self(begin, width)``
    is the matrix of ``raw[b:b + width]`` for each ``b`` (a strided view, copied per row),
    bytes before the chunk and past its end read as zeros."""

    def __init__(self, raw: np.ndarray, widest: int) -> None:
        zeros = np.zeros(max(widest, 8), np.uint8)
        self._padded = np.concatenate((zeros[:_FRONT], raw, zeros))
        self._last = len(raw) + _FRONT  # the index of the first row past the chunk
        self._views: dict[int, np.ndarray] = {}
        self._words: np.ndarray | None = None

    def __call__(self, begin: np.ndarray, width: int) -> np.ndarray:
        view = self._views.get(width)
        if view is None:
            view = np.lib.stride_tricks.sliding_window_view(self._padded, width)
            self._views[width] = view
        return view[np.clip(begin + _FRONT, 0, self._last)]

    def words(self, begin: np.ndarray) -> np.ndarray:
        """The 8 bytes at each ``begin`` as one little-endian uint64 (byte 0 lowest)."""
        if self._words is None:
            self._words = np.ndarray((self._last + 1,), np.dtype("<u8"), self._padded.data, 0, (1,))
        return self._words[np.clip(begin + _FRONT, 0, self._last)]  # (take copies strided words)


HIGH = np.uint64(0x8080_8080_8080_8080)


def lanes(words: np.ndarray, low: int, high: int) -> np.ndarray:
    """The high bit of each byte of ``words`` whose value is in [low, high]. Exact for bytes
    below 128 (no carry crosses a byte); lines' buffers hold only those."""
    above_low = words + np.uint64((0x80 - low) * 0x0101_0101_0101_0101)
    above_high = words + np.uint64((0x7F - high) * 0x0101_0101_0101_0101)
    return above_low & ~above_high & HIGH


def first_lane(bits: np.ndarray) -> np.ndarray:
    """The index of the lowest byte whose high bit is set (8 where none)."""
    lowest = bits & (~bits + np.uint64(1))
    _, exponent = np.frexp(lowest.astype(np.float64))  # 2**(8 * byte + 7): exponent 8 * byte + 8
    return np.where(bits == 0, 8, (exponent.astype(np.int64) - 8) >> 3)


def last_lane(bits: np.ndarray) -> np.ndarray:
    """The index of the highest byte whose high bit is set (-1 where none). Such words round
    to doubles below the next power of two (the 7 bits under each high bit are clear), so
    the exponent names the highest bit."""
    _, exponent = np.frexp(bits.astype(np.float64))  # 2**(8 * byte + 7) <= bits: 8 * byte + 8
    return np.where(bits == 0, -1, (exponent.astype(np.int64) - 8) >> 3)


def word(text: bytes) -> np.uint64:
    """Up to 8 bytes as one word, the first in the lowest byte."""
    return np.uint64(int.from_bytes(text, "little"))


# SPAN[a, b]: the high bits of bytes a to b - 1.
SPAN = np.array(
    [[sum(0x80 << 8 * i for i in range(a, b)) for b in range(9)] for a in range(9)], np.uint64
)

# LOW_BYTES[n]: a mask of the n lowest bytes of a word.
LOW_BYTES = np.array([(1 << 8 * n) - 1 for n in range(9)], np.uint64)

ZEROS = word(b"00000000")


def eight_digits(words: np.ndarray) -> np.ndarray:
    """The number written by 8 ASCII digits (the first one in the lowest byte)."""
    words = words & np.uint64(0x0F0F_0F0F_0F0F_0F0F)
    words = (words * np.uint64(10 * 256 + 1)) >> np.uint64(8)
    words = ((words & np.uint64(0x00FF_00FF_00FF_00FF)) * np.uint64(100 * 65536 + 1)) >> np.uint64(
        16
    )
    words = ((words & np.uint64(0x0000_FFFF_0000_FFFF)) * np.uint64(10000 * (1 << 32) + 1)) >> (
        np.uint64(32)
    )
    return words.astype(np.int64)


_HEX_SHIFTS = np.arange(60, -4, -4, dtype=np.uint64)  # of the 16 digits before an end


def hex_numbers(window: Windows, end: np.ndarray, digits: np.ndarray) -> np.ndarray:
    """The numbers written by the ``digits`` (1 to 16) hexadecimal digits (either case) before
    each ``end`` (at least 16), as int64: their 64 bits read in two's complement."""
    text = window(end - 16, 16)
    nibbles = ((text & 0x0F) + 9 * (text >> 6)).astype(np.uint64)  # '0'-'9' 0-9, 'a'/'A' 10...
    nibbles[np.arange(16) < 16 - digits[:, None]] = 0  # the bytes before the digits
    return (nibbles << _HEX_SHIFTS).sum(axis=1, dtype=np.uint64).view(np.int64)


def run_at(window: Windows, begin: np.ndarray, width: int, mask: np.ndarray, *ranges: int):
    """``run`` of the ``width`` bytes at ``begin`` where ``mask``, else 0."""
    runs = np.zeros(len(begin), np.int64)
    rows = np.flatnonzero(mask)
    runs[rows] = run(window(begin[rows], width), *ranges)
    return runs


def run(window: np.ndarray, *ranges: int) -> np.ndarray:
    """How many leading bytes of each row are in the (low, high) ``ranges`` (all of them:
    the width, which the callers treat as too long)."""
    inside = np.zeros(window.shape, bool)
    for low, high in zip(ranges[::2], ranges[1::2], strict=True):
        inside |= (window >= low) & (window <= high)
    return np.where(inside.all(axis=1), window.shape[1], np.argmin(inside, axis=1))
