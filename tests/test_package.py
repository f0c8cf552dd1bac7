"""The two packages' lazy public APIs: every exported name loads, importing a package (or the
profile path of the CLI) does not pull in the heavy libraries, and the parser stands alone."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import syscall_lab
import syscall_parse

HEAVY = ("pandas", "scipy", "matplotlib", "sklearn")
PACKAGES = (syscall_parse, syscall_lab)


def _modules_after(code: str) -> set[str]:
    """Top-level modules loaded by a fresh interpreter after running ``code``."""
    listing = "sorted({m.split('.')[0] for m in sys.modules})"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({listing}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    ("package", "name"),
    [pytest.param(p, n, id=f"{p.__name__}.{n}") for p in PACKAGES for n in p.__all__],
)
def test_every_exported_name_is_its_module_object(package, name):
    """``package.X`` is the very object its module defines."""
    module = importlib.import_module(f"{package.__name__}.{package._MODULE_OF[name]}")
    assert getattr(module, name) is getattr(package, name)


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_all_and_dir_list_the_exports(package):
    """``__all__`` holds each exported name once, and ``dir()`` shows them all."""
    assert sorted(package._MODULE_OF) == sorted(package.__all__)
    assert len(set(package.__all__)) == len(package.__all__)
    assert set(package.__all__) <= set(dir(package))


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_unknown_name_raises_attribute_error(package):
    """A name the package does not export is an AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no attribute 'read_tracee'"):
        package.read_tracee  # noqa: B018


@pytest.mark.parametrize("package", PACKAGES, ids=lambda p: p.__name__)
def test_star_import_gives_every_name(package):
    """``from package import *`` binds every name of ``__all__``."""
    namespace: dict[str, object] = {}
    exec(f"from {package.__name__} import *", namespace)
    assert set(package.__all__) <= set(namespace)


def _imported_roots(path: Path) -> set[str]:
    """The top-level packages a source file imports, wherever the import statement stands."""
    roots = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize(
    "path",
    sorted(Path(syscall_parse.__file__).parent.rglob("*.py")),
    ids=lambda p: p.relative_to(Path(syscall_parse.__file__).parent).as_posix(),
)
def test_the_parser_imports_nothing_of_the_lab(path):
    """``syscall_parse`` stands alone: no module of it imports ``syscall_lab`` or the workloads."""
    assert set() == _imported_roots(path) & {"syscall_lab", "workloads"}


def test_every_parser_module_loads_without_the_lab():
    """Importing every module of ``syscall_parse`` leaves ``syscall_lab`` unloaded."""
    names = [m.name for m in pkgutil.walk_packages(syscall_parse.__path__, "syscall_parse.")]
    code = "import importlib\n" + "".join(f"importlib.import_module({n!r})\n" for n in names)
    assert "syscall_lab" not in _modules_after(code)
    assert "syscall_parse" in _modules_after(code)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import syscall_parse, syscall_lab", id="packages"),
        pytest.param("from syscall_parse import Profile, parse_line, iter_trace", id="light-names"),
        pytest.param("import syscall_lab.cli, syscall_parse._fast", id="profile-path"),
        pytest.param("import syscall_lab.cli as c; c.build_parser()", id="command-line"),
    ],
)
def test_light_imports_leave_heavy_libraries_out(code):
    """The packages, the profile path and the command line's parser (which lists the
    detectors) load neither pandas, scipy nor matplotlib."""
    assert set() == _modules_after(code) & set(HEAVY)


def test_a_heavy_name_loads_its_library():
    """The check above can fail: a name from a pandas module does load pandas."""
    assert "pandas" in _modules_after("from syscall_parse import read_trace")


def test_the_line_scan_is_compiled():
    """The install built the compiled line scan (``_fast/_linescan.pyx``): without it the
    parser falls back to numpy's scan, several times slower."""
    from syscall_parse._fast.scan import COMPILED

    assert COMPILED
