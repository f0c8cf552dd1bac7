"""Reading strace's own -c/-C table: column sets, blank errors, old fixed widths, 32-bit tables."""

from __future__ import annotations

from syscall_parse.strace_summary import SummaryRow, read_summary

DEFAULT = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 13.57    0.001097          32        34        13 openat
  7.45    0.000602          26        23           close
------ ----------- ----------- --------- --------- ----------------
100.00    0.001699          29        57        13 total
"""


def test_default_table():
    """Rows in strace's order with every column; a blank errors cell is 0."""
    summary = read_summary(DEFAULT.splitlines())
    table = summary.native
    assert (
        SummaryRow("openat", 34, 13, 0.001097, 13.57, 32),
        SummaryRow("close", 23, 0, 0.000602, 7.45, 26),
    ) == table.rows
    assert SummaryRow("total", 57, 13, 0.001699, 100.0, 29) == table.total
    assert {"openat": (34, 13), "close": (23, 0)} == table.counts()


def test_U_columns_name_first():
    """-U name,calls,errors,total-time,min-time,max-time: sliced by the divider's dash runs."""
    text = """\
syscall              calls    errors     seconds shortest  longest
---------------- --------- --------- ----------- -------- --------
access                   1         1    0.000000 0.000000 0.000000
arch_prctl               1              0.000003 0.000003 0.000003
---------------- --------- --------- ----------- -------- --------
total                    2         1    0.000003 0.000000 0.000003
"""
    table = read_summary(text.splitlines()).native
    assert {"access": (1, 1), "arch_prctl": (1, 0)} == table.counts()
    assert 0.000003 == table.rows[1].seconds


def test_table_at_end_of_C_log_with_32bit_table():
    """The table after a -C trace is found; a second table after the 32-bit banner is kept."""
    trace = 'write(1, "x", 1) = 1\n+++ exited with 0 +++\n'
    text = (
        trace
        + DEFAULT
        + "System call usage summary for 32 bit mode:\n"
        + DEFAULT.replace("openat", "open  ")
    )
    summary = read_summary(text.splitlines(keepends=True))
    assert [None, "32 bit"] == [t.mode for t in summary.tables]
    assert {"open": (34, 13), "close": (23, 0)} == summary.tables[1].counts()


def test_old_fixed_width_with_long_name_and_blank_average():
    """4.x: fixed widths, a long name overflowing the 16 dashes, no usecs/call in total."""
    text = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000010          10         1           sched_get_priority_max
------ ----------- ----------- --------- --------- ----------------
100.00    0.000010                     1           total
"""
    table = read_summary(text.splitlines()).native
    assert {"sched_get_priority_max": (1, 0)} == table.counts()
    assert None is table.total.usecs_per_call


def test_no_table():
    """A log without a table has no tables."""
    assert () == read_summary(["getpid() = 1\n"]).tables
