"""What each line of a chunk is (its code), and which halves of split calls join (``pairs``)."""

from __future__ import annotations

import numpy as np

from syscall_parse.engine import FastPathUnsupported

__all__ = [
    "EXIT",
    "JOINED",
    "JOINED_EDGE",
    "MESSAGE",
    "RESUMED",
    "SIGNAL",
    "SKIP",
    "UNFINISHED",
    "UNPARSED",
    "WHOLE",
    "pairs",
]


# The code of a line in chunk tables and profile arrays (int8): plain ints, since numpy
# compares an array with an IntEnum member several times slower than with an int. From
# UNPARSED on, lines that are not events.
WHOLE = 0  # a call on one line, or the reference's reading of a whole call
UNFINISHED = 1  # 'name(args <unfinished ...>'
RESUMED = 2  # '<... name resumed>args) = result'
SIGNAL = 3
EXIT = 4
MESSAGE = 5
# A call whose halves a frame worker joined in its chunk; an edge one is a state row the
# parent still needs (the first of its pid in the chunk, or the next of a lone unfinished call,
# which it yields).
JOINED = 6
JOINED_EDGE = 7
UNPARSED = 8
SKIP = 9  # a line that continues an event, or a line of a -c table


def pairs(code: np.ndarray, pid: np.ndarray, name_ids: np.ndarray):
    """Adjacent state rows of each pid: (sorted order, same-pid mask, joined mask).

    Raises FastPathUnsupported when a resumed half follows its pid's unfinished call of another
    name (the reference then keeps the pending call: not reproduced here)."""
    # pid and position in one int64 key: a plain sort of unique keys is a stable sort by pid.
    order = np.sort((pid << 32) | np.arange(len(pid))) & 0xFFFF_FFFF
    spid, scode, sname = pid[order], code[order], name_ids[order]
    same = spid[1:] == spid[:-1]
    pair = same & (scode[:-1] == UNFINISHED) & (scode[1:] == RESUMED)
    joined = pair & (sname[:-1] == sname[1:])
    if (pair & ~joined).any():
        raise FastPathUnsupported("a resumed call of another name than its pid's pending call")
    return order, same, joined
