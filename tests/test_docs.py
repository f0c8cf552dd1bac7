"""The README and docs/ stay true: the command reference matches the real usage, the layout page
names every module, the findings excerpt is the committed report's, links resolve, and the
README's library example runs on a real trace."""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

import syscall_lab
import syscall_parse
from syscall_lab.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = sorted(DOCS.glob("*.md"))


def _commands() -> tuple[argparse.ArgumentParser, dict[str, argparse.ArgumentParser]]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return parser, action.choices


def _python_blocks(text: str) -> list[str]:
    return re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)


def test_command_reference_documents_every_command(monkeypatch) -> None:
    """docs/commands.md has a section per command whose usage is the real one (argparse's usage
    at 80 columns), and its top-level --help block lists every command."""
    monkeypatch.setenv("COLUMNS", "80")
    page = (DOCS / "commands.md").read_text(encoding="utf-8")
    parser, commands = _commands()
    assert parser.format_help().rstrip() in page
    for name, sub in commands.items():
        section = page.split(f"\n## syscall-lab {name}\n", 1)
        assert 2 == len(section), f"no section for {name} in docs/commands.md"
        assert sub.format_usage().rstrip() in section[1].split("\n## ", 1)[0], name


def test_readme_names_every_command() -> None:
    """The README's command table has a row for every command."""
    readme = README.read_text(encoding="utf-8")
    _, commands = _commands()
    rows = re.findall(r"^\| `syscall-lab ([a-z-]+)[^|]*\|", readme, flags=re.MULTILINE)
    listed = set(rows) | set(re.findall(r"^\| `syscall-lab [^|]*/ `([a-z-]+)", readme, re.M))
    assert set(commands) == listed


def _holds_code(path: Path) -> bool:
    """Whether a module holds more than a docstring (a package's map of its modules)."""
    body = ast.parse(path.read_text(encoding="utf-8")).body
    return any(
        not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)) for node in body
    )


def _modules(package) -> list[str]:
    """The package's modules that hold code, its own ``__init__`` and ``__main__`` aside, and
    its Cython sources."""
    root = Path(package.__file__).parent
    return sorted(
        [
            path.relative_to(root).as_posix()
            for path in root.rglob("*.py")
            if path.parent != root or path.name not in ("__init__.py", "__main__.py")
            if _holds_code(path)
        ]
        + [path.relative_to(root).as_posix() for path in root.rglob("*.pyx")]
    )


@pytest.mark.parametrize("package", [syscall_parse, syscall_lab], ids=lambda p: p.__name__)
def test_layout_page_names_every_module(package) -> None:
    """docs/layout.md has a row for every module of both packages that holds code."""
    page = (DOCS / "layout.md").read_text(encoding="utf-8")
    section = page.split(f"## {package.__name__}", 1)[1].split("\n## ", 1)[0]
    rows = set(re.findall(r"^\| `([\w/]+\.pyx?)` \|", section, flags=re.MULTILINE))
    assert set(_modules(package)) == rows


def test_findings_excerpt_is_the_committed_report() -> None:
    """Every line of the README's findings excerpt stands in reports/REPORT.md."""
    readme = README.read_text(encoding="utf-8")
    excerpt = readme.split("<!-- findings-excerpt: from reports/REPORT.md -->\n", 1)[1]
    excerpt = excerpt.split("<!-- /findings-excerpt -->", 1)[0]
    report = (ROOT / "reports" / "REPORT.md").read_text(encoding="utf-8")
    lines = [line for line in excerpt.splitlines() if line.strip()]
    assert lines
    assert [] == [line for line in lines if line not in report]


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_relative_links_resolve(page: Path) -> None:
    """Every relative link of the README and the docs pages names a file that exists."""
    text = page.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", text)
    missing = [t for t in targets if not (page.parent / t).exists()]
    assert [] == missing


@pytest.mark.parametrize("page", [README, *PAGES], ids=lambda p: p.name)
def test_python_examples_import_real_names(page: Path) -> None:
    """The names the examples import from the two packages exist."""
    for block in _python_blocks(page.read_text(encoding="utf-8")):
        compile(block, str(page), "exec")
        for package, names in re.findall(r"from (syscall_\w+) import ([\w, ]+)", block):
            module = {"syscall_parse": syscall_parse, "syscall_lab": syscall_lab}[package]
            assert [] == [n.strip() for n in names.split(",") if not hasattr(module, n.strip())]


@pytest.mark.strace
def test_readme_library_example_runs_on_a_real_trace(run_strace, tmp_path) -> None:
    """The README's library example runs as written on a real ``strace -f -ttt -T`` log."""
    (block,) = _python_blocks(README.read_text(encoding="utf-8"))
    run_strace(["-f", "-ttt", "-T", "-o", str(tmp_path / "trace.log")], ["ls", "/"])
    result = subprocess.run(
        [sys.executable, "-c", block],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert 0 == result.returncode, result.stderr
    assert result.stdout.startswith("0 (")
