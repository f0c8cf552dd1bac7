# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The CSV lines of ``csv_form`` compiled: a record batch's rows written in one pass, each
field read from the Arrow buffers (validity bitmaps, values, string offsets and bytes,
dictionary indices), without the GIL but for the floats ``repr`` writes.

The form is ``csv_form``'s (its docstring): nulls ``\\N``; a text starting with a backslash
gets one more, a text holding ``,``, ``"``, a newline or a carriage return is quoted, its quotes
doubled; integers in decimal; booleans ``True``/``False``; floats as ``repr``. A float that is
whole microseconds below 2**33 (stamps, durations) is written here (``_float_texts``' reasoning:
its shortest text is its decimal with the trailing zeros dropped, an exponent below 1e-4); any
other is written by ``PyOS_double_to_string`` (``repr``'s own function), before the rows.
"""

from cpython.bytearray cimport PyByteArray_AS_STRING, PyByteArray_FromStringAndSize
from cpython.bytearray cimport PyByteArray_Resize
from cpython.mem cimport PyMem_Free
from libc.math cimport rint, signbit
from libc.stdint cimport int32_t, int64_t, uint8_t, uint64_t, uintptr_t
from libc.string cimport memcpy

import numpy as np
import pyarrow as pa

cdef extern from "Python.h":
    char* PyOS_double_to_string(double, char, int, int, int*) except NULL
    int Py_DTSF_ADD_DOT_0

cdef enum Kind:
    INTEGER, FLOAT, BOOLEAN, TEXT, CATEGORY

cdef struct Column:
    Kind kind
    const uint8_t* valid  # the validity bitmap; NULL: no nulls
    Py_ssize_t offset  # the array's offset into its buffers, in values
    const void* values  # int64, double, bits, int32 text offsets or int32 indices
    const uint8_t* data  # a text's bytes; a category's or a float's written texts
    const int64_t* bounds  # where each written text starts (CATEGORY, FLOAT)
    Py_ssize_t next  # the next written text of a FLOAT column

# The most bytes of a field but a text: an int64 in decimal ('-9223372036854775808'), a float
# of whole microseconds (10 digits, the point, 6), 'False'.
cdef enum:
    NUMBER_MAX = 20

# 1 for the bytes that make a text quoted.
cdef uint8_t SPECIAL[256]
for _byte in bytearray(b'",\n\r'):
    SPECIAL[_byte] = 1

# '00', '01', ... '99': the decimal digits of each number below 100.
cdef char PAIRS[200]
for _byte in range(100):
    PAIRS[2 * _byte] = 48 + _byte // 10
    PAIRS[2 * _byte + 1] = 48 + _byte % 10


cdef inline bint is_valid(const Column* c, Py_ssize_t row) noexcept nogil:
    cdef Py_ssize_t at = c.offset + row
    return c.valid == NULL or (c.valid[at >> 3] >> (at & 7)) & 1


cdef inline bint whole_micros(double value, int64_t* micros) noexcept nogil:
    """Whether ``value`` is n / 10**6 for an n below 2**33 * 10**6 (``micros``), not -0.0."""
    cdef double n = rint(value * 1e6)
    micros[0] = <int64_t>n if n == n and 0 <= n < 8.6e15 else 0
    return n / 1e6 == value and value >= 0 and value < 8589934592.0 and not signbit(value)


cdef inline char* put_unsigned(char* out, uint64_t value) noexcept nogil:
    """``value`` in decimal, two digits at a time."""
    cdef char digits[NUMBER_MAX]
    cdef int n = NUMBER_MAX
    while value >= 100:
        n -= 2
        memcpy(digits + n, PAIRS + 2 * (value % 100), 2)
        value //= 100
    if value >= 10:
        n -= 2
        memcpy(digits + n, PAIRS + 2 * value, 2)
    else:
        n -= 1
        digits[n] = 48 + value
    memcpy(out, digits + n, NUMBER_MAX - n)
    return out + NUMBER_MAX - n


cdef inline char* put_integer(char* out, int64_t value) noexcept nogil:
    if value < 0:
        out[0] = b'-'
        return put_unsigned(out + 1, <uint64_t>0 - <uint64_t>value)
    return put_unsigned(out, <uint64_t>value)


cdef inline char* put_micros(char* out, int64_t micros) noexcept nogil:
    """n / 10**6 as ``repr`` writes it, for n below 2**33 * 10**6: '1.5', '0.0', '1.2e-05'."""
    cdef int64_t fraction = micros % 1000000
    cdef int k
    if 0 < micros < 100:  # below 1e-4: an exponent
        if micros >= 10:
            out[0] = 48 + micros // 10
            out += 1
            if micros % 10:
                out[0] = b'.'
                out[1] = 48 + micros % 10
                out += 2
            memcpy(out, b"e-05", 4)
        else:
            out[0] = 48 + micros
            memcpy(out + 1, b"e-06", 4)
            out += 1
        return out + 4
    out = put_unsigned(out, <uint64_t>(micros // 1000000))
    out[0] = b'.'
    if fraction == 0:
        out[1] = b'0'
        return out + 2
    for k in range(5, 0, -2):
        memcpy(out + k, PAIRS + 2 * (fraction % 100), 2)
        fraction //= 100
    k = 6
    while out[k] == b'0':
        k -= 1
    return out + k + 1


cdef inline uint64_t has_byte(uint64_t word, uint8_t byte) noexcept nogil:
    """Not 0 if a byte of ``word`` is ``byte`` (one of a zero byte's tests in eight bytes)."""
    cdef uint64_t ones = 0x0101010101010101
    word ^= ones * byte
    return (word - ones) & ~word & (ones << 7)


cdef inline bint has_special(const uint8_t* text, Py_ssize_t size) noexcept nogil:
    """Whether a text holds a SPECIAL byte: eight bytes at a time, then the rest one by one."""
    cdef Py_ssize_t k = 0
    cdef uint64_t word
    while k + 8 <= size:
        memcpy(&word, text + k, 8)
        if has_byte(word, 34) | has_byte(word, 44) | has_byte(word, 10) | has_byte(word, 13):
            return True
        k += 8
    while k < size:
        if SPECIAL[text[k]]:
            return True
        k += 1
    return False


cdef inline char* put_text(char* out, const uint8_t* text, Py_ssize_t size) noexcept nogil:
    """A text as a field: a leading backslash doubled, quoted if it holds a SPECIAL byte."""
    cdef Py_ssize_t k
    cdef bint quote = has_special(text, size)
    if quote:
        out[0] = b'"'
        out += 1
    if size and text[0] == 92:
        out[0] = b'\\'
        out += 1
    if not quote:
        memcpy(out, text, size)
        return out + size
    for k in range(size):
        out[0] = text[k]
        out += 1
        if text[k] == 34:
            out[0] = b'"'
            out += 1
    out[0] = b'"'
    return out + 1


cdef inline char* put_written(char* out, const Column* c, Py_ssize_t index) noexcept nogil:
    """The ``index``-th of a column's written texts."""
    cdef Py_ssize_t size = c.bounds[index + 1] - c.bounds[index]
    memcpy(out, c.data + c.bounds[index], size)
    return out + size


cdef char* put_field(char* out, Column* c, Py_ssize_t row) noexcept nogil:
    """The field of ``row`` of a column at ``out``; where it ends."""
    cdef Py_ssize_t at = c.offset + row
    cdef const int32_t* offsets
    cdef double value
    cdef int64_t micros
    if not is_valid(c, row):
        out[0] = b'\\'
        out[1] = b'N'
        return out + 2
    if c.kind == INTEGER:
        return put_integer(out, (<const int64_t*>c.values)[at])
    if c.kind == FLOAT:
        value = (<const double*>c.values)[at]
        if whole_micros(value, &micros):
            return put_micros(out, micros)
        c.next += 1
        return put_written(out, c, c.next - 1)
    if c.kind == BOOLEAN:
        if ((<const uint8_t*>c.values)[at >> 3] >> (at & 7)) & 1:
            memcpy(out, b"True", 4)
            return out + 4
        memcpy(out, b"False", 5)
        return out + 5
    if c.kind == CATEGORY:
        return put_written(out, c, (<const int32_t*>c.values)[at])
    offsets = <const int32_t*>c.values
    return put_text(out, c.data + offsets[at], offsets[at + 1] - offsets[at])


cdef uintptr_t address(buffer):
    """Where an Arrow buffer's bytes are (0 for none)."""
    return 0 if buffer is None else buffer.address


def _written(texts: list) -> tuple:
    """Texts written one after the other: their bytes and where each starts (and the last
    ends)."""
    bounds = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(text) for text in texts], out=bounds[1:])
    return b"".join(texts), bounds


