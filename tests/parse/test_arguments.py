"""Argument text: the closing parenthesis, top-level splitting, string and fd-path decoding."""

from __future__ import annotations

import pytest

from syscall_parse.arguments import decode_string, fd_paths, find_close, split_args


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("", [], id="empty"),
        pytest.param("0", ["0"], id="one"),
        pytest.param('3, "a, b", 5', ["3", '"a, b"', "5"], id="string-with-comma"),
        pytest.param('"a\\", b", 1', ['"a\\", b"', "1"], id="escaped-quote"),
        pytest.param(
            "[1, 2], {a=1, b=[3, 4]}, f(x, y)",
            ["[1, 2]", "{a=1, b=[3, 4]}", "f(x, y)"],
            id="nesting",
        ),
        pytest.param("~[RTMIN RT_1], [CHLD TTOU]", ["~[RTMIN RT_1]", "[CHLD TTOU]"], id="bitsets"),
        pytest.param(
            "0x7ffc /* 39 vars, 2 x */, 8",
            ["0x7ffc /* 39 vars, 2 x */", "8"],
            id="comment-with-comma",
        ),
        pytest.param(
            "3</tmp/a, b>, AT_FDCWD</x, y>",
            ["3</tmp/a, b>", "AT_FDCWD</x, y>"],
            id="fd-path-with-comma",
        ),
        pytest.param(
            "11</dev/null<char 1:3>>, 1", ["11</dev/null<char 1:3>>", "1"], id="device-nesting"
        ),
        pytest.param(
            "5<TCP:[1.2.3.4:5->6.7.8.9:10]>, 2",
            ["5<TCP:[1.2.3.4:5->6.7.8.9:10]>", "2"],
            id="tcp-arrow",
        ),
        pytest.param('["ls", ...], 0x1', ['["ls", ...]', "0x1"], id="ellipsis"),
        pytest.param("[128 => 16], 4", ["[128 => 16]", "4"], id="in-out"),
        pytest.param("x < 3, y", ["x < 3", "y"], id="less-than-not-bracket"),
    ],
)
def test_split_args(text, expected):
    """Splits only at top-level ', ' and keeps each argument's raw text."""
    assert expected == split_args(text)


@pytest.mark.parametrize(
    ("text", "start", "expected"),
    [
        pytest.param('f("a) = 1", 2) = 0', 2, 13, id="string"),
        pytest.param("f(3</a)b>) = 0", 2, 9, id="fd-path"),
        pytest.param("f([1, (2)], {x=(3)}) = 0", 2, 19, id="nested"),
        pytest.param("f(/* ) */ 1) = 0", 2, 11, id="comment"),
        pytest.param('write(2, "\\n", 1', 6, -1, id="unclosed"),
    ],
)
def test_find_close(text, start, expected):
    """The index of the parenthesis closing the list, or -1 when the line has none."""
    assert expected == find_close(text, start)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        pytest.param('"\\0001\\0017\\33[0m\\3770"', b"\x001\x017\x1b[0m\xff0", id="greedy-octal"),
        pytest.param('"\\08"', b"\x008", id="octal-then-8"),
        pytest.param('"\\t\\n\\v\\f\\r\\"\\\\"', b'\t\n\v\f\r"\\', id="c-escapes"),
        pytest.param('"\\x68\\xc3\\xa9"', "hé".encode(), id="hex"),
        pytest.param('"AAAA"...', b"AAAA", id="truncated"),
        pytest.param('""...', b"", id="s0"),
        pytest.param('"plain"', b"plain", id="plain"),
    ],
)
def test_decode_string(token, expected):
    """C escapes decode to bytes; the '...' truncation marker is dropped."""
    assert expected == decode_string(token)


@pytest.mark.parametrize("token", ["NULL", '"unterminated', "0x7ffc"])
def test_decode_string_rejects_non_strings(token):
    """A token that is not a quoted string is a ValueError naming it."""
    with pytest.raises(ValueError, match="not a strace string"):
        decode_string(token)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        pytest.param("3</etc/hostname>, 0x7f, 4", ["/etc/hostname"], id="y"),
        pytest.param('AT_FDCWD</srv/work>, "x", O_RDONLY', ["/srv/work"], id="at-fdcwd"),
        pytest.param(
            "11</srv/a b\\74c\\76.txt>(deleted)", ["/srv/a b<c>.txt"], id="escaped-deleted"
        ),
        pytest.param("11</dev/null<char 1:3>>", ["/dev/null"], id="yy-device"),
        pytest.param("3<socket:[13477]>, 8<pipe:[13485]>", [], id="not-paths"),
        pytest.param('1, "3</etc/passwd>", 2', [], id="inside-string"),
        pytest.param(["3</a>", "4</b>"], ["/a", "/b"], id="list"),
        pytest.param("[{fd=3</a>, events=POLLIN}], 1", ["/a"], id="nested"),
    ],
)
def test_fd_paths(args, expected):
    """Paths of fd decorations outside strings, unescaped."""
    assert expected == fd_paths(args)
