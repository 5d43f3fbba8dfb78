"""Native libraries' log lines kept off the user's terminal.

MediaPipe, LiteRT and absl write from C++ straight to file descriptor 2: about 80 INFO / WARNING
lines for one short video, more per worker process, and no Python setting reaches all of them. So
while a command runs, fd 2 is a pipe to a small filter process that passes on every line but that
chatter (errors and anything unknown reach the terminal at once, even from a process that then
crashes), and Python's own ``sys.stderr`` (our messages, warnings, progress bars, tracebacks) is
moved to a copy of the real stderr.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

__all__ = ["is_chatter", "native_logs_held"]

# LiteRT / TFLite ("INFO: [file.cc:12] ...", "WARNING: ..."), glog / absl ("I0000 00:00:..."; "W1206 ...")
_CHATTER = re.compile(r"^(?:(?:INFO|WARNING|VERBOSE\d*): |[IW]\d{4} \d\d:\d\d:\d\d)")

# the filter: stdin (the pipe) -> its stderr (the real one), without the chatter; it ends when every
# writer (this process, its children) has closed the pipe
_FILTER = (f"import re, sys\nchatter = re.compile({_CHATTER.pattern!r})\n"
           "for raw in sys.stdin.buffer:\n"
           "    line = raw.decode(errors='replace')\n"
           "    if not chatter.match(line):\n"
           "        sys.stderr.write(line)\n"
           "        sys.stderr.flush()\n")
#: how long the end of a command waits for the filter to pass on the last lines
_DRAIN_SECONDS = 5.0


def is_chatter(line: str) -> bool:
    """Whether ``line`` is a native library's INFO or WARNING log line (errors are not)."""
    return bool(_CHATTER.match(line))


def _writes_to_fd2(stream) -> bool:  # noqa: ANN001 - any file-like object
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a captured or replaced stream
        return False


def _start_filter(real: int) -> tuple[subprocess.Popen, int]:
    """The filter process writing to ``real``, and the write end of its pipe. In a session of its
    own: Ctrl-C in the terminal reaches the command, not the filter it writes through."""
    read, write = os.pipe()
    try:
        proc = subprocess.Popen([sys.executable, "-I", "-S", "-c", _FILTER], stdin=read, stdout=subprocess.DEVNULL,
                                stderr=real, start_new_session=True)
    except BaseException:
        os.close(write)
        raise
    finally:
        os.close(read)
    return proc, write


@contextmanager
def native_logs_held() -> Iterator[None]:
    """Within the block, what is written to fd 2 passes through the filter (child processes inherit
    it); Python's ``sys.stderr`` still reaches the real stderr directly (a spawned child's Python
    writes to fd 2, and so through the filter)."""
    sys.stderr.flush()
    real = os.dup(2)
    original = sys.stderr
    proc, write = _start_filter(real)
    os.dup2(write, 2)
    os.close(write)
    if _writes_to_fd2(original):
        # left open afterwards: a handler made within the block (a library's logger) may still write
        sys.stderr = open(real, "w", buffering=1, encoding=original.encoding,  # noqa: SIM115
                          errors=original.errors, closefd=False)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes this process's end of the pipe
        if sys.stderr is original:
            os.close(real)
        sys.stderr = original
        with suppress(subprocess.TimeoutExpired):  # a child still holds the pipe: the filter ends with it
            proc.wait(timeout=_DRAIN_SECONDS)  # the last lines come before ours
