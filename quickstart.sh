#!/usr/bin/env bash
# One-command set-up for a fresh Debian/Ubuntu machine with Python 3.
#   ./quickstart.sh run   capture every condition, analyse, write reports/REPORT.md
#   ./quickstart.sh test  tox: untraced tests on each Python; traced tests and experiments once
# When we are root it installs what is missing with apt: strace, stress-ng, the real programs
# the experiment traces (git, sqlite3) and bpftrace (the eBPF observer); otherwise it says what
# to install. Then it creates .venv and installs syscall-lab into it.
set -euo pipefail
cd "$(dirname "$0")"

need_apt=()
command -v strace >/dev/null || need_apt+=(strace)
command -v stress-ng >/dev/null || need_apt+=(stress-ng)
# The real programs of workloads/programs.py: each executable is its Debian package's name.
command -v git >/dev/null || need_apt+=(git)
command -v sqlite3 >/dev/null || need_apt+=(sqlite3)
[[ $(id -u) != 0 ]] || command -v bpftrace >/dev/null || need_apt+=(bpftrace)  # eBPF observer, root only
python3 -c 'import ensurepip, venv' 2>/dev/null || need_apt+=(python3-venv)
# A C compiler and Python's headers build the parser's compiled scan (without them it installs,
# but parses several times slower, and the package test that the scan is compiled fails).
command -v cc >/dev/null || need_apt+=(gcc)
python3 -c 'import os, sysconfig; assert os.path.exists(sysconfig.get_path("include") + "/Python.h")' \
  2>/dev/null || need_apt+=(python3-dev)
if ((${#need_apt[@]})); then
  if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
    echo "quickstart: installing ${need_apt[*]} with apt-get" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "quickstart: please install ${need_apt[*]} (e.g. sudo apt-get install ${need_apt[*]})" >&2
    exit 1
  fi
fi

# bpftrace finds the kernel's tracepoints in tracefs; a fresh machine may not have it mounted.
if [[ $(id -u) == 0 ]] && [[ -d /sys/kernel/tracing ]] && ! mountpoint -q /sys/kernel/tracing; then
  mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null ||
    echo "quickstart: could not mount tracefs; the eBPF tests will skip" >&2
fi

if [[ ! -x .venv/bin/python ]]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
.venv/bin/python -m pip install -q -e '.[test]' tox

# Let tox find every CPython 3.10+ that pyenv has: put their bin folders on PATH (tox does not
# pass PYENV_VERSION on to its interpreter discovery, so pyenv's shims alone are not enough).
if command -v pyenv >/dev/null; then
  for version in $(pyenv versions --bare | grep -E '^3\.1[0-9]+\.[0-9]+$'); do
    PATH="$(pyenv root)/versions/$version/bin:$PATH"
  done
  export PATH
fi

case "${1:-}" in
  run)  shift; exec .venv/bin/syscall-lab run "$@" ;;
  test) shift; exec .venv/bin/tox "$@" ;;
  *)    echo "usage: ./quickstart.sh run|test [ARGS...]" >&2; exit 2 ;;
esac
