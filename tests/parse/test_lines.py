"""``parse_line`` on a table of real strace lines, one per form of the grammar, compared whole.

Lines come from strace 6.1 runs here and from /work/shared/strace-format.md (older releases).
"""

from __future__ import annotations

import pytest

from syscall_parse.errors import StraceParseError
from syscall_parse.events import Exit, Message, Signal, Syscall, Unparsed
from syscall_parse.lines import (
    Continuation,
    OpenCall,
    Resumed,
    SummaryLine,
    Unfinished,
    parse_line,
)

N = 7  # the line number every case is parsed with


def call(name, args, ret, retval, **fields):
    """A whole Syscall on line N."""
    return Syscall(
        pid=fields.pop("pid", None),
        name=name,
        args=args,
        ret=ret,
        retval=retval,
        lines=(N, N),
        **fields,
    )


# fmt: off
CASES = [
    # --- prefixes
    ("7832  getuid()                          = 0", call("getuid", "", "0", 0, pid=7832), "pid-o"),
    (
        '[pid  7758] execve("/bin/true", ["/bin/true"], 0x558daf617bd8 /* 39 vars */) = 0',
        call("execve", '"/bin/true", ["/bin/true"], 0x558daf617bd8 /* 39 vars */', "0", 0,
             pid=7758),
        "pid-stderr",
    ),
    ("15757<python3.11> exit_group(0) = ?",
     call("exit_group", "0", "?", None, pid=15757, returned=False), "pid-comm-o"),
    ('[pid 19061<echo>] write(1, "a\\n", 2) = 2',
     call("write", '1, "a\\n", 2', "2", 2, pid=19061), "pid-comm-stderr"),
    ("11:57:46.402136 getpid() = 5", call("getpid", "", "5", 5, time=43066.402136), "tt"),
    ("11:57:46 getpid() = 5", call("getpid", "", "5", 5, time=43066.0), "t"),
    ("1795867066.441945 getpid() = 5", call("getpid", "", "5", 5, time=1795867066.441945), "ttt"),
    ("1795867066.441945468 getpid() = 5",
     call("getpid", "", "5", 5, time=1795867066.441945468), "ttt-ns"),
    ("     0.000131 exit_group(0) = ?",
     call("exit_group", "0", "?", None, relative=0.000131, returned=False), "r"),
    ("11:57:46 (+     0.000072) exit_group(0) = ?",
     call("exit_group", "0", "?", None, time=43066.0, relative=0.000072, returned=False), "t-r"),
    ("7832  11:57:46.000001 (+     0.000072) getpid() = 5",
     call("getpid", "", "5", 5, pid=7832, time=43066.000001, relative=0.000072), "pid-tt-r"),
    ('[   1] [00007fd5b21a2350] write(1, "hi\\n", 3) = 3',
     call("write", '1, "hi\\n", 3', "3", 3), "n-i"),
    ("[????????????????] +++ exited with 0 +++", Exit(None, 0, lines=(N, N)), "i-unknown"),
    ("\x1b[1;32mgetpid\x1b[0m() = 5", call("getpid", "", "5", 5), "ansi-colour"),
    ("[system_u:system_r:unconfined_t:s0] getpid() = 5", call("getpid", "", "5", 5),
     "secontext"),
    # Known ambiguity: -ttt with precision:s looks like a -f -o pid; the pid reading wins.
    ("1795867066 getpid() = 5", call("getpid", "", "5", 5, pid=1795867066), "bare-number-pid"),
    ("read#64(3, 0x1, 2) = 2", call("read#64", "3, 0x1, 2", "2", 2), "x32-name"),
    ("syscall_999(0x1) = -1 E??? (errno 527)",
     call("syscall_999", "0x1", "-1", -1, errno="E???", errno_text="errno 527"), "old-errno"),
    # --- arguments and the closing parenthesis
    ('openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3',
     call("openat", 'AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC', "3", 3), "openat"),
    ('write(1, "x) = 1\\"(", 6) = 6', call("write", '1, "x) = 1\\"(", 6', "6", 6),
     "string-with-paren-equals"),
    ('read(3, "\\177ELF\\2\\1"..., 832) = 832',
     call("read", '3, "\\177ELF\\2\\1"..., 832', "832", 832), "truncated-string"),
    ("wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 7833",
     call("wait4", "-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL", "7833", 7833),
     "wait4-expr"),
    ("restart_syscall(<... resuming interrupted read ...>) = 0",
     call("restart_syscall", "<... resuming interrupted read ...>", "0", 0), "restart-syscall"),
    ("close(11</tmp/a) b\\74c\\76>(deleted)) = 0",
     call("close", "11</tmp/a) b\\74c\\76>(deleted)", "0", 0), "fd-path-with-paren"),
    ("read(5<TCP:[127.0.0.1:41853->127.0.0.1:38814]>, 0x7f, 4) = 4",
     call("read", "5<TCP:[127.0.0.1:41853->127.0.0.1:38814]>, 0x7f, 4", "4", 4), "yy-tcp"),
    ('write(2, "cat: ", 5cat: )                    = 5',
     call("write", '2, "cat: ", 5cat: ', "5", 5), "spliced-output"),
    ("syscall_0x3e7(0x1, 0x2) = -1 ENOSYS (Function not implemented)",
     call("syscall_0x3e7", "0x1, 0x2", "-1", -1, errno="ENOSYS",
          errno_text="Function not implemented"), "unknown-syscall"),
    # --- return values
    ("mmap(NULL, 8192, 0x3, 0x22, -1, 0) = 0x7f62bf257000",
     call("mmap", "NULL, 8192, 0x3, 0x22, -1, 0", "0x7f62bf257000", 0x7F62BF257000), "hex"),
    ("write(0x2, 0x7ffd9923fbe0, 0x5) = 0xffffffffffffffff",
     call("write", "0x2, 0x7ffd9923fbe0, 0x5", "0xffffffffffffffff", -1), "hex-wraps"),
    ("umask(022) = 0644", call("umask", "022", "0644", 0o644), "octal"),
    ('openat(AT_FDCWD</srv>, "x", O_RDONLY) = 3</srv/x> <0.000011>',
     call("openat", 'AT_FDCWD</srv>, "x", O_RDONLY', "3</srv/x>", 3, duration=0.000011),
     "y-return-T"),
    ("getpid() = 15758<python3.11>", call("getpid", "", "15758<python3.11>", 15758),
     "Y-return"),
    ("getpid() = 5 <0.000000012>", call("getpid", "", "5", 5, duration=1.2e-8), "T-ns"),
    ('openat(AT_FDCWD, "/x", O_RDONLY) = -1 ENOENT (No such file or directory)',
     call("openat", 'AT_FDCWD, "/x", O_RDONLY', "-1", -1, errno="ENOENT",
          errno_text="No such file or directory"), "errno"),
    ("kill(1, 0) = -1 (errno 527)", call("kill", "1, 0", "-1", -1, errno="ERRNO_527"),
     "errno-number"),
    ("read(3, 0x7f98707e2c90, 1) = ? ERESTARTSYS (To be restarted if SA_RESTART is set)",
     call("read", "3, 0x7f98707e2c90, 1", "?", None, errno="ERESTARTSYS",
          errno_text="To be restarted if SA_RESTART is set"), "erestartsys"),
    ("getpid() = ? <unavailable>", call("getpid", "", "?", None, note="<unavailable>"),
     "unavailable"),
    ("select(4, [3], NULL, NULL, {tv_sec=0, tv_usec=0}) = 0 (Timeout)",
     call("select", "4, [3], NULL, NULL, {tv_sec=0, tv_usec=0}", "0", 0, note="(Timeout)"),
     "note-timeout"),
    ("select(4, [3], NULL, NULL, {tv_sec=1, tv_usec=0}) = 1 (in [3], left {tv_sec=0, tv_usec=5})",
     call("select", "4, [3], NULL, NULL, {tv_sec=1, tv_usec=0}", "1", 1,
          note="(in [3], left {tv_sec=0, tv_usec=5})"), "note-left"),
    ("getpid() = 1 /* 19752 in strace's PID NS */",
     call("getpid", "", "1", 1, note="/* 19752 in strace's PID NS */"), "note-pidns"),
    ("openat(AT_FDCWD, \"/x\", O_RDONLY) = -1 EACCES (Permission denied) (INJECTED)",
     call("openat", 'AT_FDCWD, "/x", O_RDONLY', "-1", -1, errno="EACCES",
          errno_text="Permission denied", note="(INJECTED)"), "injected"),
    ("mmap(NULL, 8192, 0x3 /* PROT_READ|PROT_WRITE */, 0x22, -1, 0) = 0x7f00",
     call("mmap", "NULL, 8192, 0x3 /* PROT_READ|PROT_WRITE */, 0x22, -1, 0", "0x7f00", 0x7F00),
     "X-verbose"),
    # --- split calls
    ("7832  wait4(-1,  <unfinished ...>", Unfinished(7832, "wait4", "-1, ", line=N),
     "unfinished"),
    ("7832  vfork( <unfinished ...>", Unfinished(7832, "vfork", "", line=N), "unfinished-empty"),
    ("7832  <... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 7833",
     Resumed(call("wait4", "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL", "7833", 7833,
                  pid=7832)), "resumed"),
    ("7832  <... wait4 resumed> [{WIFEXITED(s)}], 0, NULL) = 7833",
     Resumed(call("wait4", "[{WIFEXITED(s)}], 0, NULL", "7833", 7833, pid=7832)),
     "resumed-4x-space"),
    ("7832  <... read resumed> <unfinished ...>) = ?",
     Resumed(call("read", "", "?", None, pid=7832, returned=False)), "resumed-unfinished"),
    ("restart_syscall(<... resuming interrupted read ...> <detached ...>",
     Syscall(None, "restart_syscall", "<... resuming interrupted read ...>", None, None,
             note="<detached ...>", returned=False, lines=(N, N)), "detached"),
    ('write(2, "\\n", 1', OpenCall(None, 'write(2, "\\n", 1', N), "open-call"),
    # --- signals, exits, other events
    ("--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7833, si_uid=0} ---",
     Signal(None, "SIGCHLD", "{si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=7833, si_uid=0}",
            lines=(N, N)), "signal"),
    ("7832  --- stopped by SIGSTOP ---", Signal(7832, "SIGSTOP", "stopped", lines=(N, N)),
     "stopped"),
    ("--- SIGCHLD (Child exited) @ 0 (0) ---",
     Signal(None, "SIGCHLD", "(Child exited) @ 0 (0)", lines=(N, N)), "signal-old"),
    ("+++ exited with 3 +++", Exit(None, 3, lines=(N, N)), "exited"),
    ("7833  +++ killed by SIGKILL (core dumped) +++",
     Exit(7833, None, "SIGKILL", True, lines=(N, N)), "killed-core"),
    ("[pid  7833] +++ killed by SIGSEGV +++", Exit(7833, None, "SIGSEGV", lines=(N, N)), "killed"),
    ("17970 +++ superseded by execve in pid 17971 +++",
     Exit(17970, superseded_by=17971, lines=(N, N)), "superseded"),
    ("[ Process PID=12 runs in 32 bit mode. ]",
     Message("[ Process PID=12 runs in 32 bit mode. ]", 12, (N, N)), "personality"),
    ("strace: Process 7758 attached", Message("strace: Process 7758 attached", 7758, (N, N)),
     "attached"),
    ("/usr/bin/strace: Process 7758 detached",
     Message("/usr/bin/strace: Process 7758 detached", 7758, (N, N)), "detached-message"),
    ("Process 7758 attached", Message("Process 7758 attached", 7758, (N, N)), "attached-old"),
    ("strace: Can't stat '/x': No such file or directory",
     Message("strace: Can't stat '/x': No such file or directory", None, (N, N)), "error-msg"),
    # --- continuation lines and the summary table
    (" > /usr/lib/x86_64-linux-gnu/libc.so.6(__write+0x10) [0xf8350]",
     Continuation("frame", " > /usr/lib/x86_64-linux-gnu/libc.so.6(__write+0x10) [0xf8350]", N),
     "frame"),
    (" | 00000  76 6d 0a                                          vm.              |",
     Continuation("dump", " | 00000  76 6d 0a                                          vm.    "
                  "          |", N), "dump"),
    ("% time     seconds  usecs/call     calls    errors syscall",
     SummaryLine("% time     seconds  usecs/call     calls    errors syscall", N),
     "summary-header"),
    ("------ ----------- ----------- --------- --------- ----------------",
     SummaryLine("------ ----------- ----------- --------- --------- ----------------", N),
     "summary-divider"),
    (" 13.57    0.001097          32        34        13 openat",
     SummaryLine(" 13.57    0.001097          32        34        13 openat", N), "summary-row"),
    ("arch_prctl               1              0.000003 0.000003 0.000003",
     SummaryLine("arch_prctl               1              0.000003 0.000003 0.000003", N),
     "summary-row-U"),
    ("System call usage summary for 32 bit mode:",
     SummaryLine("System call usage summary for 32 bit mode:", N), "summary-32bit"),
    # --- not strace output
    ("hello world", Unparsed("hello world", (N, N)), "program-output"),
    (")                       = 1", Unparsed(")                       = 1", (N, N)), "stray-tail"),
    ("", Unparsed("", (N, N)), "empty"),
    ("<... read resumed", Unparsed("<... read resumed", (N, N)), "cut-resumed"),
]
# fmt: on


@pytest.mark.parametrize(("line", "expected"), [c[:2] for c in CASES], ids=[c[2] for c in CASES])
def test_parse_line(line, expected):
    """Each form parses to exactly the expected record."""
    assert expected == parse_line(line + "\n", N)


def test_strict_raises_with_number_and_line():
    """strict=True turns an unparsed line into StraceParseError quoting the line and its number."""
    with pytest.raises(StraceParseError) as info:
        parse_line("hello world", 12, strict=True)
    expected = (12, "hello world")
    assert expected == (info.value.line_number, info.value.line)
    assert "line 12" in str(info.value)
