"""The package's lazy public API: every exported name loads, and importing the package (or the
profile path of the CLI) does not pull in the heavy libraries."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys

import pytest

import syscall_parse

HEAVY = ("pandas", "scipy", "matplotlib", "sklearn")


def _modules_after(code: str) -> set[str]:
    """Top-level modules loaded by a fresh interpreter after running ``code``."""
    listing = "sorted({m.split('.')[0] for m in sys.modules})"
    probe = f"{code}\nimport json, sys\nprint(json.dumps({listing}))"
    result = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True, timeout=120
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


@pytest.mark.parametrize("name", syscall_parse.__all__)
def test_every_exported_name_is_its_module_object(name):
    """``syscall_parse.X`` is the very object its module defines."""
    module = importlib.import_module(f"syscall_parse.{syscall_parse._MODULE_OF[name]}")
    assert getattr(module, name) is getattr(syscall_parse, name)


def test_all_and_dir_list_the_exports():
    """``__all__`` holds each exported name once, and ``dir()`` shows them all."""
    assert sorted(syscall_parse._MODULE_OF) == sorted(syscall_parse.__all__)
    assert len(set(syscall_parse.__all__)) == len(syscall_parse.__all__)
    assert set(syscall_parse.__all__) <= set(dir(syscall_parse))


def test_a_function_named_like_its_module_stays_the_function():
    """``syscall_parse.capture`` is the function even after its submodule is imported
    (the import system sets the package attribute to the submodule)."""
    importlib.import_module("syscall_parse.capture")
    importlib.import_module("syscall_parse.experiment")
    assert callable(syscall_parse.capture)
    assert "function" == type(syscall_parse.capture).__name__


def test_unknown_name_raises_attribute_error():
    """A name the package does not export is an AttributeError, as for any module."""
    with pytest.raises(AttributeError, match="no attribute 'read_tracee'"):
        syscall_parse.read_tracee  # noqa: B018


def test_star_import_gives_every_name():
    """``from syscall_parse import *`` binds every name of ``__all__``."""
    namespace: dict[str, object] = {}
    exec("from syscall_parse import *", namespace)
    assert set(syscall_parse.__all__) <= set(namespace)


@pytest.mark.parametrize(
    "code",
    [
        pytest.param("import syscall_parse", id="package"),
        pytest.param("from syscall_parse import Profile, parse_line, iter_trace", id="light-names"),
        pytest.param("import syscall_parse.cli, syscall_parse.fastparse", id="profile-path"),
        pytest.param("import syscall_parse.cli as c; c.build_parser()", id="command-line"),
    ],
)
def test_light_imports_leave_heavy_libraries_out(code):
    """The package, the profile path and the command line's parser (which lists the
    detectors) load neither pandas, scipy nor matplotlib."""
    assert set() == _modules_after(code) & set(HEAVY)


def test_a_heavy_name_loads_its_library():
    """The check above can fail: a name from a pandas module does load pandas."""
    assert "pandas" in _modules_after("from syscall_parse import read_trace")
