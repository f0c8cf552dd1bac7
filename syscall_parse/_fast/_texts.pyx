# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
"""Texts cut out of a chunk compiled: the buffers of an Arrow string array of slices of the
chunk's bytes, in one pass to size them and one to copy them (``chunk_table``)."""

from libc.stdint cimport int32_t, int64_t, uint8_t
from libc.string cimport memcpy

import numpy as np


def cut(
    const uint8_t[::1] data,
    const int64_t[::1] begin,
    const int64_t[::1] length,
    const uint8_t[::1] keep,
):
    """The offsets (int32) and bytes of the string array of ``data[begin:begin + length]``
    for each row ``keep`` selects, the empty text for the others (and for a negative
    length). The texts of a chunk are far below 2 GiB."""
    cdef Py_ssize_t rows = begin.shape[0], i
    cdef int64_t size, total = 0
    offsets_array = np.empty(rows + 1, np.int32)
    cdef int32_t[::1] offsets = offsets_array
    offsets[0] = 0
    with nogil:
        for i in range(rows):
            if keep[i] and length[i] > 0:
                total += length[i]
            offsets[i + 1] = <int32_t>total
    values_array = np.empty(total, np.uint8)
    cdef uint8_t[::1] values = values_array
    with nogil:
        for i in range(rows):
            size = offsets[i + 1] - offsets[i]
            if size:
                memcpy(&values[offsets[i]], &data[begin[i]], size)
    return offsets_array, values_array
