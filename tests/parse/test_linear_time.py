"""No line makes the parser hang: every pattern it compiles runs in time linear in the line.

Two checks, both over every compiled pattern of ``syscall_parse``, found by introspection (a
new pattern is covered the day it is written, with the methods its module calls on it):

- by construction: each unbounded repeat stops at a character that cannot continue it (the
  first characters of its body and of what may follow it are disjoint), and the alternatives
  inside a repeat start with different characters. Then the regex engine never has two ways to
  go on, so it never backtracks more than one step: no ``(\\w+\\s*)+`` (exponential on a line of
  words), no ``[^\\]\\s]*:[^\\]]*`` (quadratic on a line of ':').
- by running: adversarial lines of 1 MB (runs of words and punctuation, nested brackets and
  quotes, one character repeated) through each pattern, ``parse_line``, ``iter_events`` and the
  fast engine, in a subprocess with a bound of minutes for work of a second or two: a hang
  fails the test, a slow machine does not.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
import subprocess
import sys
import textwrap

import pytest

import syscall_parse

try:  # Python 3.11+
    from re import _constants as sre_constants
    from re import _parser as sre_parse
except ImportError:  # Python 3.10
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

# The bound of each subprocess: the work takes seconds; only a hang comes near it.
BOUND_SECONDS = 300
SIZE = 1 << 20


def _modules() -> list:
    names = [syscall_parse.__name__] + [
        info.name
        for info in pkgutil.walk_packages(syscall_parse.__path__, f"{syscall_parse.__name__}.")
    ]
    return [importlib.import_module(name) for name in names]


def _methods(module, name: str) -> set[str]:
    """The methods the module's code calls on its pattern ``name`` (``_TOKEN.search`` =>
    'search'); every method when the pattern is passed on without one."""
    tree = ast.parse(inspect.getsource(module))
    methods: set[str] = set()
    owners = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            owners.add(id(node.value))
            if node.value.id == name:
                methods.add(node.attr)
    for node in ast.walk(tree):
        passed_on = isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)
        if passed_on and node.id == name and id(node) not in owners:
            methods.add("*")
    return methods


def patterns() -> dict[str, tuple[re.Pattern[str], set[str]]]:
    """Every compiled pattern of syscall_parse by ``module.NAME``, with the methods used on it
    (in the module that defines it and in those that import it)."""
    found: dict[int, tuple[str, re.Pattern[str], set[str]]] = {}
    for module in _modules():
        for name, value in vars(module).items():
            if isinstance(value, re.Pattern):
                key = found.setdefault(id(value), (f"{module.__name__}.{name}", value, set()))
                key[2].update(_methods(module, name))
    result = {}
    for label, pattern, methods in found.values():
        used = {m for m in methods if m in {"match", "fullmatch", "search", "sub", "finditer"}}
        result[label] = (pattern, used if used and "*" not in methods else {"match", "search"})
    return result


PATTERNS = patterns()

# --- by construction: a small analysis of the parsed pattern (sre_parse's tree).

END = -1  # the end of the text, in first sets
_UNIVERSE = [*range(0x300), 0x85, 0xA0, 0x660, 0x1680, 0x2028, 0x3000, 0xDC80, 0xDCFF, 0xFFFD]
_CATEGORIES = {
    sre_constants.CATEGORY_DIGIT: r"\d",
    sre_constants.CATEGORY_NOT_DIGIT: r"\D",
    sre_constants.CATEGORY_SPACE: r"\s",
    sre_constants.CATEGORY_NOT_SPACE: r"\S",
    sre_constants.CATEGORY_WORD: r"\w",
    sre_constants.CATEGORY_NOT_WORD: r"\W",
}
_UNBOUNDED = sre_constants.MAXREPEAT
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_REPEATS |= {getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.MAX_REPEAT)}


def _chars(op, arg, dotall: bool) -> frozenset[int]:
    """The characters of the universe one character item matches."""
    if op is sre_constants.LITERAL:
        return frozenset([arg])
    if op is sre_constants.NOT_LITERAL:
        return frozenset(c for c in _UNIVERSE if c != arg)
    if op is sre_constants.ANY:
        return frozenset(c for c in _UNIVERSE if dotall or c != 10)
    if op is sre_constants.CATEGORY:
        test = re.compile(_CATEGORIES[arg])
        return frozenset(c for c in _UNIVERSE if test.fullmatch(chr(c)))
    assert op is sre_constants.IN, op
    inside: set[int] = set()
    negate = False
    for item_op, item_arg in arg:
        if item_op is sre_constants.NEGATE:
            negate = True
        elif item_op is sre_constants.RANGE:
            inside |= {c for c in _UNIVERSE if item_arg[0] <= c <= item_arg[1]}
        else:
            inside |= _chars(item_op, item_arg, dotall)
    return frozenset(c for c in _UNIVERSE if (c in inside) != negate)


class _Analysis:
    """First sets and the two rules, over one pattern's tree."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.dotall = bool(pattern.flags & re.DOTALL)
        self.problems: list[str] = []

    def first(self, items) -> tuple[frozenset[int], bool]:
        """(first characters, nullable) of a sequence of items."""
        first: frozenset[int] = frozenset()
        for op, arg in items:
            item_first, nullable = self.first_of(op, arg)
            first |= item_first
            if not nullable:
                return first, False
        return first, True

    def first_of(self, op, arg) -> tuple[frozenset[int], bool]:
        if op in (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.ANY,
                  sre_constants.IN, sre_constants.CATEGORY):  # fmt: skip
            return _chars(op, arg, self.dotall), False
        if op is sre_constants.SUBPATTERN:
            return self.first(arg[-1])
        if op is sre_constants.BRANCH:
            firsts = [self.first(alternative) for alternative in arg[1]]
            return frozenset().union(*(f for f, _ in firsts)), any(n for _, n in firsts)
        if op in _REPEATS:
            first, nullable = self.first(arg[2])
            return first, nullable or arg[0] == 0
        if op is sre_constants.AT:
            if arg in (sre_constants.AT_END, sre_constants.AT_END_STRING):
                return frozenset([END, 10]), False
            return frozenset(), True
        # Lookarounds, atomic groups...: transparent (more follow, never less: conservative).
        return frozenset(), True

    def check(self, items, follow: frozenset[int], in_repeat: bool) -> None:
        """Check a sequence whose continuation starts with ``follow``."""
        for index, (op, arg) in enumerate(items):
            rest_first, rest_nullable = self.first(items[index + 1 :])
            after = rest_first | (follow if rest_nullable else frozenset())
            if op in _REPEATS:
                body_first, _ = self.first(arg[2])
                unbounded = arg[1] == _UNBOUNDED
                if unbounded and body_first & after:
                    shared = "".join(chr(c) for c in sorted(body_first & after) if c >= 0)
                    self.problems.append(f"a repeat may stop or go on at {shared[:10]!r}")
                self.check(arg[2], body_first | after, in_repeat or unbounded)
            elif op is sre_constants.SUBPATTERN:
                self.check(arg[-1], after, in_repeat)
            elif op is sre_constants.BRANCH:
                seen: frozenset[int] = frozenset()
                for alternative in arg[1]:
                    first, nullable = self.first(alternative)
                    first |= after if nullable else frozenset()
                    if in_repeat and first & seen:
                        self.problems.append("alternatives in a repeat start alike")
                    seen |= first
                    self.check(alternative, after, in_repeat)


