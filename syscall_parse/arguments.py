"""Argument text of a syscall line: find the end of the list, split it, decode strings and fds.

strace prints arguments as C-like text: strings with escapes, ``[...]`` arrays, ``{...}``
structs, ``(...)`` expressions, ``/* ... */`` comments and ``-y`` fd decorations
(``3</etc/hosts>``, ``AT_FDCWD</srv>``, ``11</dev/null<char 1:3>>``). A tokenizer that knows
these shapes finds the ``)`` closing the list and the top-level ``", "`` separators; raw text is
never rewritten.
"""

from __future__ import annotations

import re

__all__ = ["DECORATION", "decode_string", "fd_paths", "find_close", "split_args"]

# The characters the tokenizer stops at; everything between them is plain text: a string's
# '"', a comment's '/', brackets '(' '[' '{' ')' ']' '}' '<', and the ',' of a separator.
_STOP = re.compile(r'["/()\[\]{}<,]')
# An fd or pid decoration, starting at its '<':
# '</etc/hosts>' '<TCP:[1.2.3.4:5->6.7.8.9:10]>' '</dev/null<char 1:3>>' '</memfd:x>(deleted)'.
# A '->' followed by an address is part of a socket name, not the closing '>'. Runs of plain
# characters are one class repeat, so the group repeats once per '-', escape or nested '<...>'
# (the engine keeps state for each repeat of a group: per character, a 100 MB path took GBs).
DECORATION = re.compile(
    r"<[^<>\\-]*(?:(?:-(?:>(?=[\d\[]))?|\\.|<[^<>]*>)[^<>\\-]*)*>(?:\(deleted\))?"
)

# One C escape in a string: '\\n', '\\x41', '\\0', '\\177'.
_ESCAPE = re.compile(r"\\(?:x[0-9a-fA-F]{2}|[0-7]{1,3}|.)", re.DOTALL)

_SIMPLE_ESCAPES = {
    "n": 10,
    "t": 9,
    "r": 13,
    "v": 11,
    "f": 12,
    "a": 7,
    "b": 8,
    "e": 27,
    '"': 34,
    "\\": 92,
    "'": 39,
    "?": 63,
}

_OPEN = {"(": ")", "[": "]", "{": "}"}

# Fast path: with no string, bracket, comment or decoration before it, the first ')' closes.
_PLAIN = re.compile(r'[^"()\[\]{}<>/]*\)')


def _string_end(text: str, start: int) -> int:
    """The index after the ``"`` that closes a string whose text starts at ``start``, or -1:
    ``'a\\"b" ...'`` => after ``b"``. A quote after an odd run of backslashes is escaped. Found
    with ``str.find`` in constant memory (a regex repeating a group per character kept state
    for each: gigabytes for a 100 MB string)."""
    pos = start
    while (quote := text.find('"', pos)) >= 0:
        run = quote
        while run > pos and text[run - 1] == "\\":
            run -= 1
        if (quote - run) % 2 == 0:
            return quote + 1
        pos = quote + 1
    return -1


def _walk(text: str, start: int):
    """Yield ``(kind, position, end)`` of the structural tokens from ``start`` at depth 0.

    ``kind`` is ``","`` for a top-level separator, ``")"`` for the bracket closing the list
    (then the walk stops), ``"<"`` for an fd decoration (at any depth) at ``position:end``.
    A ``"`` that no later ``"`` closes, or a ``/*`` that no ``*/`` ends, is plain text; once
    one is found, every later one is too (each would scan to the same end), so none is
    scanned again: the walk is linear in the length of the text.
    """
    stack: list[str] = []
    search = _STOP.search
    strings_end = comments_end = True  # whether a later string or comment can still end
    pos = start
    while (match := search(text, pos)) is not None:
        at = match.start()
        first = text[at]
        pos = at + 1
        if first == '"':
            if strings_end:
                end = _string_end(text, pos)
                if end >= 0:
                    pos = end
                else:
                    strings_end = False
            continue
        if first == "/":
            if comments_end and text.startswith("*", pos):
                end = text.find("*/", pos + 1)
                if end >= 0:
                    pos = end + 2
                else:
                    comments_end = False
            continue
        if first == ",":
            if text.startswith(" ", pos):
                pos += 1
                if not stack:
                    yield ",", at, pos
            continue
        if first == "<":
            # A decoration opens directly after a digit ('3<') or after 'AT_FDCWD'.
            if at and (text[at - 1].isdecimal() or text.endswith("AT_FDCWD", 0, at)):
                decoration = DECORATION.match(text, at)
                if decoration is not None:
                    pos = decoration.end()
                    yield "<", at, pos
            continue
        if first in _OPEN:
            stack.append(_OPEN[first])
        elif stack:
            if stack[-1] == first:
                stack.pop()
        elif first == ")":
            yield ")", at, pos
            return


