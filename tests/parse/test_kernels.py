"""The byte arithmetic of the fast engine against Python's reading of the same text."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from syscall_parse._fast.kernels import Windows, eight_digits, hex_numbers
from syscall_parse.lines import return_value

HEX = st.text("0123456789abcdefABCDEF", min_size=1, max_size=16)


@given(st.lists(HEX, min_size=1, max_size=20), st.integers(0, 7))
def test_hex_numbers_read_as_the_reference(digits, gap):
    """1 to 16 hex digits, at any offset after at least 16 bytes, read as ``return_value``
    reads '0x' and them: the register's 64 bits, signed."""
    texts = [f"0x{text}" for text in digits]
    data = "".join(" " * (16 + gap) + text for text in texts).encode()
    ends = np.cumsum([16 + gap + len(text) for text in texts])
    window = Windows(np.frombuffer(data, np.uint8), 16)
    lengths = np.array([len(text) for text in digits])
    expected = [return_value(text) for text in texts]
    assert expected == hex_numbers(window, ends, lengths).tolist()


@given(st.lists(st.integers(0, 99_999_999), min_size=1, max_size=20))
def test_eight_digits_read_as_int(numbers):
    """Eight ASCII digits, as little-endian words, read as ``int`` reads them."""
    words = np.frombuffer("".join(f"{n:08d}" for n in numbers).encode(), "<u8")
    assert numbers == eight_digits(words).tolist()


@given(st.binary(max_size=40), st.lists(st.integers(-12, 52), min_size=1, max_size=20))
def test_words_read_bytes_outside_the_chunk_as_zeros(data, begins):
    """The 8 bytes at any offset, before the chunk's start and past its end included."""
    window = Windows(np.frombuffer(data, np.uint8), 8)
    padded = bytes(12) + data + bytes(60)
    expected = [int.from_bytes(padded[12 + at : 20 + at], "little") for at in begins]
    assert expected == window.words(np.array(begins)).tolist()