def _problems(pattern: re.Pattern[str], methods: set[str]) -> list[str]:
    analysis = _Analysis(pattern)
    # After the pattern: nothing for match and search (the match ends there), the end of the
    # text for fullmatch.
    follow = frozenset([END]) if "fullmatch" in methods else frozenset()
    analysis.check(sre_parse.parse(pattern.pattern, pattern.flags), follow, False)
    return analysis.problems


@pytest.mark.parametrize("label", sorted(PATTERNS))
def test_pattern_is_linear_by_construction(label):
    """Each unbounded repeat stops where its body cannot go on; alternatives in a repeat
    start with different characters."""
    pattern, methods = PATTERNS[label]
    assert [] == _problems(pattern, methods), pattern.pattern


@pytest.mark.parametrize(
    ("source", "methods"),
    [
        pytest.param(r"\s*(?:(?:calls|syscall|[\w%/-]+)\s*)+$", {"match"}, id="old-summary-header"),
        pytest.param(r"\[[^\]\s]*:[^\]]*\] ", {"match"}, id="old-secontext"),
        pytest.param(r"(a+)+b", {"match"}, id="nested-repeats"),
        pytest.param(r"(?:a\d|\w\w)*!", {"match"}, id="alternatives-alike"),
        pytest.param(r"-+(?: -+)*\s*$", {"match"}, id="old-divider"),
    ],
)
def test_the_analysis_finds_backtracking_shapes(source, methods):
    """The analysis flags the shapes that backtracked here before, and the textbook one."""
    assert [] != _problems(re.compile(source), methods)


def test_every_pattern_is_found():
    """The introspection sees the patterns of every module, with the methods used on them."""
    assert {"match"} == PATTERNS["syscall_parse.lines._CALL"][1]
    assert {"search"} == PATTERNS["syscall_parse.arguments._STOP"][1]
    assert {"match"} <= PATTERNS["syscall_parse.arguments.DECORATION"][1]
    assert any(label.startswith("syscall_parse.strace_summary.") for label in PATTERNS)