def find_close(text: str, start: int = 0) -> int:
    """Index of the ``)`` that closes an argument list whose text starts at ``start``, or -1.

    ``find_close('f("a) = 1", 2) = 0', 2)`` => 13.
    """
    plain = _PLAIN.match(text, start)
    if plain is not None:
        return plain.end() - 1
    for kind, pos, _ in _walk(text, start):
        if kind == ")":
            return pos
    return -1


def split_args(text: str) -> list[str]:
    """Split the text of an argument list at its top-level ``", "`` separators.

    ``split_args('3</a, b>, "x, y", [1, 2]')`` => ``['3</a, b>', '"x, y"', '[1, 2]']``.
    An unmatched closing bracket ends nothing: the rest stays in the last argument.
    """
    if not text:
        return []
    parts = []
    begin = 0
    for kind, pos, end in _walk(text + "\0", 0):
        if kind == ",":
            parts.append(text[begin:pos])
            begin = end
    parts.append(text[begin:])
    return parts


def decode_string(token: str) -> bytes:
    """The bytes of a C-escaped strace string token, without its ``...`` truncation marker.

    Octal escapes are read greedily up to three digits, as strace writes them:
    ``decode_string(r'"\\0001\\33[0m"...')`` => ``b"\\x001\\x1b[0m"``.
    Raises ValueError if ``token`` is not a quoted string.
    """
    body = token[:-3] if token.endswith('"...') else token
    if len(body) < 2 or body[0] != '"' or body[-1] != '"':
        raise ValueError(f"not a strace string: {token!r}")
    out = bytearray()
    inner = body[1:-1]
    pos = 0
    for match in _ESCAPE.finditer(inner):
        out += inner[pos : match.start()].encode("utf-8", "surrogateescape")
        escape = match.group()[1:]
        if escape[0] == "x" and len(escape) == 3:
            out.append(int(escape[1:], 16))
        elif escape[0] in "01234567":
            out.append(int(escape, 8) & 0xFF)
        else:
            out.append(_SIMPLE_ESCAPES.get(escape, ord(escape[0]) & 0xFF))
        pos = match.end()
    out += inner[pos:].encode("utf-8", "surrogateescape")
    return bytes(out)


# '\74' and '\76' are how strace 4.22+ escapes '<' and '>' inside a decorated path.
_PATH_ESCAPE = re.compile(r"\\(?:[0-7]{1,3}|\\)")
# A nested device suffix in a -yy decoration: '/dev/null<char 1:3>' => '/dev/null'.
_DEVICE_SUFFIX = re.compile(r"<(?:char|block) \d+:\d+>$")


def _unescape_path(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        escape = match.group()[1:]
        return "\\" if escape == "\\" else chr(int(escape, 8))

    return _PATH_ESCAPE.sub(replace, text)


def fd_paths(args: str | list[str]) -> list[str]:
    """Paths named by the ``-y``/``-yy`` fd decorations of an argument list (not in strings).

    ``fd_paths('3</tmp/a\\74b\\76>, AT_FDCWD</srv>, 4<pipe:[5]>')`` => ``['/tmp/a<b>', '/srv']``:
    only decorations holding a path (starting with ``/``) count; ``(deleted)`` and the device
    suffix of ``-yy`` are dropped. Accepts the raw text or the list from ``split_args``.
    """
    texts = args if isinstance(args, list) else [args]
    paths = []
    for text in texts:
        for kind, pos, end in _walk(text + "\0", 0):
            if kind != "<":
                continue
            inner = text[pos + 1 : end]
            if inner.endswith("(deleted)"):
                inner = inner[: -len("(deleted)")]
            inner = inner[:-1]  # the closing '>'
            if inner.startswith("/"):
                paths.append(_unescape_path(_DEVICE_SUFFIX.sub("", inner)))
    return paths