cdef bytes field_bytes(text):
    """A dictionary's value as its field (``put_text``), ``\\N`` for a null."""
    if text is None:
        return b"\\N"
    cdef bytes raw = text.encode()
    out = PyByteArray_FromStringAndSize(NULL, 2 * len(raw) + 3)
    cdef char* start = PyByteArray_AS_STRING(out)
    cdef char* end = put_text(start, <const uint8_t*><char*>raw, len(raw))
    return bytes(out[:end - start])


cdef Py_ssize_t first_repr(
    const Column* c, const double* values, Py_ssize_t rows, Py_ssize_t row
) noexcept nogil:
    """The first row from ``row`` on whose float ``repr`` writes (else ``rows``)."""
    cdef int64_t micros
    while row < rows and not (
        is_valid(c, row) and not whole_micros(values[c.offset + row], &micros)
    ):
        row += 1
    return row


cdef bytes float_repr(double value):
    """``repr(value)``, by its own function."""
    cdef char* text = PyOS_double_to_string(value, b'r', 0, Py_DTSF_ADD_DOT_0, NULL)
    cdef bytes written = text
    PyMem_Free(text)
    return written


cdef Py_ssize_t describe(array, Column* c, list keep) except -1:
    """Fill ``c`` from an Arrow array of the schema's types (written texts kept alive in
    ``keep``); the most bytes its fields take."""
    kind = array.type
    buffers = array.buffers()
    cdef Py_ssize_t rows = len(array), row, first, last
    cdef const int32_t* offsets
    cdef const double* values
    c.offset = array.offset
    c.valid = <const uint8_t*>address(buffers[0]) if array.null_count else NULL
    c.values = <const void*>address(buffers[1])
    c.next = 0
    if pa.types.is_dictionary(kind):
        if kind.index_type != pa.int32() or kind.value_type != pa.string():
            raise TypeError(f"no CSV form for {kind}")
        texts = [field_bytes(text) for text in array.dictionary.to_pylist()]
        data, bounds = _written(texts)
        keep += [data, bounds]
        c.kind = CATEGORY
        c.data = <const uint8_t*><char*>data
        c.bounds = <const int64_t*><uintptr_t>bounds.ctypes.data
        return rows * max([2] + [len(text) for text in texts])
    if kind == pa.int64():
        c.kind = INTEGER
        return rows * NUMBER_MAX
    if kind == pa.bool_():
        c.kind = BOOLEAN
        return rows * 5
    if kind == pa.float64():
        c.kind = FLOAT
        values = <const double*>c.values
        texts = []
        with nogil:  # most columns hold none (stamps, durations)
            row = first_repr(c, values, rows, 0)
        while row < rows:
            texts.append(float_repr(values[c.offset + row]))
            row = first_repr(c, values, rows, row + 1)
        data, bounds = _written(texts)
        keep += [data, bounds]
        c.data = <const uint8_t*><char*>data
        c.bounds = <const int64_t*><uintptr_t>bounds.ctypes.data
        return rows * NUMBER_MAX + len(data)
    if kind != pa.string():
        raise TypeError(f"no CSV form for {kind}")
    c.kind = TEXT
    c.data = <const uint8_t*>address(buffers[2])
    offsets = <const int32_t*>c.values
    first, last = offsets[c.offset], offsets[c.offset + rows]
    return 2 * (last - first) + 3 * rows


def csv_lines(batch) -> bytearray:
    """The CSV lines of a batch's rows, each ending with a newline. Its columns are int64,
    float64, bool, string, or dictionaries (int32 indices) of strings."""
    cdef Py_ssize_t rows = batch.num_rows, width = batch.num_columns, row, k
    cdef Py_ssize_t size = rows * width
    if width == 0:
        return bytearray()
    keep = []
    described = np.empty(width * sizeof(Column), np.uint8)
    cdef Column* columns = <Column*><uintptr_t>described.ctypes.data
    for k in range(width):
        size += describe(batch.column(k), &columns[k], keep)
    out = PyByteArray_FromStringAndSize(NULL, size)
    cdef char* start = PyByteArray_AS_STRING(out)
    cdef char* end = start
    with nogil:
        for row in range(rows):
            for k in range(width):
                end = put_field(end, &columns[k], row)
                end[0] = b','
                end += 1
            (end - 1)[0] = b'\n'
    PyByteArray_Resize(out, end - start)
    return out