# --- by running: adversarial lines.

ADVERSARIAL = {
    "sentence": "a fairly ordinary English sentence, from some docstring, ends here " * 4 + ".",
    "header-words": "calls syscall seconds errors % time usecs/call " * 2 + "!",
    "word": "w" * 64,
    "words-punctuation": "word, word; (word) [word] {word} <word> 'word' \"word\" = ",
    "nested-brackets": "f(" + "([{<" * 16,
    "closing-brackets": ")]}>" * 16,
    "quotes": '"\\"' * 16,
    "escapes": "\\" * 64,
    "comments": "/*a" * 16,
    "secontext": "[a:" * 16,
    "decorations": "1<a " * 16,
    "sockets": "3<->1->[" * 8,
    "results": ") = 1 <0" * 8,
    "signals": "--- " * 16,
    "exits": "+++ " * 16,
    "pids": "[pid " * 16,
    "messages": "/strace: " * 8,
    "numbers": "1." * 32,
    "hex": "0x" * 32,
    "dividers": "- " * 32,
    **{f"repeated-{char!r}": char * 64 for char in ' -0a:[(<"/\\=.,%>)]{}*+x'},
}
HEADS = ["", "7  f(", "7  1795869296.749069 <... f resumed>", "[pid  7] 11:57:46.402136 "]


def _adversarial_lines(every_head: bool = True) -> list[tuple[str, str]]:
    """(name, line) of about 1 MB each: every piece repeated, after every kind of line head
    (or after one of them in turn), ending in a character that makes a match fail late."""
    lines = []
    for number, (name, piece) in enumerate(ADVERSARIAL.items()):
        body = piece * (SIZE // len(piece))
        for head in HEADS if every_head else [HEADS[number % len(HEADS)]]:
            lines.append((f"{head!r}+{name}", head + body + "!"))
    return lines


def _run_bounded(code: str, *args: str) -> None:
    """Run ``code`` in a fresh interpreter; it prints each case as it starts it, so that a hang
    names its case."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", textwrap.dedent(code), *args],
            capture_output=True,
            text=True,
            timeout=BOUND_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        last = out.strip().splitlines()[-1:] or ["(before any case)"]
        pytest.fail(f"no end after {BOUND_SECONDS} s; last case started: {last[0]}")
    assert 0 == done.returncode, done.stderr[-3000:]


PATTERN_RUNNER = """
    import importlib, json, sys
    with open(sys.argv[1]) as handle:
        cases, texts = json.load(handle)
    for label, methods in cases:
        module, name = label.rsplit(".", 1)
        pattern = getattr(importlib.import_module(module), name)
        for text in texts:
            print(label, text[:40], flush=True)
            for method in methods:
                if method == "sub":
                    pattern.sub("", text)
                elif method == "finditer":
                    for _ in pattern.finditer(text):
                        pass
                else:
                    getattr(pattern, method)(text)
"""


@pytest.mark.slow
def test_patterns_on_adversarial_lines(tmp_path):
    """Every pattern, with every method its module calls on it, on every adversarial line."""
    cases = [(label, sorted(methods)) for label, (_, methods) in PATTERNS.items()]
    texts = [text for _, text in _adversarial_lines()]
    work = tmp_path / "cases.json"
    work.write_text(json.dumps([cases, texts]))
    _run_bounded(PATTERN_RUNNER, str(work))


PARSER_RUNNER = """
    import sys, time
    from pathlib import Path
    from syscall_parse.counts import count_trace
    from syscall_parse.lines import parse_line
    from syscall_parse.stream import iter_events
    from syscall_parse.table import read_trace

    log = Path(sys.argv[1])
    lines = log.read_text().splitlines(keepends=True)
    for number, line in enumerate(lines, 1):
        print("parse_line", number, line[:40], flush=True)
        parse_line(line)
    print("iter_events", flush=True)
    for _ in iter_events(lines):
        pass
    print("fast engine: frame", flush=True)
    read_trace(log)
    print("fast engine: profile", flush=True)
    count_trace(log)
"""


@pytest.mark.slow
def test_parser_on_adversarial_lines(tmp_path):
    """parse_line, the stream (where a line may end the call the one before opened) and the
    fast engine's frame and profile (``engine="auto"``: the reference reads what the fast
    engine declines), on the adversarial lines, each after one of the line heads."""
    log = tmp_path / "adversarial.log"
    log.write_text("".join(text + "\n" for _, text in _adversarial_lines(every_head=False)))
    _run_bounded(PARSER_RUNNER, str(log))
