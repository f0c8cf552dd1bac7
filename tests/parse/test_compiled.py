"""The compiled parts of the fast engine against the numpy they replace: the line scan
(``_fast._linescan`` against ``scan``'s numpy scan: the same Scan, field by field, on odd lines
in every prefix layout, on lines of strace's characters in any order, and on real logs), and the
texts cut out of a chunk (``_fast._texts`` against string views)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from syscall_parse._fast import chunk_table
from syscall_parse._fast.kernels import Windows
from syscall_parse._fast.scan import COMPILED, scan_lines
from tests.parse.test_fast import LAYOUTS, ODD_LINES, PREFIXES, _capture

pytestmark = pytest.mark.skipif(not COMPILED, reason="the compiled scan is not built")

# The fields of a Tail and of Notices that say where a part lies: meaningful only in the
# lines holding that part (elsewhere each scan leaves what its method leaves).
_WHERE = {
    **dict.fromkeys(
        ("close", "result", "stop", "digits_end", "errno", "opener"),
        lambda scan: scan.tail.ended,
    ),
    "status_end": lambda scan: scan.notices.exited,
    "name_end": lambda scan: scan.notices.signal,
}


def assert_same_scan(data: bytes) -> None:
    """Both scans of ``data`` give the same classification and the same fields."""
    numpy_scan, compiled = scan_lines(data, compiled=False), scan_lines(data, compiled=True)
    for name in ("starts", "ends", "unsafe", "code", "fast"):
        assert getattr(numpy_scan, name).tolist() == getattr(compiled, name).tolist(), name
    assert np.array_equal(numpy_scan.clean, compiled.clean)
    for part in ("prefix", "tail", "notices"):
        expected, actual = getattr(numpy_scan, part), getattr(compiled, part)
        for name in expected.__dataclass_fields__:
            want, got = getattr(expected, name), getattr(actual, name)
            if name in _WHERE:
                rows = _WHERE[name](numpy_scan)
                want, got = want[rows], got[rows]
            assert want.dtype == got.dtype, (part, name)
            assert np.array_equal(want, got, equal_nan=want.dtype.kind == "f"), (part, name)


def _odd_log(lines: list[tuple[str, int]], prefix: str) -> bytes:
    text = "\n".join(
        line.replace("{pid}  {t} ", prefix).format(pid=pid, t="1795869296.749069", pad=" " * 45)
        for line, pid in lines
    )
    return (text + "\n").encode("utf-8", "surrogateescape")


@given(
    lines=st.lists(
        st.tuples(st.sampled_from(ODD_LINES), st.sampled_from([101, 102, 1234567])),
        max_size=30,
    ),
    prefix=st.sampled_from(PREFIXES),
)
def test_odd_lines_scan_alike(lines, prefix):
    """Odd lines and near misses, in every prefix layout."""
    assert_same_scan(_odd_log(lines, prefix))


# Lines of the characters strace's grammar turns on, in any order: every check of both scans
# meets bytes it does not expect, at every place in a line.
_GRAMMAR = st.text(
    alphabet='0123456789 .:<>()="\\?-+xEa_Zé\x1b\r',
    max_size=60,
)
_STRACE_PARTS = st.sampled_from(
    ["7  ", "1234567 ", "1795869296.749069 ", "12:34:56.749069 ", "     0.000131 ", "<... ",
     "read(", "read resumed>", ") = ", " = ", "-1 ENOENT (No such file)", "? ERESTARTSYS (x)",
     "0x7f", "3</a b>", " <0.000012>", " <unfinished ...>", "+++ exited with 0 +++",
     "--- SIGCHLD {si_signo=SIGCHLD} ---", "?", " resumed>", "SIG"]
)  # fmt: skip


@given(lines=st.lists(st.lists(_STRACE_PARTS | _GRAMMAR, max_size=8).map("".join), max_size=20))
def test_any_characters_scan_alike(lines):
    """Pieces of strace lines and stray characters in any order."""
    assert_same_scan(("\n".join(lines) + "\n").encode("utf-8", "surrogateescape"))


@pytest.mark.strace
@pytest.mark.parametrize("program", ["tracee", "files"])
@pytest.mark.parametrize("options", LAYOUTS)
def test_real_logs_scan_alike(run_strace, tmp_path, options, program):
    """Logs of real programs under strace, in every layout of the engine's tests."""
    assert_same_scan(_capture(run_strace, tmp_path, options, program).read_bytes())


@pytest.mark.skipif(chunk_table.cut is None, reason="the compiled texts are not built")
@given(
    text=st.text(st.characters(max_codepoint=127), max_size=200),
    rows=st.lists(st.tuples(st.integers(0, 199), st.integers(-3, 40), st.booleans()), max_size=40),
)
def test_texts_cut_as_views_cut_them(text, rows):
    """Slices of a text, null, empty or cut short by its end: the compiled cut gives the
    string views' array."""
    data = text.encode() + b"\n"
    begin = np.array([min(at, len(data) - 1) for at, _, _ in rows], np.int64)
    length = np.array([max(0, min(size, len(data) - at)) for at, (_, size, _) in
                       zip(begin.tolist(), rows, strict=True)], np.int64)  # fmt: skip
    valid = np.array([keep for _, _, keep in rows], bool)
    buffer, window = pa.py_buffer(data), Windows(np.frombuffer(data, np.uint8), 16)
    expected = chunk_table._views(buffer, begin, np.where(valid, length, 0), window, valid)
    assert (
        expected.to_pylist() == chunk_table._texts(buffer, begin, length, window, valid).to_pylist()
    )
