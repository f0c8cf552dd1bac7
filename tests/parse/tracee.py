"""A small program for the strace tests, run with the real interpreter under strace.

It makes the events a parser must join and count: threads (split calls across tids), a
child process, a child killed by SIGKILL, a signal with a handler, a sleep interrupted by a
timer (``? ERESTART_RESTARTBLOCK`` then ``restart_syscall``), failing calls, and output on
stderr that strace splices into its own lines when both share stderr.
"""

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time


def _stat_missing(worker: int) -> None:
    for attempt in range(3):
        with contextlib.suppress(FileNotFoundError):
            os.stat(f"/nonexistent/{worker}/{attempt}")


def main() -> int:
    threads = [threading.Thread(target=_stat_missing, args=(n,)) for n in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with contextlib.suppress(FileNotFoundError):
        open("/nonexistent-file").close()
    signal.signal(signal.SIGUSR1, lambda *_: None)
    os.kill(os.getpid(), signal.SIGUSR1)
    signal.signal(signal.SIGALRM, lambda *_: None)
    signal.setitimer(signal.ITIMER_REAL, 0.02)
    time.sleep(0.1)
    subprocess.run(["true"], check=True)
    child = subprocess.Popen(["sleep", "30"])
    time.sleep(0.05)
    child.kill()
    child.wait()
    print("tracee: done", file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
