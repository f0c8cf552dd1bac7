"""Root conftest: the Hypothesis settings profiles, and the plugins of every test session.

The experiments' plugin (``--syscall-*`` options, the header, the session fixtures, the report
at the end) is :mod:`syscall_lab.pytest_plugin`; pytester tests it (tests/experiment/
test_plugin.py). Only the root conftest may load plugins.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

pytest_plugins = ["pytester", "syscall_lab.pytest_plugin"]

# Hypothesis profiles, chosen with HYPOTHESIS_PROFILE (CI: "ci"). The suite runs on four
# Pythons in CI, so "ci" is sized to keep it within budget; "thorough" is for a long local run.
settings.register_profile("ci", max_examples=100, deadline=None)
settings.register_profile(
    "dev", max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
